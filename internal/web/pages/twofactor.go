package pages

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/mfa"
	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/web/render"
)

// Paths of two-factor sign-in.
const (
	TwoFactorPath             = "/login/two-factor"
	TwoFactorSetupPath        = "/login/two-factor/setup"
	TwoFactorPasskeyPath      = "/login/two-factor/passkey"
	TwoFactorPasskeyOptions   = "/login/two-factor/passkey/options"
	PasskeyLoginPath          = "/login/passkey"
	PasskeyLoginOptionsPath   = "/login/passkey/options"
	maxWebAuthnResponseLength = 64 << 10
)

// Messages of the second-factor step.
const (
	msgBadCode      = "That code is not right. Check it and try again."
	msgCodeUsed     = "That code was already used. Wait for the next one, then try again."
	msgBadPasskey   = "The passkey could not be used. Try again, or use another way to sign in."
	msgCodeThrottle = "Too many wrong codes. "
)

// SecondFactors is what the pages need of second factors (internal/mfa's
// Service).
type SecondFactors interface {
	Status(ctx context.Context, userID string) (storage.MFAStatus, error)
	StartTOTP(ctx context.Context, userID string) (mfa.TOTPEnrolment, error)
	ConfirmTOTP(ctx context.Context, userID, code string) ([]string, error)
	VerifyTOTP(ctx context.Context, userID, code string) error
	RemoveTOTP(ctx context.Context, userID string) error
	UseRecoveryCode(ctx context.Context, userID, code string) error
	RegenerateRecoveryCodes(ctx context.Context, userID string) ([]string, error)
	PasskeysAvailable() bool
	Passkeys(ctx context.Context, userID string) ([]storage.Passkey, error)
	BeginPasskeyRegistration(ctx context.Context, userID string) ([]byte, error)
	FinishPasskeyRegistration(ctx context.Context, userID, name string, response []byte) (storage.Passkey, []string, error)
	BeginPasskeyLogin(ctx context.Context, userID string) ([]byte, error)
	FinishPasskeyLogin(ctx context.Context, userID string, response []byte) error
	BeginPasswordless(ctx context.Context) ([]byte, error)
	FinishPasswordless(ctx context.Context, response []byte) (string, error)
	RemovePasskey(ctx context.Context, userID, id string) error
	RenamePasskey(ctx context.Context, userID, id, name string) error
}

// MFAPolicy says whether a user must sign in with a second factor whatever
// the app asks (the whole server, or one of their roles, requires it).
type MFAPolicy interface {
	Required(ctx context.Context, userID string) (bool, error)
}

// TwoFactorConfig turns two-factor sign-in on (Config.TwoFactor).
type TwoFactorConfig struct {
	Factors SecondFactors
	// Cookies carry a sign-in between its password and its second
	// factor, and remembered devices.
	Cookies *mfa.Cookies
	// Policy may be nil: only apps then require a second factor.
	Policy MFAPolicy
	// RememberDevice, when positive, offers "don't ask again on this
	// device" for that long.
	RememberDevice time.Duration
}

// signIn is a completed sign-in: who, by which methods, and where it goes.
type signIn struct {
	userID   string
	amr      []string
	remember bool
	value    string // the login challenge ("" for Signet's own pages)
	ch       Challenge
	returnTo string
}

// startSession starts the session of a sign-in whose every factor is done.
func (h *Handler) startSession(c echo.Context, in signIn) (storage.Session, error) {
	s, err := h.cfg.Sessions.Start(c.Response(), c.Request(), sessions.StartInput{
		UserID: in.userID, Remember: in.remember, UserAgent: c.Request().UserAgent(), IP: h.clientIP(c),
		AMR: in.amr, ACR: mfa.ACRFor(in.amr),
	})
	if err != nil {
		return s, err
	}
	h.audit(c, in.userID, audit.LoginSuccess, s.ID, map[string]string{
		"client_id": in.ch.ClientID, "remember": strconv.FormatBool(in.remember), "amr": strings.Join(in.amr, " "),
	})
	return s, nil
}

