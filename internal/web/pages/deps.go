package pages

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/storage"
)

// ErrChallengeNotFound: the login challenge is unknown, expired or was
// already used. Challenges implementations return it (or
// storage.ErrNotFound), possibly wrapped.
var ErrChallengeNotFound = errors.New("pages: login challenge not found or expired")

// ErrLoginRejected: AcceptLogin refused a login that does not satisfy the
// request (prompt=login needs a fresh one, max_age a recent one,
// id_token_hint its subject). The person is asked to sign in.
var ErrLoginRejected = errors.New("pages: the login does not satisfy the request")

// Challenges is what the pages need from the authorization side: read a
// parked authorization request, record who logged in, and record the
// consent decision. The browser then goes to the resume URL, where the
// authorization endpoint finishes the request.
type Challenges interface {
	Challenge(ctx context.Context, value string) (Challenge, error)
	AcceptLogin(ctx context.Context, value, subject, sessionID string, authTime time.Time) error
	DecideConsent(ctx context.Context, value string, granted []string, allow bool) error
}

// Challenge is a parked authorization request as the pages see it.
type Challenge struct {
	ClientID   string
	ClientName string
	// FirstParty clients skip the consent page.
	FirstParty bool
	// Scopes are the requested scopes (already limited to what the
	// client may ask for).
	Scopes []string
	// Prompt holds the request's prompt values (login, consent, none,
	// select_account).
	Prompt []string
	// LoginHint pre-fills the user name.
	LoginHint string
	// MaxAge, when MaxAgeSet, is the longest the person's last
	// authentication may be ago (0: authenticate now).
	MaxAge    time.Duration
	MaxAgeSet bool
	// IDTokenHintSubject is the `sub` of a valid id_token_hint, if any.
	IDTokenHintSubject string
	// RequireMFA: the request (acr_values) or the app requires a second
	// factor; a password-only session is stepped up.
	RequireMFA bool

	// Subject, SessionID and AuthTime are set once a login was accepted
	// (by the login page, or by the authorization endpoint for a browser
	// session that satisfies the request).
	Subject   string
	SessionID string
	AuthTime  time.Time
	// ConsentGiven: consent was already given for Subject.
	ConsentGiven bool
}

// HasPrompt reports whether the request carried prompt value p.
func (c Challenge) HasPrompt(p string) bool { return slices.Contains(c.Prompt, p) }

// Accounts checks passwords.
type Accounts interface {
	// Authenticate returns accounts.ErrInvalidCredentials for an unknown
	// login, a wrong password and a disabled user alike.
	Authenticate(ctx context.Context, login, password string) (accounts.User, error)
}

// Users looks people up for display and for throttle keys.
type Users interface {
	GetUser(ctx context.Context, id string) (storage.User, error)
	GetUserByLogin(ctx context.Context, usernameOrEmail string) (storage.User, error)
}

// Clients looks up registered clients (for logout redirects).
type Clients interface {
	GetClient(ctx context.Context, id string) (storage.Client, error)
}

// HintClaims is what the logout endpoint needs from a verified
// id_token_hint.
type HintClaims struct {
	Subject  string
	Audience []string
	// AuthorizedParty is the `azp` claim, when present.
	AuthorizedParty string
	// SessionID is the `sid` claim, when present.
	SessionID string
}

// HintVerifier checks an id_token_hint: a token Signet signed for this
// issuer. An expired token is still a valid hint.
type HintVerifier interface {
	VerifyIDTokenHint(ctx context.Context, raw string) (HintClaims, error)
}

// Audit records security events; failures are logged, never fatal.
type Audit interface {
	AppendAudit(ctx context.Context, e storage.AuditEvent) error
}

// Signup is what the registration and verification pages need.
type Signup interface {
	RegistrationEnabled() bool
	// Register answers field errors as accounts.ValidationErrors and
	// accounts.ErrRegistrationDisabled when sign-up is off.
	Register(ctx context.Context, r accounts.Registration) (accounts.User, error)
	// VerifyEmail answers accounts.ErrInvalidToken or
	// accounts.ErrExpiredToken for a link that cannot be used. It takes
	// the links of an e-mail change (ChangeEmail) too.
	VerifyEmail(ctx context.Context, token string) (accounts.User, error)
	// CheckVerifyToken answers what VerifyEmail would (nil,
	// accounts.ErrInvalidToken, accounts.ErrExpiredToken) without using
	// the link up.
	CheckVerifyToken(ctx context.Context, token string) error
}

// Recovery is what the forgotten-password pages need.
type Recovery interface {
	// RequestPasswordReset answers nil whether or not the address has an
	// account; only a malformed address is a field error.
	RequestPasswordReset(ctx context.Context, email string) error
	// ResetPassword ends the user's sessions and revokes their tokens.
	ResetPassword(ctx context.Context, token, newPassword string) (accounts.User, error)
	// CheckResetToken answers nil, accounts.ErrInvalidToken or
	// accounts.ErrExpiredToken for a reset link without using it up.
	CheckResetToken(ctx context.Context, token string) error
}

// AccountSettings is what the account page needs: the signed-in person's
// own profile, password, apps and sessions.
type AccountSettings interface {
	GetUser(ctx context.Context, ref string) (accounts.User, error)
	UpdateProfile(ctx context.Context, userID, name string) (accounts.User, error)
	// ChangeEmail mails a link to the new address and returns the user
	// unchanged (the same answer when the address is another account's).
	ChangeEmail(ctx context.Context, userID, newEmail, password string) (accounts.User, error)
	SendVerification(ctx context.Context, ref string) error
	ChangePassword(ctx context.Context, c accounts.PasswordChange) error
	DeleteAccount(ctx context.Context, userID, password string) error
	ConnectedApps(ctx context.Context, userID string) ([]accounts.ConnectedApp, error)
	RevokeApp(ctx context.Context, userID, clientID string) error
	Sessions(ctx context.Context, userID string) ([]storage.Session, error)
	SignOutOtherSessions(ctx context.Context, userID, keepSessionID string) (int, error)
}
