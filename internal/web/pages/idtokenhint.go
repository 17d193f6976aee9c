package pages

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-idp/signet/internal/storage"
)

// KeyLister lists Signet's signing keys (their public halves are what a
// hint is checked against).
type KeyLister interface {
	ListKeys(ctx context.Context) ([]storage.SigningKey, error)
}

// KeyStoreHintVerifier verifies id_token_hint against the published keys
// in storage: signature by one of Signet's keys (current, next or retired,
// as JWKS publishes them) and Signet's issuer. Expiry is not checked: RP-
// Initiated Logout accepts an expired ID token as a hint.
type KeyStoreHintVerifier struct {
	Keys   KeyLister
	Issuer string
}

var hintAlgorithms = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// VerifyIDTokenHint implements HintVerifier.
func (v KeyStoreHintVerifier) VerifyIDTokenHint(ctx context.Context, raw string) (HintClaims, error) {
	if len(raw) > 16<<10 {
		return HintClaims{}, errors.New("id_token_hint too long")
	}
	tok, err := jwt.ParseSigned(raw, hintAlgorithms)
	if err != nil {
		return HintClaims{}, fmt.Errorf("parse id_token_hint: %w", err)
	}
	if len(tok.Headers) != 1 || tok.Headers[0].KeyID == "" {
		return HintClaims{}, errors.New("id_token_hint has no key id")
	}
	kid := tok.Headers[0].KeyID
	keys, err := v.Keys.ListKeys(ctx)
	if err != nil {
		return HintClaims{}, fmt.Errorf("list signing keys: %w", err)
	}
	for _, k := range keys {
		if k.ID != kid {
			continue
		}
		var jwk jose.JSONWebKey
		if err := json.Unmarshal(k.PublicKey, &jwk); err != nil {
			return HintClaims{}, fmt.Errorf("signing key %s: %w", kid, err)
		}
		if k.Algorithm != "" && tok.Headers[0].Algorithm != k.Algorithm {
			return HintClaims{}, fmt.Errorf("id_token_hint alg %s does not match key %s", tok.Headers[0].Algorithm, kid)
		}
		var claims struct {
			jwt.Claims
			AuthorizedParty string `json:"azp"`
			SessionID       string `json:"sid"`
		}
		if err := tok.Claims(jwk.Key, &claims); err != nil {
			return HintClaims{}, fmt.Errorf("id_token_hint signature: %w", err)
		}
		if claims.Issuer != v.Issuer {
			return HintClaims{}, fmt.Errorf("id_token_hint issuer %q is not ours", claims.Issuer)
		}
		if claims.Subject == "" || len(claims.Audience) == 0 {
			return HintClaims{}, errors.New("id_token_hint lacks sub or aud")
		}
		return HintClaims{
			Subject:         claims.Subject,
			Audience:        claims.Audience,
			AuthorizedParty: claims.AuthorizedParty,
			SessionID:       claims.SessionID,
		}, nil
	}
	return HintClaims{}, fmt.Errorf("id_token_hint signed with unknown key %q", kid)
}
