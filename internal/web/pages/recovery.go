package pages

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/web/render"
)

// maxLinkToken bounds the token of a mailed link as a form carries it
// (the service's tokens are 43 characters).
const maxLinkToken = 128

func (h *Handler) forgotForm(c echo.Context) error {
	return h.cfg.Render.ForgotPassword(c.Response(), http.StatusOK, render.ForgotPasswordPage{Common: h.common(c, nil)})
}

// forgot asks the service to mail a reset link. The answer is the same
// whether or not an account has the address; only a malformed address is
// sent back. Requests are throttled per address and per client address
// (counted apart from logins), so the form cannot be used to flood a
// mailbox.
func (h *Handler) forgot(c echo.Context) error {
	ctx := h.actAs(c, audit.ActorAnonymous)
	email := strings.TrimSpace(c.FormValue("email"))
	page := render.ForgotPasswordPage{Common: h.common(c, nil), Email: clip(email, maxEmail)}

	acctKey := "reset:" + sessions.AccountKey("", email)
	ipKey := "reset:" + sessions.IPKey(h.clientIP(c))
	wait, err := h.cfg.Throttle.Wait(ctx, acctKey, ipKey)
	if err != nil {
		return h.fail(c, err)
	}
	if wait > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		page.Error = "Too many reset links were asked for. " + waitWords(wait)
		return h.cfg.Render.ForgotPassword(c.Response(), http.StatusTooManyRequests, page)
	}
	err = h.cfg.Recovery.RequestPasswordReset(ctx, email)
	if err != nil {
		msgs, other, ok := fieldMessages(err, "email")
		if !ok {
			return h.fail(c, err)
		}
		page.Errors, page.Error = msgs, other
		return h.cfg.Render.ForgotPassword(c.Response(), http.StatusUnprocessableEntity, page)
	}
	// Every request counts, found or not: the counters only slow down
	// someone asking again and again.
	if err := h.cfg.Throttle.Failed(ctx, acctKey, ipKey); err != nil {
		h.cfg.Logger.WarnContext(ctx, "reset request not counted", "err", err)
	}
	return c.Redirect(http.StatusSeeOther, ForgotPasswordSentPath)
}

func waitWords(wait time.Duration) string {
	minutes := int(math.Ceil(wait.Minutes()))
	if minutes <= 1 {
		return "Wait a minute, then try again."
	}
	return "Wait " + strconv.Itoa(minutes) + " minutes, then try again."
}

func (h *Handler) forgotSent(c echo.Context) error {
	return h.cfg.Render.Message(c.Response(), http.StatusOK, render.MessagePage{
		Common:  h.common(c, nil),
		Kind:    render.MessageInfo,
		Heading: "Check your e-mail",
		Lead:    "If an account has that address, we sent it a link to choose a new password.",
		Body: []string{
			"The link works once and for a limited time. If nothing arrives in a few minutes, look in your spam folder, or check that you typed the address of your account.",
		},
		Links: []render.Link{{Href: LoginPath, Text: "Back to sign in", Primary: true}},
	})
}

// resetForm shows the new-password form of a mailed link. A link that
// expired or cannot be used says so at once, without a form; the check
// does not use the link up (that happens only when the form is sent).
func (h *Handler) resetForm(c echo.Context) error {
	token := c.QueryParam("token")
	if token == "" || len(token) > maxLinkToken {
		return h.badResetLink(c, http.StatusBadRequest)
	}
	switch err := h.cfg.Recovery.CheckResetToken(c.Request().Context(), token); {
	case errors.Is(err, accounts.ErrExpiredToken):
		return h.badResetLink(c, http.StatusGone)
	case errors.Is(err, accounts.ErrInvalidToken):
		return h.badResetLink(c, http.StatusBadRequest)
	case err != nil:
		return h.fail(c, err)
	}
	return h.cfg.Render.ResetPassword(c.Response(), http.StatusOK, render.ResetPasswordPage{Common: h.common(c, nil), Token: token})
}

// reset sets the new password. The service ends every session of the
// person and revokes their apps' tokens, this browser's session included.
func (h *Handler) reset(c echo.Context) error {
	ctx := h.actAs(c, audit.ActorAnonymous)
	token := c.FormValue("token")
	if token == "" || len(token) > maxLinkToken {
		return h.badResetLink(c, http.StatusBadRequest)
	}
	password, confirm := c.FormValue("password"), c.FormValue("password_confirm")
	page := render.ResetPasswordPage{Common: h.common(c, nil), Token: token}
	// The confirmation is checked here, before the link is used.
	if accounts.ValidatePassword(password) == nil && password != confirm {
		page.Errors = render.FieldErrors{"password_confirm": sentence(fieldLabels["password_confirm"], "does not match the password")}
		page.Error = msgFixFields
		return h.cfg.Render.ResetPassword(c.Response(), http.StatusUnprocessableEntity, page)
	}
	_, err := h.cfg.Recovery.ResetPassword(ctx, token, password)
	switch {
	case err == nil:
		h.cfg.Sessions.ClearCookie(c.Response())
		return c.Redirect(http.StatusSeeOther, ResetPasswordDonePath)
	case errors.Is(err, accounts.ErrExpiredToken):
		return h.badResetLink(c, http.StatusGone)
	case errors.Is(err, accounts.ErrInvalidToken):
		return h.badResetLink(c, http.StatusBadRequest)
	}
	msgs, other, ok := fieldMessages(err, "password", "password_confirm")
	if !ok {
		return h.fail(c, err)
	}
	page.Errors = msgs
	page.Error = joinSentences(msgFixFields, other)
	return h.cfg.Render.ResetPassword(c.Response(), http.StatusUnprocessableEntity, page)
}

// badResetLink explains a reset link that cannot be used: 410 when it
// expired, 400 when it was used, replaced or is incomplete.
func (h *Handler) badResetLink(c echo.Context, status int) error {
	p := render.MessagePage{
		Common:  h.common(c, nil),
		Kind:    render.MessageProblem,
		Heading: "This link cannot be used",
		Lead:    "It was already used, a newer link replaced it, or it is incomplete.",
		Body:    []string{"Ask for a new link: only the newest one works, and only once."},
		Links:   []render.Link{{Href: ForgotPasswordPath, Text: "Ask for a new link", Primary: true}, {Href: LoginPath, Text: "Sign in"}},
	}
	if status == http.StatusGone {
		p.Heading = "This link has expired"
		p.Lead = "Password reset links work for a limited time, and this one is too old."
		p.Body = []string{"Ask for a new link and use it soon after it arrives."}
	}
	return h.cfg.Render.Message(c.Response(), status, p)
}

func (h *Handler) resetDone(c echo.Context) error {
	return h.cfg.Render.Message(c.Response(), http.StatusOK, render.MessagePage{
		Common:  h.common(c, nil),
		Kind:    render.MessageSuccess,
		Heading: "Your password is changed",
		Lead:    "You are signed out everywhere, and apps will ask you to sign in again.",
		Body:    []string{"Sign in with your new password."},
		Links:   []render.Link{{Href: LoginPath, Text: "Sign in", Primary: true}},
	})
}
