package oidc_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/keys"
	"github.com/signet-idp/signet/internal/oauth"
	"github.com/signet-idp/signet/internal/pgtest"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
	"github.com/signet-idp/signet/internal/web"
	"github.com/signet-idp/signet/internal/web/oidc"
)

const testSecret = "test-secret-0123456789-abcdefghijklmnop"

// env is the protocol endpoints on an httptest server over one store.
type env struct {
	t          testing.TB
	URL        string
	Store      storage.Store
	Provider   *oauth.Provider
	Challenges *oauth.Challenges
	Keys       *keys.Manager
	clock      *clock
}

type clock struct{ offset time.Duration }

func (c *clock) Now() time.Time { return time.Now().Add(c.offset) }

// memoryStore and postgresStore make fresh stores.
func memoryStore(t testing.TB) storage.Store { return memory.New() }

func postgresStore(t testing.TB) storage.Store { return pgtest.NewStore(t) }

var stores = []struct {
	name string
	open func(t testing.TB) storage.Store
}{{"memory", memoryStore}, {"postgres", postgresStore}}

// defaultGrace is the refresh grace window of test environments, as in
// production.
const defaultGrace = 5 * time.Second

func newEnv(t testing.TB, s storage.Store) *env {
	t.Helper()
	return newEnvGrace(t, s, defaultGrace)
}

// newEnvGrace is newEnv with another refresh grace window (0: none).
func newEnvGrace(t testing.TB, s storage.Store, grace time.Duration) *env {
	t.Helper()
	ck := &clock{}
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	ctx := context.Background()
	km, err := keys.Open(ctx, s, keys.Options{Secret: []byte(testSecret), Now: ck.Now, Algorithms: keys.SupportedAlgorithms()})
	if err != nil {
		t.Fatal(err)
	}
	p, err := oauth.New(oauth.Options{
		Issuer: issuer, AccessTokenLifespan: time.Hour, IDTokenLifespan: time.Hour,
		RefreshTokenLifespan: 30 * 24 * time.Hour, AuthCodeLifespan: 10 * time.Minute,
		Secret: []byte(testSecret), Store: s, Keys: km, Now: ck.Now, FormPostTemplate: oidc.FormPostTemplate(),
		RefreshGracePeriod: grace,
	})
	if err != nil {
		t.Fatal(err)
	}
	ch := oauth.NewChallenges(s, 30*time.Minute, ck.Now).WithIDTokenHints(p)
	h, err := oidc.New(oidc.Options{Issuer: issuer, OAuth: p, Challenges: ch, Keys: km, JWKSMaxAge: km.PrepublishWindow(), Now: ck.Now})
	if err != nil {
		t.Fatal(err)
	}
	e := web.New(web.Options{Name: "public"})
	h.Register(e)
	srv.Config.Handler = e
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{t: t, URL: issuer, Store: s, Provider: p, Challenges: ch, Keys: km, clock: ck}
}

type testClient struct {
	ID, Secret, Redirect string
	storage.Client
}

// client registers a client directly in the store.
func (e *env) client(mod func(*storage.Client)) testClient {
	e.t.Helper()
	secret, _ := clients.NewSecret()
	id := "client-" + randomString(6)
	c := storage.Client{
		ID: id, SecretHash: clients.HashSecret(secret), Name: "Test App " + id,
		RedirectURIs:            []string{"http://127.0.0.1:9999/cb"},
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		Scopes:                  oauth.SupportedScopes(),
		TokenEndpointAuthMethod: storage.AuthMethodClientSecretBasic,
		CreatedAt:               time.Now().UTC(), UpdatedAt: time.Now().UTC(),
	}
	if mod != nil {
		mod(&c)
	}
	if c.Public() {
		c.SecretHash = nil
		secret = ""
	}
	if err := e.Store.CreateClient(context.Background(), c); err != nil {
		e.t.Fatal(err)
	}
	return testClient{ID: c.ID, Secret: secret, Redirect: c.RedirectURIs[0], Client: c}
}

