package pages

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/web/render"
)

// Paths the account page's forms post to.
const (
	AccountProfilePath   = "/account/profile"
	AccountEmailPath     = "/account/email"
	AccountVerifyPath    = "/account/verify-email"
	AccountPasswordPath  = "/account/password"
	AccountRevokeAppPath = "/account/apps/revoke"
	AccountOtherSessions = "/account/sessions/sign-out-others"
	AccountDeletePath    = "/account/delete"
)

const (
	accountDeletedFlash    = "account-deleted"
	msgCurrentPasswordWait = "Too many wrong passwords. "
)

// accountFlash are the outcomes the account page reports after a change.
var accountFlash = map[string]string{
	"profile-saved":     "Your name is saved.",
	"email-saved":       "Your e-mail address is saved.",
	"verification-sent": "We sent a new verification link to your address.",
	"password-changed":  "Your password is changed. Your other sessions are signed out.",
	"app-revoked":       "The app’s access is revoked. It has to ask you again before it can use your account.",
	"sessions-ended":    "Your other sessions are signed out.",
	"provider-linked":   "The provider is linked: you can sign in with it from now on.",
	"provider-unlinked": "The provider is unlinked.",
	"provider-last":     "That provider is your only way to sign in: set a password or link another provider before unlinking it.",
}

// homeFlash are the outcomes the start page reports.
var homeFlash = map[string]string{
	accountDeletedFlash: "Your account is deleted. Thank you for having used it.",
}

// accountForms name the fields of each form of the account page.
var accountForms = map[string][]string{
	render.AccountFormProfile:  {"name"},
	render.AccountFormEmail:    {"email", "current_password"},
	render.AccountFormPassword: {"current_password", "password", "password_confirm"},
	render.AccountFormDelete:   {"current_password"},
}

func (h *Handler) registerAccount(e *echo.Echo) {
	e.GET(AccountPath, h.account, h.csrf)
	e.POST(AccountProfilePath, h.accountForm(render.AccountFormProfile, false, h.saveProfile), h.csrf)
	e.POST(AccountEmailPath, h.accountForm(render.AccountFormEmail, true, h.changeEmail), h.csrf)
	e.POST(AccountVerifyPath, h.accountForm(render.AccountFormEmail, false, h.resendVerification), h.csrf)
	e.POST(AccountPasswordPath, h.accountForm(render.AccountFormPassword, true, h.changePassword), h.csrf)
	e.POST(AccountRevokeAppPath, h.accountForm("", false, h.revokeApp), h.csrf)
	e.POST(AccountOtherSessions, h.accountForm("", false, h.signOutOthers), h.csrf)
	e.POST(AccountDeletePath, h.accountForm(render.AccountFormDelete, true, h.deleteAccount), h.csrf)
}

// toLogin sends a browser without a session to the login page, which
// brings it back to the account page.
func toLogin(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, LoginPath+"?"+url.Values{"return_to": {AccountPath}}.Encode())
}

// account shows the signed-in person their account.
func (h *Handler) account(c echo.Context) error {
	s, err := h.current(c)
	if err != nil {
		return h.fail(c, err)
	}
	if s == nil {
		return toLogin(c)
	}
	page, err := h.accountPage(c, *s)
	if errors.Is(err, accounts.ErrUserNotFound) {
		h.cfg.Sessions.ClearCookie(c.Response())
		return toLogin(c)
	}
	if err != nil {
		return h.fail(c, err)
	}
	page.Flash = accountFlash[TakeFlash(c, h.cfg.Secure)]
	return h.cfg.Render.Account(c.Response(), http.StatusOK, page)
}

