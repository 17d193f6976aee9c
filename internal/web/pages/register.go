package pages

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/web/render"
)

// Paths of the self-service pages. The verification and reset paths are
// the ones the accounts service puts into its mails.
const (
	RegisterPath           = "/register"
	RegisterDonePath       = "/register/done"
	VerifyEmailPath        = accounts.VerifyEmailPath
	ForgotPasswordPath     = accounts.ForgotPasswordPath
	ForgotPasswordSentPath = "/forgot-password/sent"
	ResetPasswordPath      = accounts.ResetPasswordPath
	ResetPasswordDonePath  = "/reset-password/done"
	AccountPath            = "/account"
)

// Field limits of the forms: what the accounts service accepts. Longer
// input is refused by the service and shown again only up to these.
const (
	maxUsername = 64
	maxEmail    = 254
	maxName     = 200
	// maxChallenge bounds a login challenge carried through sign-up.
	maxChallenge = 200
)

var registerFields = []string{"username", "email", "name", "password", "password_confirm"}

// registerSelfService mounts the pages of the configured self-service
// parts.
func (h *Handler) registerSelfService(e *echo.Echo) {
	if h.cfg.Signup != nil {
		e.GET(RegisterPath, h.registerForm, h.csrf)
		e.POST(RegisterPath, h.register, h.csrf)
		e.GET(RegisterDonePath, h.registerDone, h.csrf)
		e.GET(VerifyEmailPath, h.verifyEmailForm, h.csrf)
		e.POST(VerifyEmailPath, h.verifyEmail, h.csrf)
	}
	if h.cfg.Recovery != nil {
		e.GET(ForgotPasswordPath, h.forgotForm, h.csrf)
		e.POST(ForgotPasswordPath, h.forgot, h.csrf)
		e.GET(ForgotPasswordSentPath, h.forgotSent, h.csrf)
		e.GET(ResetPasswordPath, h.resetForm, h.csrf)
		e.POST(ResetPasswordPath, h.reset, h.csrf)
		e.GET(ResetPasswordDonePath, h.resetDone, h.csrf)
	}
	if h.cfg.Account != nil {
		h.registerAccount(e)
	}
}

// registrationOpen reports whether sign-up is on now.
func (h *Handler) registrationOpen() bool {
	return h.cfg.Signup != nil && h.cfg.Signup.RegistrationEnabled()
}

// registrationOff answers the sign-up pages while registration is
// switched off: they do not exist.
func (h *Handler) registrationOff(c echo.Context) error {
	return h.cfg.Render.Error(c.Response(), render.ErrorPage{
		Common:  h.common(c, nil),
		Status:  http.StatusNotFound,
		Title:   "Page not found",
		Message: "New accounts cannot be created here.",
		Hint:    "Ask the people who run this service for an account.",
		Code:    "registration_disabled",
	})
}

func (h *Handler) registerForm(c echo.Context) error {
	if !h.registrationOpen() {
		return h.registrationOff(c)
	}
	return h.cfg.Render.Register(c.Response(), http.StatusOK, render.RegisterPage{
		Common:    h.common(c, nil),
		Challenge: clip(c.QueryParam(ChallengeParam), maxChallenge),
	})
}

// register creates the account and sends the browser to "check your
// e-mail". Field problems show the form again (422) with a message at
// each field; nothing is written then.
func (h *Handler) register(c echo.Context) error {
	if !h.registrationOpen() {
		return h.registrationOff(c)
	}
	ctx := h.actAs(c, audit.ActorAnonymous)
	page := render.RegisterPage{
		Common:    h.common(c, nil),
		Challenge: formText(c, ChallengeParam, maxChallenge),
		Username:  formText(c, "username", maxUsername),
		Email:     formText(c, "email", maxEmail),
		Name:      formText(c, "name", maxName),
	}
	// Sign-ups are counted per address and per client address (apart
	// from logins): a taken address gets a notice mail, which must not
	// become a way to flood someone's mailbox.
	email := strings.TrimSpace(c.FormValue("email"))
	acctKey := "register:" + sessions.AccountKey("", email)
	ipKey := "register:" + sessions.IPKey(h.clientIP(c))
	wait, err := h.cfg.Throttle.Wait(ctx, acctKey, ipKey)
	if err != nil {
		return h.fail(c, err)
	}
	if wait > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		page.Error = "Too many sign-ups were sent from here or for this address. " + waitWords(wait)
		return h.cfg.Render.Register(c.Response(), http.StatusTooManyRequests, page)
	}
	_, err = h.cfg.Signup.Register(ctx, accounts.Registration{
		Username:        c.FormValue("username"),
		Email:           c.FormValue("email"),
		Name:            c.FormValue("name"),
		Password:        c.FormValue("password"),
		PasswordConfirm: c.FormValue("password_confirm"),
	})
	if err == nil {
		if err := h.cfg.Throttle.Failed(ctx, acctKey, ipKey); err != nil {
			h.cfg.Logger.WarnContext(ctx, "sign-up not counted", "err", err)
		}
		next := RegisterDonePath
		if page.Challenge != "" {
			next += "?" + url.Values{ChallengeParam: {page.Challenge}}.Encode()
		}
		return c.Redirect(http.StatusSeeOther, next)
	}
	switch {
	case errors.Is(err, accounts.ErrRegistrationDisabled):
		return h.registrationOff(c)
	case errors.Is(err, accounts.ErrUserExists):
		// Someone signed up with the same name or address a moment ago.
		page.Error = "That user name or e-mail address has just been registered. Choose another."
		return h.cfg.Render.Register(c.Response(), http.StatusConflict, page)
	}
	msgs, other, ok := fieldMessages(err, registerFields...)
	if !ok {
		return h.fail(c, err)
	}
	page.Errors = msgs
	page.Error = joinSentences(msgFixFields, other)
	return h.cfg.Render.Register(c.Response(), http.StatusUnprocessableEntity, page)
}

