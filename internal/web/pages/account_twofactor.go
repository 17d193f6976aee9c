package pages

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/mfa"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/web/render"
)

// Paths of the account's two-factor settings.
const (
	AccountTwoFactorPath      = "/account/two-factor"
	AccountTOTPPath           = "/account/two-factor/totp"
	AccountTOTPRemovePath     = "/account/two-factor/totp/remove"
	AccountPasskeysPath       = "/account/two-factor/passkeys"
	AccountPasskeyOptionsPath = "/account/two-factor/passkeys/options"
	AccountPasskeyRemovePath  = "/account/two-factor/passkeys/remove"
	AccountPasskeyRenamePath  = "/account/two-factor/passkeys/rename"
	AccountRecoveryPath       = "/account/two-factor/recovery"
)

const msgWrongCurrent = "That is not your password, nor a current code from your authenticator app."

// twoFactorFlash are the outcomes the two-factor settings report.
var twoFactorFlash = map[string]string{
	"totp-removed":    "The authenticator app is removed.",
	"passkey-added":   "The passkey is added.",
	"passkey-removed": "The passkey is removed.",
	"passkey-renamed": "The passkey is renamed.",
}

func (h *Handler) registerAccountTwoFactor(e *echo.Echo) {
	e.GET(AccountTwoFactorPath, h.signedIn(h.accountTwoFactor), h.csrf)
	e.GET(AccountTOTPPath, h.signedIn(h.accountTOTPForm), h.csrf)
	e.POST(AccountTOTPPath, h.signedIn(h.accountTOTP), h.csrf)
	e.POST(AccountTOTPRemovePath, h.signedIn(h.accountTOTPRemove), h.csrf)
	e.POST(AccountPasskeyOptionsPath, h.accountPasskeyOptions, h.csrf)
	e.POST(AccountPasskeysPath, h.signedIn(h.accountPasskeyAdd), h.csrf)
	e.POST(AccountPasskeyRemovePath, h.signedIn(h.accountPasskeyRemove), h.csrf)
	e.POST(AccountPasskeyRenamePath, h.signedIn(h.accountPasskeyRename), h.csrf)
	e.POST(AccountRecoveryPath, h.signedIn(h.accountRecovery), h.csrf)
}

// signedIn runs next for a browser with a session, acting as its user;
// others go to the login page, which brings them back.
func (h *Handler) signedIn(next func(c echo.Context, ctx context.Context, s storage.Session) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		s, err := h.current(c)
		if err != nil {
			return h.fail(c, err)
		}
		if s == nil {
			return toLogin(c)
		}
		return next(c, h.actAs(c, s.UserID), *s)
	}
}

// twoFactorSettings renders the settings with a message at a form.
func (h *Handler) twoFactorSettings(c echo.Context, ctx context.Context, s storage.Session, status int, form, msg string) error {
	f := h.cfg.TwoFactor.Factors
	st, err := f.Status(ctx, s.UserID)
	if err != nil {
		return h.fail(c, err)
	}
	pks, err := f.Passkeys(ctx, s.UserID)
	if err != nil {
		return h.fail(c, err)
	}
	page := render.AccountTwoFactorPage{
		Common: h.common(c, &s), TOTP: st.TOTP, RecoveryCodes: st.RecoveryCodes,
		PasskeysAvailable: f.PasskeysAvailable(), Form: form, Error: msg,
	}
	page.Username = page.SignedInAs
	for _, p := range pks {
		page.Passkeys = append(page.Passkeys, render.AccountPasskey{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt, LastUsedAt: p.LastUsedAt})
	}
	if page.PasskeysAvailable {
		page.WebAuthn = true
		allowScripts(c)
	}
	if msg == "" {
		page.Flash = twoFactorFlash[TakeFlash(c, h.cfg.Secure)]
	}
	return h.cfg.Render.AccountTwoFactor(c.Response(), status, page)
}

func (h *Handler) accountTwoFactor(c echo.Context, ctx context.Context, s storage.Session) error {
	return h.twoFactorSettings(c, ctx, s, http.StatusOK, "", "")
}

func (h *Handler) accountTOTPPage(c echo.Context, ctx context.Context, s storage.Session, status int, msg string) error {
	enr, err := h.cfg.TwoFactor.Factors.StartTOTP(ctx, s.UserID)
	if errors.Is(err, mfa.ErrAlreadyEnrolled) {
		return c.Redirect(http.StatusSeeOther, AccountTwoFactorPath)
	} else if err != nil {
		return h.fail(c, err)
	}
	return h.cfg.Render.TwoFactorEnrol(c.Response(), status, render.TwoFactorEnrolPage{
		Common: h.common(c, &s), Action: AccountTOTPPath, Secret: enr.Secret, QRCode: enr.QRCode,
		BackURL: AccountTwoFactorPath, Error: msg,
	})
}

