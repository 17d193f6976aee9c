package oauth

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/ory/fosite/token/jwt"

	"github.com/signet-idp/signet/internal/keys"
)

// signer is fosite's jwt.Signer over the key provider. It fetches the
// current key at each signature and puts its kid in the header, so the kid
// always names the key that signed (the session's stored headers could be
// stale after a rotation). fosite signs with go-jose v3, so the key is
// handed over as the plain *rsa.PrivateKey, never a go-jose v4 value.
type signer struct {
	keys keys.Provider
}

var _ jwt.Signer = (*signer)(nil)

func (s *signer) Generate(ctx context.Context, claims jwt.MapClaims, header jwt.Mapper) (string, string, error) {
	k, err := s.keys.Current(ctx)
	if err != nil {
		return "", "", fmt.Errorf("signing key: %w", err)
	}
	if k.Algorithm != keys.AlgRS256 {
		return "", "", fmt.Errorf("signing key %s: algorithm %s is not supported yet", k.ID, k.Algorithm)
	}
	h := &jwt.Headers{Extra: map[string]interface{}{}}
	if header != nil {
		for name, v := range header.ToMap() {
			h.Extra[name] = v
		}
	}
	h.Extra["kid"] = k.ID
	private := k.Private
	d := &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (interface{}, error) { return private, nil }}
	return d.Generate(ctx, claims, h)
}

// Decode verifies a token against the published key its kid names; it is
// how fosite checks id_token_hint. Expired tokens come back with a
// validation error that says so (fosite accepts them as hints).
func (s *signer) Decode(ctx context.Context, token string) (*jwt.Token, error) {
	return jwt.ParseWithClaims(token, jwt.MapClaims{}, func(t *jwt.Token) (interface{}, error) {
		if string(t.Method) != keys.AlgRS256 {
			return nil, fmt.Errorf("unexpected signing algorithm %q", t.Method)
		}
		kid, _ := t.Header["kid"].(string)
		public, err := s.keys.PublicKeys(ctx)
		if err != nil {
			return nil, err
		}
		for _, k := range public {
			if k.KeyID == kid {
				return k.Key, nil
			}
		}
		return nil, fmt.Errorf("unknown signing key %q", kid)
	})
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

// Hash is the at_hash hash of RS256: SHA-256.
func (s *signer) Hash(_ context.Context, in []byte) ([]byte, error) {
	sum := sha256.Sum256(in)
	return sum[:], nil
}

func (s *signer) GetSigningMethodLength(context.Context) int { return sha256.Size }