// complete starts the session of a sign-in whose every factor is done and
// carries on with the app's request (or returnTo).
func (h *Handler) complete(c echo.Context, in signIn) error {
	ctx := c.Request().Context()
	s, err := h.startSession(c, in)
	if err != nil {
		return h.fail(c, err)
	}
	if in.value == "" {
		return c.Redirect(http.StatusSeeOther, orHome(in.returnTo))
	}
	if err := h.cfg.Challenges.AcceptLogin(ctx, in.value, in.userID, s.ID, s.AuthTime); err != nil {
		if errors.Is(err, ErrLoginRejected) {
			// Signed in, but not as the account the app asked for.
			h.allowClientTargets(ctx, c, in.ch.ClientID)
			return h.renderLogin(c, http.StatusOK, render.LoginPage{
				Common: h.common(c, &s), Challenge: in.value, ClientName: in.ch.ClientName, Error: msgOtherAccount,
			})
		}
		return h.badChallenge(c, err)
	}
	return h.afterLogin(c, in.value, in.ch, in.userID)
}

// mfaRequired reports whether the user must use a second factor for this
// sign-in: the app asks for one, or the server or a role requires one.
func (h *Handler) mfaRequired(ctx context.Context, userID string, ch Challenge) (bool, error) {
	if ch.RequireMFA {
		return true, nil
	}
	if h.cfg.TwoFactor == nil || h.cfg.TwoFactor.Policy == nil {
		return false, nil
	}
	return h.cfg.TwoFactor.Policy.Required(ctx, userID)
}

// firstFactorDone continues a sign-in whose first factor (the password)
// was right: straight to a session when no second factor is set up or
// needed (or the device is remembered), else to the second-factor page,
// or to setting one up when it is needed but missing. Until then there
// is no session: only a signed pending cookie.
func (h *Handler) firstFactorDone(c echo.Context, in signIn) error {
	tf := h.cfg.TwoFactor
	if tf == nil {
		return h.complete(c, in)
	}
	ctx := c.Request().Context()
	st, err := tf.Factors.Status(ctx, in.userID)
	if err != nil {
		return h.fail(c, err)
	}
	pending := mfa.Pending{UserID: in.userID, AMR: in.amr, Remember: in.remember, ReturnTo: in.returnTo}
	if st.Enrolled() {
		if tf.RememberDevice > 0 && tf.Cookies.DeviceRemembered(c.Request(), in.userID, st.Since) {
			in.amr = mfa.WithSecondFactor(in.amr, "")
			return h.complete(c, in)
		}
		if err := tf.Cookies.SetPending(c.Response(), pending); err != nil {
			return h.fail(c, err)
		}
		return c.Redirect(http.StatusSeeOther, withChallenge(TwoFactorPath, in.value))
	}
	required, err := h.mfaRequired(ctx, in.userID, in.ch)
	if err != nil {
		return h.fail(c, err)
	}
	if !required {
		return h.complete(c, in)
	}
	pending.Enrol = true
	if err := tf.Cookies.SetPending(c.Response(), pending); err != nil {
		return h.fail(c, err)
	}
	return c.Redirect(http.StatusSeeOther, withChallenge(TwoFactorSetupPath, in.value))
}

// stepUp asks a signed-in person whose session has only a password for
// the second factor the request needs; the session they have proves the
// password, so it is not asked again.
func (h *Handler) stepUp(c echo.Context, value string, ch Challenge, s *storage.Session) error {
	return h.firstFactorDone(c, signIn{userID: s.UserID, amr: sessionAMR(s), remember: s.Remember, value: value, ch: ch})
}

// sessionAMR are the methods a session was signed in with (a session from
// before two-factor sign-in existed had a password).
func sessionAMR(s *storage.Session) []string {
	if len(s.AMR) == 0 {
		return []string{mfa.MethodPassword}
	}
	return s.AMR
}

// needsStepUp reports whether the session is too weak for the request.
func (h *Handler) needsStepUp(ctx context.Context, ch Challenge, s *storage.Session) (bool, error) {
	if h.cfg.TwoFactor == nil || s == nil || mfa.TwoFactor(s.ACR) {
		return false, nil
	}
	return h.mfaRequired(ctx, s.UserID, ch)
}

func withChallenge(p, value string) string {
	if value == "" {
		return p
	}
	return challengeURL(p, value)
}