// accountPage reads everything the account page shows.
func (h *Handler) accountPage(c echo.Context, s storage.Session) (render.AccountPage, error) {
	ctx := c.Request().Context()
	u, err := h.cfg.Account.GetUser(ctx, s.UserID)
	if err != nil {
		return render.AccountPage{}, err
	}
	apps, err := h.cfg.Account.ConnectedApps(ctx, u.ID)
	if err != nil {
		return render.AccountPage{}, err
	}
	list, err := h.cfg.Account.Sessions(ctx, u.ID)
	if err != nil {
		return render.AccountPage{}, err
	}
	page := render.AccountPage{
		Common:        h.common(c, &s),
		Username:      u.Username,
		Name:          u.Name,
		Email:         u.Email,
		EmailVerified: u.EmailVerified,
	}
	if tf := h.cfg.TwoFactor; tf != nil {
		st, err := tf.Factors.Status(ctx, u.ID)
		if err != nil {
			return render.AccountPage{}, err
		}
		page.TwoFactor, page.TwoFactorOn = true, st.Enrolled()
	}
	if h.cfg.Connectors != nil {
		providers, err := h.cfg.Connectors.Providers(ctx, u.ID)
		if err != nil {
			return render.AccountPage{}, err
		}
		for _, p := range providers {
			page.Providers = append(page.Providers, render.AccountProvider{
				ID: p.ConnectorID, Name: p.Name, Email: p.Email, Linked: p.Linked, LinkedAt: p.LinkedAt,
			})
		}
	}
	for _, a := range apps {
		page.Apps = append(page.Apps, render.AccountApp{
			ClientID: a.ClientID, Name: a.ClientName, Scopes: describeScopes(a.Scopes), GrantedAt: a.GrantedAt,
		})
	}
	for _, x := range list {
		current := x.ID == s.ID
		if !current {
			page.OtherSessions++
		}
		page.Sessions = append(page.Sessions, render.AccountSession{
			Device: describeDevice(x.UserAgent), IP: x.IP, SignedIn: x.AuthTime, LastSeen: x.LastSeenAt,
			Remembered: x.Remember, Current: current,
		})
	}
	return page, nil
}

// accountAction carries out one form of the account page for the
// signed-in person and returns the flash code to show after the redirect
// (and where to, when not back to the account page).
type accountAction func(c echo.Context, ctx context.Context, s storage.Session) (flash, next string, err error)

// accountForm wraps an account form: a session is required; forms that
// check the current password are throttled like logins (a wrong current
// password counts as a failed login of the account); success redirects
// with a flash message (post/redirect/get); field problems show the page
// again at the form, with a message at each field.
func (h *Handler) accountForm(form string, checksPassword bool, act accountAction) echo.HandlerFunc {
	return func(c echo.Context) error {
		s, err := h.current(c)
		if err != nil {
			return h.fail(c, err)
		}
		if s == nil {
			return toLogin(c)
		}
		ctx := h.actAs(c, s.UserID)
		var attempt *sessions.Attempt
		if checksPassword {
			// Counted before the password is checked, like a login.
			limits := h.cfg.Throttle.LoginLimits(sessions.AccountKey(s.UserID, ""), sessions.IPKey(h.clientIP(c)),
				h.cfg.Devices.Known(c.Request(), s.UserID))
			var wait time.Duration
			if attempt, wait, err = h.cfg.Throttle.Reserve(ctx, limits...); err != nil {
				return h.fail(c, err)
			}
			if attempt == nil {
				setRetryAfter(c, wait)
				return h.accountProblem(c, *s, http.StatusTooManyRequests, form, nil, msgCurrentPasswordWait+waitWords(wait))
			}
		}
		flash, next, err := act(c, ctx, *s)
		if attempt != nil {
			h.settleAccountAttempt(c, attempt, err)
		}
		if errors.Is(err, accounts.ErrBusy) {
			setRetryAfter(c, busyRetryAfter)
			return h.accountProblem(c, *s, http.StatusTooManyRequests, form, nil, msgBusy)
		}
		if err == nil && c.Response().Committed {
			return nil // the action answered itself
		}
		if err == nil {
			SetFlash(c, flash, h.cfg.Secure)
			if next == "" {
				next = AccountPath
			}
			return c.Redirect(http.StatusSeeOther, next)
		}
		if errors.Is(err, accounts.ErrUserNotFound) {
			h.cfg.Sessions.ClearCookie(c.Response())
			return toLogin(c)
		}
		var mt *mailThrottled
		if errors.As(err, &mt) {
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(mt.wait.Seconds()))))
			return h.accountProblem(c, *s, http.StatusTooManyRequests, form, nil,
				"Too many e-mails were sent for your account. "+waitWords(mt.wait))
		}
		if msgs, other, ok := fieldMessages(err, accountForms[form]...); ok {
			return h.accountProblem(c, *s, http.StatusUnprocessableEntity, form, msgs, joinSentences(msgFixFields, other))
		}
		switch {
		case errors.Is(err, accounts.ErrLastAdmin):
			return h.accountProblem(c, *s, http.StatusConflict, form, nil,
				"You are the only administrator. Make someone else an administrator before you delete your account.")
		case errors.Is(err, accounts.ErrMailNotSent):
			return h.accountProblem(c, *s, http.StatusBadGateway, form, nil,
				"We could not send the e-mail just now. Try again in a few minutes.")
		case errors.Is(err, storage.ErrConflict):
			return h.accountProblem(c, *s, http.StatusConflict, form, nil,
				"Your account was changed at the same moment somewhere else. Check it and try again.")
		}
		return h.fail(c, err)
	}
}

