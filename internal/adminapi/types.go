package adminapi

import (
	"encoding/json"
	"time"
)

// ErrorBody is the JSON shape of every error answer, the OAuth2 one every
// client of Signet already parses.
type ErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// ClientRegistration is the body of POST /clients, in RFC 7591 spelling
// plus first_party. Omitted (or empty) fields take the server's defaults.
type ClientRegistration struct {
	ClientName             string   `json:"client_name"`
	RedirectURIs           []string `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes             []string `json:"grant_types,omitempty"`
	ResponseTypes          []string `json:"response_types,omitempty"`
	// Scope is space-separated, as in RFC 7591.
	Scope                   string `json:"scope,omitempty"`
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method,omitempty"`
	FirstParty              bool   `json:"first_party,omitempty"`
	// RequireMFA: people signing in to the client must use a second factor.
	RequireMFA bool `json:"require_mfa,omitempty"`
	// IDTokenSignedResponseAlg is the JWS alg of the client's ID tokens:
	// RS256, ES256 or EdDSA; empty means the provider default, RS256.
	IDTokenSignedResponseAlg string `json:"id_token_signed_response_alg,omitempty"`
	// JWKS (a JSON Web Key Set object) or JWKSURI: the public keys of a
	// private_key_jwt client. TokenEndpointAuthSigningAlg (RS256, ES256,
	// EdDSA), when set, is the only algorithm its assertions may use.
	JWKS                        json.RawMessage `json:"jwks,omitempty"`
	JWKSURI                     string          `json:"jwks_uri,omitempty"`
	TokenEndpointAuthSigningAlg string          `json:"token_endpoint_auth_signing_alg,omitempty"`
	// RequirePushedAuthorizationRequests: the client's authorization
	// requests must be pushed first (RFC 9126).
	RequirePushedAuthorizationRequests bool `json:"require_pushed_authorization_requests,omitempty"`
	// AccessTokenFormat: opaque (default) or jwt (RFC 9068).
	AccessTokenFormat string `json:"access_token_format,omitempty"`
	// Audience lists the resources (RFC 8707 URIs) the client's tokens may
	// be for.
	Audience []string `json:"audience,omitempty"`
	// BackchannelLogoutURI receives logout tokens when a session in which
	// the client received tokens ends (OpenID Connect Back-Channel Logout).
	BackchannelLogoutURI             string `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired bool   `json:"backchannel_logout_session_required,omitempty"`
}

// ClientPatch is the body of PATCH /clients/{id}: the fields of
// ClientRegistration, each optional. The server decodes the body onto the
// client's current registration: a field sent (non-nil here) replaces the
// client's, an absent one stays; an empty list or string resets the field
// to the default a new client gets.
type ClientPatch struct {
	ClientName                         *string         `json:"client_name,omitempty"`
	RedirectURIs                       *[]string       `json:"redirect_uris,omitempty"`
	PostLogoutRedirectURIs             *[]string       `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes                         *[]string       `json:"grant_types,omitempty"`
	ResponseTypes                      *[]string       `json:"response_types,omitempty"`
	Scope                              *string         `json:"scope,omitempty"`
	TokenEndpointAuthMethod            *string         `json:"token_endpoint_auth_method,omitempty"`
	FirstParty                         *bool           `json:"first_party,omitempty"`
	RequireMFA                         *bool           `json:"require_mfa,omitempty"`
	IDTokenSignedResponseAlg           *string         `json:"id_token_signed_response_alg,omitempty"`
	JWKS                               json.RawMessage `json:"jwks,omitempty"`
	JWKSURI                            *string         `json:"jwks_uri,omitempty"`
	TokenEndpointAuthSigningAlg        *string         `json:"token_endpoint_auth_signing_alg,omitempty"`
	RequirePushedAuthorizationRequests *bool           `json:"require_pushed_authorization_requests,omitempty"`
	AccessTokenFormat                  *string         `json:"access_token_format,omitempty"`
	Audience                           *[]string       `json:"audience,omitempty"`
	BackchannelLogoutURI               *string         `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired   *bool           `json:"backchannel_logout_session_required,omitempty"`
}

// OAuthClient is a registered client as the API shows it. ClientSecret is
// set only in the answers that make one (POST /clients, POST
// /clients/{id}/rotate-secret, a PATCH that made the client confidential):
// it is not stored and cannot be shown again.
type OAuthClient struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string `json:"post_logout_redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	Scope                   string   `json:"scope"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	FirstParty              bool     `json:"first_party"`
	RequireMFA              bool     `json:"require_mfa"`
	// IDTokenSignedResponseAlg is the algorithm of the client's ID tokens:
	// the registered one, or RS256 (the default) when it registered none.
	IDTokenSignedResponseAlg string          `json:"id_token_signed_response_alg"`
	JWKS                     json.RawMessage `json:"jwks,omitempty"`
	JWKSURI                  string          `json:"jwks_uri,omitempty"`
	// TokenEndpointAuthSigningAlg is empty when any supported algorithm
	// is accepted.
	TokenEndpointAuthSigningAlg        string    `json:"token_endpoint_auth_signing_alg,omitempty"`
	RequirePushedAuthorizationRequests bool      `json:"require_pushed_authorization_requests"`
	AccessTokenFormat                  string    `json:"access_token_format"`
	Audience                           []string  `json:"audience"`
	BackchannelLogoutURI               string    `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired   bool      `json:"backchannel_logout_session_required"`
	CreatedAt                          time.Time `json:"created_at"`
}

// NewUser is the body of POST /users.
type NewUser struct {
	Username      string   `json:"username"`
	Email         string   `json:"email"`
	Name          string   `json:"name,omitempty"`
	Password      string   `json:"password"`
	EmailVerified bool     `json:"email_verified,omitempty"`
	Roles         []string `json:"roles,omitempty"`
}

// User is a user as the API shows it; there is no password field of any
// kind.
type User struct {
	ID            string    `json:"id"`
	Username      string    `json:"username"`
	Email         string    `json:"email"`
	Name          string    `json:"name"`
	EmailVerified bool      `json:"email_verified"`
	Disabled      bool      `json:"disabled"`
	Roles         []string  `json:"roles"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	// MFAEnrolled: the user has a second factor (authenticator app or
	// passkey).
	MFAEnrolled bool `json:"mfa_enrolled"`
}