// pendingSignIn reads the pending cookie and the request's challenge; ok
// is false when the answer (a redirect to the login page, or an error
// page) was written.
func (h *Handler) pendingSignIn(c echo.Context) (mfa.Pending, string, Challenge, bool, error) {
	value := c.QueryParam(ChallengeParam)
	if c.Request().Method == http.MethodPost {
		value = c.FormValue(ChallengeParam)
	}
	p, ok := h.cfg.TwoFactor.Cookies.Pending(c.Request())
	if !ok {
		return p, value, Challenge{}, false, c.Redirect(http.StatusSeeOther, withChallenge(LoginPath, value))
	}
	var ch Challenge
	if value != "" {
		var err error
		if ch, err = h.cfg.Challenges.Challenge(c.Request().Context(), value); err != nil {
			return p, value, ch, false, h.badChallenge(c, err)
		}
		h.allowClientTargets(c.Request().Context(), c, ch.ClientID)
	}
	return p, value, ch, true, nil
}

// twoFactorPage renders the second-factor step.
func (h *Handler) twoFactorPage(c echo.Context, status int, p mfa.Pending, value string, ch Challenge, recovery bool, msg string) error {
	tf := h.cfg.TwoFactor
	st, err := tf.Factors.Status(c.Request().Context(), p.UserID)
	if err != nil {
		return h.fail(c, err)
	}
	page := render.TwoFactorPage{
		Common: h.common(c, nil), Challenge: value, ClientName: ch.ClientName, Recovery: recovery,
		TOTP: st.TOTP, Passkey: st.Passkeys > 0 && tf.Factors.PasskeysAvailable(), Error: msg,
	}
	if tf.RememberDevice > 0 {
		page.RememberDays = max(1, int(tf.RememberDevice/(24*time.Hour)))
	}
	if page.Passkey {
		allowScripts(c)
		page.WebAuthn = true
	}
	return h.cfg.Render.TwoFactor(c.Response(), status, page)
}

// twoFactorForm shows the second-factor step.
func (h *Handler) twoFactorForm(c echo.Context) error {
	p, value, ch, ok, err := h.pendingSignIn(c)
	if !ok {
		return err
	}
	if p.Enrol {
		return c.Redirect(http.StatusSeeOther, withChallenge(TwoFactorSetupPath, value))
	}
	return h.twoFactorPage(c, http.StatusOK, p, value, ch, c.QueryParam("recovery") != "", "")
}

// twoFactorLimits are the counters a second-factor guess is counted
// against: the account's own (apart from its password counters) and the
// address, with the login policy.
func (h *Handler) twoFactorLimits(c echo.Context, userID string) []sessions.Limit {
	return h.cfg.Throttle.LoginLimits(sessions.AccountKey("2fa:"+userID, ""), sessions.IPKey(h.clientIP(c)),
		h.cfg.Devices.Known(c.Request(), userID))
}

// twoFactor checks an authenticator or recovery code.
func (h *Handler) twoFactor(c echo.Context) error {
	p, value, ch, ok, err := h.pendingSignIn(c)
	if !ok {
		return err
	}
	if p.Enrol {
		return c.Redirect(http.StatusSeeOther, withChallenge(TwoFactorSetupPath, value))
	}
	ctx := h.actAs(c, p.UserID)
	code := strings.TrimSpace(c.FormValue("code"))
	recovery := mfa.LooksLikeRecoveryCode(code)
	attempt, wait, err := h.cfg.Throttle.Reserve(ctx, h.twoFactorLimits(c, p.UserID)...)
	if err != nil {
		return h.fail(c, err)
	}
	if attempt == nil {
		h.cfg.Logger.WarnContext(ctx, "second factor throttled", "user_id", p.UserID, "ip", h.clientIP(c))
		setRetryAfter(c, wait)
		return h.twoFactorPage(c, http.StatusTooManyRequests, p, value, ch, recovery, msgCodeThrottle+waitWords(wait))
	}
	method := mfa.MethodOTP
	if recovery {
		err = h.cfg.TwoFactor.Factors.UseRecoveryCode(ctx, p.UserID, code)
	} else {
		err = h.cfg.TwoFactor.Factors.VerifyTOTP(ctx, p.UserID, code)
	}
	switch {
	case errors.Is(err, mfa.ErrInvalidCode), errors.Is(err, mfa.ErrCodeUsed):
		// The attempt stays counted as a failure.
		h.cfg.Logger.InfoContext(ctx, "second factor refused", "user_id", p.UserID, "recovery", recovery, "reused", errors.Is(err, mfa.ErrCodeUsed))
		h.audit(c, p.UserID, audit.LoginFailure, "", map[string]string{"factor": "code"})
		msg := msgBadCode
		if errors.Is(err, mfa.ErrCodeUsed) {
			msg = msgCodeUsed
		}
		return h.twoFactorPage(c, http.StatusUnauthorized, p, value, ch, recovery, msg)
	case err != nil:
		h.refund(c, attempt)
		return h.fail(c, err)
	}
	if err := attempt.Succeeded(ctx); err != nil {
		h.cfg.Logger.WarnContext(ctx, "could not clear second-factor failures", "user_id", p.UserID, "err", err)
	}
	return h.secondFactorDone(c, p, value, ch, method)
}