// settleAccountAttempt settles a reserved current-password check by the
// action's outcome: a wrong password stays counted, a right one clears the
// account's counters like a login, and any other outcome takes the attempt
// back without clearing (the password may not have been checked at all: a
// malformed address is refused before it, and clearing then would let a
// guesser reset the count).
func (h *Handler) settleAccountAttempt(c echo.Context, a *sessions.Attempt, err error) {
	var serr error
	switch {
	case accounts.FieldErrors(err)["current_password"] != "":
		return
	case err == nil:
		serr = a.Succeeded(c.Request().Context())
	default:
		serr = a.Refund(c.Request().Context())
	}
	if serr != nil {
		h.cfg.Logger.WarnContext(c.Request().Context(), "could not settle a password attempt", "err", serr)
	}
}

// accountProblem shows the account page again with what went wrong at the
// form that was sent.
func (h *Handler) accountProblem(c echo.Context, s storage.Session, status int, form string, fields render.FieldErrors, msg string) error {
	page, err := h.accountPage(c, s)
	if err != nil {
		return h.fail(c, err)
	}
	page.Form, page.Errors, page.Error = form, fields, msg
	if form == render.AccountFormEmail {
		page.NewEmail = formText(c, "email", maxEmail)
	}
	if form == "" {
		// A form without fields of its own: the message goes on top.
		page.Form = render.AccountFormTop
	}
	return h.cfg.Render.Account(c.Response(), status, page)
}

func (h *Handler) saveProfile(c echo.Context, ctx context.Context, s storage.Session) (string, string, error) {
	_, err := h.cfg.Account.UpdateProfile(ctx, s.UserID, c.FormValue("name"))
	return "profile-saved", "", err
}

// changeEmail asks for a new address. The change waits for the link
// mailed to it, and the page says so in the same words (and status)
// whether the address is free or another account's, whose owner is
// mailed a notice instead: the form must not tell which addresses are
// registered. The message names the address typed, so it is shown at
// once rather than after a redirect (a flash carries only a code).
func (h *Handler) changeEmail(c echo.Context, ctx context.Context, s storage.Session) (string, string, error) {
	var u accounts.User
	newEmail := strings.TrimSpace(c.FormValue("email"))
	err := h.limitMail(c, ctx, s, func() error {
		var err error
		u, err = h.cfg.Account.ChangeEmail(ctx, s.UserID, newEmail, c.FormValue("current_password"))
		return err
	})
	if err != nil {
		return "", "", err
	}
	if strings.EqualFold(u.Email, newEmail) {
		// The account's own address (or its letter case): saved at once.
		return "email-saved", "", nil
	}
	page, err := h.accountPage(c, s)
	if err != nil {
		return "", "", err
	}
	page.Flash = "We sent a link to " + clip(newEmail, maxEmail) + "; your address changes when you open it."
	return "", "", h.cfg.Render.Account(c.Response(), http.StatusOK, page)
}

func (h *Handler) resendVerification(c echo.Context, ctx context.Context, s storage.Session) (string, string, error) {
	return "verification-sent", "", h.limitMail(c, ctx, s, func() error { return h.cfg.Account.SendVerification(ctx, s.UserID) })
}

