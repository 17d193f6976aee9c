package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/signet-idp/signet/internal/adminclient"
	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/web/registration"
)

func withClientRegistration(mode string) testServerOption {
	return func(c *config.Config) { c.ClientRegistration = mode }
}

// dcr sends a dynamic registration request with an optional bearer token
// and returns the status and the JSON answer.
func dcr(t *testing.T, method, u, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, u, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != http.StatusNoContent && resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s %s: Cache-Control %q, want no-store", method, u, resp.Header.Get("Cache-Control"))
	}
	return resp.StatusCode, out
}

func discoveryDoc(t *testing.T, ts *testServer) map[string]any {
	t.Helper()
	resp, err := http.Get(ts.PublicURL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	d := map[string]any{}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestClientRegistrationWithToken: with --client-registration token a
// client registers with an initial access token from the admin API (and
// not without one), signs a person in with x/oauth2 and go-oidc, and then
// reads, updates and deletes its own registration (RFC 7592).
func TestClientRegistrationWithToken(t *testing.T) {
	x := newE2E(t, withClientRegistration(registration.ModeToken))
	endpoint := x.ts.PublicURL + registration.Path
	if got := discoveryDoc(t, x.ts)["registration_endpoint"]; got != endpoint {
		t.Fatalf("discovery registration_endpoint = %v, want %s", got, endpoint)
	}
	meta := map[string]any{
		"client_name":            "Partner app",
		"redirect_uris":          []string{rpRedirect},
		"grant_types":            []string{"authorization_code", "refresh_token"},
		"scope":                  "openid profile email roles offline_access",
		"first_party":            true, // not for strangers: ignored
		"logo_uri":               "https://partner.example/logo.png",
		"backchannel_logout_uri": "https://partner.example/bc",
	}
	for _, tok := range []string{"", "not-a-token"} {
		if st, body := dcr(t, "POST", endpoint, tok, meta); st != http.StatusUnauthorized || body["error"] != "invalid_token" {
			t.Fatalf("registration with token %q: %d %v, want 401 invalid_token", tok, st, body)
		}
	}
	iat, err := x.admin.CreateRegistrationToken(x.ctx, adminclient.NewRegistrationToken{Description: "partner", MaxUses: 1})
	if err != nil || iat.Token == "" {
		t.Fatalf("create initial access token: %+v %v", iat, err)
	}
	// A refused registration spends no use of the token.
	bad := map[string]any{"client_name": "Bad", "redirect_uris": []string{"http://partner.example/cb"}}
	if st, body := dcr(t, "POST", endpoint, iat.Token, bad); st != http.StatusBadRequest || body["error"] != "invalid_redirect_uri" {
		t.Fatalf("http redirect URI off loopback: %d %v, want 400 invalid_redirect_uri", st, body)
	}
	st, reg := dcr(t, "POST", endpoint, iat.Token, meta)
	if st != http.StatusCreated {
		t.Fatalf("registration: %d %v", st, reg)
	}
	id, _ := reg["client_id"].(string)
	secret, _ := reg["client_secret"].(string)
	rat, _ := reg["registration_access_token"].(string)
	if id == "" || secret == "" || rat == "" || reg["registration_client_uri"] != endpoint+"/"+id ||
		reg["client_secret_expires_at"] != float64(0) || reg["backchannel_logout_uri"] != "https://partner.example/bc" {
		t.Fatalf("registration answer %v", reg)
	}
	if st, body := dcr(t, "POST", endpoint, iat.Token, meta); st != http.StatusUnauthorized {
		t.Fatalf("second registration with a single-use token: %d %v", st, body)
	}
	stored, err := x.admin.GetClient(x.ctx, id)
	if err != nil || stored.FirstParty || stored.ClientName != "Partner app" {
		t.Fatalf("stored client %+v, %v: want it, not first party", stored, err)
	}

	// The registered client works with real relying-party code.
	r := x.newRPFor(adminclient.OAuthClient{ClientID: id, ClientSecret: secret, RedirectURIs: []string{rpRedirect},
		TokenEndpointAuthMethod: "client_secret_basic"})
	tok, _, _ := r.login(x.newUser("user"))
	if _, claims, _ := r.verify(tok); claims.Sub == "" {
		t.Fatal("no subject in the ID token")
	}

	// RFC 7592: read, update, delete with the registration access token.
	uri := endpoint + "/" + id
	if st, body := dcr(t, "GET", uri, rat, nil); st != http.StatusOK || body["client_name"] != "Partner app" || body["client_secret"] != nil {
		t.Fatalf("read: %d %v", st, body)
	}
	for _, tok := range []string{"", "wrong", iat.Token} {
		if st, _ := dcr(t, "GET", uri, tok, nil); st != http.StatusUnauthorized {
			t.Fatalf("read with token %q: %d, want 401", tok, st)
		}
	}
	if st, _ := dcr(t, "GET", endpoint+"/someone-else", rat, nil); st != http.StatusUnauthorized {
		t.Fatalf("read of another client: %d, want 401", st)
	}
	upd := map[string]any{"client_id": id, "client_name": "Partner app 2", "redirect_uris": []string{rpRedirect, "https://partner.example/cb"}}
	if st, body := dcr(t, "PUT", uri, rat, upd); st != http.StatusOK || body["client_name"] != "Partner app 2" {
		t.Fatalf("update: %d %v", st, body)
	}
	if c, _ := x.admin.GetClient(x.ctx, id); c.ClientName != "Partner app 2" || len(c.RedirectURIs) != 2 || c.BackchannelLogoutURI != "" {
		t.Fatalf("after update: %+v (omitted fields take their defaults)", c)
	}
	if st, body := dcr(t, "PUT", uri, rat, map[string]any{"client_id": "other", "client_name": "X", "redirect_uris": []string{rpRedirect}}); st != http.StatusBadRequest {
		t.Fatalf("update naming another client_id: %d %v", st, body)
	}
	if st, body := dcr(t, "PUT", uri, rat, map[string]any{"client_id": id, "client_name": "X", "redirect_uris": []string{"javascript:alert(1)"}}); st != http.StatusBadRequest || body["error"] != "invalid_redirect_uri" {
		t.Fatalf("update with a javascript: redirect URI: %d %v", st, body)
	}
	if st, _ := dcr(t, "DELETE", uri, rat, nil); st != http.StatusNoContent {
		t.Fatalf("delete: %d", st)
	}
	if st, _ := dcr(t, "GET", uri, rat, nil); st != http.StatusUnauthorized {
		t.Fatalf("read after delete: %d, want 401", st)
	}
	if _, err := x.admin.GetClient(x.ctx, id); err == nil {
		t.Fatal("the deleted client is still there")
	}
	events := map[string]bool{}
	for _, a := range []string{"client.register", "client.update", "client.delete", "registration_token.create"} {
		events[a] = len(auditOf(t, x.ts, a)) > 0
	}
	for a, ok := range events {
		if !ok {
			t.Errorf("no %s in the audit log", a)
		}
	}
}

// TestClientRegistrationOpen: with --client-registration open anyone may
// register (no token), redirect URIs are validated as by the admin API,
// and each address gets ten registrations before it must wait.
func TestClientRegistrationOpen(t *testing.T) {
	ts := startTestServer(t, withClientRegistration(registration.ModeOpen))
	endpoint := ts.PublicURL + registration.Path
	for _, bad := range []map[string]any{
		{"client_name": "Evil", "redirect_uris": []string{"https://evil.example/cb#frag"}},
		{"client_name": "Evil", "redirect_uris": []string{"https://*.evil.example/cb"}},
		{"client_name": "Evil", "redirect_uris": []string{"https://evil.example/cb"}, "backchannel_logout_uri": "http://evil.example/bc"},
		{"client_name": "Evil", "redirect_uris": []string{"https://evil.example/cb"}, "grant_types": []string{"password"}},
	} {
		if st, body := dcr(t, "POST", endpoint, "", bad); st != http.StatusBadRequest ||
			(body["error"] != "invalid_redirect_uri" && body["error"] != "invalid_client_metadata") {
			t.Errorf("registration %v: %d %v, want 400", bad, st, body)
		}
	}
	// Four refused above count too: six more are admitted, then 429.
	pub := map[string]any{"client_name": "SPA", "redirect_uris": []string{"http://127.0.0.1:5000/cb"}, "token_endpoint_auth_method": "none"}
	for i := range 6 {
		st, body := dcr(t, "POST", endpoint, "", pub)
		if st != http.StatusCreated || body["client_secret"] != nil || body["registration_access_token"] == nil {
			t.Fatalf("open registration %d: %d %v", i, st, body)
		}
	}
	st, body := dcr(t, "POST", endpoint, "", pub)
	if st != http.StatusTooManyRequests {
		t.Fatalf("11th registration from one address: %d %v, want 429", st, body)
	}
}

// TestClientRegistrationOff: the default serves no registration endpoint.
func TestClientRegistrationOff(t *testing.T) {
	ts := startTestServer(t, withMemoryStore())
	if _, ok := discoveryDoc(t, ts)["registration_endpoint"]; ok {
		t.Error("discovery lists a registration endpoint while registration is off")
	}
	resp, err := http.Post(ts.PublicURL+registration.Path, "application/json", strings.NewReader(`{"client_name":"X","redirect_uris":["https://x.example/cb"]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusCreated {
		t.Fatal("registered a client while registration is off")
	}
}

// TestClientRegistrationRateLimitFlag: --client-registration-rate-limit
// (from the command line, its environment twin or the file key) sets the
// per-address limit: with 2/1h the third registration from one address is
// refused with 429, an RFC 7591 error and Retry-After; a malformed value
// stops serve before it starts.
func TestClientRegistrationRateLimitFlag(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		env   map[string]string
		files map[string]string
		want  string
	}{
		{"default", nil, nil, nil, "10/1h"},
		{"flag", []string{"--client-registration-rate-limit", "3/10m"}, nil, nil, "3/10m"},
		{"environment", nil, map[string]string{"SIGNET_CLIENT_REGISTRATION_RATE_LIMIT": "4/2h"}, nil, "4/2h"},
		{"file", nil, map[string]string{"SIGNET_CONFIG": "/etc/signet.yaml"},
			map[string]string{"/etc/signet.yaml": "client-registration-rate-limit: 5/30m\n"}, "5/30m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Default()
			cmd := newServeCmdWith(&cfg)
			if err := cmd.Flags().Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if err := loadSettings(cmd, fakeSettingsEnv(tc.env, tc.files)); err != nil {
				t.Fatal(err)
			}
			if cfg.ClientRegistrationRateLimit != tc.want {
				t.Errorf("rate limit %q, want %q", cfg.ClientRegistrationRateLimit, tc.want)
			}
		})
	}

	bad := config.Default()
	bad.Dev, bad.Secret, bad.ClientRegistration, bad.ClientRegistrationRateLimit = true, testSecret, registration.ModeOpen, "2"
	err := serve(context.Background(), bad, slog.New(slog.DiscardHandler), serveHooks{})
	if err == nil || !strings.Contains(err.Error(), "client registration rate limit") {
		t.Errorf("serve with rate limit %q: %v, want a configuration error", bad.ClientRegistrationRateLimit, err)
	}

	ts := startTestServer(t, withMemoryStore(), withClientRegistration(registration.ModeOpen),
		func(c *config.Config) { c.ClientRegistrationRateLimit = "2/1h" })
	endpoint := ts.PublicURL + registration.Path
	pub := map[string]any{"client_name": "SPA", "redirect_uris": []string{"http://127.0.0.1:5000/cb"}, "token_endpoint_auth_method": "none"}
	for i := range 2 {
		if st, body := dcr(t, "POST", endpoint, "", pub); st != http.StatusCreated {
			t.Fatalf("registration %d within the limit: %d %v", i+1, st, body)
		}
	}
	b, _ := json.Marshal(pub)
	resp, err := http.Post(endpoint, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusTooManyRequests || body["error"] != "temporarily_unavailable" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third registration with 2/1h: %d %v Retry-After %q, want 429 temporarily_unavailable with Retry-After",
			resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	cs, err := ts.Store.ListClients(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range cs {
		if c.Name == "SPA" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d clients registered, want 2", n)
	}
}