// secondFactorDone ends the pending step and completes the sign-in.
func (h *Handler) secondFactorDone(c echo.Context, p mfa.Pending, value string, ch Challenge, method string) error {
	tf := h.cfg.TwoFactor
	tf.Cookies.ClearPending(c.Response())
	if tf.RememberDevice > 0 && c.FormValue("remember_device") != "" {
		if err := tf.Cookies.RememberDevice(c.Response(), p.UserID, tf.RememberDevice); err != nil {
			h.cfg.Logger.WarnContext(c.Request().Context(), "could not remember the device", "user_id", p.UserID, "err", err)
		}
	}
	return h.complete(c, signIn{
		userID: p.UserID, amr: mfa.WithSecondFactor(p.AMR, method), remember: p.Remember,
		value: value, ch: ch, returnTo: SafeReturnTo(p.ReturnTo),
	})
}

// twoFactorPasskeyOptions starts a passkey ceremony for the pending user.
func (h *Handler) twoFactorPasskeyOptions(c echo.Context) error {
	p, ok := h.cfg.TwoFactor.Cookies.Pending(c.Request())
	if !ok || p.Enrol {
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "no sign-in in progress"})
	}
	opts, err := h.cfg.TwoFactor.Factors.BeginPasskeyLogin(c.Request().Context(), p.UserID)
	return h.webauthnOptions(c, opts, err)
}

// twoFactorPasskey checks the passkey answer of the pending user.
func (h *Handler) twoFactorPasskey(c echo.Context) error {
	p, value, ch, ok, err := h.pendingSignIn(c)
	if !ok {
		return err
	}
	ctx := h.actAs(c, p.UserID)
	resp := c.FormValue("credential")
	if resp == "" || len(resp) > maxWebAuthnResponseLength {
		return h.twoFactorPage(c, http.StatusBadRequest, p, value, ch, false, msgBadPasskey)
	}
	err = h.cfg.TwoFactor.Factors.FinishPasskeyLogin(ctx, p.UserID, []byte(resp))
	if errors.Is(err, mfa.ErrPasskey) {
		h.cfg.Logger.InfoContext(ctx, "passkey refused", "user_id", p.UserID, "err", err)
		h.audit(c, p.UserID, audit.LoginFailure, "", map[string]string{"factor": "passkey"})
		return h.twoFactorPage(c, http.StatusUnauthorized, p, value, ch, false, msgBadPasskey)
	} else if err != nil {
		return h.fail(c, err)
	}
	return h.secondFactorDone(c, p, value, ch, mfa.MethodHardwareKey)
}

// passkeyLoginOptions starts a passwordless sign-in.
func (h *Handler) passkeyLoginOptions(c echo.Context) error {
	opts, err := h.cfg.TwoFactor.Factors.BeginPasswordless(c.Request().Context())
	return h.webauthnOptions(c, opts, err)
}

