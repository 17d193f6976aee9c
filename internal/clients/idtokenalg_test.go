package clients

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage/memory"
)

// id_token_signed_response_alg: RS256, ES256 or EdDSA (empty: RS256),
// stored on the client.
func TestIDTokenSignedResponseAlg(t *testing.T) {
	s := NewService(memory.New(), func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) })
	ctx := context.Background()
	base := Registration{Name: "App", RedirectURIs: []string{"https://app.example.com/cb"}}
	for _, alg := range []string{"", "RS256", "ES256", "EdDSA"} {
		r := base
		r.IDTokenSignedResponseAlg = alg
		c, _, err := s.Create(ctx, r)
		if err != nil {
			t.Fatalf("%q: %v", alg, err)
		}
		got, err := s.Get(ctx, c.ID)
		if err != nil || got.IDTokenSignedResponseAlg != alg {
			t.Fatalf("%q stored as %q, %v", alg, got.IDTokenSignedResponseAlg, err)
		}
	}
	for _, alg := range []string{"none", "HS256", "rs256", "ES384", "PS256"} {
		r := base
		r.IDTokenSignedResponseAlg = alg
		_, _, err := s.Create(ctx, r)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "id_token_signed_response_alg" {
			t.Fatalf("%q: %v, want a ValidationError on id_token_signed_response_alg", alg, err)
		}
	}
}
