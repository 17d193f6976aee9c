package connectors

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/signet-idp/signet/internal/keys"
)

// TestResealSecrets: after a rotation (secret B, old A) client secrets
// sealed under A are sealed again under B and open with B alone; one
// already under B, a connector without a secret and one under an unknown
// secret are left; a second run finds nothing to do.
func TestResealSecrets(t *testing.T) {
	ctx := context.Background()
	underA, st := newService(t, nil)
	secretB := []byte("connectors-test-secret-B-0123456789abcd")
	underB := New(st, Options{Secret: secretB, Issuer: "https://id.example.com"})
	underC := New(st, Options{Secret: []byte("connectors-test-secret-C-0123456789abcd"), Issuer: "https://id.example.com"})
	gh := json.RawMessage(`{"orgs":["acme"]}`)
	for _, c := range []struct {
		svc        *Service
		id, secret string
	}{{underA, "a1", "secret-a1"}, {underA, "a2", "secret-a2"}, {underB, "b1", "secret-b1"}, {underA, "none", ""}, {underC, "c1", "secret-c1"}} {
		if _, err := c.svc.Create(ctx, Input{ID: c.id, Type: "github", Name: c.id, ClientID: "x", ClientSecret: c.secret, Config: gh}); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := st.ListConnectors(ctx)

	rotated := New(st, Options{Secret: secretB, OldSecrets: [][]byte{testSecret}, Issuer: "https://id.example.com"})
	n, bad, err := rotated.ResealSecrets(ctx)
	if n != 2 || len(bad) != 1 || err != nil {
		t.Fatalf("ResealSecrets = %d re-sealed, unreadable %v, %v; want 2, 1", n, bad, err)
	}
	after, _ := st.ListConnectors(ctx)
	for i, c := range after {
		changed := !bytes.Equal(c.ClientSecret, before[i].ClientSecret)
		if want := c.ID == "a1" || c.ID == "a2"; changed != want {
			t.Errorf("connector %s: secret changed %v, want %v", c.ID, changed, want)
		}
		if !c.UpdatedAt.Equal(before[i].UpdatedAt) {
			t.Errorf("connector %s: UpdatedAt moved on a re-seal", c.ID)
		}
		if c.ID == "c1" || c.ID == "none" {
			continue
		}
		plain, _, err := keys.OpenSealed(c.ClientSecret, []byte(c.ID), [][]byte{secretB})
		if err != nil || string(plain) != "secret-"+c.ID {
			t.Errorf("connector %s: secret does not open with B alone: %v", c.ID, err)
		}
		if _, err := underB.upstream(c); err != nil {
			t.Errorf("connector %s with B alone: %v", c.ID, err)
		}
	}
	if n, bad, err := rotated.ResealSecrets(ctx); n != 0 || len(bad) != 1 || err != nil {
		t.Errorf("second run: %d, %v, %v; want 0, 1", n, bad, err)
	}
	if n, bad, err := underB.ResealSecrets(ctx); n != 0 || len(bad) != 0 || err != nil {
		t.Errorf("without old secrets: %d, %v, %v; want nothing read", n, bad, err)
	}
}
