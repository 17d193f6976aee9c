package oauth

import (
	"context"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/token/jwt"

	"github.com/signet-idp/signet/internal/storage"
)

// JWT access tokens (RFC 9068), opt-in per client (access_token_format
// jwt): fosite's JWT strategy over our signer, so they are signed with the
// server's keys (the client's ID token algorithm, RS256 by default) and a
// resource server checks them with the JWKS alone. They are recorded like
// opaque ones (keyed by their signature), so introspection and revocation
// stay authoritative; a resource server that only checks the signature
// accepts one until it expires.

// accessTokenType is the JWT typ of access tokens (RFC 9068 §2.1).
const accessTokenType = "at+jwt"

// formatStrategy issues each client's access tokens in its registered
// format and tells the two apart by shape: a JWT has three parts, an
// opaque token two. Everything else is the HMAC (rotation) strategy's.
type formatStrategy struct {
	oauth2.CoreStrategy
	jwt *oauth2.DefaultJWTStrategy
}

func isJWT(token string) bool { return strings.Count(token, ".") == 2 }

// wantsJWT reports whether the client registered JWT access tokens.
func wantsJWT(c fosite.Client) bool {
	oc, ok := c.(*Client)
	return ok && oc.AccessTokenFormat == storage.AccessTokenJWT
}

// GenerateAccessToken implements oauth2.AccessTokenStrategy.
func (s *formatStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	if !wantsJWT(r.GetClient()) {
		return s.CoreStrategy.GenerateAccessToken(ctx, r)
	}
	sess, ok := r.GetSession().(*Session)
	if !ok {
		return "", "", fosite.ErrServerError.WithDebugf("unexpected session type %T", r.GetSession())
	}
	client := r.GetClient().(*Client)
	// aud: the resources asked for (RFC 8707, granted already), else the
	// client's registered audiences, else the client itself. The default
	// goes into the token only, not into the grant: a refresh checks the
	// granted audience against the client's registered ones.
	defaultAud := client.Audience
	if len(defaultAud) == 0 {
		defaultAud = []string{client.ID}
	}
	extra := map[string]interface{}{"client_id": client.ID}
	if sess.User != nil && r.GetGrantedScopes().Has(ScopeRoles) {
		roles := sess.User.Roles
		if roles == nil {
			roles = []string{}
		}
		extra["roles"] = roles
	}
	sess.accessClaims = &accessClaims{JWTClaims: &jwt.JWTClaims{Subject: sess.GetSubject(), Extra: extra}, defaultAudience: defaultAud}
	defer func() { sess.accessClaims = nil }()
	return s.jwt.GenerateAccessToken(withType(withAlg(ctx, client.IDTokenSignedResponseAlg), accessTokenType), r)
}

// AccessTokenSignature implements oauth2.AccessTokenStrategy.
func (s *formatStrategy) AccessTokenSignature(ctx context.Context, token string) string {
	if isJWT(token) {
		return s.jwt.AccessTokenSignature(ctx, token)
	}
	return s.CoreStrategy.AccessTokenSignature(ctx, token)
}

// ValidateAccessToken implements oauth2.AccessTokenStrategy: a JWT must
// carry a valid signature of one of our keys and be unexpired (its row,
// which revocation deactivates, is checked by fosite before).
func (s *formatStrategy) ValidateAccessToken(ctx context.Context, r fosite.Requester, token string) error {
	if isJWT(token) {
		return s.jwt.ValidateAccessToken(ctx, r, token)
	}
	return s.CoreStrategy.ValidateAccessToken(ctx, r, token)
}

// accessClaims are the claims of one JWT access token; fosite's strategy
// sets the granted audience into them, and an empty one becomes the
// client's default.
type accessClaims struct {
	*jwt.JWTClaims
	defaultAudience []string
}

// With implements jwt.JWTClaimsContainer.
func (c *accessClaims) With(expiry time.Time, scope, audience []string) jwt.JWTClaimsContainer {
	if len(audience) == 0 {
		audience = c.defaultAudience
	}
	return c.JWTClaims.With(expiry, scope, audience)
}

// GetJWTClaims implements oauth2.JWTSessionContainer: the claims of the
// JWT access token being made (formatStrategy sets them just before).
func (s *Session) GetJWTClaims() jwt.JWTClaimsContainer {
	if s.accessClaims != nil {
		return s.accessClaims
	}
	return &jwt.JWTClaims{Subject: s.GetSubject()}
}

// GetJWTHeader implements oauth2.JWTSessionContainer.
func (s *Session) GetJWTHeader() *jwt.Headers {
	return &jwt.Headers{Extra: map[string]interface{}{"typ": accessTokenType}}
}

// typKey is the context key of the JWT typ of the token being signed.
type typKey struct{}

func withType(ctx context.Context, typ string) context.Context {
	return context.WithValue(ctx, typKey{}, typ)
}

func typeFrom(ctx context.Context) string {
	if t, _ := ctx.Value(typKey{}).(string); t != "" {
		return t
	}
	return "JWT"
}
