package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/ory/fosite"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/storage"
)

// private_key_jwt client authentication (RFC 7523 §2.2, OIDC Core §9).
//
// fosite v0.49's own client assertion check cannot serve here: it accepts
// only RS*/ES*/PS* (no EdDSA), insists that the client registered exactly
// the alg of each assertion, and keys the replay check by jti alone. So an
// assertion is checked here, with go-jose v4; every other way a client
// authenticates (secrets, none) stays fosite's DefaultClientAuthenticationStrategy.

// JWKSFetcher returns the key set published at a client's jwks_uri (force:
// fetch afresh, the cached one lacks the key).
type JWKSFetcher interface {
	Keys(ctx context.Context, url string, force bool) (*jose.JSONWebKeySet, error)
}

const (
	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// maxAssertionLifetime bounds how far ahead an assertion may expire:
	// its jti is remembered until then.
	maxAssertionLifetime = time.Hour
	assertionLeeway      = 30 * time.Second
)

// assertionAlgorithms are the JWS algorithms accepted in assertions.
var assertionAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

// assertionAuth authenticates clients by their signed assertions.
type assertionAuth struct {
	adapter *adapter
	fetcher JWKSFetcher
	// audit records refused assertions that may be attacks (nil: none).
	audit audit.Recorder
	// audiences are the values an assertion's aud may name: the issuer
	// and the endpoints that authenticate clients.
	audiences []string
}

// strategy is the provider's client authentication: assertions here,
// anything else fosite's.
func (a *assertionAuth) strategy(fallback fosite.ClientAuthenticationStrategy) fosite.ClientAuthenticationStrategy {
	return func(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
		if !form.Has("client_assertion_type") && !form.Has("client_assertion") {
			return fallback(ctx, r, form)
		}
		return a.authenticate(ctx, r, form)
	}
}

func invalidClient(hint string) error { return fosite.ErrInvalidClient.WithHint(hint) }

func (a *assertionAuth) authenticate(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	if form.Get("client_assertion_type") != assertionType {
		return nil, fosite.ErrInvalidRequest.WithHintf("client_assertion_type must be %s.", assertionType)
	}
	if _, _, ok := r.BasicAuth(); ok || form.Has("client_secret") {
		return nil, fosite.ErrInvalidRequest.WithHint("Use one client authentication method, not an assertion and a secret.")
	}
	raw := form.Get("client_assertion")
	if raw == "" {
		return nil, fosite.ErrInvalidRequest.WithHint("client_assertion is missing.")
	}
	tok, err := josejwt.ParseSigned(raw, assertionAlgorithms)
	if err != nil || len(tok.Headers) != 1 {
		return nil, invalidClient("client_assertion is not a JWT signed with RS256, ES256 or EdDSA.")
	}
	var unverified josejwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil || unverified.Subject == "" {
		return nil, invalidClient("client_assertion has no sub claim.")
	}
	clientID := unverified.Subject
	if id := form.Get("client_id"); id != "" && id != clientID {
		return nil, invalidClient("client_id does not match the client_assertion's sub.")
	}
	client, err := a.adapter.getClient(ctx, clientID)
	if err != nil {
		if errors.Is(err, storage.ErrUnavailable) {
			return nil, err
		}
		return nil, invalidClient("The client of the client_assertion is unknown.")
	}
	if client.TokenEndpointAuthMethod != storage.AuthMethodPrivateKeyJWT {
		return nil, invalidClient("This client does not authenticate with private_key_jwt.")
	}
	h := tok.Headers[0]
	if client.TokenEndpointAuthSigningAlg != "" && h.Algorithm != client.TokenEndpointAuthSigningAlg {
		return nil, invalidClient("The client_assertion must be signed with " + client.TokenEndpointAuthSigningAlg + ".")
	}
	claims, err := a.verify(ctx, client, tok)
	if errors.Is(err, errNoKeyVerifies) {
		a.record(ctx, clientID, "bad_signature")
	}
	if err != nil {
		return nil, err
	}
	now := a.adapter.now()
	if err := claims.ValidateWithLeeway(josejwt.Expected{
		Issuer: clientID, Subject: clientID, AnyAudience: a.audiences, Time: now,
	}, assertionLeeway); err != nil {
		return nil, invalidClient("The client_assertion's claims are not valid here: " + err.Error() + ".")
	}
	switch {
	case claims.Expiry == nil:
		return nil, invalidClient("The client_assertion has no exp claim.")
	case claims.Expiry.Time().After(now.Add(maxAssertionLifetime)):
		return nil, invalidClient("The client_assertion expires too far ahead (at most an hour).")
	case claims.ID == "":
		return nil, invalidClient("The client_assertion has no jti claim.")
	}
	// One use, on any replica: the jti (per client) is kept until the
	// assertion expires.
	sum := sha256.Sum256([]byte(clientID + "\x00" + claims.ID))
	err = a.adapter.store.UseClientAssertionJTI(ctx, hex.EncodeToString(sum[:]), claims.Expiry.Time().Add(assertionLeeway), now)
	if errors.Is(err, storage.ErrAlreadyExists) {
		a.record(ctx, clientID, "replay")
		return nil, invalidClient("This client_assertion was used already; make a new one (new jti) for every request.")
	} else if err != nil {
		return nil, err
	}
	return client, nil
}

