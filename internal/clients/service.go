package clients

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/signet-idp/signet/internal/keys"
	"github.com/signet-idp/signet/internal/storage"
)

// Errors the service returns (possibly wrapped); match with errors.Is.
var (
	// ErrNotFound: no client has that id.
	ErrNotFound = errors.New("client not found")
	// ErrExists: the generated client id is taken (practically never).
	ErrExists = errors.New("client id already taken")
)

// ValidationError is bad input: the named field breaks a rule. Handlers
// answer it with 400 and the message.
type ValidationError struct {
	// Field is the input field at fault, in RFC 7591 spelling
	// (client_name, redirect_uris, grant_types, …).
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Message) }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Store is what the service needs from storage.
type Store interface {
	storage.ClientStore
	storage.Transactor
}

// Service registers and manages OAuth2 clients. Safe for concurrent use.
type Service struct {
	store Store
	now   func() time.Time
	// offered are the ID token algorithms the server signs with (its
	// --signing-algorithms); nil: not checked.
	offered []string
}

// Option adjusts a Service.
type Option func(*Service)

// WithSigningAlgorithms makes the service refuse clients whose
// id_token_signed_response_alg the server does not sign with (its
// --signing-algorithms): they would pass login and consent, then fail at
// the token endpoint.
// RS256 is always offered.
func WithSigningAlgorithms(algs []string) Option {
	return func(s *Service) {
		s.offered = []string{keys.AlgRS256}
		for _, a := range algs {
			if !slices.Contains(s.offered, a) {
				s.offered = append(s.offered, a)
			}
		}
	}
}