// UserRoles is the body of PUT /users/:id/roles, which replaces the
// user's roles.
type UserRoles struct {
	// Roles is required, so that a body that forgot it does not silently
	// strip the user's roles: decoded, an absent field (or null) leaves it
	// nil and an empty array makes it empty but not nil, which removes
	// every role. Send an empty array, never nil.
	Roles []string `json:"roles"`
}

// LogoutResult is the answer of POST /users/:id/logout.
type LogoutResult struct {
	SessionsEnded int `json:"sessions_ended"`
}

// NewRole is the body of POST /roles.
type NewRole struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Role is a role as the API shows it.
type Role struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

// AuditEvent is one line of the audit log (GET /audit, newest first).
type AuditEvent struct {
	ID      int64             `json:"id"`
	At      time.Time         `json:"at"`
	Actor   string            `json:"actor"`
	Action  string            `json:"action"`
	Target  string            `json:"target"`
	IP      string            `json:"ip"`
	Details map[string]string `json:"details"`
}

// SigningKey is a signing key as the API shows it (never key material).
// The dates a key does not have yet are left out.
type SigningKey struct {
	KID         string     `json:"kid"`
	Algorithm   string     `json:"alg"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	ActivateAt  *time.Time `json:"activate_at,omitempty"`
	RetiredAt   *time.Time `json:"retired_at,omitempty"`
	DeleteAfter *time.Time `json:"delete_after,omitempty"`
	// Problem says why the server cannot sign with the key (a corrupted
	// row, a private key that does not decrypt).
	Problem string `json:"problem,omitempty"`
}

// RotateKeys is the optional body of POST /keys/rotate.
type RotateKeys struct {
	// Algorithm limits the rotation to one algorithm; empty rotates every
	// configured one.
	Algorithm string `json:"alg,omitempty"`
}

// NewRegistrationToken is the body of POST /registration-tokens: an
// initial access token for dynamic client registration (RFC 7591).
type NewRegistrationToken struct {
	Description string `json:"description,omitempty"`
	// ExpiresIn is its lifetime in seconds; 0 (or absent): it never expires.
	ExpiresIn int64 `json:"expires_in,omitempty"`
	// MaxUses is how many registrations it allows; 0 (or absent): any.
	MaxUses int `json:"max_uses,omitempty"`
}

// RegistrationToken is an initial access token as the API shows it. Token
// is set only in the answer to POST /registration-tokens: only its hash is
// stored.
type RegistrationToken struct {
	ID          string     `json:"id"`
	Token       string     `json:"token,omitempty"`
	Description string     `json:"description"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	MaxUses     int        `json:"max_uses"`
	Uses        int        `json:"uses"`
}
