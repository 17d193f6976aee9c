package pages

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/web/render"
	"github.com/signet-idp/signet/templates"
)

// Paths the pages live on.
const (
	HomePath    = "/"
	LoginPath   = "/login"
	ConsentPath = "/consent"
	LogoutPath  = "/logout"
	// DefaultResumePath is where the authorization endpoint finishes a
	// parked request.
	DefaultResumePath = "/oauth2/auth/resume"
	// ChallengeParam carries the login challenge in URLs and forms.
	ChallengeParam = "login_challenge"
	// CSRFField is the hidden form field holding the CSRF token.
	CSRFField = "csrf_token"
	// CSRFCookie is the cookie behind the CSRF token (for browsers that do
	// not send Sec-Fetch-Site).
	CSRFCookie = "signet_csrf"
)

const csrfContextKey = "csrf"

// Config is everything the pages use. Render, Sessions, Throttle,
// Consents, Challenges, Accounts, Users and Clients are required.
type Config struct {
	Render   *render.Renderer
	Sessions *sessions.Manager
	Throttle *sessions.Throttle
	// Devices recognises browsers that signed in to an account before
	// (the lockout policy spares them); nil treats every browser as new.
	Devices *sessions.Devices
	// FailedLogins is this replica's allowance of wrong passwords checked
	// for browsers not known to the account: when it is used up, such
	// logins get the busy page without hashing (a flood of wrong passwords
	// must not take the CPU other endpoints need). nil: no bound.
	FailedLogins *sessions.Allowance
	Consents     *sessions.Consents
	Challenges   Challenges
	Accounts     Accounts
	Users        Users
	Clients      Clients
	// Hints verifies id_token_hint at logout; nil treats every hint as
	// invalid.
	Hints HintVerifier
	// Audit records logins and logouts; nil records nothing.
	Audit Audit
	// Signup serves /register and /verify-email; nil leaves them out.
	Signup Signup
	// Recovery serves /forgot-password and /reset-password; nil leaves
	// them out.
	Recovery Recovery
	// Account serves /account; nil leaves it out.
	Account AccountSettings
	// TwoFactor turns on two-factor sign-in (authenticator apps, passkeys,
	// recovery codes) and the account's settings for it; nil leaves it
	// out.
	TwoFactor *TwoFactorConfig
	// Connectors offers sign-in through upstream identity providers; nil
	// offers none.
	Connectors Connectors
	// HidePasswordLogin leaves the password form off the login page (and
	// refuses password logins) while any connector is enabled.
	HidePasswordLogin bool
	// IsAdmin, when set, decides whether the header links to the admin
	// console for the signed-in user.
	IsAdmin func(ctx context.Context, userID string) bool
	Logger  *slog.Logger
	// Secure marks the CSRF cookie Secure (the issuer is https).
	Secure bool
	// ResumePath is where the browser goes once login and consent are
	// settled; default DefaultResumePath.
	ResumePath string
	// ClientIP names the address login throttling counts against;
	// default: the Echo instance's IPExtractor, or the connection's
	// address (forwarding headers are not trusted unless configured).
	ClientIP func(*http.Request) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Handler serves the pages.
type Handler struct {
	cfg  Config
	csrf echo.MiddlewareFunc
}

// New checks cfg and returns a Handler.
func New(cfg Config) (*Handler, error) {
	var missing []string
	for name, nilv := range map[string]bool{
		"Render": cfg.Render == nil, "Sessions": cfg.Sessions == nil, "Throttle": cfg.Throttle == nil,
		"Consents": cfg.Consents == nil, "Challenges": cfg.Challenges == nil, "Accounts": cfg.Accounts == nil,
		"Users": cfg.Users == nil, "Clients": cfg.Clients == nil,
	} {
		if nilv {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("pages: missing %s", strings.Join(missing, ", "))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ResumePath == "" {
		cfg.ResumePath = DefaultResumePath
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	h := &Handler{cfg: cfg}
	h.csrf = middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:" + CSRFField,
		ContextKey:     csrfContextKey,
		CookieName:     CSRFCookie,
		CookiePath:     "/",
		CookieMaxAge:   int((12 * time.Hour) / time.Second),
		CookieHTTPOnly: true,
		CookieSecure:   cfg.Secure,
		CookieSameSite: http.SameSiteLaxMode,
		// A form posted from another site, even a sibling subdomain
		// (which could plant a CSRF cookie), is refused outright.
		AllowSecFetchSiteFunc: func(c echo.Context) (bool, error) {
			return false, h.csrfRejected(c, errors.New("form posted from "+c.Request().Header.Get(echo.HeaderSecFetchSite)))
		},
		ErrorHandler: func(err error, c echo.Context) error { return h.csrfRejected(c, err) },
	})
	return h, nil
}

// Register mounts the pages on e.
func (h *Handler) Register(e *echo.Echo) {
	e.GET(HomePath, h.home, h.csrf)
	e.GET(LoginPath, h.loginForm, h.csrf)
	e.POST(LoginPath, h.login, h.csrf)
	e.GET(ConsentPath, h.consentForm, h.csrf)
	e.POST(ConsentPath, h.consent, h.csrf)
	e.GET(LogoutPath, h.logoutRequest, h.csrf)
	// No CSRF middleware here: a relying party may POST its logout
	// request; logoutPost checks the token itself for Signet's own forms.
	e.POST(LogoutPath, h.logoutPost)
	e.GET("/static/:name", h.static)
	h.registerSelfService(e)
	h.registerTwoFactor(e)
	h.registerConnectors(e)
}

// CSRF is the pages' CSRF middleware, for other handlers on the same
// listener (the admin console): one cookie, one hidden field, one
// rejection page.
func (h *Handler) CSRF() echo.MiddlewareFunc { return h.csrf }

// CSRFToken is the token for the forms of a page the CSRF middleware
// served ("" when it did not run).
func CSRFToken(c echo.Context) string {
	tok, _ := c.Get(csrfContextKey).(string)
	return tok
}

// csrfRejected answers a form that did not come from Signet's own page.
func (h *Handler) csrfRejected(c echo.Context, err error) error {
	h.cfg.Logger.WarnContext(c.Request().Context(), "form rejected by CSRF check", "path", c.Request().URL.Path, "reason", err.Error())
	if rerr := h.cfg.Render.Error(c.Response(), render.ErrorPage{
		Status:  http.StatusForbidden,
		Title:   "This form could not be accepted",
		Message: "The form was not sent from this site, or it has expired.",
		Hint:    "Go back to the app you came from and try again.",
		Code:    "csrf_failed",
	}); rerr != nil {
		return rerr
	}
	// The answer is written; the error only tells the middleware to stop.
	return echo.NewHTTPError(http.StatusForbidden, "csrf check failed")
}

// common fills the layout's data: the CSRF token and who is signed in.
func (h *Handler) common(c echo.Context, s *storage.Session) render.Common {
	out := render.Common{}
	if tok, ok := c.Get(csrfContextKey).(string); ok {
		out.CSRFToken = tok
	}
	if s != nil && out.CSRFToken != "" {
		ctx := c.Request().Context()
		if u, err := h.cfg.Users.GetUser(ctx, s.UserID); err == nil {
			out.SignedInAs = u.Username
			out.AccountLink = h.cfg.Account != nil
			out.AdminLink = h.cfg.IsAdmin != nil && h.cfg.IsAdmin(ctx, s.UserID)
		}
	}
	return out
}

// current returns the browser's session, nil when there is none.
func (h *Handler) current(c echo.Context) (*storage.Session, error) {
	s, err := h.cfg.Sessions.Current(c.Request())
	if errors.Is(err, sessions.ErrNoSession) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// fail answers an unexpected error: the log gets the details, the person
// a generic page (503 when storage is down, so they know to retry).
func (h *Handler) fail(c echo.Context, err error) error {
	ctx := c.Request().Context()
	page := render.ErrorPage{
		Status:  http.StatusInternalServerError,
		Title:   "Something went wrong",
		Message: "We could not complete your request.",
		Hint:    "Please try again in a moment.",
		Code:    "server_error",
	}
	if errors.Is(err, accounts.ErrBusy) {
		// A form whose password could not be hashed for the crowd
		// (sign-up, reset): not a failure, a "try again".
		setRetryAfter(c, busyRetryAfter)
		page.Status = http.StatusTooManyRequests
		page.Title = "Busy right now"
		page.Message = "Too many people are signing in right now."
		page.Hint = "Wait a few seconds, then try again."
		page.Code = "busy"
		h.cfg.Logger.WarnContext(ctx, "page refused: password hashing busy", "path", c.Request().URL.Path)
	} else if errors.Is(err, storage.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		page.Status = http.StatusServiceUnavailable
		page.Title = "Temporarily unavailable"
		page.Message = "The service is temporarily unavailable."
		page.Code = "temporarily_unavailable"
		h.cfg.Logger.WarnContext(ctx, "page request failed: storage unavailable", "path", c.Request().URL.Path, "err", err)
	} else {
		h.cfg.Logger.ErrorContext(ctx, "page request failed", "path", c.Request().URL.Path, "err", err)
	}
	return h.cfg.Render.Error(c.Response(), page)
}

// badChallenge answers a login challenge that cannot be used.
func (h *Handler) badChallenge(c echo.Context, err error) error {
	if errors.Is(err, ErrChallengeNotFound) || errors.Is(err, storage.ErrNotFound) {
		return h.cfg.Render.Error(c.Response(), render.ErrorPage{
			Status:  http.StatusBadRequest,
			Title:   "This sign-in link has expired",
			Message: "The sign-in request is unknown, was already used, or took too long.",
			Hint:    "Go back to the app you came from and start signing in again.",
			Code:    "invalid_login_challenge",
		})
	}
	return h.fail(c, err)
}

func (h *Handler) audit(c echo.Context, actor, action, target string, details map[string]string) {
	if h.cfg.Audit == nil {
		return
	}
	ctx := c.Request().Context()
	if err := h.cfg.Audit.AppendAudit(ctx, storage.AuditEvent{
		At: h.cfg.Now().UTC(), Actor: actor, Action: action, Target: target, IP: h.clientIP(c), Details: details,
	}); err != nil {
		h.cfg.Logger.WarnContext(ctx, "audit event not recorded", "action", action, "err", err)
	}
}

func (h *Handler) clientIP(c echo.Context) string {
	if h.cfg.ClientIP != nil {
		return h.cfg.ClientIP(c.Request())
	}
	if x := c.Echo().IPExtractor; x != nil {
		return x(c.Request())
	}
	return echo.ExtractIPDirect()(c.Request())
}

// resume sends the browser back to the authorization endpoint.
func (h *Handler) resume(c echo.Context, challenge string) error {
	return c.Redirect(http.StatusSeeOther, h.cfg.ResumePath+"?"+url.Values{ChallengeParam: {challenge}}.Encode())
}

func challengeURL(p, challenge string) string {
	return p + "?" + url.Values{ChallengeParam: {challenge}}.Encode()
}

// SafeReturnTo returns raw when it is a path on Signet itself (no scheme,
// no host, no protocol-relative or backslash tricks), else "".
func SafeReturnTo(raw string) string {
	if raw == "" || len(raw) > 1000 || !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") {
		return ""
	}
	for _, r := range raw {
		if r == '\\' || r < 0x20 || r == 0x7f {
			return ""
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	// No empty segments at all: "/.//evil" is harmless to browsers but
	// nothing of Signet's needs one, so none gets through.
	if strings.Contains(u.Path, "//") {
		return ""
	}
	return raw
}

// home is Signet's own start page: who is signed in, if anyone.
func (h *Handler) home(c echo.Context) error {
	s, err := h.current(c)
	if err != nil {
		return h.fail(c, err)
	}
	common := h.common(c, s)
	notice := homeFlash[TakeFlash(c, h.cfg.Secure)]
	return h.cfg.Render.Home(c.Response(), http.StatusOK, render.HomePage{Common: common, Username: common.SignedInAs, Notice: notice})
}

// static serves the stylesheet (with branding) and any other embedded
// asset.
func (h *Handler) static(c echo.Context) error {
	name := c.Param("name")
	hdr := c.Response().Header()
	if name == path.Base(render.StylesheetPath) {
		css, version := h.cfg.Render.Stylesheet()
		if c.QueryParam("v") == version {
			hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			hdr.Set("Cache-Control", "public, max-age=300")
		}
		hdr.Set("ETag", `"`+version+`"`)
		if c.Request().Header.Get("If-None-Match") == `"`+version+`"` {
			return c.NoContent(http.StatusNotModified)
		}
		return c.Blob(http.StatusOK, "text/css; charset=utf-8", css)
	}
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	b, err := fs.ReadFile(templates.FS, "static/"+name)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	hdr.Set("Cache-Control", "public, max-age=3600")
	return c.Blob(http.StatusOK, ct, b)
}