// NewService returns a Service over store; now is the clock (nil:
// time.Now).
func NewService(store Store, now func() time.Time, opts ...Option) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{store: store, now: now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// checkOffered refuses an ID token algorithm the server does not sign
// with. Empty means RS256, which every server offers.
func (s *Service) checkOffered(alg string) error {
	if alg == "" || s.offered == nil || slices.Contains(s.offered, alg) {
		return nil
	}
	return invalid("id_token_signed_response_alg",
		"%q is not among this server's --signing-algorithms (%s): add it there (SIGNET_SIGNING_ALGORITHMS) and restart, or register the client with one of those",
		alg, strings.Join(s.offered, ", "))
}

// Registration is the input of Create. Empty lists take the defaults of
// CONTRACT.md.
type Registration struct {
	Name                   string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// GrantTypes default to authorization_code and refresh_token.
	GrantTypes []string
	// ResponseTypes default to code when authorization_code is a grant
	// type, and to none otherwise.
	ResponseTypes []string
	// Scopes default to openid profile email roles offline_access.
	Scopes []string
	// TokenEndpointAuthMethod defaults to client_secret_basic; "none"
	// makes a public client (no secret).
	TokenEndpointAuthMethod string
	// FirstParty clients skip the consent page.
	FirstParty bool
	// RequireMFA: people signing in to the client must use a second
	// factor.
	RequireMFA bool
	// IDTokenSignedResponseAlg is the JWS alg of the client's ID tokens:
	// RS256, ES256 or EdDSA; empty means the default, RS256. (The server
	// signs with it only when that algorithm is configured.)
	IDTokenSignedResponseAlg string
	// JWKS (a JSON key set) or JWKSURI holds the public keys of a
	// private_key_jwt client; TokenEndpointAuthSigningAlg, when set, is
	// the only algorithm its assertions may use.
	JWKS                        string
	JWKSURI                     string
	TokenEndpointAuthSigningAlg string
	// RequirePushedAuthorizationRequests: the client's authorization
	// requests must come through the PAR endpoint.
	RequirePushedAuthorizationRequests bool
	// AccessTokenFormat is opaque (the default) or jwt.
	AccessTokenFormat string
	// Audience lists the resources (RFC 8707) the client's tokens may be
	// for; a JWT access token without a requested resource is for these.
	Audience []string
	// BackchannelLogoutURI receives logout tokens (OpenID Connect
	// Back-Channel Logout); empty: none. BackchannelLogoutSessionRequired
	// records that the client wants sid in them.
	BackchannelLogoutURI             string
	BackchannelLogoutSessionRequired bool
}

var authMethods = []string{storage.AuthMethodClientSecretBasic, storage.AuthMethodClientSecretPost, storage.AuthMethodNone, storage.AuthMethodPrivateKeyJWT}

// Validate applies the defaults to r and checks it, returning the cleaned
// registration (lists de-duplicated, values trimmed) or a ValidationError.
func Validate(r Registration) (Registration, error) {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		return r, invalid("client_name", "is required")
	}
	if utf8.RuneCountInString(r.Name) > maxNameLength || !printable(r.Name) {
		return r, invalid("client_name", "must be at most %d characters of text without control characters", maxNameLength)
	}
	var err error
	if len(r.GrantTypes) == 0 {
		r.GrantTypes = DefaultGrantTypes()
	}
	if r.GrantTypes, err = cleanSet("grant_types", r.GrantTypes,
		[]string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials}); err != nil {
		return r, err
	}
	code := slices.Contains(r.GrantTypes, GrantAuthorizationCode)
	if slices.Contains(r.GrantTypes, GrantRefreshToken) && !code {
		return r, invalid("grant_types", "refresh_token needs authorization_code (client_credentials gets no refresh tokens)")
	}
	if len(r.ResponseTypes) == 0 && code {
		r.ResponseTypes = []string{ResponseTypeCode}
	}
	if r.ResponseTypes, err = cleanSet("response_types", r.ResponseTypes, []string{ResponseTypeCode}); err != nil {
		return r, err
	}
	if len(r.ResponseTypes) > 0 && !code {
		return r, invalid("response_types", "code needs the authorization_code grant type")
	}
	if len(r.Scopes) == 0 {
		r.Scopes = DefaultScopes()
	}
	if r.Scopes, err = cleanSet("scope", r.Scopes, defaultScopes); err != nil {
		return r, err
	}
	if r.TokenEndpointAuthMethod == "" {
		r.TokenEndpointAuthMethod = storage.AuthMethodClientSecretBasic
	}
	if !slices.Contains(authMethods, r.TokenEndpointAuthMethod) {
		return r, invalid("token_endpoint_auth_method", "%q is not supported (one of: %s)",
			r.TokenEndpointAuthMethod, strings.Join(authMethods, ", "))
	}
	if r.TokenEndpointAuthMethod == storage.AuthMethodNone && slices.Contains(r.GrantTypes, GrantClientCredentials) {
		return r, invalid("grant_types", "a public client (token_endpoint_auth_method none) cannot use client_credentials")
	}
	r.IDTokenSignedResponseAlg = strings.TrimSpace(r.IDTokenSignedResponseAlg)
	if r.IDTokenSignedResponseAlg != "" && !keys.IsSupported(r.IDTokenSignedResponseAlg) {
		return r, invalid("id_token_signed_response_alg", "%q is not supported (one of: %s)",
			r.IDTokenSignedResponseAlg, strings.Join(keys.SupportedAlgorithms(), ", "))
	}
	if r.RedirectURIs, err = cleanURIs("redirect_uris", r.RedirectURIs); err != nil {
		return r, err
	}
	if code && len(r.RedirectURIs) == 0 {
		return r, invalid("redirect_uris", "at least one redirect URI is required for the authorization_code grant")
	}
	if r.PostLogoutRedirectURIs, err = cleanURIs("post_logout_redirect_uris", r.PostLogoutRedirectURIs); err != nil {
		return r, err
	}
	r.BackchannelLogoutURI = strings.TrimSpace(r.BackchannelLogoutURI)
	if r.BackchannelLogoutURI != "" {
		if err := ValidateBackchannelLogoutURI(r.BackchannelLogoutURI); err != nil {
			return r, err
		}
	}
	if r.BackchannelLogoutSessionRequired && r.BackchannelLogoutURI == "" {
		return r, invalid("backchannel_logout_session_required", "needs a backchannel_logout_uri")
	}
	return validateProtocol(r)
}

// ValidateBackchannelLogoutURI checks a back-channel logout URI: absolute,
// https (http only for loopback hosts), no fragment, no credentials. Where
// it may point (no private addresses) is the outbound policy's to decide
// at each request, after DNS.
func ValidateBackchannelLogoutURI(raw string) error {
	const field = "backchannel_logout_uri"
	if err := ValidateRedirectURI(field, raw); err != nil {
		return err
	}
	if !strings.HasPrefix(raw, "https://") && !strings.HasPrefix(raw, "http://") {
		return invalid(field, "%q: must be an https URL", raw)
	}
	return nil
}

