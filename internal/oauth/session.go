package oauth

import (
	"slices"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// Scopes Signet knows. They are also the claims groups of ID tokens and
// userinfo.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeRoles         = "roles"
	ScopeOfflineAccess = "offline_access"
)

// SupportedScopes lists every scope, as discovery publishes them.
func SupportedScopes() []string {
	return []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopeRoles, ScopeOfflineAccess}
}

// SupportedClaims lists every claim ID tokens and userinfo may carry.
func SupportedClaims() []string {
	return []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid",
		"preferred_username", "name", "email", "email_verified", "roles", "amr", "acr", "idp"}
}

// UserClaims is the snapshot of a person taken when a grant is made (and
// again on every refresh): what the scope-dependent claims are made from.
type UserClaims struct {
	Username      string   `json:"username"`
	Name          string   `json:"name,omitempty"`
	Email         string   `json:"email,omitempty"`
	EmailVerified bool     `json:"email_verified,omitempty"`
	Roles         []string `json:"roles"`
}

// Session is the fosite session of every Signet token: fosite's OpenID
// Connect session (subject, ID token claims and headers, expiries) plus the
// user snapshot and the browser session id. It is stored as JSON in
// storage.OAuthRequest.Session.
type Session struct {
	*openid.DefaultSession
	User *UserClaims `json:"user,omitempty"`
	// SessionID is the browser session that logged in (the `sid` claim).
	SessionID string `json:"session_id,omitempty"`
	// IDP is the connector the person signed in through (the `idp`
	// claim); empty for Signet's own sign-in.
	IDP string `json:"idp,omitempty"`
	// accessClaims are the claims of a JWT access token while it is made
	// (see formatStrategy); never stored.
	accessClaims *accessClaims
}

var (
	_ fosite.Session            = (*Session)(nil)
	_ openid.Session            = (*Session)(nil)
	_ fosite.ExtraClaimsSession = (*Session)(nil)
)

// NewSession returns an empty session, for fosite to fill from storage.
func NewSession() *Session {
	return &Session{DefaultSession: &openid.DefaultSession{
		Claims:    &jwt.IDTokenClaims{},
		Headers:   &jwt.Headers{},
		ExpiresAt: map[fosite.TokenType]time.Time{},
	}}
}

// Clone implements fosite.Session with a deep copy of our fields too.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	c := *s
	if s.DefaultSession != nil {
		c.DefaultSession = s.DefaultSession.Clone().(*openid.DefaultSession)
	}
	if s.User != nil {
		u := *s.User
		u.Roles = slices.Clone(u.Roles)
		c.User = &u
	}
	return &c
}

// GetExtraClaims keeps the ID token's claims (e-mail, roles, …) out of
// introspection responses: fosite copies these into them.
func (s *Session) GetExtraClaims() map[string]interface{} { return map[string]interface{}{} }

// setClaims writes the scope-dependent ID token claims for the granted
// scopes from the user snapshot.
func (s *Session) setClaims(granted fosite.Arguments) {
	claims := s.IDTokenClaims()
	claims.Extra = userClaimsFor(s.User, granted)
	if s.SessionID != "" {
		claims.Extra["sid"] = s.SessionID
	}
	if s.IDP != "" {
		claims.Extra["idp"] = s.IDP
	}
}

// userClaimsFor returns the claims of CONTRACT.md the scopes allow: profile
// → preferred_username and name (omitted when the user has none), email →
// email and email_verified, roles → roles (an empty array when none).
func userClaimsFor(u *UserClaims, scopes fosite.Arguments) map[string]interface{} {
	out := map[string]interface{}{}
	if u == nil {
		return out
	}
	if scopes.Has(ScopeProfile) {
		out["preferred_username"] = u.Username
		if u.Name != "" {
			out["name"] = u.Name
		}
	}
	if scopes.Has(ScopeEmail) && u.Email != "" {
		out["email"] = u.Email
		out["email_verified"] = u.EmailVerified
	}
	if scopes.Has(ScopeRoles) {
		roles := u.Roles
		if roles == nil {
			roles = []string{}
		}
		out["roles"] = roles
	}
	return out
}