// user creates a user with roles.
func (e *env) user(roles ...string) storage.User {
	e.t.Helper()
	n := randomString(6)
	u := storage.User{ID: "user-" + n, Username: "user" + n, Email: "user" + n + "@example.com", Name: "User " + n,
		EmailVerified: true, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
	ctx := context.Background()
	if err := e.Store.CreateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	if len(roles) > 0 {
		if err := e.Store.SetUserRoles(ctx, u.ID, roles); err != nil {
			e.t.Fatal(err)
		}
	}
	return u
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToLower(base64.RawURLEncoding.EncodeToString(b))[:n]
}

func pkcePair() (verifier, challenge string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func noRedirect() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Timeout: 10 * time.Second, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// authorizeParams are the usual parameters of a code+PKCE request.
func authorizeParams(c testClient, challenge string) url.Values {
	return url.Values{
		"client_id": {c.ID}, "redirect_uri": {c.Redirect}, "response_type": {"code"},
		"scope": {"openid profile email roles offline_access"}, "state": {"state-" + randomString(8)},
		"nonce": {"nonce-" + randomString(8)}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
}

// startAuthorize sends the authorization request and returns the login
// challenge from the redirect to the login page.
func (e *env) startAuthorize(q url.Values) string {
	e.t.Helper()
	resp, err := noRedirect().Get(e.URL + oidc.PathAuthorize + "?" + q.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("authorize: status %d, body %s", resp.StatusCode, body)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Path != oidc.DefaultLoginPath {
		e.t.Fatalf("authorize redirected to %s, want the login page", loc)
	}
	return loc.Query().Get("login_challenge")
}

// finish completes login and consent in code, then resumes; it returns the
// redirect to the client.
func (e *env) finish(challenge string, u storage.User, sid string, granted []string, allow bool) *url.URL {
	e.t.Helper()
	ctx := context.Background()
	if err := e.Challenges.AcceptLogin(ctx, challenge, u.ID, sid, e.clock.Now()); err != nil {
		e.t.Fatal(err)
	}
	if err := e.Challenges.DecideConsent(ctx, challenge, granted, allow); err != nil {
		e.t.Fatal(err)
	}
	resp, err := noRedirect().Get(e.URL + oidc.PathResume + "?login_challenge=" + url.QueryEscape(challenge))
	if err != nil {
		e.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("resume: status %d, body %s", resp.StatusCode, body)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return loc
}

// codeFor runs authorization to the code.
func (e *env) codeFor(c testClient, u storage.User, q url.Values) string {
	e.t.Helper()
	ch := e.startAuthorize(q)
	loc := e.finish(ch, u, "sid-"+randomString(6), strings.Fields(q.Get("scope")), true)
	if got := loc.Query().Get("state"); got != q.Get("state") {
		e.t.Fatalf("state %q, want %q (redirect %s)", got, q.Get("state"), loc)
	}
	code := loc.Query().Get("code")
	if code == "" {
		e.t.Fatalf("no code in %s", loc)
	}
	return code
}

// postForm posts to the token-like endpoints with optional basic auth.
func (e *env) postForm(path string, form url.Values, basicID, basicSecret string) (int, map[string]interface{}, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	out := map[string]interface{}{}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &out); err != nil {
			e.t.Fatalf("%s: status %d, body is not JSON: %s", path, resp.StatusCode, body)
		}
	}
	return resp.StatusCode, out, resp.Header
}

func (e *env) exchange(c testClient, code, verifier string) (int, map[string]interface{}) {
	e.t.Helper()
	st, body, _ := e.postForm(oidc.PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {c.Redirect}, "code_verifier": {verifier}}, c.ID, c.Secret)
	return st, body
}

func (e *env) refresh(c testClient, rt string) (int, map[string]interface{}) {
	e.t.Helper()
	st, body, _ := e.postForm(oidc.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}, c.ID, c.Secret)
	return st, body
}

func (e *env) introspect(c testClient, token string) map[string]interface{} {
	e.t.Helper()
	st, body, _ := e.postForm(oidc.PathIntrospect, url.Values{"token": {token}}, c.ID, c.Secret)
	if st != http.StatusOK {
		e.t.Fatalf("introspect: %d %v", st, body)
	}
	return body
}

func startServer(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