// apply copies r's fields onto c (all but id, secret and dates).
func (r Registration) apply(c *storage.Client) {
	c.Name = r.Name
	c.RedirectURIs = r.RedirectURIs
	c.PostLogoutRedirectURIs = r.PostLogoutRedirectURIs
	c.GrantTypes = r.GrantTypes
	c.ResponseTypes = r.ResponseTypes
	c.Scopes = r.Scopes
	c.TokenEndpointAuthMethod = r.TokenEndpointAuthMethod
	c.FirstParty = r.FirstParty
	c.RequireMFA = r.RequireMFA
	c.IDTokenSignedResponseAlg = r.IDTokenSignedResponseAlg
	c.JWKS = r.JWKS
	c.JWKSURI = r.JWKSURI
	c.TokenEndpointAuthSigningAlg = r.TokenEndpointAuthSigningAlg
	c.RequirePushedAuthorizationRequests = r.RequirePushedAuthorizationRequests
	c.AccessTokenFormat = r.AccessTokenFormat
	c.Audience = r.Audience
	if c.Audience == nil {
		c.Audience = []string{}
	}
	c.BackchannelLogoutURI = r.BackchannelLogoutURI
	c.BackchannelLogoutSessionRequired = r.BackchannelLogoutSessionRequired
}

// RegistrationOf is the registration c is stored with, as Edit hands it
// to its edit function.
func RegistrationOf(c storage.Client) Registration {
	return Registration{
		Name:                               c.Name,
		RedirectURIs:                       slices.Clone(c.RedirectURIs),
		PostLogoutRedirectURIs:             slices.Clone(c.PostLogoutRedirectURIs),
		GrantTypes:                         slices.Clone(c.GrantTypes),
		ResponseTypes:                      slices.Clone(c.ResponseTypes),
		Scopes:                             slices.Clone(c.Scopes),
		TokenEndpointAuthMethod:            c.TokenEndpointAuthMethod,
		FirstParty:                         c.FirstParty,
		RequireMFA:                         c.RequireMFA,
		IDTokenSignedResponseAlg:           c.IDTokenSignedResponseAlg,
		JWKS:                               c.JWKS,
		JWKSURI:                            c.JWKSURI,
		TokenEndpointAuthSigningAlg:        c.TokenEndpointAuthSigningAlg,
		RequirePushedAuthorizationRequests: c.RequirePushedAuthorizationRequests,
		AccessTokenFormat:                  c.AccessTokenFormat,
		Audience:                           slices.Clone(c.Audience),
		BackchannelLogoutURI:               c.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired:   c.BackchannelLogoutSessionRequired,
	}
}

// ChangedFields names, in RFC 7591 spelling, the fields in which after
// differs from before (for the audit log).
func ChangedFields(before, after Registration) []string {
	var out []string
	add := func(name string, changed bool) {
		if changed {
			out = append(out, name)
		}
	}
	add("client_name", before.Name != after.Name)
	add("redirect_uris", !slices.Equal(before.RedirectURIs, after.RedirectURIs))
	add("post_logout_redirect_uris", !slices.Equal(before.PostLogoutRedirectURIs, after.PostLogoutRedirectURIs))
	add("grant_types", !slices.Equal(before.GrantTypes, after.GrantTypes))
	add("response_types", !slices.Equal(before.ResponseTypes, after.ResponseTypes))
	add("scope", !slices.Equal(before.Scopes, after.Scopes))
	add("token_endpoint_auth_method", before.TokenEndpointAuthMethod != after.TokenEndpointAuthMethod)
	add("first_party", before.FirstParty != after.FirstParty)
	add("require_mfa", before.RequireMFA != after.RequireMFA)
	add("id_token_signed_response_alg", before.IDTokenSignedResponseAlg != after.IDTokenSignedResponseAlg)
	add("jwks", before.JWKS != after.JWKS)
	add("jwks_uri", before.JWKSURI != after.JWKSURI)
	add("token_endpoint_auth_signing_alg", before.TokenEndpointAuthSigningAlg != after.TokenEndpointAuthSigningAlg)
	add("require_pushed_authorization_requests", before.RequirePushedAuthorizationRequests != after.RequirePushedAuthorizationRequests)
	add("access_token_format", before.AccessTokenFormat != after.AccessTokenFormat)
	add("audience", !slices.Equal(before.Audience, after.Audience))
	add("backchannel_logout_uri", before.BackchannelLogoutURI != after.BackchannelLogoutURI)
	add("backchannel_logout_session_required", before.BackchannelLogoutSessionRequired != after.BackchannelLogoutSessionRequired)
	return out
}