// passkeyLogin signs in with a discoverable passkey and no password: the
// authenticator verified its user (PIN or biometrics), so the sign-in
// counts as two factors.
func (h *Handler) passkeyLogin(c echo.Context) error {
	ctx := c.Request().Context()
	value := c.FormValue(ChallengeParam)
	returnTo := SafeReturnTo(c.FormValue("return_to"))
	var ch Challenge
	if value != "" {
		var err error
		if ch, err = h.cfg.Challenges.Challenge(ctx, value); err != nil {
			return h.badChallenge(c, err)
		}
	}
	h.allowClientTargets(ctx, c, ch.ClientID)
	resp := c.FormValue("credential")
	page := render.LoginPage{Common: h.common(c, nil), Challenge: value, ClientName: ch.ClientName, ReturnTo: returnTo, Error: msgBadPasskey}
	if resp == "" || len(resp) > maxWebAuthnResponseLength {
		return h.renderLogin(c, http.StatusBadRequest, page)
	}
	userID, err := h.cfg.TwoFactor.Factors.FinishPasswordless(ctx, []byte(resp))
	if errors.Is(err, mfa.ErrPasskey) {
		h.cfg.Logger.InfoContext(ctx, "passwordless passkey refused", "err", err)
		h.audit(c, audit.ActorAnonymous, audit.LoginFailure, "", map[string]string{"factor": "passkey"})
		return h.renderLogin(c, http.StatusUnauthorized, page)
	} else if err != nil {
		return h.fail(c, err)
	}
	if ch.IDTokenHintSubject != "" && ch.IDTokenHintSubject != userID {
		page.Error = msgOtherAccount
		return h.renderLogin(c, http.StatusOK, page)
	}
	if err := h.cfg.Devices.Remember(c.Response(), c.Request(), userID); err != nil {
		h.cfg.Logger.WarnContext(ctx, "could not mark the browser as known", "user_id", userID, "err", err)
	}
	return h.complete(c, signIn{
		userID: userID, amr: []string{mfa.MethodHardwareKey, mfa.MethodMFA}, value: value, ch: ch, returnTo: returnTo,
	})
}