func (h *Handler) accountTOTPForm(c echo.Context, ctx context.Context, s storage.Session) error {
	return h.accountTOTPPage(c, ctx, s, http.StatusOK, "")
}

// accountTOTP confirms a new authenticator app with its first code.
func (h *Handler) accountTOTP(c echo.Context, ctx context.Context, s storage.Session) error {
	attempt, wait, err := h.cfg.Throttle.Reserve(ctx, h.twoFactorLimits(c, s.UserID)...)
	if err != nil {
		return h.fail(c, err)
	}
	if attempt == nil {
		setRetryAfter(c, wait)
		return h.accountTOTPPage(c, ctx, s, http.StatusTooManyRequests, msgCodeThrottle+waitWords(wait))
	}
	codes, err := h.cfg.TwoFactor.Factors.ConfirmTOTP(ctx, s.UserID, c.FormValue("code"))
	if errors.Is(err, mfa.ErrInvalidCode) {
		return h.accountTOTPPage(c, ctx, s, http.StatusUnauthorized, msgBadCode)
	}
	if err != nil {
		h.refund(c, attempt)
		if errors.Is(err, mfa.ErrAlreadyEnrolled) || errors.Is(err, mfa.ErrNotEnrolled) {
			return c.Redirect(http.StatusSeeOther, AccountTwoFactorPath)
		}
		return h.fail(c, err)
	}
	if err := attempt.Succeeded(ctx); err != nil {
		h.cfg.Logger.WarnContext(ctx, "could not clear second-factor failures", "user_id", s.UserID, "err", err)
	}
	return h.showRecoveryCodes(c, s, codes, "Your authenticator app is set up.", "totp-added")
}

// showRecoveryCodes shows codes made just now (once), or goes back to the
// settings when none were made.
func (h *Handler) showRecoveryCodes(c echo.Context, s storage.Session, codes []string, intro, flash string) error {
	if len(codes) == 0 {
		SetFlash(c, flash, h.cfg.Secure)
		return c.Redirect(http.StatusSeeOther, AccountTwoFactorPath)
	}
	return h.cfg.Render.RecoveryCodes(c.Response(), http.StatusOK, render.RecoveryCodesPage{
		Common: h.common(c, &s), Codes: codes, Intro: intro, ContinueURL: AccountTwoFactorPath,
	})
}

// checkCurrent confirms a removal with the password or a current code
// from the authenticator app, throttled like a second factor.
func (h *Handler) checkCurrent(c echo.Context, ctx context.Context, s storage.Session) (bool, error) {
	current := c.FormValue("current")
	if current == "" || len(current) > 1024 {
		return false, nil
	}
	attempt, wait, err := h.cfg.Throttle.Reserve(ctx, h.twoFactorLimits(c, s.UserID)...)
	if err != nil {
		return false, err
	}
	if attempt == nil {
		setRetryAfter(c, wait)
		return false, nil
	}
	ok := false
	code := strings.ReplaceAll(current, " ", "")
	if len(code) == 6 && strings.Trim(code, "0123456789") == "" {
		switch err := h.cfg.TwoFactor.Factors.VerifyTOTP(ctx, s.UserID, code); {
		case err == nil:
			ok = true
		case !errors.Is(err, mfa.ErrInvalidCode) && !errors.Is(err, mfa.ErrCodeUsed):
			h.refund(c, attempt)
			return false, err
		}
	}
	if !ok {
		u, err := h.cfg.Users.GetUser(ctx, s.UserID)
		if err != nil {
			h.refund(c, attempt)
			return false, err
		}
		switch got, err := h.cfg.Accounts.Authenticate(ctx, u.Username, current); {
		case err == nil:
			ok = got.ID == s.UserID
		case !errors.Is(err, accounts.ErrInvalidCredentials):
			h.refund(c, attempt)
			return false, err
		}
	}
	if ok {
		if err := attempt.Succeeded(ctx); err != nil {
			h.cfg.Logger.WarnContext(ctx, "could not clear second-factor failures", "user_id", s.UserID, "err", err)
		}
	}
	return ok, nil
}