// Update validates r and replaces the client's registration with it,
// keeping its id, secret and creation date. A client that no longer
// authenticates with a secret (public, private_key_jwt) loses it; one that
// starts to gets a new secret, returned in plain text this once (otherwise
// the secret is empty).
func (s *Service) Update(ctx context.Context, id string, r Registration) (storage.Client, string, error) {
	return s.Edit(ctx, id, func(Registration) (Registration, error) { return r, nil })
}

// Edit is Update with the new registration computed from the current one
// (RegistrationOf) by edit, in one transaction under the clients lock, so
// a change made in between (another edit, a secret rotation) is neither
// lost nor undone. An error from edit is returned as it is.
func (s *Service) Edit(ctx context.Context, id string, edit func(current Registration) (Registration, error)) (storage.Client, string, error) {
	var c storage.Client
	var secret string
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.LockClients(ctx); err != nil {
			return fmt.Errorf("update client %s: %w", id, err)
		}
		var err error
		if c, err = s.Get(ctx, id); err != nil {
			return err
		}
		r, err := edit(RegistrationOf(c))
		if err != nil {
			return err
		}
		if r, err = Validate(r); err != nil {
			return err
		}
		if err := s.checkOffered(r.IDTokenSignedResponseAlg); err != nil {
			return err
		}
		hadSecret := len(c.SecretHash) > 0
		r.apply(&c)
		switch needsSecret := usesSecret(c); {
		case !needsSecret:
			c.SecretHash = nil
		case !hadSecret:
			if secret, err = NewSecret(); err != nil {
				return err
			}
			c.SecretHash = HashSecret(secret)
		}
		c.UpdatedAt = s.clock()
		if err := s.store.UpdateClient(ctx, c); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("%w: %s", ErrNotFound, id)
			}
			return fmt.Errorf("update client %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return storage.Client{}, "", err
	}
	return c, secret, nil
}

// usesSecret reports whether c authenticates with a client secret (not
// public, not private_key_jwt).
func usesSecret(c storage.Client) bool {
	return !c.Public() && c.TokenEndpointAuthMethod != storage.AuthMethodPrivateKeyJWT
}

// RotateSecret gives a confidential client a new secret and returns it in
// plain text, this once; the old one stops working when this returns
// (only the new hash is stored; other replicas once their cached copy of
// the client expires, --client-cache-ttl). Tokens already issued to the client are
// untouched: they belong to the client id, not to the secret. A client
// without a secret (public, private_key_jwt) gets a ValidationError.
func (s *Service) RotateSecret(ctx context.Context, id string) (storage.Client, string, error) {
	var c storage.Client
	var secret string
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.LockClients(ctx); err != nil {
			return fmt.Errorf("rotate secret of client %s: %w", id, err)
		}
		var err error
		if c, err = s.Get(ctx, id); err != nil {
			return err
		}
		if !usesSecret(c) {
			return invalid("token_endpoint_auth_method",
				"%s: the client authenticates without a secret, so it has none to rotate", c.TokenEndpointAuthMethod)
		}
		if secret, err = NewSecret(); err != nil {
			return err
		}
		c.SecretHash = HashSecret(secret)
		c.UpdatedAt = s.clock()
		if err := s.store.UpdateClient(ctx, c); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("%w: %s", ErrNotFound, id)
			}
			return fmt.Errorf("rotate secret of client %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return storage.Client{}, "", err
	}
	return c, secret, nil
}

