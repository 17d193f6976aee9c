package render

import (
	"net/http"
	"time"
)

// FieldErrors maps a form field's name to its message in plain words
// ("User name is already taken."). A nil map means no field is at fault.
type FieldErrors map[string]string

// Link is a link or button-styled link on a page.
type Link struct {
	Href string
	Text string
	// Primary styles the link as the page's main button.
	Primary bool
}

// Message kinds of MessagePage.
const (
	MessageInfo    = "info"
	MessageSuccess = "success"
	MessageProblem = "problem"
)

// MessagePage tells the person how something went (check your e-mail,
// address verified, link expired) and where to go next.
type MessagePage struct {
	Common
	// Kind is MessageInfo (default), MessageSuccess or MessageProblem.
	Kind    string
	Heading string
	Lead    string
	// Body holds further paragraphs.
	Body  []string
	Links []Link
}

// RegisterPage is the sign-up form.
type RegisterPage struct {
	Common
	// Challenge carries a sign-in to an app through the sign-up, so the
	// person can continue to it afterwards.
	Challenge string
	Username  string
	Email     string
	Name      string
	Errors    FieldErrors
	// Error is a form-level message.
	Error string
}

// ForgotPasswordPage asks for the address a reset link goes to.
type ForgotPasswordPage struct {
	Common
	Email  string
	Errors FieldErrors
	Error  string
}

// ResetPasswordPage asks for a new password; Token is the link's token,
// carried back by the form.
type ResetPasswordPage struct {
	Common
	Token  string
	Errors FieldErrors
	Error  string
}

// VerifyEmailPage asks the person to confirm their address; Token is the
// link's token, carried by the form. Opening the link changes nothing
// (mail scanners open links too): only sending the form verifies.
type VerifyEmailPage struct {
	Common
	Token string
}

// AccountApp is an app the person allowed.
type AccountApp struct {
	ClientID  string
	Name      string
	Scopes    []Scope
	GrantedAt time.Time
}

// AccountSession is one browser session of the person.
type AccountSession struct {
	// Device is a short description of the browser ("Chrome on Linux").
	Device   string
	IP       string
	SignedIn time.Time
	LastSeen time.Time
	// Remembered: the session was started with "keep me signed in".
	Remembered bool
	// Current marks the session of this browser.
	Current bool
}

// Forms of the account page, naming which one Errors and Error belong
// to.
const (
	AccountFormProfile  = "profile"
	AccountFormEmail    = "email"
	AccountFormPassword = "password"
	AccountFormDelete   = "delete"
	// AccountFormTop puts Error at the top of the page (a form of a list:
	// revoke an app, sign out other sessions).
	AccountFormTop = "top"
)

// AccountPage is the signed-in person's own account.
type AccountPage struct {
	Common
	// Flash is the outcome of the last change (a success, in plain words).
	Flash string
	// Form names the form Errors and Error belong to ("" when none).
	Form   string
	Errors FieldErrors
	Error  string

	Username      string
	Name          string
	Email         string
	EmailVerified bool
	// NewEmail re-fills the e-mail form after an error.
	NewEmail string
	Apps     []AccountApp
	Sessions []AccountSession
	// OtherSessions counts the sessions that are not Current.
	OtherSessions int
	// TwoFactor links to the two-factor settings; TwoFactorOn says
	// whether a second factor is set up.
	TwoFactor   bool
	TwoFactorOn bool
	// Providers are the upstream identity providers: linked ones (with
	// an unlink form) and enabled ones that may be linked.
	Providers []AccountProvider
}

// AccountProvider is one upstream provider on the account page.
type AccountProvider struct {
	ID       string
	Name     string
	Email    string
	Linked   bool
	LinkedAt time.Time
}

// Message renders a MessagePage with status.
func (r *Renderer) Message(w http.ResponseWriter, status int, p MessagePage) error {
	if p.Kind == "" {
		p.Kind = MessageInfo
	}
	return r.render(w, status, "message", p.Heading, p.Common, p)
}

// Register renders the sign-up form.
func (r *Renderer) Register(w http.ResponseWriter, status int, p RegisterPage) error {
	return r.render(w, status, "register", "Create an account", p.Common, p)
}

// ForgotPassword renders the "forgot your password?" form.
func (r *Renderer) ForgotPassword(w http.ResponseWriter, status int, p ForgotPasswordPage) error {
	return r.render(w, status, "forgot_password", "Reset your password", p.Common, p)
}

// ResetPassword renders the new-password form of a reset link.
func (r *Renderer) ResetPassword(w http.ResponseWriter, status int, p ResetPasswordPage) error {
	return r.render(w, status, "reset_password", "Choose a new password", p.Common, p)
}

// VerifyEmail renders the confirmation form of a verification link.
func (r *Renderer) VerifyEmail(w http.ResponseWriter, status int, p VerifyEmailPage) error {
	return r.render(w, status, "verify_email", "Confirm your e-mail address", p.Common, p)
}

// Account renders the account page.
func (r *Renderer) Account(w http.ResponseWriter, status int, p AccountPage) error {
	return r.renderView(w, status, "account", view{Title: "Your account", Common: p.Common, Data: p, Width: widthMedium})
}
