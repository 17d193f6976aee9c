package oauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"slices"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/hmac"
	"github.com/ory/fosite/token/jwt"
	"golang.org/x/crypto/hkdf"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/keys"
	"github.com/signet-idp/signet/internal/storage"
)

// MinSecretLength is the shortest global secret accepted (fosite's HMAC
// strategy only notices a short one at the first token otherwise).
const MinSecretLength = 32

// hmacInfo separates the HMAC token key from other keys derived from the
// same secret.
const hmacInfo = "signet/oauth/hmac-token-key/v1"

// ErrUserUnavailable: the grant's user no longer exists or is disabled.
var ErrUserUnavailable = errors.New("the user no longer exists or is disabled")

// Options configures New.
type Options struct {
	// Issuer is the `iss` of ID tokens, exactly as discovery publishes it.
	Issuer string
	// Default token lifetimes; clients may override them.
	AccessTokenLifespan  time.Duration
	IDTokenLifespan      time.Duration
	RefreshTokenLifespan time.Duration
	AuthCodeLifespan     time.Duration
	// Secret keys the opaque (HMAC) tokens; OldSecrets still validate
	// tokens issued under them.
	Secret     []byte
	OldSecrets [][]byte
	Store      Store
	Keys       keys.Provider
	// Now is the clock of records kept in storage (nil: time.Now). fosite
	// itself stamps tokens with time.Now.
	Now func() time.Time
	// RefreshGracePeriod: within it after a rotation, a repeat of the
	// rotated refresh token gets the same new tokens and revokes nothing
	// (0: every repeat revokes the grant). See rotation.go.
	RefreshGracePeriod time.Duration
	// FormPostTemplate renders response_mode=form_post answers (nil:
	// fosite's default, which needs an inline script allowed).
	FormPostTemplate *template.Template
	// Audit records the automatic revocations (code replay, refresh token
	// reuse, user gone); nil records nothing.
	Audit audit.Recorder
	// PAR composes the pushed authorization request handler (RFC 9126);
	// PARLifespan is how long a request_uri lives (0: 90 seconds).
	PAR         bool
	PARLifespan time.Duration
	// JWKSFetcher reads private_key_jwt clients' jwks_uri (nil: only
	// clients with registered keys can use private_key_jwt).
	JWKSFetcher JWKSFetcher
	// AssertionAudiences are the endpoint URLs (token, PAR, revocation)
	// that client assertions may name in aud, besides the issuer.
	AssertionAudiences []string
}

// Provider is the composed fosite OAuth2/OIDC provider plus what the HTTP
// handlers need around it: transactions, sessions with claims, userinfo.
type Provider struct {
	fosite.OAuth2Provider
	adapter *adapter
	signer  *signer
	store   Store
	now     func() time.Time
	issuer  string
	config  *fosite.Config
	audit   audit.Recorder
}

// DeriveKey derives a 32-byte key for one purpose (info) from a secret
// with HKDF-SHA256.
func DeriveKey(secret []byte, info string) ([]byte, error) {
	k := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, nil, []byte(info)), k); err != nil {
		return nil, err
	}
	return k, nil
}