// Create validates and stores a new client. For a confidential client it
// returns the generated secret, in plain text, this once: only its SHA-256
// is stored. Public and private_key_jwt clients get an empty secret.
func (s *Service) Create(ctx context.Context, r Registration) (storage.Client, string, error) {
	r, err := Validate(r)
	if err != nil {
		return storage.Client{}, "", err
	}
	if err := s.checkOffered(r.IDTokenSignedResponseAlg); err != nil {
		return storage.Client{}, "", err
	}
	id, err := newClientID()
	if err != nil {
		return storage.Client{}, "", err
	}
	now := s.clock()
	c := storage.Client{
		ID:                                 id,
		Name:                               r.Name,
		RedirectURIs:                       r.RedirectURIs,
		PostLogoutRedirectURIs:             r.PostLogoutRedirectURIs,
		GrantTypes:                         r.GrantTypes,
		ResponseTypes:                      r.ResponseTypes,
		Scopes:                             r.Scopes,
		Audience:                           r.Audience,
		TokenEndpointAuthMethod:            r.TokenEndpointAuthMethod,
		FirstParty:                         r.FirstParty,
		RequireMFA:                         r.RequireMFA,
		IDTokenSignedResponseAlg:           r.IDTokenSignedResponseAlg,
		JWKS:                               r.JWKS,
		JWKSURI:                            r.JWKSURI,
		TokenEndpointAuthSigningAlg:        r.TokenEndpointAuthSigningAlg,
		RequirePushedAuthorizationRequests: r.RequirePushedAuthorizationRequests,
		AccessTokenFormat:                  r.AccessTokenFormat,
		BackchannelLogoutURI:               r.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired:   r.BackchannelLogoutSessionRequired,
		CreatedAt:                          now,
		UpdatedAt:                          now,
	}
	r.apply(&c)
	var secret string
	if usesSecret(c) {
		if secret, err = NewSecret(); err != nil {
			return storage.Client{}, "", err
		}
		c.SecretHash = HashSecret(secret)
	}
	if err := s.store.CreateClient(ctx, c); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return storage.Client{}, "", ErrExists
		}
		return storage.Client{}, "", fmt.Errorf("create client: %w", err)
	}
	return c, secret, nil
}

// Get returns the client with that id.
func (s *Service) Get(ctx context.Context, id string) (storage.Client, error) {
	if !lookupable(id) {
		return storage.Client{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	c, err := s.store.GetClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Client{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return storage.Client{}, fmt.Errorf("get client %s: %w", id, err)
	}
	return c, nil
}

// List returns every client.
func (s *Service) List(ctx context.Context) ([]storage.Client, error) {
	cs, err := s.store.ListClients(ctx)
	if err != nil {
		return nil, fmt.Errorf("list clients: %w", err)
	}
	if cs == nil {
		cs = []storage.Client{}
	}
	return cs, nil
}

// Delete deletes the client and its consents; tokens issued to it stop
// working.
func (s *Service) Delete(ctx context.Context, id string) error {
	if !lookupable(id) {
		return fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	err := s.store.DeleteClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("delete client %s: %w", id, err)
	}
	return nil
}

// newClientID returns 128 random bits in hex. Hex rather than base64url so
// an id never starts with '-' and reads as a flag on a command line.
func newClientID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("client id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// NewSecret returns a new client secret: 32 random bytes, base64url without
// padding (43 characters).
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("client secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashSecret returns the SHA-256 of a client secret, the form it is stored
// in (storage.Client.SecretHash). A fast hash is enough: the secret is 256
// random bits, not a password.
func HashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// SecretMatches reports whether secret hashes to hash, in constant time. An
// empty hash (a public client) matches nothing.
func SecretMatches(hash []byte, secret string) bool {
	if len(hash) != sha256.Size {
		return false
	}
	return subtle.ConstantTimeCompare(hash, HashSecret(secret)) == 1
}

// clock is the current time as stored: UTC, truncated to the microsecond
// PostgreSQL keeps, so the client returned by Create equals the one read
// back on either backend.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// lookupable reports whether id can be looked up at all: not empty, valid
// UTF-8 and free of NUL, which PostgreSQL rejects in text with an error
// that would otherwise surface as a 500 instead of "not found".
func lookupable(id string) bool {
	return id != "" && utf8.ValidString(id) && !strings.ContainsRune(id, 0)
}
