package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/mfa"
	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/web/pages"
	"github.com/signet-idp/signet/internal/web/render"
)

// Paths of the console.
const (
	Prefix      = "/admin"
	UsersPath   = Prefix + "/users"
	RolesPath   = Prefix + "/roles"
	ClientsPath = Prefix + "/clients"
	AuditPath   = Prefix + "/audit"
)

// Config is what the console uses. Every field but Logger, ClientIP,
// Secure and AccountLink is required.
type Config struct {
	Render   *render.Renderer
	Sessions Sessions
	Accounts Accounts
	Clients  Clients
	Audit    Audit
	// CSRF is the pages' CSRF middleware (pages.Handler.CSRF).
	CSRF   echo.MiddlewareFunc
	Logger *slog.Logger
	// Secure marks the flash cookie Secure (an https issuer).
	Secure bool
	// AccountLink shows the link to the account page in the header.
	AccountLink bool
	// Connectors manages upstream identity providers; nil leaves the
	// page out.
	Connectors Connectors
	// ClientIP names the address audit events record; default: the Echo
	// instance's IPExtractor, or the connection's address.
	ClientIP func(*http.Request) string
	// MFA shows who has a second factor and resets them; nil leaves both
	// out.
	MFA SecondFactors
	// MFAPolicy, when set, sends an administrator whose session has only a
	// password and who must use a second factor to sign in with it first.
	MFAPolicy MFAPolicy
}

// Handler serves the console.
type Handler struct {
	cfg Config
}

// New checks cfg and returns a Handler.
func New(cfg Config) (*Handler, error) {
	var missing []string
	for name, isNil := range map[string]bool{
		"Render": cfg.Render == nil, "Sessions": cfg.Sessions == nil, "Accounts": cfg.Accounts == nil,
		"Clients": cfg.Clients == nil, "Audit": cfg.Audit == nil, "CSRF": cfg.CSRF == nil,
	} {
		if isNil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("console: missing %s", strings.Join(missing, ", "))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg}, nil
}

// Register mounts the console under /admin on e. The CSRF check runs
// first (a form from elsewhere is refused whoever sends it), then the
// admin check.
func (h *Handler) Register(e *echo.Echo) {
	g := e.Group(Prefix, h.cfg.CSRF, h.requireAdmin)
	g.GET("", h.start)
	g.GET("/", h.start)

	g.GET("/users", h.users)
	g.POST("/users", h.searchUsers)
	g.GET("/users/:id", h.user)
	g.POST("/users/:id/roles", h.userAction(h.setRoles))
	g.POST("/users/:id/disable", h.userAction(h.disable))
	g.POST("/users/:id/enable", h.userAction(h.enable))
	g.POST("/users/:id/verify-email", h.userAction(h.verifyEmail))
	g.POST("/users/:id/send-reset", h.userAction(h.sendReset))
	g.POST("/users/:id/sign-out", h.userAction(h.signOut))
	if h.cfg.MFA != nil {
		g.POST("/users/:id/reset-mfa", h.userAction(h.resetMFA))
	}

	g.GET("/roles", h.roles)
	g.POST("/roles", h.createRole)
	g.POST("/roles/:name/delete", h.deleteRole)

	g.GET("/clients", h.clients)
	g.POST("/clients", h.createClient)
	g.POST("/clients/:id/delete", h.deleteClient)
	g.GET("/clients/:id/edit", h.editClientForm)
	g.POST("/clients/:id/edit", h.editClient)
	g.POST("/clients/:id/rotate-secret", h.rotateClientSecret)

	g.GET("/audit", h.audit)

	h.registerConnectors(g)

	g.RouteNotFound("/*", func(c echo.Context) error {
		return h.notFound(c, "There is no such page in the console.")
	})
}

const adminKey = "console.admin"

// requireAdmin lets through people signed in with the role admin, acting
// as themselves from their address. Without a session the browser goes
// to the login page and comes back; without the role the answer is 403.
func (h *Handler) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		s, err := h.cfg.Sessions.Current(r)
		if errors.Is(err, sessions.ErrNoSession) {
			return toLogin(c)
		}
		if err != nil {
			return h.fail(c, err)
		}
		u, err := h.cfg.Accounts.GetUser(r.Context(), s.UserID)
		if errors.Is(err, accounts.ErrUserNotFound) {
			return toLogin(c)
		}
		if err != nil {
			return h.fail(c, err)
		}
		if u.Disabled || !slices.Contains(u.Roles, storage.RoleAdmin) {
			h.cfg.Logger.InfoContext(r.Context(), "console refused: not an administrator", "user_id", u.ID, "path", r.URL.Path)
			return h.cfg.Render.Error(c.Response(), render.ErrorPage{
				Common:  render.Common{CSRFToken: pages.CSRFToken(c), SignedInAs: u.Username, AccountLink: h.cfg.AccountLink},
				Status:  http.StatusForbidden,
				Title:   "You cannot open this page",
				Message: "The administration pages are only for administrators, and your account is not one.",
				Hint:    "If you need access, ask an administrator to give your account the admin role.",
				Code:    "forbidden",
			})
		}
		if h.cfg.MFAPolicy != nil && !mfa.TwoFactor(s.ACR) {
			required, err := h.cfg.MFAPolicy.Required(r.Context(), u.ID)
			if err != nil {
				return h.fail(c, err)
			}
			if required {
				// The login page asks for (or sets up) the second factor.
				return toLogin(c)
			}
		}
		c.Set(adminKey, u)
		c.SetRequest(r.WithContext(audit.WithActor(r.Context(), audit.Actor{ID: u.ID, IP: h.clientIP(c)})))
		return next(c)
	}
}

