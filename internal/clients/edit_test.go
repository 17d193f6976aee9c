package clients

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

// TestEditKeepsWhatTheEditKeeps: Edit hands over the stored registration,
// so an edit changing one field keeps the others, require_mfa included
// (Update used to drop changes to it); an edit's error changes nothing.
func TestEditKeepsWhatTheEditKeeps(t *testing.T) {
	st := memory.New()
	s := NewService(st, time.Now)
	ctx := context.Background()
	c, secret, err := s.Create(ctx, Registration{Name: "App", RedirectURIs: []string{"https://app.example.com/cb"},
		Scopes: []string{"openid", "email"}, Audience: []string{"https://api.example.com"}, FirstParty: true,
		BackchannelLogoutURI: "https://app.example.com/bc", AccessTokenFormat: storage.AccessTokenJWT})
	if err != nil {
		t.Fatal(err)
	}
	got, newSecret, err := s.Edit(ctx, c.ID, func(r Registration) (Registration, error) {
		r.RequireMFA = true
		r.RedirectURIs = append(r.RedirectURIs, "https://app.example.com/cb2")
		return r, nil
	})
	if err != nil || newSecret != "" {
		t.Fatalf("Edit: %v (secret %q)", err, newSecret)
	}
	want := c
	want.RequireMFA = true
	want.RedirectURIs = []string{"https://app.example.com/cb", "https://app.example.com/cb2"}
	want.UpdatedAt = got.UpdatedAt
	stored, _ := s.Get(ctx, c.ID)
	for _, g := range []storage.Client{got, stored} {
		if g.Name != want.Name || !g.RequireMFA || !slices.Equal(g.RedirectURIs, want.RedirectURIs) || !slices.Equal(g.Scopes, want.Scopes) ||
			!slices.Equal(g.Audience, want.Audience) || !g.FirstParty || g.BackchannelLogoutURI != want.BackchannelLogoutURI ||
			g.AccessTokenFormat != storage.AccessTokenJWT || !SecretMatches(g.SecretHash, secret) {
			t.Errorf("after the edit: %+v", g)
		}
	}
	if fields := ChangedFields(RegistrationOf(c), RegistrationOf(stored)); !slices.Equal(fields, []string{"redirect_uris", "require_mfa"}) {
		t.Errorf("ChangedFields = %v", fields)
	}

	boom := errors.New("boom")
	if _, _, err := s.Edit(ctx, c.ID, func(r Registration) (Registration, error) {
		r.Name = "Changed"
		return r, boom
	}); !errors.Is(err, boom) {
		t.Errorf("Edit returned %v, want the edit's error", err)
	}
	if again, _ := s.Get(ctx, c.ID); again.Name != "App" {
		t.Errorf("a failed edit changed the client: %+v", again)
	}
	if _, _, err := s.Edit(ctx, "nope", func(r Registration) (Registration, error) { return r, nil }); !errors.Is(err, ErrNotFound) {
		t.Errorf("Edit of an unknown client: %v, want ErrNotFound", err)
	}
}

// TestDynamicUpdateKeepsRequireMFA: require_mfa is the administrator's;
// the client's own RFC 7592 update (which cannot send it) must not drop it.
func TestDynamicUpdateKeepsRequireMFA(t *testing.T) {
	st := memory.New()
	s := NewService(st, time.Now)
	d := NewDynamic(s, NewRegistrationTokens(st, time.Now), st)
	ctx := context.Background()
	reg := Registration{Name: "Partner", RedirectURIs: []string{"https://partner.example.com/cb"}}
	out, err := d.Register(ctx, reg, false, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Edit(ctx, out.Client.ID, func(r Registration) (Registration, error) {
		r.RequireMFA = true
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
	reg.Name = "Partner 2"
	got, _, err := d.Update(ctx, out.Client.ID, out.AccessToken, reg)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Partner 2" || !got.RequireMFA {
		t.Errorf("after the client's own update: name %q, require_mfa %v; want Partner 2, true", got.Name, got.RequireMFA)
	}
}

// TestRotateSecret: a new secret replaces the old (only its hash is
// stored); clients without a secret are refused and keep none.
func TestRotateSecret(t *testing.T) {
	s := NewService(memory.New(), time.Now)
	ctx := context.Background()
	c, old, err := s.Create(ctx, Registration{Name: "App", RedirectURIs: []string{"https://app.example.com/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	got, secret, err := s.RotateSecret(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := s.Get(ctx, c.ID)
	if secret == "" || secret == old || !SecretMatches(stored.SecretHash, secret) || SecretMatches(stored.SecretHash, old) ||
		!SecretMatches(got.SecretHash, secret) {
		t.Fatal("the stored hash is not the new secret's alone")
	}
	pub, _, err := s.Create(ctx, Registration{Name: "SPA", RedirectURIs: []string{"https://spa.example.com/cb"}, TokenEndpointAuthMethod: storage.AuthMethodNone})
	if err != nil {
		t.Fatal(err)
	}
	var ve *ValidationError
	if _, _, err := s.RotateSecret(ctx, pub.ID); !errors.As(err, &ve) || ve.Field != "token_endpoint_auth_method" {
		t.Errorf("RotateSecret of a public client: %v, want a ValidationError on token_endpoint_auth_method", err)
	}
	if p, _ := s.Get(ctx, pub.ID); len(p.SecretHash) != 0 {
		t.Error("a public client got a secret")
	}
	if _, _, err := s.RotateSecret(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RotateSecret of an unknown client: %v, want ErrNotFound", err)
	}
}
