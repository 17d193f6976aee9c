package pages

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/mfa"
	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/web/render"
)

// Messages on the login page. One message for every kind of refusal, so
// the page never tells whether an account exists or is disabled.
const (
	msgInvalidCredentials = "The user name, e-mail or password is not right. Check them and try again."
	msgReauthenticate     = "For your security, enter your password again to continue."
	msgOtherAccount       = "The app asked you to sign in with a different account."
)

func msgThrottled(wait time.Duration) string {
	minutes := int(math.Ceil(wait.Minutes()))
	if minutes <= 1 {
		return "Too many failed attempts to sign in. Wait a minute, then try again."
	}
	return "Too many failed attempts to sign in. Wait " + strconv.Itoa(minutes) + " minutes, then try again."
}

// needsLogin reports why the person must type their password even though
// the browser has a session ("" when the session will do).
func needsLogin(ch Challenge, s *storage.Session, now time.Time) string {
	switch {
	case s == nil:
		return "no session"
	case ch.HasPrompt("login") || ch.HasPrompt("select_account"):
		return "prompt"
	case ch.MaxAgeSet && now.Sub(s.AuthTime) > ch.MaxAge:
		return "max_age"
	case ch.IDTokenHintSubject != "" && ch.IDTokenHintSubject != s.UserID:
		return "id_token_hint"
	}
	return ""
}

// loginForm shows the login form, or skips it when the browser's session
// satisfies the request (single sign-on).
func (h *Handler) loginForm(c echo.Context) error {
	ctx := c.Request().Context()
	s, err := h.current(c)
	if err != nil {
		return h.fail(c, err)
	}
	value := c.QueryParam(ChallengeParam)
	if value == "" {
		returnTo := SafeReturnTo(c.QueryParam("return_to"))
		if s != nil {
			// A session with only a password, of someone who must use a
			// second factor (the console sends them here): ask for it.
			if up, err := h.needsStepUp(ctx, Challenge{}, s); err != nil {
				return h.fail(c, err)
			} else if up {
				return h.firstFactorDone(c, signIn{userID: s.UserID, amr: sessionAMR(s), remember: s.Remember, returnTo: returnTo})
			}
			return c.Redirect(http.StatusSeeOther, orHome(returnTo))
		}
		return h.renderLogin(c, http.StatusOK, render.LoginPage{Common: h.common(c, nil), ReturnTo: returnTo})
	}
	ch, err := h.cfg.Challenges.Challenge(ctx, value)
	if err != nil {
		return h.badChallenge(c, err)
	}
	if s != nil && ch.Subject != "" && ch.SessionID == s.ID {
		// Already logged in for this request (the back button, or an
		// upstream sign-in), unless the request needs a second factor
		// the session lacks.
		if up, err := h.needsStepUp(ctx, ch, s); err != nil {
			return h.fail(c, err)
		} else if up {
			return h.stepUp(c, value, ch, s)
		}
		return h.afterLogin(c, value, ch, s.UserID)
	}
	page := render.LoginPage{Common: h.common(c, s), Challenge: value, ClientName: ch.ClientName, Username: ch.LoginHint}
	reason := needsLogin(ch, s, h.cfg.Now())
	if reason == "" {
		// A session with only a password, for a request that needs a
		// second factor: ask for that factor (never answer without it).
		if up, err := h.needsStepUp(ctx, ch, s); err != nil {
			return h.fail(c, err)
		} else if up {
			return h.stepUp(c, value, ch, s)
		}
		err := h.cfg.Challenges.AcceptLogin(ctx, value, s.UserID, s.ID, s.AuthTime)
		if err == nil {
			return h.afterLogin(c, value, ch, s.UserID)
		}
		if !errors.Is(err, ErrLoginRejected) {
			return h.badChallenge(c, err)
		}
		reason = "prompt"
	}
	h.allowClientTargets(ctx, c, ch.ClientID)
	switch reason {
	case "id_token_hint":
		page.Notice = msgOtherAccount
	case "prompt", "max_age":
		page.Notice = msgReauthenticate
		if page.Username == "" && page.SignedInAs != "" {
			page.Username = page.SignedInAs
		}
	}
	return h.renderLogin(c, http.StatusOK, page)
}

