package render

import (
	"net/http"
	"time"
)

// TwoFactorPage asks for the second factor after the password.
type TwoFactorPage struct {
	Common
	Challenge  string
	ClientName string
	// Recovery shows the recovery-code form instead of the
	// authenticator-code one (both post the field `code`).
	Recovery bool
	// TOTP: the user has an authenticator app; Passkey: passkeys may be
	// used (the page then loads the passkey script).
	TOTP    bool
	Passkey bool
	// RememberDays offers "remember this device" for that many days (0:
	// not offered).
	RememberDays int
	Error        string
}

// TwoFactorEnrolPage sets up an authenticator app: the QR code, the secret
// in text, and the field for the first code.
type TwoFactorEnrolPage struct {
	Common
	// Action is where the form posts (with the login challenge, if any).
	Action    string
	Challenge string
	Secret    string
	QRCode    string
	// Forced: signing in needs a second factor the account does not have
	// yet (the role, the server or the app requires one).
	Forced bool
	// BackURL leaves the page ("" for none).
	BackURL string
	Error   string
}

// RecoveryCodesPage shows new recovery codes, once.
type RecoveryCodesPage struct {
	Common
	Codes []string
	// Intro says why they are shown (a factor added, codes regenerated).
	Intro       string
	ContinueURL string
}

// AccountPasskey is one passkey on the account page.
type AccountPasskey struct {
	ID         string
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// AccountTwoFactorPage is "Two-factor sign-in" on the account page.
type AccountTwoFactorPage struct {
	Common
	Username          string
	TOTP              bool
	Passkeys          []AccountPasskey
	PasskeysAvailable bool
	RecoveryCodes     int
	// Form names the form Error belongs to.
	Form  string
	Error string
	Flash string
}

// TwoFactor renders the second-factor step of signing in.
func (r *Renderer) TwoFactor(w http.ResponseWriter, status int, p TwoFactorPage) error {
	return r.render(w, status, "two_factor", "Two-factor sign-in", p.Common, p)
}

// TwoFactorEnrol renders the authenticator-app setup.
func (r *Renderer) TwoFactorEnrol(w http.ResponseWriter, status int, p TwoFactorEnrolPage) error {
	return r.render(w, status, "two_factor_enrol", "Set up an authenticator app", p.Common, p)
}

// RecoveryCodes renders freshly made recovery codes.
func (r *Renderer) RecoveryCodes(w http.ResponseWriter, status int, p RecoveryCodesPage) error {
	return r.render(w, status, "recovery_codes", "Your recovery codes", p.Common, p)
}

// AccountTwoFactor renders the account's two-factor settings.
func (r *Renderer) AccountTwoFactor(w http.ResponseWriter, status int, p AccountTwoFactorPage) error {
	return r.renderView(w, status, "account_two_factor", view{Title: "Two-factor sign-in", Common: p.Common, Data: p, Width: widthMedium})
}
