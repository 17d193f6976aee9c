package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	jose3 "github.com/go-jose/go-jose/v3"
	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/signet-idp/signet/internal/keys"
)

// signer is fosite's jwt.Signer over the key provider, written with go-jose
// v4 rather than delegating to fosite's jwt.DefaultSigner: that one signs
// only RS256 (*rsa.PrivateKey) and ES256 (*ecdsa.PrivateKey) from plain
// keys and rejects an ed25519.PrivateKey, so it cannot sign EdDSA.
//
// It signs ID tokens with the current key of the algorithm the client
// registered (idTokenStrategy puts it in the context; RS256 otherwise),
// fetched at each signature, with that key's kid in the header (the
// session's stored headers could name a key rotated away since). Decode
// (id_token_hint) verifies against every published key.
type signer struct {
	keys keys.Provider
}

var _ jwt.Signer = (*signer)(nil)

// algKey is the context key of the JWS alg the ID token being generated
// must be signed with.
type algKey struct{}

func withAlg(ctx context.Context, alg string) context.Context {
	return context.WithValue(ctx, algKey{}, alg)
}

func algFrom(ctx context.Context) string {
	if alg, _ := ctx.Value(algKey{}).(string); alg != "" {
		return alg
	}
	return keys.AlgRS256
}

// idTokenAlgorithms are the algorithms ID tokens may be signed with.
var idTokenAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA}

func (s *signer) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	alg := algFrom(ctx)
	k, err := s.keys.Current(ctx, alg)
	if err != nil {
		return "", "", fmt.Errorf("signing key: %w", err)
	}
	if claims == nil {
		return "", "", errors.New("no claims to sign")
	}
	if k.Algorithm == keys.AlgEdDSA {
		fixEdDSAAccessTokenHash(ctx, claims)
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typeFrom(ctx)))
	if header != nil {
		for name, v := range header.ToMap() {
			switch name {
			case "alg", "kid", "typ", "jwk", "jku", "x5c", "x5u", "crit":
			default:
				opts = opts.WithHeader(jose.HeaderKey(name), v)
			}
		}
	}
	sg, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(k.Algorithm),
		Key:       jose.JSONWebKey{Key: k.Private, KeyID: k.ID, Algorithm: k.Algorithm},
	}, opts)
	if err != nil {
		return "", "", fmt.Errorf("signer for key %s: %w", k.ID, err)
	}
	raw, err := josejwt.Signed(sg).Claims(map[string]interface{}(claims)).Serialize()
	if err != nil {
		return "", "", fmt.Errorf("sign ID token: %w", err)
	}
	sig, err := s.GetSignature(ctx, raw)
	return raw, sig, err
}