// login checks the password and starts a fresh session.
func (h *Handler) login(c echo.Context) error {
	ctx := c.Request().Context()
	value := c.FormValue(ChallengeParam)
	username := strings.TrimSpace(c.FormValue("username"))
	password := c.FormValue("password")
	remember := c.FormValue("remember") != ""
	returnTo := SafeReturnTo(c.FormValue("return_to"))

	var ch Challenge
	if value != "" {
		var err error
		if ch, err = h.cfg.Challenges.Challenge(ctx, value); err != nil {
			return h.badChallenge(c, err)
		}
	}
	page := render.LoginPage{
		Common: h.common(c, nil), Challenge: value, ClientName: ch.ClientName,
		Username: username, Remember: remember, ReturnTo: returnTo,
	}
	// Any answer below that shows the form again lets it end at the app.
	h.allowClientTargets(ctx, c, ch.ClientID)
	if h.passwordLoginOff(ctx) {
		page.Error = "Sign in with one of the providers below."
		return h.renderLogin(c, http.StatusForbidden, page)
	}
	if len(username) > 320 {
		username = username[:320]
		page.Username = ""
	}

	// Wrong passwords from browsers unknown to the account spend the
	// replica's allowance; while it is spent, such logins are not
	// checked. It is looked at before anything is counted, and for a
	// browser known to no account before the account is even looked up: a
	// refused attempt then costs no database round trip it can avoid,
	// which keeps a flood of them from taking the connections and CPU the
	// token endpoint needs. Anything but a wrong password spends nothing.
	var check *sessions.Check
	defer func() { check.Done(h.cfg.Now(), false) }()
	admitted := func() bool {
		var ok bool
		check, ok = h.cfg.FailedLogins.Admit(h.cfg.Now())
		return ok
	}
	if !h.cfg.Devices.Any(c.Request()) && !admitted() {
		return h.busyLogin(c, page)
	}

	// The attempt is counted before the password is checked (so that
	// concurrent attempts cannot all pass one count), against the
	// counters of the lockout policy: per account (the user's id when the
	// login names one, else what was typed) from this address or this
	// known browser, per address, and the account's cap.
	userID := ""
	if username != "" {
		switch u, err := h.cfg.Users.GetUserByLogin(ctx, username); {
		case err == nil:
			userID = u.ID
		case errors.Is(err, storage.ErrNotFound):
		default:
			return h.fail(c, err)
		}
	}
	device := h.cfg.Devices.Known(c.Request(), userID)
	if device == "" && check == nil && !admitted() {
		return h.busyLogin(c, page)
	}
	limits := h.cfg.Throttle.LoginLimits(sessions.AccountKey(userID, username), sessions.IPKey(h.clientIP(c)), device)
	remembered := h.cfg.Throttle.Remembered(limits...)
	attempt, wait, err := h.cfg.Throttle.Reserve(ctx, limits...)
	if err != nil {
		return h.fail(c, err)
	}
	if attempt == nil {
		if remembered {
			// Logged and audited when the database refused it, a moment ago.
			h.cfg.Logger.DebugContext(ctx, "login throttled (again)", "user_id", userID, "ip", h.clientIP(c))
		} else {
			h.cfg.Logger.WarnContext(ctx, "login throttled", "user_id", userID, "ip", h.clientIP(c), "known_device", device != "", "wait", wait.Round(time.Second).String())
			h.audit(c, orUnknown(userID), audit.LoginLockout, "", nil)
		}
		setRetryAfter(c, wait)
		page.Error = msgThrottled(wait)
		return h.renderLogin(c, http.StatusTooManyRequests, page)
	}

	user, err := h.cfg.Accounts.Authenticate(ctx, username, password)
	if errors.Is(err, accounts.ErrInvalidCredentials) {
		check.Done(h.cfg.Now(), true)
		// The reserved attempt stays counted as the failure.
		h.cfg.Logger.InfoContext(ctx, "login failed", "user_id", userID, "ip", h.clientIP(c))
		h.audit(c, orUnknown(userID), audit.LoginFailure, "", nil)
		page.Error = msgInvalidCredentials
		return h.renderLogin(c, http.StatusUnauthorized, page)
	}
	if err != nil {
		h.refund(c, attempt)
		if errors.Is(err, accounts.ErrBusy) {
			return h.busyLogin(c, page)
		}
		return h.fail(c, fmt.Errorf("authenticate: %w", err))
	}
	if ch.IDTokenHintSubject != "" && ch.IDTokenHintSubject != user.ID {
		// The right password, but not for the account the app asked
		// for: no session, and the form asks again.
		h.refund(c, attempt)
		h.cfg.Logger.InfoContext(ctx, "login as another account than id_token_hint", "user_id", user.ID)
		page.Error = msgOtherAccount
		page.Username = ""
		return h.renderLogin(c, http.StatusOK, page)
	}
	if err := attempt.Succeeded(ctx); err != nil {
		h.cfg.Logger.WarnContext(ctx, "could not clear login failures", "user_id", user.ID, "err", err)
	}
	if err := h.cfg.Devices.Remember(c.Response(), c.Request(), user.ID); err != nil {
		h.cfg.Logger.WarnContext(ctx, "could not mark the browser as known", "user_id", user.ID, "err", err)
	}
	return h.firstFactorDone(c, signIn{
		userID: user.ID, amr: []string{mfa.MethodPassword}, remember: remember, value: value, ch: ch, returnTo: returnTo,
	})
}