func (h *Handler) registerDone(c echo.Context) error {
	signIn := LoginPath
	if ch := clip(c.QueryParam(ChallengeParam), maxChallenge); ch != "" {
		signIn = challengeURL(LoginPath, ch)
	}
	return h.cfg.Render.Message(c.Response(), http.StatusOK, render.MessagePage{
		Common:  h.common(c, nil),
		Kind:    render.MessageInfo,
		Heading: "Check your e-mail",
		Lead:    "We sent a message to the address you gave. Open the link in it to confirm that the address is yours.",
		// The same words whether the account was created or the address
		// had one already (its owner is told how to sign in instead), so
		// the page does not reveal which addresses are registered.
		Body: []string{
			"If the address already belongs to an account, the message tells you how to sign in to it instead.",
			"The link works for a limited time and only once. If nothing arrives in a few minutes, look in your spam folder.",
		},
		Links: []render.Link{{Href: signIn, Text: "Continue to sign in", Primary: true}},
	})
}

// verifyView is what the verification pages share: the request's
// context acting as the signed-in person (or anonymous), the layout's
// data and where to go next.
type verifyView struct {
	ctx    context.Context
	common render.Common
	next   render.Link
}

func (h *Handler) verifyView(c echo.Context) (verifyView, error) {
	s, err := h.current(c)
	if err != nil {
		return verifyView{}, err
	}
	actor := audit.ActorAnonymous
	if s != nil {
		actor = s.UserID
	}
	v := verifyView{ctx: h.actAs(c, actor), common: h.common(c, s),
		next: render.Link{Href: LoginPath, Text: "Sign in", Primary: true}}
	if s != nil && h.cfg.Account != nil {
		v.next = render.Link{Href: AccountPath, Text: "Go to your account", Primary: true}
	}
	return v, nil
}

// verifyEmailForm is where the mailed verification link lands. Opening it
// changes nothing, since mail scanners and link previewers open links on
// their own: it shows a button whose form (CSRF token, the link's token)
// verifies the address. A link that expired or cannot be used says so at
// once; the check does not use it up.
func (h *Handler) verifyEmailForm(c echo.Context) error {
	v, err := h.verifyView(c)
	if err != nil {
		return h.fail(c, err)
	}
	token := c.QueryParam("token")
	if token == "" || len(token) > maxLinkToken {
		return h.badVerifyLink(c, v, accounts.ErrInvalidToken)
	}
	if err := h.cfg.Signup.CheckVerifyToken(v.ctx, token); err != nil {
		return h.badVerifyLink(c, v, err)
	}
	return h.cfg.Render.VerifyEmail(c.Response(), http.StatusOK, render.VerifyEmailPage{Common: v.common, Token: token})
}

// verifyEmail is the confirmation form: it uses the link up and says how
// it went.
func (h *Handler) verifyEmail(c echo.Context) error {
	v, err := h.verifyView(c)
	if err != nil {
		return h.fail(c, err)
	}
	token := c.FormValue("token")
	if token == "" || len(token) > maxLinkToken {
		return h.badVerifyLink(c, v, accounts.ErrInvalidToken)
	}
	u, err := h.cfg.Signup.VerifyEmail(v.ctx, token)
	if err != nil {
		return h.badVerifyLink(c, v, err)
	}
	return h.cfg.Render.Message(c.Response(), http.StatusOK, render.MessagePage{
		Common:  v.common,
		Kind:    render.MessageSuccess,
		Heading: "Your e-mail address is verified",
		Lead:    "Thank you. " + u.Email + " is confirmed as the address of " + u.Username + ".",
		Links:   []render.Link{v.next},
	})
}

// badVerifyLink explains a verification link that cannot be used: 410
// when it expired, 400 when it was used, replaced or is incomplete. Any
// other error is a failure.
func (h *Handler) badVerifyLink(c echo.Context, v verifyView, err error) error {
	switch {
	case errors.Is(err, accounts.ErrExpiredToken):
		return h.cfg.Render.Message(c.Response(), http.StatusGone, render.MessagePage{
			Common:  v.common,
			Kind:    render.MessageProblem,
			Heading: "This link has expired",
			Lead:    "Verification links work for a limited time, and this one is too old.",
			Body:    []string{"Sign in and ask for a new link on your account page (to change your address, ask for the change there again)."},
			Links:   []render.Link{{Href: LoginPath + "?" + url.Values{"return_to": {AccountPath}}.Encode(), Text: "Sign in", Primary: true}},
		})
	case errors.Is(err, accounts.ErrInvalidToken):
		return h.cfg.Render.Message(c.Response(), http.StatusBadRequest, render.MessagePage{
			Common:  v.common,
			Kind:    render.MessageProblem,
			Heading: "This link cannot be used",
			Lead:    "It was already used, a newer link replaced it, or it is incomplete.",
			Body:    []string{"If you confirmed your address with it before, it is verified and there is nothing more to do. Otherwise, sign in and ask for a new link on your account page."},
			Links:   []render.Link{v.next},
		})
	}
	return h.fail(c, err)
}

func joinSentences(parts ...string) string {
	out := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if out != "" {
			out += " "
		}
		out += p
	}
	return out
}