// webauthnOptions answers a ceremony's options (JSON for the script).
func (h *Handler) webauthnOptions(c echo.Context, opts []byte, err error) error {
	if errors.Is(err, mfa.ErrPasskey) || errors.Is(err, mfa.ErrNotEnrolled) {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": "passkeys are not available"})
	}
	if err != nil {
		h.cfg.Logger.ErrorContext(c.Request().Context(), "webauthn options failed", "err", err)
		status := http.StatusInternalServerError
		if errors.Is(err, storage.ErrUnavailable) {
			status = http.StatusServiceUnavailable
		}
		return c.JSON(status, map[string]string{"error": "try again later"})
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSONBlob(http.StatusOK, opts)
}

// twoFactorSetupForm shows the authenticator-app setup a sign-in needs.
func (h *Handler) twoFactorSetupForm(c echo.Context) error {
	p, value, _, ok, err := h.pendingSignIn(c)
	if !ok {
		return err
	}
	if !p.Enrol {
		return c.Redirect(http.StatusSeeOther, withChallenge(TwoFactorPath, value))
	}
	return h.setupPage(c, http.StatusOK, p, value, "")
}

func (h *Handler) setupPage(c echo.Context, status int, p mfa.Pending, value, msg string) error {
	enr, err := h.cfg.TwoFactor.Factors.StartTOTP(h.actAs(c, p.UserID), p.UserID)
	if errors.Is(err, mfa.ErrAlreadyEnrolled) {
		// Set up meanwhile (another tab): ask for it instead.
		p.Enrol = false
		if err := h.cfg.TwoFactor.Cookies.SetPending(c.Response(), p); err != nil {
			return h.fail(c, err)
		}
		return c.Redirect(http.StatusSeeOther, withChallenge(TwoFactorPath, value))
	}
	if err != nil {
		return h.fail(c, err)
	}
	return h.cfg.Render.TwoFactorEnrol(c.Response(), status, render.TwoFactorEnrolPage{
		Common: h.common(c, nil), Action: TwoFactorSetupPath, Challenge: value, Secret: enr.Secret, QRCode: enr.QRCode,
		Forced: true, BackURL: withChallenge(LoginPath, value), Error: msg,
	})
}

// twoFactorSetup confirms the authenticator app with its first code,
// signs the person in with both factors and shows the recovery codes once.
func (h *Handler) twoFactorSetup(c echo.Context) error {
	p, value, ch, ok, err := h.pendingSignIn(c)
	if !ok {
		return err
	}
	if !p.Enrol {
		return c.Redirect(http.StatusSeeOther, withChallenge(TwoFactorPath, value))
	}
	ctx := h.actAs(c, p.UserID)
	attempt, wait, err := h.cfg.Throttle.Reserve(ctx, h.twoFactorLimits(c, p.UserID)...)
	if err != nil {
		return h.fail(c, err)
	}
	if attempt == nil {
		setRetryAfter(c, wait)
		return h.setupPage(c, http.StatusTooManyRequests, p, value, msgCodeThrottle+waitWords(wait))
	}
	codes, err := h.cfg.TwoFactor.Factors.ConfirmTOTP(ctx, p.UserID, c.FormValue("code"))
	if errors.Is(err, mfa.ErrInvalidCode) {
		return h.setupPage(c, http.StatusUnauthorized, p, value, msgBadCode)
	} else if err != nil {
		h.refund(c, attempt)
		if errors.Is(err, mfa.ErrAlreadyEnrolled) || errors.Is(err, mfa.ErrNotEnrolled) {
			return h.setupPage(c, http.StatusConflict, p, value, "")
		}
		return h.fail(c, err)
	}
	if err := attempt.Succeeded(ctx); err != nil {
		h.cfg.Logger.WarnContext(ctx, "could not clear second-factor failures", "user_id", p.UserID, "err", err)
	}
	h.cfg.TwoFactor.Cookies.ClearPending(c.Response())
	in := signIn{userID: p.UserID, amr: mfa.WithSecondFactor(p.AMR, mfa.MethodOTP), remember: p.Remember,
		value: value, ch: ch, returnTo: SafeReturnTo(p.ReturnTo)}
	if len(codes) == 0 {
		return h.complete(c, in)
	}
	// The session starts now; the codes are shown before the app's
	// request carries on (the login page sends a signed-in browser on).
	s, err := h.startSession(c, in)
	if err != nil {
		return h.fail(c, err)
	}
	next := orHome(in.returnTo)
	if value != "" {
		if err := h.cfg.Challenges.AcceptLogin(ctx, value, in.userID, s.ID, s.AuthTime); err != nil && !errors.Is(err, ErrLoginRejected) {
			return h.badChallenge(c, err)
		}
		next = challengeURL(LoginPath, value)
	}
	return h.cfg.Render.RecoveryCodes(c.Response(), http.StatusOK, render.RecoveryCodesPage{
		Common: h.common(c, &s), Codes: codes, ContinueURL: next,
		Intro: "Two-factor sign-in is on for your account.",
	})
}

// allowScripts lets the page run Signet's own passkey script (same
// origin, no inline script) and call back to Signet.
func allowScripts(c echo.Context) {
	hdr := c.Response().Header()
	csp := hdr.Get("Content-Security-Policy")
	if csp == "" {
		return
	}
	var out []string
	for _, d := range strings.Split(csp, ";") {
		d = strings.TrimSpace(d)
		f := strings.Fields(d)
		if len(f) > 0 && (f[0] == "script-src" || f[0] == "connect-src") {
			continue
		}
		if d != "" {
			out = append(out, d)
		}
	}
	out = append(out, "script-src 'self'", "connect-src 'self'")
	hdr.Set("Content-Security-Policy", strings.Join(out, "; "))
}

// registerTwoFactor mounts the second-factor pages.
func (h *Handler) registerTwoFactor(e *echo.Echo) {
	if h.cfg.TwoFactor == nil {
		return
	}
	e.GET(TwoFactorPath, h.twoFactorForm, h.csrf)
	e.POST(TwoFactorPath, h.twoFactor, h.csrf)
	e.GET(TwoFactorSetupPath, h.twoFactorSetupForm, h.csrf)
	e.POST(TwoFactorSetupPath, h.twoFactorSetup, h.csrf)
	e.POST(TwoFactorPasskeyOptions, h.twoFactorPasskeyOptions, h.csrf)
	e.POST(TwoFactorPasskeyPath, h.twoFactorPasskey, h.csrf)
	e.POST(PasskeyLoginOptionsPath, h.passkeyLoginOptions, h.csrf)
	e.POST(PasskeyLoginPath, h.passkeyLogin, h.csrf)
	h.registerAccountTwoFactor(e)
}
