package storage

import (
	"context"
	"errors"
	"time"
)

// Fixed error values every implementation returns (possibly wrapped); callers
// match them with errors.Is.
var (
	// ErrNotFound: the record does not exist (or, for single-use records,
	// was already used).
	ErrNotFound = errors.New("storage: not found")
	// ErrAlreadyExists: a unique key (id, user name, e-mail, signature) is
	// taken. PostgreSQL's 23505 maps here.
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrConflict: a concurrent transaction changed the same rows first
	// (PostgreSQL 40001/40P01, or a conditional update that matched nothing
	// because another writer won). The caller may retry.
	ErrConflict = errors.New("storage: concurrent update conflict")
	// ErrUnavailable: the backend cannot be reached (database down).
	ErrUnavailable = errors.New("storage: unavailable")
)

// Store is everything Signet keeps. Handlers and services should depend on
// the narrow interfaces below, not on Store itself; only cmd/signet and
// storage implementations deal with the whole.
//
// Text is kept as PostgreSQL keeps it: valid UTF-8 without NUL bytes. A
// lookup, delete or list by a key that is not such text (a client_id from
// a request, say) finds nothing — ErrNotFound, an empty list or a zero
// value, like any unknown key; a write of such text fails with an error
// that is none of the four above.
type Store interface {
	Transactor
	ClientStore
	UserStore
	RoleStore
	OAuthRequestStore
	LoginChallengeStore
	SessionStore
	ConsentStore
	KeyStore
	ThrottleStore
	ActionTokenStore
	AuditStore
	ClientAssertionStore
	MFAStore
	ConnectorStore
	UpstreamIdentityStore
	BackchannelStore
	RegistrationStore

	// Ping reports whether the backend answers; it returns an error wrapping
	// ErrUnavailable when it does not.
	Ping(ctx context.Context) error
	// Close releases connections.
	Close() error
}

