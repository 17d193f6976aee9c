package oauth

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

func newChallenges(t *testing.T) (*Challenges, *memory.Store, *fakeClock) {
	t.Helper()
	s := memory.New()
	if err := s.CreateClient(context.Background(), storage.Client{ID: "app", Name: "The App", FirstParty: true,
		RedirectURIs: []string{"https://app/cb"}}); err != nil {
		t.Fatal(err)
	}
	ck := &fakeClock{t: time.Now()}
	return NewChallenges(s, 10*time.Minute, ck.Now), s, ck
}

func park(t *testing.T, c *Challenges, form url.Values) string {
	t.Helper()
	v, err := c.Park(context.Background(), ParkRequest{ClientID: "app", Form: form, RequestedScopes: []string{"openid", "profile", "roles"}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestChallengeLifecycle(t *testing.T) {
	c, s, ck := newChallenges(t)
	ctx := context.Background()
	v := park(t, c, url.Values{"client_id": {"app"}, "prompt": {"consent"}, "login_hint": {"alice"}, "max_age": {"300"}, "client_secret": {"x"}})
	if len(v) != 43 {
		t.Fatalf("challenge value %q: want 32 random bytes in base64url", v)
	}
	// Only the hash is stored, and never a client secret.
	if _, err := s.GetLoginChallenge(ctx, v); !errors.Is(err, storage.ErrNotFound) {
		t.Fatal("the raw challenge value is a storage key")
	}
	row, err := s.GetLoginChallenge(ctx, ChallengeID(v))
	if err != nil || strings.Contains(row.Form, "client_secret") {
		t.Fatalf("stored challenge %+v, %v", row, err)
	}

	info, err := c.Challenge(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	if info.ClientName != "The App" || !info.FirstParty || info.LoginHint != "alice" || !info.HasMaxAge ||
		info.MaxAge != 5*time.Minute || info.Prompt[0] != "consent" || info.LoginSatisfied {
		t.Fatalf("info = %+v", info)
	}
	if err := c.DecideConsent(ctx, v, []string{"openid"}, true); !errors.Is(err, ErrLoginNotAccepted) {
		t.Fatalf("consent before login: %v", err)
	}
	if err := c.AcceptLogin(ctx, v, "u1", "sid1", ck.Now()); err != nil {
		t.Fatal(err)
	}
	if err := c.DecideConsent(ctx, v, []string{"profile", "email"}, true); !errors.Is(err, ErrScopeNotRequested) {
		t.Fatalf("consent to an unrequested scope: %v", err)
	}
	if err := c.DecideConsent(ctx, v, []string{"profile"}, true); err != nil {
		t.Fatal(err)
	}
	info, _ = c.Challenge(ctx, v)
	if !info.LoginSatisfied || info.Subject != "u1" || info.SessionID != "sid1" || !info.ConsentGiven ||
		strings.Join(info.GrantedScopes, " ") != "openid profile" {
		t.Fatalf("after login and consent: %+v", info)
	}
	// Another subject logging in drops the consent.
	if err := c.AcceptLogin(ctx, v, "u2", "sid2", ck.Now()); err != nil {
		t.Fatal(err)
	}
	if info, _ = c.Challenge(ctx, v); info.ConsentGiven {
		t.Fatal("consent survived a change of subject")
	}

	got, err := c.Consume(ctx, v)
	if err != nil || got.Subject != "u2" {
		t.Fatalf("Consume: %+v, %v", got, err)
	}
	if _, err := c.Consume(ctx, v); !errors.Is(err, ErrChallengeNotFound) {
		t.Fatalf("second Consume: %v", err)
	}
	if _, err := c.Challenge(ctx, v); !errors.Is(err, ErrChallengeNotFound) {
		t.Fatalf("Challenge after Consume: %v", err)
	}
}

func TestChallengeExpiresAndRejectsStaleLogins(t *testing.T) {
	c, _, ck := newChallenges(t)
	ctx := context.Background()

	v := park(t, c, url.Values{"prompt": {"login"}})
	if err := c.AcceptLogin(ctx, v, "u1", "sid", ck.Now().Add(-time.Hour)); !errors.Is(err, ErrLoginRejected) {
		t.Fatalf("prompt=login with an old login: %v", err)
	}
	v2 := park(t, c, url.Values{"max_age": {"60"}})
	if err := c.AcceptLogin(ctx, v2, "u1", "sid", ck.Now().Add(-time.Hour)); !errors.Is(err, ErrLoginRejected) {
		t.Fatalf("max_age exceeded: %v", err)
	}
	if err := c.AcceptLogin(ctx, v2, "u1", "sid", ck.Now()); err != nil {
		t.Fatalf("fresh login: %v", err)
	}
	// max_age=0 is met by a login after the request, however long the
	// person took.
	v3 := park(t, c, url.Values{"max_age": {"0"}})
	ck.Add(3 * time.Second)
	if err := c.AcceptLogin(ctx, v3, "u1", "sid", ck.Now().Add(-time.Second)); err != nil {
		t.Fatalf("max_age=0, fresh login: %v", err)
	}

	ck.Add(11 * time.Minute)
	for name, err := range map[string]error{
		"Challenge":     func() error { _, err := c.Challenge(ctx, v2); return err }(),
		"AcceptLogin":   c.AcceptLogin(ctx, v2, "u1", "sid", ck.Now()),
		"DecideConsent": c.DecideConsent(ctx, v2, nil, false),
		"Consume":       func() error { _, err := c.Consume(ctx, v2); return err }(),
		"unknown":       func() error { _, err := c.Challenge(ctx, "nope"); return err }(),
		"oversized":     func() error { _, err := c.Challenge(ctx, strings.Repeat("a", 500)); return err }(),
	} {
		if !errors.Is(err, ErrChallengeNotFound) {
			t.Errorf("%s on an expired challenge: %v", name, err)
		}
	}
}