// verify checks the signature with the client's keys: the registered set,
// or the one at its jwks_uri (fetched again once when no key verifies,
// for a client that rotated its keys).
func (a *assertionAuth) verify(ctx context.Context, client *Client, tok *josejwt.JSONWebToken) (josejwt.Claims, error) {
	h := tok.Headers[0]
	try := func(set *jose.JSONWebKeySet) (josejwt.Claims, bool) {
		for _, k := range set.Keys {
			if (h.KeyID != "" && k.KeyID != h.KeyID) || !clients.KeyMatchesAlgorithm(k, h.Algorithm) {
				continue
			}
			var c josejwt.Claims
			if tok.Claims(k.Key, &c) == nil {
				return c, true
			}
		}
		return josejwt.Claims{}, false
	}
	if client.JWKS != "" {
		set, err := clients.ParseJWKS(client.JWKS)
		if err != nil {
			return josejwt.Claims{}, invalidClient("The client's registered keys are unusable.")
		}
		if c, ok := try(set); ok {
			return c, nil
		}
		return josejwt.Claims{}, fosite.ErrInvalidClient.WithHint("No key registered for this client verifies the client_assertion.").WithWrap(errNoKeyVerifies)
	}
	if client.JWKSURI == "" || a.fetcher == nil {
		return josejwt.Claims{}, invalidClient("The client has no keys to check its client_assertion with.")
	}
	for _, force := range []bool{false, true} {
		set, err := a.fetcher.Keys(ctx, client.JWKSURI, force)
		if err != nil {
			return josejwt.Claims{}, fosite.ErrInvalidClient.WithHint("The client's jwks_uri could not be read.").WithWrap(err).WithDebug(err.Error())
		}
		if c, ok := try(set); ok {
			return c, nil
		}
	}
	return josejwt.Claims{}, fosite.ErrInvalidClient.WithHint("No key published at the client's jwks_uri verifies the client_assertion.").WithWrap(errNoKeyVerifies)
}

// errNoKeyVerifies: the assertion's signature fits none of the client's
// keys (forged, or the client's keys changed).
var errNoKeyVerifies = errors.New("no key of the client verifies the assertion")

func (a *assertionAuth) record(ctx context.Context, clientID, reason string) {
	if a.audit != nil {
		a.audit.Record(ctx, audit.Event{Action: audit.ClientAssertionRefused, Target: clientID,
			Details: map[string]string{"reason": reason}})
	}
}

// audiencesOf lists what assertions may name in aud.
func audiencesOf(issuer string, endpoints []string) []string {
	out := []string{issuer}
	for _, e := range endpoints {
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}
