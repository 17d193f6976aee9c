package pages

import (
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"
)

// FlashCookie carries the outcome of a form to the page the browser is
// redirected to (post/redirect/get). It holds only a short code; each
// page maps codes it knows to fixed messages, so a cookie planted by
// someone else can show nothing but one of those.
const FlashCookie = "signet_flash"

var flashCode = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,39}$`)

// SetFlash remembers code for the next page the browser loads. secure
// marks the cookie Secure (an https issuer).
func SetFlash(c echo.Context, code string, secure bool) {
	if !flashCode.MatchString(code) {
		return
	}
	c.SetCookie(&http.Cookie{
		Name: FlashCookie, Value: code, Path: "/", MaxAge: 120,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
	})
}

// TakeFlash returns the code SetFlash left and clears it ("" when there
// is none, or it is not a code).
func TakeFlash(c echo.Context, secure bool) string {
	ck, err := c.Cookie(FlashCookie)
	if err != nil {
		return ""
	}
	c.SetCookie(&http.Cookie{
		Name: FlashCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
	})
	if !flashCode.MatchString(ck.Value) {
		return ""
	}
	return ck.Value
}