// passwordLoginOff: the operator turned password sign-in off and a
// connector is there instead.
func (h *Handler) passwordLoginOff(ctx context.Context) bool {
	return h.cfg.HidePasswordLogin && len(h.connectorButtons(ctx, "", "")) > 0
}

// msgBusy asks to try again when too many passwords are being checked.
const msgBusy = "Too many people are signing in right now. Wait a few seconds, then try again."

// busyRetryAfter is the Retry-After of an answer refused because the
// password hashing pool is full: about one queue's worth of hashes.
const busyRetryAfter = 2 * time.Second

// busyLogin shows the form again when the password could not be checked
// because too many are being checked at once.
func (h *Handler) busyLogin(c echo.Context, page render.LoginPage) error {
	h.cfg.Logger.WarnContext(c.Request().Context(), "login refused: password hashing busy", "ip", h.clientIP(c))
	setRetryAfter(c, busyRetryAfter)
	page.Error = msgBusy
	return h.renderLogin(c, http.StatusTooManyRequests, page)
}

// refund takes back an attempt whose password was not checked, or was
// right for another purpose; failing leaves it counted, which only
// errs on the slow side.
func (h *Handler) refund(c echo.Context, a *sessions.Attempt) {
	if err := a.Refund(c.Request().Context()); err != nil {
		h.cfg.Logger.WarnContext(c.Request().Context(), "could not refund a login attempt", "err", err)
	}
}

func setRetryAfter(c echo.Context, wait time.Duration) {
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
}

// afterLogin settles consent without asking when it can (first-party
// client, or a remembered decision covering every requested scope), and
// otherwise sends the browser to the consent page.
func (h *Handler) afterLogin(c echo.Context, value string, ch Challenge, userID string) error {
	if ch.ConsentGiven && ch.Subject == userID {
		return h.resume(c, value)
	}
	ok, err := h.consentSettled(c, ch, userID)
	if err != nil {
		return h.fail(c, err)
	}
	if !ok {
		return c.Redirect(http.StatusSeeOther, challengeURL(ConsentPath, value))
	}
	if err := h.cfg.Challenges.DecideConsent(c.Request().Context(), value, ch.Scopes, true); err != nil {
		return h.badChallenge(c, err)
	}
	return h.resume(c, value)
}

// consentSettled reports whether consent may be given without asking.
func (h *Handler) consentSettled(c echo.Context, ch Challenge, userID string) (bool, error) {
	if ch.FirstParty {
		return true, nil
	}
	if ch.HasPrompt("consent") {
		return false, nil
	}
	return h.cfg.Consents.Covers(c.Request().Context(), userID, ch.ClientID, ch.Scopes)
}

func orHome(returnTo string) string {
	if returnTo == "" {
		return HomePath
	}
	return returnTo
}

func orUnknown(userID string) string {
	if userID == "" {
		return audit.ActorAnonymous
	}
	return userID
}

// renderLogin shows the login form with the links to the self-service
// pages that are on: a forgotten password, and sign-up (which carries the
// app's sign-in along).
func (h *Handler) renderLogin(c echo.Context, status int, page render.LoginPage) error {
	page.Connectors = h.connectorButtons(c.Request().Context(), page.Challenge, page.ReturnTo)
	page.HidePassword = h.cfg.HidePasswordLogin && len(page.Connectors) > 0
	if h.cfg.Recovery != nil {
		page.ForgotPasswordURL = ForgotPasswordPath
	}
	if tf := h.cfg.TwoFactor; tf != nil && tf.Factors.PasskeysAvailable() {
		page.Passkey = true
		page.WebAuthn = true
		allowScripts(c)
	}
	if h.registrationOpen() {
		page.RegisterURL = RegisterPath
		if page.Challenge != "" {
			page.RegisterURL = challengeURL(RegisterPath, page.Challenge)
		}
	}
	return h.cfg.Render.Login(c.Response(), status, page)
}
