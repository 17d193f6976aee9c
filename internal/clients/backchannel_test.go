package clients

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage/memory"
)

func TestBackchannelLogoutURI(t *testing.T) {
	s := NewService(memory.New(), time.Now)
	ctx := context.Background()
	base := Registration{Name: "App", RedirectURIs: []string{"https://app.example.com/cb"}}
	for _, uri := range []string{"https://app.example.com/backchannel", "https://app.example.com:8443/bc?tenant=1", "http://127.0.0.1:9000/bc", "http://localhost/bc"} {
		r := base
		r.BackchannelLogoutURI, r.BackchannelLogoutSessionRequired = uri, true
		c, _, err := s.Create(ctx, r)
		if err != nil {
			t.Fatalf("%q: %v", uri, err)
		}
		got, err := s.Get(ctx, c.ID)
		if err != nil || got.BackchannelLogoutURI != uri || !got.BackchannelLogoutSessionRequired {
			t.Fatalf("%q stored as %q %v, %v", uri, got.BackchannelLogoutURI, got.BackchannelLogoutSessionRequired, err)
		}
	}
	for _, uri := range []string{"http://app.example.com/bc", "https://app.example.com/bc#frag", "com.example.app:/bc",
		"javascript:alert(1)", "https://user:pw@app.example.com/bc", "/relative", "https://*.example.com/bc"} {
		r := base
		r.BackchannelLogoutURI = uri
		_, _, err := s.Create(ctx, r)
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "backchannel_logout_uri" {
			t.Errorf("%q: %v, want a ValidationError on backchannel_logout_uri", uri, err)
		}
	}
	r := base
	r.BackchannelLogoutSessionRequired = true
	if _, _, err := s.Create(ctx, r); err == nil {
		t.Error("backchannel_logout_session_required without a URI was accepted")
	}
}

func TestUpdate(t *testing.T) {
	s := NewService(memory.New(), time.Now)
	ctx := context.Background()
	c, secret, err := s.Create(ctx, Registration{Name: "App", RedirectURIs: []string{"https://app.example.com/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	up, newSecret, err := s.Update(ctx, c.ID, Registration{Name: "Renamed", RedirectURIs: []string{"https://app.example.com/cb2"},
		BackchannelLogoutURI: "https://app.example.com/bc"})
	if err != nil {
		t.Fatal(err)
	}
	if up.ID != c.ID || up.Name != "Renamed" || up.RedirectURIs[0] != "https://app.example.com/cb2" ||
		up.BackchannelLogoutURI != "https://app.example.com/bc" || newSecret != "" || !SecretMatches(up.SecretHash, secret) {
		t.Fatalf("updated %+v (new secret %q): want the new fields and the old secret", up, newSecret)
	}
	pub, _, err := s.Update(ctx, c.ID, Registration{Name: "App", RedirectURIs: []string{"https://app.example.com/cb"}, TokenEndpointAuthMethod: "none"})
	if err != nil || !pub.Public() || len(pub.SecretHash) != 0 {
		t.Fatalf("made public: %+v, %v", pub, err)
	}
	conf, sec, err := s.Update(ctx, c.ID, Registration{Name: "App", RedirectURIs: []string{"https://app.example.com/cb"}})
	if err != nil || sec == "" || !SecretMatches(conf.SecretHash, sec) {
		t.Fatalf("made confidential again: secret %q, %v", sec, err)
	}
	if _, _, err := s.Update(ctx, "nope", Registration{Name: "X", RedirectURIs: []string{"https://x.example/cb"}}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update unknown: %v", err)
	}
	if _, _, err := s.Update(ctx, c.ID, Registration{Name: "X", RedirectURIs: []string{"http://x.example/cb"}}); err == nil {
		t.Fatal("update with an http redirect URI off loopback was accepted")
	}
}