// Transactor runs work atomically. The transaction travels in the context:
// every Store call made with the context returned by BeginTx (or passed to
// the InTx callback) takes part in it. Nested InTx calls join the outer
// transaction.
type Transactor interface {
	// InTx runs fn in a transaction, committing when fn returns nil and
	// rolling back otherwise (also on panic, which is re-raised).
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// BeginTx, Commit and Rollback are the same as InTx in three steps, for
	// callers (fosite's storage.Transactional) that need them apart.
	BeginTx(ctx context.Context) (context.Context, error)
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// Token endpoint authentication methods a client may be registered with.
const (
	AuthMethodClientSecretBasic = "client_secret_basic"
	AuthMethodClientSecretPost  = "client_secret_post"
	AuthMethodNone              = "none"
	// AuthMethodPrivateKeyJWT: a JWT signed with a key of the client's
	// JWKS (RFC 7523).
	AuthMethodPrivateKeyJWT = "private_key_jwt"
)

// Access token formats a client may be registered with.
const (
	// AccessTokenOpaque: a random token, meaningful only to introspection
	// (the default; "" means the same).
	AccessTokenOpaque = "opaque"
	// AccessTokenJWT: a JWT (RFC 9068) signed with the server's keys.
	AccessTokenJWT = "jwt"
)

// Client is a registered OAuth2 client (relying party).
type Client struct {
	ID string
	// SecretHash is the SHA-256 of the client secret. Empty for public
	// clients (TokenEndpointAuthMethod "none"). The secret itself is never
	// stored; compare hashes in constant time.
	SecretHash []byte
	Name       string
	// RedirectURIs are matched exactly (no prefix or wildcard matching).
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	GrantTypes             []string
	ResponseTypes          []string
	Scopes                 []string
	// Audience lists audiences the client may request (RFC 8707 style).
	Audience                []string
	TokenEndpointAuthMethod string
	// FirstParty clients skip the consent page.
	FirstParty bool
	// IDTokenSignedResponseAlg is the JWS alg for this client's ID tokens;
	// empty means the provider default (RS256).
	IDTokenSignedResponseAlg string
	// RequireMFA: people signing in to this client must use a second
	// factor (a password-only session is stepped up).
	RequireMFA bool
	// Lifespans override the provider defaults when non-zero.
	AccessTokenLifespan  time.Duration
	IDTokenLifespan      time.Duration
	RefreshTokenLifespan time.Duration
	AuthCodeLifespan     time.Duration
	// JWKS is the client's public key set (JSON), for private_key_jwt;
	// JWKSURI is where to fetch it instead. At most one is set.
	JWKS    string
	JWKSURI string
	// TokenEndpointAuthSigningAlg is the JWS alg the client's assertions
	// must use; empty: any of the supported ones.
	TokenEndpointAuthSigningAlg string
	// RequirePushedAuthorizationRequests: authorization requests of this
	// client must come through the PAR endpoint (RFC 9126).
	RequirePushedAuthorizationRequests bool
	// AccessTokenFormat is AccessTokenOpaque (or "") or AccessTokenJWT.
	AccessTokenFormat string
	// BackchannelLogoutURI receives a logout token (OpenID Connect
	// Back-Channel Logout) when a session in which the client received
	// tokens ends; empty: none. BackchannelLogoutSessionRequired is the
	// client's demand that logout tokens carry sid (they always do).
	BackchannelLogoutURI             string
	BackchannelLogoutSessionRequired bool
	CreatedAt                        time.Time
	UpdatedAt                        time.Time
}

// Public reports whether the client authenticates with no secret.
func (c Client) Public() bool { return c.TokenEndpointAuthMethod == AuthMethodNone }

// ClientStore keeps OAuth2 clients.
type ClientStore interface {
	CreateClient(ctx context.Context, c Client) error
	GetClient(ctx context.Context, id string) (Client, error)
	ListClients(ctx context.Context) ([]Client, error)
	// UpdateClient replaces every field but ID and CreatedAt.
	UpdateClient(ctx context.Context, c Client) error
	// DeleteClient also removes the client's consents; tokens issued to it
	// stop working because the client no longer resolves.
	DeleteClient(ctx context.Context, id string) error
	// LockClients serialises, for the rest of the transaction in ctx, the
	// read-modify-write changes of clients (an edit, a secret rotation), so
	// one cannot write back a row another changed in between: an edit must
	// not bring back a secret just rotated away (PostgreSQL: a transaction
	// advisory lock). It must be called inside InTx, before reading the
	// client.
	LockClients(ctx context.Context) error
}

// User is a person with an account.
type User struct {
	// ID is stable and opaque (a random UUID); it is the `sub` claim.
	ID string
	// Username and Email are unique, compared case-insensitively.
	Username string
	Email    string
	// Name is the display name (the `name` claim).
	Name string
	// PasswordHash is a PHC string (argon2id, or bcrypt for imported users).
	// Empty means the user cannot log in with a password.
	PasswordHash  string
	EmailVerified bool
	Disabled      bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// UserQuery filters ListUsers.
type UserQuery struct {
	// Search matches user name, e-mail or name, case-insensitive substring.
	Search string
	// Limit caps the result (0: no limit); Offset skips rows. Ordered by
	// user name.
	Limit  int
	Offset int
}

// UserStore keeps users and their role links.
type UserStore interface {
	// CreateUser fails with ErrAlreadyExists when the id, user name or
	// e-mail (case-insensitive) is taken.
	CreateUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, id string) (User, error)
	// GetUserByLogin finds a user by user name or e-mail, case-insensitive.
	GetUserByLogin(ctx context.Context, usernameOrEmail string) (User, error)
	ListUsers(ctx context.Context, q UserQuery) ([]User, error)
	// UpdateUser replaces every field but ID and CreatedAt; ErrAlreadyExists
	// when the new user name or e-mail is taken.
	UpdateUser(ctx context.Context, u User) error
	// DeleteUser removes the user with role links, sessions, consents and
	// action tokens. Its sessions end as DeleteSession's do (back-channel
	// logout deliveries are queued).
	DeleteUser(ctx context.Context, id string) error

	// SetUserRoles replaces the user's roles. ErrNotFound when the user or
	// any role does not exist (nothing is changed then).
	SetUserRoles(ctx context.Context, userID string, roles []string) error
	// ListUserRoles returns role names sorted; empty (not nil) when none.
	ListUserRoles(ctx context.Context, userID string) ([]string, error)
	// GetUserWithRoles is GetUser and ListUserRoles in one read (one round
	// trip: every refresh that carries roles needs both).
	GetUserWithRoles(ctx context.Context, id string) (User, []string, error)
	// ListUsersWithRole returns the ids of users holding the role.
	ListUsersWithRole(ctx context.Context, role string) ([]string, error)
	// LockAdmins serialises, for the rest of the transaction in ctx, the
	// changes that could leave no enabled administrator (disable, delete,
	// demote), so two of them cannot both see "another admin remains"
	// (PostgreSQL: a transaction advisory lock). It must be called inside
	// InTx, before reading who the administrators are.
	LockAdmins(ctx context.Context) error
}

// Role is a named role; its name appears in the `roles` claim.
type Role struct {
	Name        string
	Description string
	CreatedAt   time.Time
}

// Roles that exist from the start (created by the first migration / the
// memory store's constructor).
const (
	RoleAdmin = "admin"
	RoleUser  = "user"
)

// RoleStore keeps roles.
type RoleStore interface {
	CreateRole(ctx context.Context, r Role) error
	GetRole(ctx context.Context, name string) (Role, error)
	ListRoles(ctx context.Context) ([]Role, error)
	// DeleteRole also removes the role from every user.
	DeleteRole(ctx context.Context, name string) error
}

// RequestKind names what an OAuthRequest row stands for; fosite keeps one
// request per token it issues.
type RequestKind string

// Request kinds.
const (
	KindAuthorizeCode RequestKind = "authorize_code"
	KindAccessToken   RequestKind = "access_token"
	KindRefreshToken  RequestKind = "refresh_token"
	KindPKCE          RequestKind = "pkce"
	KindOpenIDConnect RequestKind = "openid"
	// KindPAR: a pushed authorization request (RFC 9126), keyed by a hash
	// of its request_uri; single use (deactivated when used).
	KindPAR RequestKind = "par"
)

// OAuthRequest is a stored authorization request or token session, free of
// fosite types (internal/oauth maps them).
type OAuthRequest struct {
	Kind RequestKind
	// Signature identifies the row: a token signature or a hash of the
	// code. Never a raw token or code.
	Signature string
	// RequestID ties together every row of one grant (code, access, refresh,
	// pkce, openid), so a grant can be revoked as a whole.
	RequestID         string
	ClientID          string
	Subject           string
	RequestedAt       time.Time
	ExpiresAt         time.Time
	RequestedScopes   []string
	GrantedScopes     []string
	RequestedAudience []string
	GrantedAudience   []string
	// Form is the url-encoded request form, without secrets.
	Form string
	// Session is the serialized fosite session (JSON).
	Session []byte
	// Active is false for used codes and rotated or revoked tokens: such
	// rows stay so reuse can be detected and answered by revoking the grant.
	Active bool
	// AccessSignature, on refresh-token rows, is the access token issued
	// together with it.
	AccessSignature string
	// RotatedAt, on refresh-token rows, is when the token was exchanged
	// for its successor (zero while unused, and for rows deactivated by
	// revocation): a repeat within the grace window is a client's race or
	// retry, not a replay.
	RotatedAt time.Time
	// RevokedReason says why an automatic revocation deactivated the row
	// (the oauth package's Revoked* values), "" otherwise. Only
	// DeactivateOAuthRequestsByRequestID sets it; new rows have none.
	RevokedReason string
}

// OAuthRequestStore keeps fosite's requests and token sessions.
type OAuthRequestStore interface {
	// CreateOAuthRequest: ErrAlreadyExists for a duplicate (kind, signature).
	CreateOAuthRequest(ctx context.Context, r OAuthRequest) error
	// GetOAuthRequest returns the row whether active or not.
	GetOAuthRequest(ctx context.Context, kind RequestKind, signature string) (OAuthRequest, error)
	// ListOAuthRequestsBySignature returns the rows of those kinds with that
	// signature, active or not (a code's rows share its signature: one read
	// for the code, its PKCE challenge and its OpenID Connect request).
	ListOAuthRequestsBySignature(ctx context.Context, signature string, kinds []RequestKind) ([]OAuthRequest, error)
	// CreateOAuthRequests stores several rows at once (one round trip): all
	// or none; ErrAlreadyExists when any (kind, signature) is taken.
	CreateOAuthRequests(ctx context.Context, rows []OAuthRequest) error
	DeleteOAuthRequest(ctx context.Context, kind RequestKind, signature string) error
	// DeactivateOAuthRequest marks an active row inactive. ErrNotFound when
	// no such row exists; ErrConflict when it exists but was already
	// inactive (another request used or rotated it first).
	DeactivateOAuthRequest(ctx context.Context, kind RequestKind, signature string) error
	// RotateRefreshToken marks the active refresh-token row inactive with
	// RotatedAt = at and, in the same atomic step, every access token of
	// its grant (requestID) inactive. Of concurrent callers exactly one
	// succeeds; the others get ErrConflict (the row was already inactive)
	// and change nothing. ErrNotFound when no such row exists.
	RotateRefreshToken(ctx context.Context, signature, requestID string, at time.Time) error
	// DeactivateOAuthRequestsByRequestID marks every active row of that
	// kind and grant inactive, recording reason on them (RevokedReason;
	// "" for a revocation asked for). Inactive rows keep theirs. No error
	// when there are none.
	DeactivateOAuthRequestsByRequestID(ctx context.Context, kind RequestKind, requestID, reason string) error
	// DeleteOAuthRequestsByRequestID deletes every row of that kind and grant.
	DeleteOAuthRequestsByRequestID(ctx context.Context, kind RequestKind, requestID string) error
	// DeactivateOAuthRequestsBySubject marks inactive every row (all kinds)
	// of the subject's grants, only those of clientID when it is not empty.
	DeactivateOAuthRequestsBySubject(ctx context.Context, subject, clientID string) error
	// DeleteExpiredOAuthRequests deletes up to limit rows that expired
	// before the given time and returns how many it deleted.
	DeleteExpiredOAuthRequests(ctx context.Context, before time.Time, limit int) (int, error)
}

// LoginChallenge is an authorization request parked while the person logs in
// and consents. It is single-use and expires.
type LoginChallenge struct {
	// ID is the SHA-256 (hex) of the challenge value carried in URLs.
	ID       string
	ClientID string
	// Form is the original authorization request (url-encoded query).
	Form            string
	RequestedScopes []string
	CreatedAt       time.Time
	ExpiresAt       time.Time
	// Subject and AuthTime are set once the person has logged in;
	// SessionID is the browser session that did it (binds the challenge to
	// that browser).
	Subject   string
	AuthTime  time.Time
	SessionID string
	// ConsentGiven and GrantedScopes are set once consent is decided.
	ConsentGiven  bool
	GrantedScopes []string
}

// LoginChallengeStore keeps parked authorization requests.
type LoginChallengeStore interface {
	CreateLoginChallenge(ctx context.Context, c LoginChallenge) error
	GetLoginChallenge(ctx context.Context, id string) (LoginChallenge, error)
	// UpdateLoginChallenge replaces Subject, AuthTime, SessionID,
	// ConsentGiven and GrantedScopes.
	UpdateLoginChallenge(ctx context.Context, c LoginChallenge) error
	// ConsumeLoginChallenge deletes and returns it; ErrNotFound when it was
	// already consumed, so exactly one caller wins.
	ConsumeLoginChallenge(ctx context.Context, id string) (LoginChallenge, error)
	DeleteExpiredLoginChallenges(ctx context.Context, before time.Time, limit int) (int, error)
}

// Session is a browser (single sign-on) session.
type Session struct {
	// ID is public: it is the `sid` claim and names the session in lists.
	ID string
	// TokenHash is the SHA-256 (hex) of the cookie value; the cookie value
	// itself is never stored.
	TokenHash  string
	UserID     string
	AuthTime   time.Time
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	Remember   bool
	UserAgent  string
	IP         string
	// AMR are the RFC 8176 authentication methods of the sign-in ("pwd",
	// "otp", "hwk", "mfa"); nil when none are recorded.
	AMR []string
	// ACR is the authentication context class reached (the `acr` claim).
	ACR string
	// IDP is the connector the person signed in through ("" for Signet's
	// own sign-in); its sessions have AMR ["fed"].
	IDP string
}

// SessionStore keeps browser sessions.
type SessionStore interface {
	CreateSession(ctx context.Context, s Session) error
	GetSessionByTokenHash(ctx context.Context, tokenHash string) (Session, error)
	GetSession(ctx context.Context, id string) (Session, error)
	// TouchSession updates LastSeenAt and ExpiresAt.
	TouchSession(ctx context.Context, id string, lastSeen, expiresAt time.Time) error
	// DeleteSession ends the session. In the same atomic step it queues
	// one back-channel logout delivery for each client recorded for the
	// session (RecordSessionClient) that has a BackchannelLogoutURI.
	DeleteSession(ctx context.Context, id string) error
	// DeleteUserSessions deletes all of the user's sessions except the one
	// with id exceptID (which may be empty) and returns how many it deleted;
	// deliveries are queued as by DeleteSession.
	DeleteUserSessions(ctx context.Context, userID, exceptID string) (int, error)
	// ListUserSessions returns the user's sessions, newest first.
	ListUserSessions(ctx context.Context, userID string) ([]Session, error)
	// DeleteExpiredSessions sweeps expired sessions; it queues no
	// back-channel logout (a session that merely ran out is not a logout).
	DeleteExpiredSessions(ctx context.Context, before time.Time, limit int) (int, error)
}

// Consent is a remembered consent decision.
type Consent struct {
	UserID    string
	ClientID  string
	Scopes    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ConsentStore keeps remembered consent.
type ConsentStore interface {
	// UpsertConsent creates or replaces the consent of (UserID, ClientID).
	UpsertConsent(ctx context.Context, c Consent) error
	GetConsent(ctx context.Context, userID, clientID string) (Consent, error)
	ListConsents(ctx context.Context, userID string) ([]Consent, error)
	DeleteConsent(ctx context.Context, userID, clientID string) error
}

// KeyState is where a signing key is in its life.
type KeyState string

// Key states.
const (
	// KeyNext: published in JWKS, not yet signing.
	KeyNext KeyState = "next"
	// KeyCurrent: signing (one per algorithm).
	KeyCurrent KeyState = "current"
	// KeyRetired: published until every token it signed has expired.
	KeyRetired KeyState = "retired"
)

// SigningKey is a JWS signing key.
type SigningKey struct {
	// ID is the `kid`.
	ID        string
	Algorithm string
	State     KeyState
	// PrivateKey is the encrypted private key (AES-256-GCM); never plain.
	PrivateKey []byte
	// PublicKey is the public JWK (JSON).
	PublicKey []byte
	CreatedAt time.Time
	// ActivateAt: when a next key becomes current.
	ActivateAt time.Time
	// RetiredAt: when it stopped signing; DeleteAfter: when it may go.
	RetiredAt   time.Time
	DeleteAfter time.Time
}

// KeyStore keeps signing keys.
type KeyStore interface {
	CreateKey(ctx context.Context, k SigningKey) error
	GetKey(ctx context.Context, id string) (SigningKey, error)
	// ListKeys returns every key, oldest first.
	ListKeys(ctx context.Context) ([]SigningKey, error)
	// UpdateKey replaces State, PrivateKey, ActivateAt, RetiredAt and
	// DeleteAfter.
	UpdateKey(ctx context.Context, k SigningKey) error
	DeleteKey(ctx context.Context, id string) error
	// LockKeys serialises key rotation between replicas for the rest of the
	// transaction in ctx (PostgreSQL: a transaction advisory lock). It must
	// be called inside InTx.
	LockKeys(ctx context.Context) error
}

// LoginAttempts counts failed logins for a throttle key (an account or a
// client IP).
type LoginAttempts struct {
	Key         string
	Failures    int
	LastFailure time.Time
}

// AttemptLimit is one counter ReserveLoginAttempts counts an attempt
// against, with the back-off that decides whether the attempt may go.
type AttemptLimit struct {
	Key string
	// Window: a counter whose last attempt is Window or more before the
	// new one starts over.
	Window time.Duration
	// Waits[n] is how long after the last counted attempt the next one
	// must wait while n attempts are counted; past the end the last entry
	// holds. Empty never waits.
	Waits []time.Duration
}

// Wait is how long after at an attempt against l must still wait when the
// counter stands at c: zero when it may go now. Both stores decide
// admission by it (PostgreSQL by the same rule in SQL).
func (l AttemptLimit) Wait(c LoginAttempts, at time.Time) time.Duration {
	if c.Failures <= 0 || len(l.Waits) == 0 || !c.LastFailure.After(at.Add(-l.Window)) {
		return 0
	}
	w := l.Waits[min(c.Failures, len(l.Waits)-1)]
	if w <= 0 {
		return 0
	}
	return max(c.LastFailure.Add(w).Sub(at), 0)
}

// LoginReservation is the outcome of ReserveLoginAttempts.
type LoginReservation struct {
	// Admitted: the attempt is counted against every limit. Otherwise it
	// is counted against none.
	Admitted bool
	// Wait is, when refused, the longest wait among the limits that
	// refused (at least a second).
	Wait time.Duration
	// Counters are, per limit and in its order, the counter after the
	// attempt (admitted) or as it stood (refused).
	Counters []LoginAttempts
	// Previous are, when admitted, per limit, the last attempt counted
	// before this one (zero when none or unknown): what RefundLoginAttempt
	// puts back.
	Previous []time.Time
}

// ThrottleStore keeps failed-login counters, shared by all replicas.
type ThrottleStore interface {
	// ReserveLoginAttempts counts one attempt at the given time against
	// every limit, all or none, as one atomic step that every replica
	// sees: it is admitted when no limit makes it wait (AttemptLimit.Wait
	// is zero for each counter). A counter past its window starts over.
	// The keys must differ. A caller counts an attempt BEFORE checking a
	// password, so concurrent attempts cannot all pass one check; a
	// password found right is then refunded or cleared. It runs in its
	// own transaction and fails when ctx carries one: a reservation must
	// reach the other replicas at once, and must not hold the counters'
	// locks while the caller works.
	ReserveLoginAttempts(ctx context.Context, at time.Time, limits []AttemptLimit) (LoginReservation, error)
	// RefundLoginAttempt takes back one attempt that ReserveLoginAttempts
	// counted at the given time: one failure fewer (never below zero), and
	// the last failure back to previous when it is still at (no later
	// attempt came) and previous is not zero.
	RefundLoginAttempt(ctx context.Context, key string, at, previous time.Time) error
	// RecordLoginFailure adds one failure at the given time and returns the
	// new state. Failures older than the window are forgotten first.
	RecordLoginFailure(ctx context.Context, key string, at time.Time, window time.Duration) (LoginAttempts, error)
	// GetLoginAttempts: zero value (no error) when the key has none.
	GetLoginAttempts(ctx context.Context, key string) (LoginAttempts, error)
	ClearLoginAttempts(ctx context.Context, key string) error
	// DeleteStaleLoginAttempts deletes up to limit counters whose last
	// failure is before the given time and returns how many it deleted.
	DeleteStaleLoginAttempts(ctx context.Context, before time.Time, limit int) (int, error)
}

// Action token purposes.
const (
	PurposeVerifyEmail   = "verify_email"
	PurposeResetPassword = "reset_password"
	PurposeChangeEmail   = "change_email"
	// WebAuthn challenges: single-use, expiring, kept hashed like links.
	PurposeWebAuthnRegister     = "webauthn_register"
	PurposeWebAuthnSecondStep   = "webauthn_2fa"
	PurposeWebAuthnPasswordless = "webauthn_passwordless"
)

// ActionToken is a single-use link token (e-mail verification, password
// reset).
type ActionToken struct {
	// Hash is the SHA-256 (hex) of the token sent in the link.
	Hash    string
	Purpose string
	UserID  string
	// Email is the address the token was sent to (verification applies to
	// that address only).
	Email     string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ActionTokenStore keeps single-use link tokens.
type ActionTokenStore interface {
	CreateActionToken(ctx context.Context, t ActionToken) error
	// GetActionToken returns the token without using it up (a page that
	// says "this link expired" before the form is sent); ErrNotFound when
	// absent or already used.
	GetActionToken(ctx context.Context, purpose, hash string) (ActionToken, error)
	// ConsumeActionToken deletes and returns the token; ErrNotFound when
	// absent or already used. Expiry is the caller's to check.
	ConsumeActionToken(ctx context.Context, purpose, hash string) (ActionToken, error)
	// DeleteUserActionTokens removes the user's tokens of that purpose.
	DeleteUserActionTokens(ctx context.Context, userID, purpose string) error
	// DeleteExpiredActionTokens deletes up to limit tokens that expired
	// before the given time and returns how many it deleted.
	DeleteExpiredActionTokens(ctx context.Context, before time.Time, limit int) (int, error)
}

// AuditEvent is one line of the audit log.
type AuditEvent struct {
	ID int64
	At time.Time
	// Actor is who did it (user id, "admin-api", "system"); Action what
	// ("login.success", "user.disable", …); Target what it touched.
	Actor  string
	Action string
	Target string
	IP     string
	// Details never hold secrets.
	Details map[string]string
}

// AuditStore keeps the audit log.
type AuditStore interface {
	// AppendAudit stores the event; ID is assigned by the store.
	AppendAudit(ctx context.Context, e AuditEvent) error
	// ListAudit returns the newest events first, at most limit.
	ListAudit(ctx context.Context, limit int) ([]AuditEvent, error)
}

// ClientAssertionStore remembers the jti of accepted client assertions
// (private_key_jwt) until they expire, so one assertion authenticates once
// whichever replica sees it.
type ClientAssertionStore interface {
	// UseClientAssertionJTI records key (a digest of the client id and
	// the jti) until expiresAt. ErrAlreadyExists when it is recorded and
	// still unexpired at now; of concurrent callers with one key exactly
	// one succeeds. An expired record is replaced.
	UseClientAssertionJTI(ctx context.Context, key string, expiresAt, now time.Time) error
	// DeleteExpiredClientAssertionJTIs deletes up to limit records that
	// expired before the given time and returns how many it deleted.
	DeleteExpiredClientAssertionJTIs(ctx context.Context, before time.Time, limit int) (int, error)
}

// TOTPCredential is a user's authenticator app (RFC 6238); a user has at
// most one. It counts as a second factor once confirmed by a valid code.
type TOTPCredential struct {
	// ID is random; it is the additional data the secret is sealed with,
	// so a sealed secret copied to another row does not open.
	ID     string
	UserID string
	// Secret is the TOTP seed sealed with keys.Seal; never plain.
	Secret []byte
	// LastUsedStep is the time step of the last accepted code: a code of
	// that step or an earlier one is refused (each code works once).
	LastUsedStep int64
	CreatedAt    time.Time
	// ConfirmedAt is zero while enrolment waits for the first code.
	ConfirmedAt time.Time
	LastUsedAt  time.Time
}

// Confirmed reports whether the credential counts as a second factor.
func (c TOTPCredential) Confirmed() bool { return !c.ConfirmedAt.IsZero() }

// Passkey is a WebAuthn credential (passkey or security key).
type Passkey struct {
	// ID is the credential id, base64url without padding.
	ID     string
	UserID string
	Name   string
	// Credential is the library's credential record (public key, AAGUID,
	// flags, transports) as JSON; it holds no secret.
	Credential []byte
	// SignCount is the authenticator's signature counter as last seen.
	SignCount  int64
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// WebAuthnChallenge is one WebAuthn ceremony (registration or sign-in)
// between its options and the authenticator's answer: single-use and
// short-lived.
type WebAuthnChallenge struct {
	// ID is the SHA-256 (hex) of the challenge.
	ID string
	// Purpose tells the ceremonies apart (registration, second factor,
	// passwordless sign-in); a challenge answers only its own.
	Purpose string
	// UserID is who the ceremony is for; empty for a passwordless sign-in,
	// where the authenticator names the user.
	UserID string
	// Data is the library's ceremony state (JSON): no secret.
	Data      []byte
	CreatedAt time.Time
	ExpiresAt time.Time
}

// MFAStatus summarises a user's second factors.
type MFAStatus struct {
	TOTP          bool
	Passkeys      int
	RecoveryCodes int
	// Since is when the oldest current factor was enrolled (zero when
	// none): a remembered device older than that predates a reset.
	Since time.Time
}

// Enrolled reports whether the user has a second factor (recovery codes
// alone do not count: they back up a factor).
func (s MFAStatus) Enrolled() bool { return s.TOTP || s.Passkeys > 0 }

// MFAStore keeps second factors. Every record goes with its user.
type MFAStore interface {
	// PutTOTP stores c as the user's authenticator app, replacing an
	// unconfirmed one; ErrAlreadyExists when a confirmed one exists,
	// ErrNotFound when the user does not.
	PutTOTP(ctx context.Context, c TOTPCredential) error
	// GetTOTP returns the user's authenticator app, confirmed or not.
	GetTOTP(ctx context.Context, userID string) (TOTPCredential, error)
	// ConfirmTOTP marks the unconfirmed credential id of the user
	// confirmed at `at` with step as its last used step; ErrNotFound when
	// there is no such unconfirmed credential.
	ConfirmTOTP(ctx context.Context, userID, id string, step int64, at time.Time) error
	// UseTOTPStep records that a code of step was accepted, as one atomic
	// step that every replica sees: ErrConflict when step is not after the
	// last used one (a replayed code), ErrNotFound when the user has no
	// confirmed authenticator app.
	UseTOTPStep(ctx context.Context, userID string, step int64, at time.Time) error
	// DeleteTOTP removes the user's authenticator app (ErrNotFound: none).
	DeleteTOTP(ctx context.Context, userID string) error
	// ListTOTPCredentials returns up to limit authenticator apps,
	// confirmed or not, whose id sorts (bytewise) after `after`, ordered by
	// id: a walk over every sealed TOTP secret in pages, for re-sealing
	// them after the global secret is rotated.
	ListTOTPCredentials(ctx context.Context, after string, limit int) ([]TOTPCredential, error)
	// ResealTOTP replaces the sealed secret of the credential id with
	// sealed, but only while it is still old (a compare-and-swap, so of
	// replicas re-sealing at once one wins and none undoes another's
	// work, and a credential replaced meanwhile is left alone): ErrConflict
	// when the credential exists with another secret, ErrNotFound when
	// there is no credential id. Nothing else of the credential changes.
	ResealTOTP(ctx context.Context, id string, old, sealed []byte) error

	// CreatePasskey: ErrAlreadyExists for a known credential id,
	// ErrNotFound for an unknown user.
	CreatePasskey(ctx context.Context, p Passkey) error
	GetPasskey(ctx context.Context, id string) (Passkey, error)
	// ListPasskeys returns the user's passkeys, oldest first.
	ListPasskeys(ctx context.Context, userID string) ([]Passkey, error)
	// UsePasskey records a sign-in with the passkey: sign count and last
	// use. ErrConflict when signCount is not above the stored one while
	// either is non-zero (a cloned authenticator, or a replay).
	UsePasskey(ctx context.Context, id string, signCount int64, at time.Time) error
	// RenamePasskey and DeletePasskey act on the user's own passkey only
	// (ErrNotFound otherwise).
	RenamePasskey(ctx context.Context, userID, id, name string) error
	DeletePasskey(ctx context.Context, userID, id string) error

	// ReplaceRecoveryCodes makes hashes the user's only recovery codes.
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string, at time.Time) error
	// ConsumeRecoveryCode deletes the code; ErrNotFound when the user has
	// no such unused code, so exactly one caller wins.
	ConsumeRecoveryCode(ctx context.Context, userID, hash string) error

	// CreateWebAuthnChallenge stores a ceremony's challenge;
	// ErrAlreadyExists for a duplicate id.
	CreateWebAuthnChallenge(ctx context.Context, c WebAuthnChallenge) error
	// ConsumeWebAuthnChallenge deletes and returns it; ErrNotFound when
	// absent or already used, so exactly one caller wins. Expiry is the
	// caller's to check.
	ConsumeWebAuthnChallenge(ctx context.Context, id string) (WebAuthnChallenge, error)
	// DeleteExpiredWebAuthnChallenges deletes up to limit challenges that
	// expired before the given time and returns how many it deleted.
	DeleteExpiredWebAuthnChallenges(ctx context.Context, before time.Time, limit int) (int, error)

	// MFAStatus summarises the users' factors (absent users: zero).
	MFAStatus(ctx context.Context, userIDs []string) (map[string]MFAStatus, error)
	// DeleteUserMFA removes every factor and recovery code of the user.
	DeleteUserMFA(ctx context.Context, userID string) error
}

// Connector types.
const (
	ConnectorOIDC   = "oidc"
	ConnectorGoogle = "google"
	ConnectorGitHub = "github"
)

// RoleRule maps an upstream value to a Signet role: a person whose upstream
// Claim (an ID token or userinfo claim, "groups", GitHub's "teams" or
// "orgs") holds Value gets Role.
type RoleRule struct {
	Claim string `json:"claim"`
	Value string `json:"value"`
	Role  string `json:"role"`
}

// Connector is an upstream identity provider people may sign in with.
type Connector struct {
	// ID is chosen by the operator (a short slug): it appears in callback
	// URLs and in the `idp` claim.
	ID      string
	Type    string
	Name    string
	IconURL string
	Enabled bool
	// ClientID is Signet's client id at the upstream.
	ClientID string
	// ClientSecret is sealed (keys.Seal, associated data the connector id);
	// never plain. Empty (nil) for none.
	ClientSecret []byte
	// Config is the type's settings as a JSON object (issuer, scopes,
	// claim names, restrictions); the connectors package reads it. Kept
	// byte for byte; empty comes back as "{}".
	Config []byte
	// RoleRules are applied on every sign-in; empty comes back empty.
	RoleRules []RoleRule
	// DefaultRole is given to users this connector creates ("" for none).
	DefaultRole string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// ConnectorStore keeps connectors.
type ConnectorStore interface {
	// CreateConnector: ErrAlreadyExists when the id is taken.
	CreateConnector(ctx context.Context, c Connector) error
	GetConnector(ctx context.Context, id string) (Connector, error)
	// ListConnectors returns every connector ordered by id.
	ListConnectors(ctx context.Context) ([]Connector, error)
	// UpdateConnector replaces every field but ID, Type and CreatedAt.
	UpdateConnector(ctx context.Context, c Connector) error
	// DeleteConnector also removes the upstream identities linked through it.
	DeleteConnector(ctx context.Context, id string) error
	// ResealConnectorSecret replaces the connector's sealed client secret
	// with sealed, but only while it is still old (a compare-and-swap, as
	// ResealTOTP): ErrConflict when the connector exists with another
	// secret (or none), ErrNotFound when there is no such connector.
	// UpdatedAt and every other field stay as they are: the secret itself
	// did not change.
	ResealConnectorSecret(ctx context.Context, id string, old, sealed []byte) error
}

// UpstreamIdentity links an account at a connector's upstream (its
// subject) to a Signet user.
type UpstreamIdentity struct {
	ConnectorID string
	// Subject is the upstream's stable id of the person (`sub`, GitHub's
	// numeric user id).
	Subject string
	UserID  string
	// Email is what the upstream said when it was linked (for display).
	Email       string
	CreatedAt   time.Time
	LastLoginAt time.Time
}

// UpstreamIdentityStore keeps the links between upstream accounts and users.
type UpstreamIdentityStore interface {
	// CreateUpstreamIdentity: ErrAlreadyExists when (connector, subject) is
	// linked already, or the user already has an identity at that
	// connector; ErrNotFound when the connector or the user does not exist.
	CreateUpstreamIdentity(ctx context.Context, id UpstreamIdentity) error
	GetUpstreamIdentity(ctx context.Context, connectorID, subject string) (UpstreamIdentity, error)
	// ListUserUpstreamIdentities returns the user's identities ordered by
	// connector id; empty (not nil) when none.
	ListUserUpstreamIdentities(ctx context.Context, userID string) ([]UpstreamIdentity, error)
	// TouchUpstreamIdentity sets LastLoginAt.
	TouchUpstreamIdentity(ctx context.Context, connectorID, subject string, at time.Time) error
	// DeleteUpstreamIdentity removes the user's identity at the connector.
	DeleteUpstreamIdentity(ctx context.Context, userID, connectorID string) error
}

// BackchannelDelivery is one logout token owed to one client: the session
// SessionID of Subject, in which the client received tokens, has ended.
type BackchannelDelivery struct {
	ID        int64
	ClientID  string
	Subject   string
	SessionID string
	// Attempts counts the tries started (claims), the current one included.
	Attempts int
	// LastError says why the previous try failed (no secrets).
	LastError string
}

// BackchannelStore keeps which clients received tokens in which session,
// and the queue of logout tokens to deliver, shared by all replicas.
type BackchannelStore interface {
	// RecordSessionClient notes that the client received tokens in the
	// session; recording it again changes nothing. ErrNotFound when the
	// session or the client does not exist.
	RecordSessionClient(ctx context.Context, sessionID, clientID string, at time.Time) error
	// ListSessionClients returns the client ids recorded for the session,
	// sorted; empty (not nil) when none.
	ListSessionClients(ctx context.Context, sessionID string) ([]string, error)
	// ClaimBackchannelDeliveries claims up to limit deliveries that are due
	// at now and not claimed by anyone (or whose claim lapsed): each is
	// claimed until now+lease and its Attempts counts one more. Concurrent
	// callers (replicas) claim disjoint sets. A claim that lapses (the
	// claimer died) makes the delivery due again.
	ClaimBackchannelDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]BackchannelDelivery, error)
	// ListBackchannelDeliveries returns every queued delivery, oldest first.
	ListBackchannelDeliveries(ctx context.Context) ([]BackchannelDelivery, error)
	// CompleteBackchannelDelivery removes a delivery (sent, or given up).
	// ErrNotFound when it is not queued.
	CompleteBackchannelDelivery(ctx context.Context, id int64) error
	// RetryBackchannelDelivery releases the claim and makes the delivery
	// due again at next. ErrNotFound when it is not queued.
	RetryBackchannelDelivery(ctx context.Context, id int64, next time.Time, lastError string) error
}

// RegistrationToken is an initial access token for dynamic client
// registration (RFC 7591), issued by an administrator.
type RegistrationToken struct {
	ID string
	// Hash is the SHA-256 (hex) of the token; the token itself is never
	// stored.
	Hash        string
	Description string
	CreatedAt   time.Time
	// ExpiresAt zero: never expires.
	ExpiresAt time.Time
	// MaxUses 0: any number of registrations.
	MaxUses int
	Uses    int
}

// RegistrationStore keeps initial access tokens and each dynamically
// registered client's registration access token (RFC 7592).
type RegistrationStore interface {
	// CreateRegistrationToken: ErrAlreadyExists when the id or hash is taken.
	CreateRegistrationToken(ctx context.Context, t RegistrationToken) error
	// ListRegistrationTokens returns every token, oldest first.
	ListRegistrationTokens(ctx context.Context) ([]RegistrationToken, error)
	// DeleteRegistrationToken revokes it; ErrNotFound when absent.
	DeleteRegistrationToken(ctx context.Context, id string) error
	// UseRegistrationToken counts one use of the token with that hash and
	// returns it, atomically: ErrNotFound when there is none, it expired
	// at now, or its uses are spent.
	UseRegistrationToken(ctx context.Context, hash string, now time.Time) (RegistrationToken, error)
	// SetClientRegistrationToken stores (or replaces) the hash (hex
	// SHA-256) of the client's registration access token. ErrNotFound when
	// the client does not exist. Deleting the client deletes it.
	SetClientRegistrationToken(ctx context.Context, clientID, hash string) error
	// GetClientRegistrationToken returns that hash; ErrNotFound when the
	// client has none.
	GetClientRegistrationToken(ctx context.Context, clientID string) (string, error)
}