// New composes the provider.
func New(o Options) (*Provider, error) {
	if o.Store == nil || o.Keys == nil {
		return nil, errors.New("oauth: store and keys are required")
	}
	u, err := url.Parse(o.Issuer)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("oauth: issuer %q is not an absolute URL", o.Issuer)
	}
	if len(o.Secret) < MinSecretLength {
		return nil, fmt.Errorf("oauth: the global secret must be at least %d bytes", MinSecretLength)
	}
	global, err := DeriveKey(o.Secret, hmacInfo)
	if err != nil {
		return nil, err
	}
	var rotated [][]byte
	for i, old := range o.OldSecrets {
		if len(old) < MinSecretLength {
			return nil, fmt.Errorf("oauth: old secret #%d must be at least %d bytes", i+1, MinSecretLength)
		}
		k, err := DeriveKey(old, hmacInfo)
		if err != nil {
			return nil, err
		}
		rotated = append(rotated, k)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	parLifespan := o.PARLifespan
	if parLifespan <= 0 {
		parLifespan = 90 * time.Second
	}
	cfg := &fosite.Config{
		AccessTokenLifespan:   o.AccessTokenLifespan,
		RefreshTokenLifespan:  o.RefreshTokenLifespan,
		AuthorizeCodeLifespan: o.AuthCodeLifespan,
		IDTokenLifespan:       o.IDTokenLifespan,
		IDTokenIssuer:         o.Issuer,
		AccessTokenIssuer:     o.Issuer,
		TokenURL:              o.Issuer + "/oauth2/token",
		GlobalSecret:          global,
		RotatedGlobalSecrets:  rotated,
		// Scopes match exactly: "roles" does not grant "roles.admin".
		ScopeStrategy: fosite.ExactScopeStrategy,
		// Set, not left nil: fosite's getter fills a nil one in on first
		// use, a data race between concurrent requests.
		AudienceMatchingStrategy: fosite.DefaultAudienceMatchingStrategy,
		// JWT access tokens carry scope as a space-separated string
		// (RFC 9068 §2.2.3).
		JWTScopeClaimKey:               jwt.JWTScopeFieldString,
		EnforcePKCE:                    false,
		EnforcePKCEForPublicClients:    true,
		EnablePKCEPlainChallengeMethod: false,
		RefreshTokenScopes:             []string{ScopeOfflineAccess},
		AllowedPromptValues:            []string{"none", "login", "consent"},
		ClientSecretsHasher:            secretHasher{},
		SendDebugMessagesToClients:     false,
		// Our wording in error descriptions (messages.go).
		MessageCatalog:       Messages,
		FormPostHTMLTemplate: o.FormPostTemplate,
		// The code row keeps what the token endpoint checks (redirect_uri)
		// and nothing else of the authorization request.
		SanitationWhiteList: []string{"redirect_uri"},
		// Required PAR is enforced by the HTTP layer, per client or for
		// every client, after the redirect URI is known to be safe.
		PushedAuthorizeRequestURIPrefix: PARPrefix,
		PushedAuthorizeContextLifespan:  parLifespan,
	}
	for name, d := range map[string]time.Duration{
		"access token": o.AccessTokenLifespan, "ID token": o.IDTokenLifespan,
		"refresh token": o.RefreshTokenLifespan, "authorization code": o.AuthCodeLifespan,
	} {
		if d <= 0 {
			return nil, fmt.Errorf("oauth: %s lifespan must be positive", name)
		}
	}
	ad := &adapter{
		store: o.Store, now: now,
		codeLifespan: o.AuthCodeLifespan, accessLifespan: o.AccessTokenLifespan, refreshLifespan: o.RefreshTokenLifespan,
		parLifespan: parLifespan,
		grace:       o.RefreshGracePeriod,
	}
	deriveKey, err := DeriveKey(o.Secret, rotationInfo)
	if err != nil {
		return nil, err
	}
	sg := &signer{keys: o.Keys}
	hmacCore := prefixedStrategy{oauth2.NewHMACSHAStrategyUnPrefixed(&hmac.HMACStrategy{Config: cfg}, cfg)}
	core := &rotationStrategy{CoreStrategy: hmacCore, hmacKey: global, deriveKey: deriveKey}
	ad.codeSignature = func(code string) string { return core.AuthorizeCodeSignature(context.Background(), code) }
	strategy := &compose.CommonStrategy{
		CoreStrategy: &formatStrategy{CoreStrategy: core, jwt: &oauth2.DefaultJWTStrategy{
			Signer: sg, HMACSHAStrategy: core, Config: cfg,
		}},
		OpenIDConnectTokenStrategy: idTokenStrategy{inner: &openid.DefaultStrategy{Signer: sg, Config: cfg}},
		Signer:                     sg,
	}
	factories := []compose.Factory{
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
		compose.OAuth2PKCEFactory,
	}
	if o.PAR {
		factories = append(factories, compose.PushedAuthorizeHandlerFactory)
	}
	provider := compose.Compose(cfg, ad, strategy, factories...)
	f, ok := provider.(*fosite.Fosite)
	if !ok {
		return nil, fmt.Errorf("oauth: unexpected provider type %T", provider)
	}
	aa := &assertionAuth{adapter: ad, fetcher: o.JWKSFetcher, audit: o.Audit, audiences: audiencesOf(o.Issuer, append([]string{cfg.TokenURL}, o.AssertionAudiences...))}
	cfg.ClientAuthenticationStrategy = aa.strategy(f.DefaultClientAuthenticationStrategy)
	return &Provider{OAuth2Provider: provider, adapter: ad, signer: sg, store: o.Store, now: now, issuer: o.Issuer, config: cfg,
		audit: o.Audit}, nil
}

// Issuer returns the issuer URL.
func (p *Provider) Issuer() string { return p.issuer }

// InTx runs fn in one storage transaction that fosite's own transactional
// calls join. Run NewAccessResponse and NewAuthorizeResponse in it, so a
// successful exchange or rotation writes all its rows or none.
func (p *Provider) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return p.adapter.InTx(ctx, fn)
}

// WithRequestCache returns a context that remembers store reads for one
// HTTP request (see requestCache).
func (p *Provider) WithRequestCache(ctx context.Context) context.Context {
	return WithRequestCache(ctx)
}