func (h *Handler) accountTOTPRemove(c echo.Context, ctx context.Context, s storage.Session) error {
	ok, err := h.checkCurrent(c, ctx, s)
	if err != nil {
		return h.fail(c, err)
	}
	if !ok {
		return h.twoFactorSettings(c, ctx, s, http.StatusUnauthorized, "totp", msgWrongCurrent)
	}
	if err := h.cfg.TwoFactor.Factors.RemoveTOTP(ctx, s.UserID); err != nil && !errors.Is(err, mfa.ErrNotEnrolled) {
		return h.fail(c, err)
	}
	SetFlash(c, "totp-removed", h.cfg.Secure)
	return c.Redirect(http.StatusSeeOther, AccountTwoFactorPath)
}

// accountPasskeyOptions starts adding a passkey.
func (h *Handler) accountPasskeyOptions(c echo.Context) error {
	s, err := h.current(c)
	if err != nil {
		return h.webauthnOptions(c, nil, err)
	}
	if s == nil {
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "not signed in"})
	}
	opts, err := h.cfg.TwoFactor.Factors.BeginPasskeyRegistration(c.Request().Context(), s.UserID)
	return h.webauthnOptions(c, opts, err)
}

// accountPasskeyAdd keeps the passkey the authenticator made.
func (h *Handler) accountPasskeyAdd(c echo.Context, ctx context.Context, s storage.Session) error {
	resp := c.FormValue("credential")
	if resp == "" || len(resp) > maxWebAuthnResponseLength {
		return h.twoFactorSettings(c, ctx, s, http.StatusBadRequest, "passkey", "The passkey could not be added. Try again.")
	}
	_, codes, err := h.cfg.TwoFactor.Factors.FinishPasskeyRegistration(ctx, s.UserID, c.FormValue("name"), []byte(resp))
	if errors.Is(err, mfa.ErrPasskey) {
		h.cfg.Logger.InfoContext(ctx, "passkey registration refused", "user_id", s.UserID, "err", err)
		return h.twoFactorSettings(c, ctx, s, http.StatusBadRequest, "passkey", "The passkey could not be added. Try again.")
	} else if err != nil {
		return h.fail(c, err)
	}
	return h.showRecoveryCodes(c, s, codes, "Your passkey is added.", "passkey-added")
}

func (h *Handler) accountPasskeyRemove(c echo.Context, ctx context.Context, s storage.Session) error {
	ok, err := h.checkCurrent(c, ctx, s)
	if err != nil {
		return h.fail(c, err)
	}
	if !ok {
		return h.twoFactorSettings(c, ctx, s, http.StatusUnauthorized, "passkey", msgWrongCurrent)
	}
	if err := h.cfg.TwoFactor.Factors.RemovePasskey(ctx, s.UserID, c.FormValue("id")); err != nil && !errors.Is(err, mfa.ErrNotEnrolled) {
		return h.fail(c, err)
	}
	SetFlash(c, "passkey-removed", h.cfg.Secure)
	return c.Redirect(http.StatusSeeOther, AccountTwoFactorPath)
}

// accountPasskeyRename renames one of the user's passkeys. It asks for no
// password: a name gives nothing away and lets nobody in. Someone else's
// credential id gets the same answer as one that does not exist.
func (h *Handler) accountPasskeyRename(c echo.Context, ctx context.Context, s storage.Session) error {
	id := c.FormValue("id")
	switch err := h.cfg.TwoFactor.Factors.RenamePasskey(ctx, s.UserID, id, c.FormValue("name")); {
	case err == nil:
		SetFlash(c, "passkey-renamed", h.cfg.Secure)
		return c.Redirect(http.StatusSeeOther, AccountTwoFactorPath)
	case errors.Is(err, mfa.ErrPasskeyName):
		return h.twoFactorSettings(c, ctx, s, http.StatusUnprocessableEntity, "passkey",
			fmt.Sprintf("A passkey's name must be 1 to %d characters on one line, without control characters.", mfa.MaxPasskeyName))
	case errors.Is(err, mfa.ErrNotEnrolled):
		return h.twoFactorSettings(c, ctx, s, http.StatusNotFound, "passkey", "There is no such passkey on your account. It may have been removed.")
	default:
		return h.fail(c, err)
	}
}

// accountRecovery replaces the recovery codes and shows the new ones once.
func (h *Handler) accountRecovery(c echo.Context, ctx context.Context, s storage.Session) error {
	codes, err := h.cfg.TwoFactor.Factors.RegenerateRecoveryCodes(ctx, s.UserID)
	if err != nil {
		return h.fail(c, err)
	}
	return h.showRecoveryCodes(c, s, codes, "Your old recovery codes no longer work.", "")
}
