package oidc_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/web/oidc"
)

// flakyStore fails every OAuth-related read with storage.ErrUnavailable
// while down is set, as PostgreSQL does when it cannot be reached.
type flakyStore struct {
	storage.Store
	down atomic.Bool
}

func (s *flakyStore) GetClient(ctx context.Context, id string) (storage.Client, error) {
	if s.down.Load() {
		return storage.Client{}, storage.ErrUnavailable
	}
	return s.Store.GetClient(ctx, id)
}

func (s *flakyStore) GetOAuthRequest(ctx context.Context, k storage.RequestKind, sig string) (storage.OAuthRequest, error) {
	if s.down.Load() {
		return storage.OAuthRequest{}, storage.ErrUnavailable
	}
	return s.Store.GetOAuthRequest(ctx, k, sig)
}

// A database outage is 503 with a clear message on every endpoint (never
// invalid_client or an inactive token), and service comes back by itself.
func TestDatabaseUnavailableIs503(t *testing.T) {
	fs := &flakyStore{Store: memoryStore(t)}
	e := newEnv(t, fs)
	c := e.client(nil)
	u := e.user()
	v, ch := pkcePair()
	st, tok := e.exchange(c, e.codeFor(c, u, authorizeParams(c, ch)), v)
	if st != http.StatusOK {
		t.Fatal(st, tok)
	}
	at := tok["access_token"].(string)

	fs.down.Store(true)
	_, ch2 := pkcePair()
	resp, err := noRedirect().Get(e.URL + oidc.PathAuthorize + "?" + authorizeParams(c, ch2).Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Location") != "" || !strings.Contains(string(body), "temporarily_unavailable") {
		t.Errorf("authorize while down: %d %s", resp.StatusCode, body)
	}
	for name, call := range map[string]func() (int, map[string]interface{}){
		"token": func() (int, map[string]interface{}) {
			return e.refresh(c, tok["refresh_token"].(string))
		},
		"introspect": func() (int, map[string]interface{}) {
			st, b, _ := e.postForm(oidc.PathIntrospect, url.Values{"token": {at}}, c.ID, c.Secret)
			return st, b
		},
		"revoke": func() (int, map[string]interface{}) {
			st, b, _ := e.postForm(oidc.PathRevoke, url.Values{"token": {at}}, c.ID, c.Secret)
			return st, b
		},
		"userinfo": func() (int, map[string]interface{}) {
			st, b, _ := e.postForm(oidc.PathUserinfo, url.Values{"access_token": {at}}, "", "")
			return st, b
		},
	} {
		if st, b := call(); st != http.StatusServiceUnavailable || b["error"] != "temporarily_unavailable" {
			t.Errorf("%s while down: %d %v", name, st, b)
		}
	}

	fs.down.Store(false)
	if got := e.introspect(c, at); got["active"] != true {
		t.Fatalf("after recovery: %v", got)
	}
	if st, b := e.refresh(c, tok["refresh_token"].(string)); st != http.StatusOK {
		t.Fatalf("refresh after recovery: %d %v", st, b)
	}
}
