package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// RequireBearer returns middleware that lets a request through only with
// `Authorization: Bearer <token>`, answering 401 otherwise. An empty token
// disables the check: config.Validate allows that only on loopback.
//
// Both sides are hashed before the constant-time comparison so that
// neither the content nor the length of the token leaks through timing.
func RequireBearer(token string) echo.MiddlewareFunc {
	if token == "" {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	want := sha256.Sum256([]byte(token))
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			scheme, got, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") {
				return unauthorized(c, "an admin token is required: Authorization: Bearer <token>")
			}
			sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
			if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
				return unauthorized(c, "the admin token is not valid")
			}
			return next(c)
		}
	}
}

func unauthorized(c echo.Context, msg string) error {
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="signet-admin"`)
	return writeError(c, http.StatusUnauthorized, "unauthorized", msg)
}

// rejectBrowsers refuses requests a browser sends on behalf of a web page
// (they carry Origin, or Sec-Fetch-Site other than "none"). The admin API
// is for the CLI and scripts; without this a page an operator visits could
// fire form posts at a token-less admin listener on loopback (disable a
// user needs no body, so the Content-Type rule alone does not cover it).
func rejectBrowsers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if h.Get("Origin") != "" || (h.Get("Sec-Fetch-Site") != "" && h.Get("Sec-Fetch-Site") != "none") {
			return writeError(c, http.StatusForbidden, "forbidden",
				"the admin API does not accept requests from web pages")
		}
		return next(c)
	}
}