// fixEdDSAAccessTokenHash recomputes at_hash for an Ed25519-signed ID
// token. OIDC makes at_hash the left half of the access token's hash under
// the alg's hash function, which for Ed25519 is SHA-512 (go-oidc checks it
// so); fosite derives the function from the digits of the alg name and
// falls back to SHA-256 for "EdDSA". fosite's token endpoint puts the
// response, whose access token is already set, in the context.
func fixEdDSAAccessTokenHash(ctx context.Context, claims jwt.MapClaims) {
	if v, _ := claims["at_hash"].(string); v == "" {
		return
	}
	resp, ok := ctx.Value(fosite.AccessResponseContextKey).(fosite.AccessResponder)
	if !ok || resp.GetAccessToken() == "" {
		return
	}
	sum := sha512.Sum512([]byte(resp.GetAccessToken()))
	claims["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// Decode verifies a token against the published key its kid names; it is
// how fosite checks id_token_hint. Expired tokens come back with a
// validation error that says so (fosite accepts them as hints), the token
// still readable.
func (s *signer) Decode(ctx context.Context, token string) (*jwt.Token, error) {
	parsed, err := josejwt.ParseSigned(token, idTokenAlgorithms)
	if err != nil {
		return &jwt.Token{}, &jwt.ValidationError{Errors: jwt.ValidationErrorMalformed, Inner: err}
	}
	if len(parsed.Headers) != 1 {
		return &jwt.Token{}, &jwt.ValidationError{Errors: jwt.ValidationErrorMalformed, Inner: errors.New("one signature expected")}
	}
	h := parsed.Headers[0]
	public, err := s.keys.PublicKeys(ctx)
	if err != nil {
		return &jwt.Token{}, &jwt.ValidationError{Errors: jwt.ValidationErrorUnverifiable, Inner: err}
	}
	var key *jose.JSONWebKey
	for i := range public {
		if public[i].KeyID == h.KeyID && h.KeyID != "" {
			key = &public[i]
		}
	}
	if key == nil {
		return &jwt.Token{}, &jwt.ValidationError{Errors: jwt.ValidationErrorUnverifiable,
			Inner: fmt.Errorf("unknown signing key %q", h.KeyID)}
	}
	if key.Algorithm != h.Algorithm {
		return &jwt.Token{}, &jwt.ValidationError{Errors: jwt.ValidationErrorSignatureInvalid,
			Inner: fmt.Errorf("alg %s does not match key %s (%s)", h.Algorithm, key.KeyID, key.Algorithm)}
	}
	claims := jwt.MapClaims{}
	if err := parsed.Claims(key.Key, &claims); err != nil {
		return &jwt.Token{}, &jwt.ValidationError{Errors: jwt.ValidationErrorSignatureInvalid, Inner: err}
	}
	tok := &jwt.Token{
		Header: map[string]interface{}{"alg": h.Algorithm, "kid": h.KeyID},
		Claims: claims,
		Method: jose3.SignatureAlgorithm(h.Algorithm),
	}
	for k, v := range h.ExtraHeaders {
		tok.Header[string(k)] = v
	}
	if err := claims.Valid(); err != nil {
		var ve *jwt.ValidationError
		if !errors.As(err, &ve) {
			ve = &jwt.ValidationError{Errors: jwt.ValidationErrorClaimsInvalid, Inner: err}
		}
		return tok, ve
	}
	return tok, nil
}

func (s *signer) Validate(ctx context.Context, token string) (string, error) {
	if _, err := s.Decode(ctx, token); err != nil {
		return "", err
	}
	return s.GetSignature(ctx, token)
}

func (s *signer) GetSignature(_ context.Context, token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("header, body and signature must all be set")
	}
	return parts[2], nil
}

// Hash is SHA-256, what fosite expects of the signer outside ID tokens
// (at_hash of EdDSA tokens is fixed in Generate).
func (s *signer) Hash(_ context.Context, in []byte) ([]byte, error) {
	sum := sha256.Sum256(in)
	return sum[:], nil
}

func (s *signer) GetSigningMethodLength(context.Context) int { return sha256.Size }

// idTokenStrategy picks the algorithm of each ID token: the client's
// id_token_signed_response_alg (RS256 when it registered none). The client
// is the one authenticated at the token endpoint (fosite puts its request
// in the context), else the one of the request the token is made for.
type idTokenStrategy struct {
	inner openid.OpenIDConnectTokenStrategy
}

func (s idTokenStrategy) GenerateIDToken(ctx context.Context, lifespan time.Duration, r fosite.Requester) (string, error) {
	var alg string
	if ar, ok := ctx.Value(fosite.AccessRequestContextKey).(fosite.AccessRequester); ok {
		alg = clientAlg(ar.GetClient())
	}
	if alg == "" && r != nil {
		alg = clientAlg(r.GetClient())
	}
	tok, err := s.inner.GenerateIDToken(withAlg(ctx, alg), lifespan, r)
	if errors.Is(err, keys.ErrNoKey) {
		// A client registered for an algorithm this server does not
		// offer (not in --signing-algorithms): say so, not "unrecognizable".
		return "", fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()).WithHintf(
			"The client's ID tokens must be signed with %s, which this server does not offer.", algFrom(withAlg(ctx, alg)))
	}
	return tok, err
}

func clientAlg(c fosite.Client) string {
	if c, ok := c.(*Client); ok && c != nil {
		return c.IDTokenSignedResponseAlg
	}
	return ""
}