// Grant is what a completed login hands the provider to mint a session.
type Grant struct {
	Subject   string
	SessionID string
	AuthTime  time.Time
	// RequestedAt is when the authorization request arrived (the challenge
	// was created): fosite checks prompt=login and max_age against it.
	RequestedAt time.Time
	Nonce       string
	// AMR and ACR are how the person authenticated and the class it
	// reached (the `amr` and `acr` claims; empty: not sent); IDP the
	// connector they came through (the `idp` claim, "" for none).
	AMR []string
	ACR string
	IDP string
}

// NewUserSession reads the user (and roles, when granted) and returns the
// session of a new grant with its ID token claims for the granted scopes.
// ErrUserUnavailable when the user is gone or disabled.
func (p *Provider) NewUserSession(ctx context.Context, g Grant, granted []string) (*Session, error) {
	u, err := p.loadUser(ctx, g.Subject, granted)
	if err != nil {
		return nil, err
	}
	s := NewSession()
	s.Subject = g.Subject
	s.Username = u.Username
	s.SessionID = g.SessionID
	s.IDP = g.IDP
	s.User = u
	c := s.IDTokenClaims()
	c.Subject = g.Subject
	c.Issuer = p.issuer
	c.AuthTime = g.AuthTime.UTC().Truncate(time.Second)
	c.RequestedAt = g.RequestedAt.UTC().Truncate(time.Second)
	c.Nonce = g.Nonce
	// fosite writes these two itself (amr put in Extra would be dropped).
	c.AuthenticationMethodsReferences = slices.Clone(g.AMR)
	c.AuthenticationContextClassReference = g.ACR
	s.setClaims(granted)
	return s, nil
}

// PrepareRefresh re-reads the user of a refresh grant (so a role change
// reaches the next refresh) and rewrites the ID token claims; the refreshed
// ID token carries no nonce (no authentication request was made).
// ErrUserUnavailable when the user is gone or disabled.
func (p *Provider) PrepareRefresh(ctx context.Context, ar fosite.AccessRequester) error {
	s, ok := ar.GetSession().(*Session)
	if !ok {
		return fmt.Errorf("oauth: unexpected session type %T", ar.GetSession())
	}
	u, err := p.loadUser(ctx, s.GetSubject(), ar.GetGrantedScopes())
	if err != nil {
		return err
	}
	s.User = u
	s.Username = u.Username
	s.IDTokenClaims().Nonce = ""
	s.setClaims(ar.GetGrantedScopes())
	return nil
}

// UserInfo returns the current claims of the user for the scopes (with
// `sub`). ErrUserUnavailable when the user is gone or disabled.
func (p *Provider) UserInfo(ctx context.Context, subject string, scopes []string) (map[string]interface{}, error) {
	u, err := p.loadUser(ctx, subject, scopes)
	if err != nil {
		return nil, err
	}
	claims := userClaimsFor(u, scopes)
	claims["sub"] = subject
	return claims, nil
}

// loadUser reads the user, with the roles (in the same round trip) only
// when the roles scope needs them.
func (p *Provider) loadUser(ctx context.Context, subject string, scopes []string) (*UserClaims, error) {
	if subject == "" {
		return nil, ErrUserUnavailable
	}
	var u storage.User
	var roles []string
	var err error
	withRoles := slices.Contains(scopes, ScopeRoles)
	if withRoles {
		u, roles, err = p.store.GetUserWithRoles(ctx, subject)
	} else {
		u, err = p.store.GetUser(ctx, subject)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrUserUnavailable
	} else if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, ErrUserUnavailable
	}
	c := &UserClaims{Username: u.Username, Name: u.Name, Email: u.Email, EmailVerified: u.EmailVerified}
	if withRoles {
		if roles == nil {
			roles = []string{}
		}
		c.Roles = roles
	}
	return c, nil
}

// DecodeIDTokenHint checks an id_token_hint was signed by one of our keys
// (expired is fine, as OIDC allows) and returns its subject.
func (p *Provider) DecodeIDTokenHint(ctx context.Context, hint string) (string, error) {
	tok, err := p.signer.Decode(ctx, hint)
	var ve *jwt.ValidationError
	if err != nil && !(errors.As(err, &ve) && ve.Has(jwt.ValidationErrorExpired)) {
		return "", fmt.Errorf("id_token_hint is not an ID token issued here: %w", err)
	}
	if tok == nil {
		return "", errors.New("id_token_hint could not be read")
	}
	if iss, _ := tok.Claims["iss"].(string); iss != p.issuer {
		return "", errors.New("id_token_hint was issued by another issuer")
	}
	sub, _ := tok.Claims["sub"].(string)
	if sub == "" {
		return "", errors.New("id_token_hint has no subject")
	}
	return sub, nil
}