// toLogin sends the browser to sign in and back: to the page it asked for
// (GET), or to the console's start (a form, which is not sent again).
func toLogin(c echo.Context) error {
	back := Prefix
	if c.Request().Method == http.MethodGet {
		if p := pages.SafeReturnTo(c.Request().URL.RequestURI()); p != "" {
			back = p
		}
	}
	return c.Redirect(http.StatusSeeOther, pages.LoginPath+"?"+url.Values{"return_to": {back}}.Encode())
}

// admin is the administrator requireAdmin let through.
func admin(c echo.Context) accounts.User {
	u, _ := c.Get(adminKey).(accounts.User)
	return u
}

func (h *Handler) common(c echo.Context) render.Common {
	return render.Common{
		CSRFToken:   pages.CSRFToken(c),
		SignedInAs:  admin(c).Username,
		AccountLink: h.cfg.AccountLink,
		AdminLink:   true,
	}
}

func (h *Handler) start(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, UsersPath)
}

func (h *Handler) flash(c echo.Context, code string) {
	pages.SetFlash(c, code, h.cfg.Secure)
}

func (h *Handler) takeFlash(c echo.Context) string {
	return flashMessages[pages.TakeFlash(c, h.cfg.Secure)]
}

// flashMessages are the outcomes the console reports after a change.
var flashMessages = map[string]string{
	"roles-saved":        "The roles are saved. Apps see them at the next refresh or sign-in.",
	"user-disabled":      "The account is disabled. Its sessions are ended and its tokens revoked.",
	"user-enabled":       "The account is enabled again.",
	"email-verified":     "The e-mail address is marked as verified.",
	"reset-sent":         "A password reset link is on its way.",
	"signed-out":         "The user is signed out everywhere, and every token of their apps is revoked.",
	"mfa-reset":          "The user's second factors and recovery codes are removed. They sign in with their password alone until they set up new ones.",
	"role-created":       "The role is created.",
	"role-deleted":       "The role is deleted, and no user holds it any more.",
	"client-deleted":     "The client is deleted. Its tokens no longer work.",
	"client-saved":       "The client's changes are saved. Its next sign-in and token requests follow them.",
	"connector-created":  "The sign-in provider is added. Register its redirect URL at the provider.",
	"connector-enabled":  "The sign-in provider is on the login page.",
	"connector-disabled": "The sign-in provider is off the login page.",
	"connector-deleted":  "The sign-in provider is deleted, and everyone linked through it is unlinked.",
	"connector-saved":    "The sign-in provider's changes are saved. The next sign-in through it uses them.",
}

// fail answers an unexpected error: details to the log, a generic page to
// the person (503 while storage is down).
func (h *Handler) fail(c echo.Context, err error) error {
	ctx := c.Request().Context()
	page := render.ErrorPage{
		Common: h.common(c), Status: http.StatusInternalServerError, Title: "Something went wrong",
		Message: "We could not complete your request.", Hint: "Please try again in a moment.", Code: "server_error",
	}
	if errors.Is(err, storage.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		page.Status, page.Title = http.StatusServiceUnavailable, "Temporarily unavailable"
		page.Message, page.Code = "The service is temporarily unavailable.", "temporarily_unavailable"
		h.cfg.Logger.WarnContext(ctx, "console request failed: storage unavailable", "path", c.Request().URL.Path, "err", err)
	} else {
		h.cfg.Logger.ErrorContext(ctx, "console request failed", "path", c.Request().URL.Path, "err", err)
	}
	return h.cfg.Render.Error(c.Response(), page)
}

func (h *Handler) notFound(c echo.Context, msg string) error {
	return h.cfg.Render.Error(c.Response(), render.ErrorPage{
		Common: h.common(c), Status: http.StatusNotFound, Title: "Not found", Message: msg,
		Hint: "Go back to the list and pick it again.", Code: "not_found",
	})
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

// param returns a path parameter, unescaped (Echo leaves parameters
// escaped when it routes on the raw path).
func param(c echo.Context, name string) string {
	v := c.Param(name)
	if c.Request().URL.RawPath == "" {
		return v
	}
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

// refusal turns a service's refusal (the last administrator, your own
// account) into a sentence for the page.
func refusal(err error) string {
	msg := err.Error()
	if msg == "" {
		return ""
	}
	r := []rune(msg)
	r[0] = unicode.ToUpper(r[0])
	msg = string(r)
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// sentence is a field's label and the service's message about it.
func sentence(label, msg string) string {
	s := label + " " + msg
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// clip keeps at most max bytes of valid UTF-8 of s, for showing it again.
func clip(s string, max int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