// mailThrottled is a form that would send a mail refused for now.
type mailThrottled struct{ wait time.Duration }

func (e *mailThrottled) Error() string { return "account mail throttled" }

// limitMail runs send, a form that mails the account's address, unless
// such forms were sent too often for the account or from the client
// address (counted apart from logins, like sign-ups): otherwise "send the
// link again" would be a way to flood a mailbox, which may be someone
// else's. Every send that goes through counts.
func (h *Handler) limitMail(c echo.Context, ctx context.Context, s storage.Session, send func() error) error {
	acctKey := "account-mail:" + sessions.AccountKey(s.UserID, "")
	ipKey := "account-mail:" + sessions.IPKey(h.clientIP(c))
	wait, err := h.cfg.Throttle.Wait(ctx, acctKey, ipKey)
	if err != nil {
		return err
	}
	if wait > 0 {
		return &mailThrottled{wait: wait}
	}
	if err := send(); err != nil {
		return err
	}
	if err := h.cfg.Throttle.Failed(ctx, acctKey, ipKey); err != nil {
		h.cfg.Logger.WarnContext(ctx, "account mail not counted", "err", err)
	}
	return nil
}

func (h *Handler) changePassword(c echo.Context, ctx context.Context, s storage.Session) (string, string, error) {
	err := h.cfg.Account.ChangePassword(ctx, accounts.PasswordChange{
		UserID:        s.UserID,
		Current:       c.FormValue("current_password"),
		New:           c.FormValue("password"),
		Confirm:       c.FormValue("password_confirm"),
		KeepSessionID: s.ID,
	})
	return "password-changed", "", err
}

func (h *Handler) revokeApp(c echo.Context, ctx context.Context, s storage.Session) (string, string, error) {
	clientID := c.FormValue("client_id")
	if clientID == "" || len(clientID) > 200 {
		// Nothing to revoke: show the page again.
		return "", "", nil
	}
	return "app-revoked", "", h.cfg.Account.RevokeApp(ctx, s.UserID, clientID)
}

func (h *Handler) signOutOthers(_ echo.Context, ctx context.Context, s storage.Session) (string, string, error) {
	_, err := h.cfg.Account.SignOutOtherSessions(ctx, s.UserID, s.ID)
	return "sessions-ended", "", err
}

// deleteAccount deletes the person's account (the service ends every
// session) and says goodbye on the start page.
func (h *Handler) deleteAccount(c echo.Context, ctx context.Context, s storage.Session) (string, string, error) {
	if err := h.cfg.Account.DeleteAccount(ctx, s.UserID, c.FormValue("current_password")); err != nil {
		return "", "", err
	}
	h.cfg.Sessions.ClearCookie(c.Response())
	return accountDeletedFlash, HomePath, nil
}

// describeDevice names the browser and system of a user agent in a few
// words ("Firefox on Windows"), for the list of sessions.
func describeDevice(ua string) string {
	browser := ""
	switch {
	case ua == "":
		return "Unknown browser"
	case strings.Contains(ua, "Edg/"):
		browser = "Edge"
	case strings.Contains(ua, "OPR/") || strings.Contains(ua, "Opera"):
		browser = "Opera"
	case strings.Contains(ua, "Firefox/"):
		browser = "Firefox"
	case strings.Contains(ua, "Chrome/") || strings.Contains(ua, "Chromium/"):
		browser = "Chrome"
	case strings.Contains(ua, "Safari/"):
		browser = "Safari"
	case strings.HasPrefix(ua, "curl/"):
		browser = "curl"
	default:
		browser = "A browser"
	}
	system := ""
	switch {
	case strings.Contains(ua, "Android"):
		system = "Android"
	case strings.Contains(ua, "iPhone") || strings.Contains(ua, "iPad"):
		system = "iOS"
	case strings.Contains(ua, "Windows"):
		system = "Windows"
	case strings.Contains(ua, "Mac OS X") || strings.Contains(ua, "Macintosh"):
		system = "macOS"
	case strings.Contains(ua, "CrOS"):
		system = "ChromeOS"
	case strings.Contains(ua, "Linux"):
		system = "Linux"
	}
	if system == "" {
		return browser
	}
	return browser + " on " + system
}
