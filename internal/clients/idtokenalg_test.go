package clients

import (
	"context"
	"errors"
	"strings"
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

// A server refuses a client asking for an algorithm it does not sign with
// (not in --signing-algorithms), naming the flag; nothing is stored.
func TestIDTokenAlgNotOffered(t *testing.T) {
	store := memory.New()
	s := NewService(store, nil, WithSigningAlgorithms([]string{"RS256"}))
	ctx := context.Background()
	base := Registration{Name: "App", RedirectURIs: []string{"https://app.example.com/cb"}}
	for _, alg := range []string{"ES256", "EdDSA"} {
		r := base
		r.IDTokenSignedResponseAlg = alg
		_, _, err := s.Create(ctx, r)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "id_token_signed_response_alg" ||
			!strings.Contains(ve.Message, "--signing-algorithms") || !strings.Contains(ve.Message, alg) {
			t.Fatalf("%s on an RS256-only server: %v, want a ValidationError naming --signing-algorithms", alg, err)
		}
	}
	for _, alg := range []string{"", "RS256"} {
		r := base
		r.IDTokenSignedResponseAlg = alg
		if _, _, err := s.Create(ctx, r); err != nil {
			t.Fatalf("%q on an RS256-only server: %v", alg, err)
		}
	}
	if cs, _ := store.ListClients(ctx); len(cs) != 2 {
		t.Fatalf("%d clients stored, want the 2 accepted", len(cs))
	}
	es := NewService(store, nil, WithSigningAlgorithms([]string{"RS256", "ES256"}))
	if _, _, err := es.Create(ctx, Registration{Name: "Edge", RedirectURIs: base.RedirectURIs, IDTokenSignedResponseAlg: "ES256"}); err != nil {
		t.Fatalf("ES256 on a server offering it: %v", err)
	}
}
