package oidc_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/web"
	"github.com/signet-idp/signet/internal/web/oidc"
)

// countingStore counts database round trips: every store call, and a
// transaction as two (BEGIN and COMMIT/ROLLBACK).
type countingStore struct {
	storage.Store
	n     atomic.Int64
	calls sync.Map // name → *atomic.Int64
}

func (s *countingStore) count(name string, n int64) {
	s.n.Add(n)
	v, _ := s.calls.LoadOrStore(name, new(atomic.Int64))
	v.(*atomic.Int64).Add(n)
}

func (s *countingStore) reset() { s.n.Store(0); s.calls = sync.Map{} }

func (s *countingStore) summary() string {
	var b strings.Builder
	s.calls.Range(func(k, v any) bool {
		b.WriteString(k.(string) + "=" + itoa(v.(*atomic.Int64).Load()) + " ")
		return true
	})
	return b.String()
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (s *countingStore) InTx(ctx context.Context, fn func(context.Context) error) error {
	s.count("tx", 2)
	return s.Store.InTx(ctx, fn)
}
func (s *countingStore) BeginTx(ctx context.Context) (context.Context, error) {
	s.count("begin", 1)
	return s.Store.BeginTx(ctx)
}
func (s *countingStore) Commit(ctx context.Context) error {
	s.count("commit", 1)
	return s.Store.Commit(ctx)
}
func (s *countingStore) Rollback(ctx context.Context) error {
	s.count("rollback", 1)
	return s.Store.Rollback(ctx)
}
func (s *countingStore) GetClient(ctx context.Context, id string) (storage.Client, error) {
	s.count("GetClient", 1)
	return s.Store.GetClient(ctx, id)
}
func (s *countingStore) GetUser(ctx context.Context, id string) (storage.User, error) {
	s.count("GetUser", 1)
	return s.Store.GetUser(ctx, id)
}
func (s *countingStore) ListUserRoles(ctx context.Context, id string) ([]string, error) {
	s.count("ListUserRoles", 1)
	return s.Store.ListUserRoles(ctx, id)
}
func (s *countingStore) GetUserWithRoles(ctx context.Context, id string) (storage.User, []string, error) {
	s.count("GetUserWithRoles", 1)
	return s.Store.GetUserWithRoles(ctx, id)
}
func (s *countingStore) CreateOAuthRequest(ctx context.Context, r storage.OAuthRequest) error {
	s.count("Create."+string(r.Kind), 1)
	return s.Store.CreateOAuthRequest(ctx, r)
}
func (s *countingStore) CreateOAuthRequests(ctx context.Context, rows []storage.OAuthRequest) error {
	s.count("CreateBatch", 1)
	return s.Store.CreateOAuthRequests(ctx, rows)
}
func (s *countingStore) ListOAuthRequestsBySignature(ctx context.Context, sig string, kinds []storage.RequestKind) ([]storage.OAuthRequest, error) {
	s.count("ListBySignature", 1)
	return s.Store.ListOAuthRequestsBySignature(ctx, sig, kinds)
}
func (s *countingStore) GetOAuthRequest(ctx context.Context, k storage.RequestKind, sig string) (storage.OAuthRequest, error) {
	s.count("Get."+string(k), 1)
	return s.Store.GetOAuthRequest(ctx, k, sig)
}
func (s *countingStore) DeleteOAuthRequest(ctx context.Context, k storage.RequestKind, sig string) error {
	s.count("Delete."+string(k), 1)
	return s.Store.DeleteOAuthRequest(ctx, k, sig)
}
func (s *countingStore) DeactivateOAuthRequest(ctx context.Context, k storage.RequestKind, sig string) error {
	s.count("Deactivate."+string(k), 1)
	return s.Store.DeactivateOAuthRequest(ctx, k, sig)
}
func (s *countingStore) RotateRefreshToken(ctx context.Context, sig, id string, at time.Time) error {
	s.count("RotateRefreshToken", 1)
	return s.Store.RotateRefreshToken(ctx, sig, id, at)
}
func (s *countingStore) DeactivateOAuthRequestsByRequestID(ctx context.Context, k storage.RequestKind, id, reason string) error {
	s.count("DeactivateByRequest."+string(k), 1)
	return s.Store.DeactivateOAuthRequestsByRequestID(ctx, k, id, reason)
}

// Each token request stays within a few round trips: counted on the code
// exchange (with PKCE and an ID token), a refresh (with roles) and a
// client_credentials grant (the server's client cache, not used here,
// saves the client read of each).
func TestTokenEndpointRoundTrips(t *testing.T) {
	cs := &countingStore{Store: memoryStore(t)}
	e := newEnv(t, cs)
	c := e.client(nil)
	u := e.user("admin")
	v, ch := pkcePair()
	code := e.codeFor(c, u, authorizeParams(c, ch))

	cs.reset()
	st, tok := e.exchange(c, code, v)
	if st != http.StatusOK {
		t.Fatalf("exchange: %d %v", st, tok)
	}
	// client, the code's rows (code, PKCE, OpenID Connect) | BEGIN,
	// invalidate code, access and refresh rows together, COMMIT.
	if n := cs.n.Load(); n > 6 {
		t.Errorf("code exchange took %d round trips (%s), want at most 6", n, cs.summary())
	}
	t.Logf("code exchange: %d round trips: %s", cs.n.Load(), cs.summary())

	cs.reset()
	st, tok = e.refresh(c, tok["refresh_token"].(string))
	if st != http.StatusOK {
		t.Fatalf("refresh: %d %v", st, tok)
	}
	// client, refresh token, user with roles | BEGIN, rotate (the refresh
	// token and the grant's access tokens in one statement), access and
	// refresh rows together, COMMIT.
	if n := cs.n.Load(); n > 7 {
		t.Errorf("refresh took %d round trips (%s), want at most 7", n, cs.summary())
	}
	t.Logf("refresh: %d round trips: %s", cs.n.Load(), cs.summary())

	// client_credentials: the client and the one access token row, with
	// no transaction around a single write.
	cc := e.client(func(c *storage.Client) { c.GrantTypes = []string{"client_credentials"} })
	cs.reset()
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(cc.ID, cc.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("client_credentials: %d", resp.StatusCode)
	}
	if n := cs.n.Load(); n > 2 {
		t.Errorf("client_credentials took %d round trips (%s), want 2", n, cs.summary())
	}

	cs.reset()
	if body := e.introspect(c, tok["access_token"].(string)); body["active"] != true {
		t.Fatalf("introspect: %v", body)
	}
	if n := cs.n.Load(); n > 2 {
		t.Errorf("introspection took %d round trips (%s), want 2", n, cs.summary())
	}
}

// refreshGrant makes a client and a signed-in user's grant and returns
// the client and the grant's refresh token.
func (e *env) refreshGrant() (testClient, string) {
	e.t.Helper()
	c := e.client(nil)
	u := e.user()
	v, ch := pkcePair()
	st, tok := e.exchange(c, e.codeFor(c, u, authorizeParams(c, ch)), v)
	if st != http.StatusOK {
		e.t.Fatalf("exchange: %d %v", st, tok)
	}
	return c, tok["refresh_token"].(string)
}

// raceRefresh presents one refresh token n times at once and returns each
// answer.
func (e *env) raceRefresh(c testClient, rt string, n int) ([]int, []map[string]interface{}) {
	statuses := make([]int, n)
	bodies := make([]map[string]interface{}, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i], bodies[i] = e.refresh(c, rt)
		}()
	}
	close(start)
	wg.Wait()
	return statuses, bodies
}

// Concurrent refreshes of one token within the grace window: exactly one
// rotation happens, every request gets that rotation's token pair, and
// the grant lives on (several tabs, retries after a lost response).
func TestConcurrentRefreshWithinGrace(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			e := newEnv(t, st.open(t))
			c, rt := e.refreshGrant()

			statuses, bodies := e.raceRefresh(c, rt, 20)
			var pair [2]string
			for i, s := range statuses {
				if s != http.StatusOK {
					t.Fatalf("refresh #%d: status %d %v; want every repeat answered within the grace window", i, s, bodies[i])
				}
				got := [2]string{bodies[i]["access_token"].(string), bodies[i]["refresh_token"].(string)}
				if i == 0 {
					pair = got
				} else if got != pair {
					t.Fatalf("refresh #%d got another token pair than #0: one rotation must answer one pair", i)
				}
				if _, ok := bodies[i]["id_token"].(string); !ok {
					t.Fatalf("refresh #%d has no ID token: %v", i, bodies[i])
				}
			}
			// Exactly one rotation: the old token rotated, one successor.
			old, err := e.Store.GetOAuthRequest(context.Background(), storage.KindRefreshToken, signatureOf(rt))
			if err != nil || old.Active || old.RotatedAt.IsZero() {
				t.Fatalf("presented token row: %+v, %v; want inactive and rotated", old, err)
			}
			succ, err := e.Store.GetOAuthRequest(context.Background(), storage.KindRefreshToken, signatureOf(pair[1]))
			if err != nil || !succ.Active {
				t.Fatalf("successor row: %+v, %v; want active", succ, err)
			}
			if body := e.introspect(c, pair[0]); body["active"] != true {
				t.Fatalf("the new access token is not active: %v", body)
			}
			// The session lives on: the successor refreshes.
			if s, body := e.refresh(c, pair[1]); s != http.StatusOK {
				t.Fatalf("refresh with the successor: %d %v", s, body)
			}
			// The successor has rotated: repeating the first token within
			// the window now refuses without revoking anything.
			if s, body := e.refresh(c, rt); s != http.StatusBadRequest || body["error"] != "invalid_grant" {
				t.Fatalf("repeat after the successor rotated: %d %v", s, body)
			}
		})
	}
}

// After the grace window a repeated refresh token is a replay: refused,
// and the whole grant is revoked.
func TestRefreshReplayAfterGraceRevokes(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			e := newEnv(t, st.open(t))
			c, rt := e.refreshGrant()
			s, next := e.refresh(c, rt)
			if s != http.StatusOK {
				t.Fatalf("refresh: %d %v", s, next)
			}
			e.clock.offset += defaultGrace + time.Second
			if s, body := e.refresh(c, rt); s != http.StatusBadRequest || body["error"] != "invalid_grant" {
				t.Fatalf("replay after the window: %d %v", s, body)
			}
			if body := e.introspect(c, next["access_token"].(string)); body["active"] != false {
				t.Fatalf("the successor access token survived a replay: %v", body)
			}
			if s, body := e.refresh(c, next["refresh_token"].(string)); s != http.StatusBadRequest || body["error"] != "invalid_grant" {
				t.Fatalf("the successor refresh token survived a replay: %d %v", s, body)
			}
			// Introspection never sees a rotated token as active, even
			// within a window.
			if body := e.introspect(c, rt); body["active"] != false {
				t.Fatalf("introspection of a rotated refresh token: %v", body)
			}
		})
	}
}

// Without a grace window, concurrent refreshes of one token: exactly one
// gets new tokens. A loser that raced the winner's transaction is told to
// retry (invalid_request); one that arrives after the winner committed
// presents a rotated token, which is reuse (invalid_grant, and the grant
// is revoked).
func TestConcurrentRefreshOneWinsWithoutGrace(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			e := newEnvGrace(t, st.open(t), 0)
			c, rt := e.refreshGrant()

			statuses, bodies := e.raceRefresh(c, rt, 8)
			winners := 0
			for i, s := range statuses {
				switch {
				case s == http.StatusOK:
					winners++
				case s == http.StatusBadRequest && (bodies[i]["error"] == "invalid_request" || bodies[i]["error"] == "invalid_grant"):
				default:
					t.Errorf("refresh #%d: status %d %v", i, s, bodies[i])
				}
			}
			if winners != 1 {
				t.Fatalf("%d refreshes won, want exactly 1 (%v)", winners, statuses)
			}
			// The presented token is used up either way.
			if s, body := e.refresh(c, rt); s != http.StatusBadRequest || body["error"] != "invalid_grant" {
				t.Fatalf("refresh after the race: %d %v", s, body)
			}
		})
	}
}

// Concurrent exchanges of one code: one succeeds, and as for any reuse the
// grant's tokens end up revoked.
func TestConcurrentCodeExchange(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			e := newEnv(t, st.open(t))
			c := e.client(nil)
			u := e.user()
			v, ch := pkcePair()
			code := e.codeFor(c, u, authorizeParams(c, ch))
			const n = 6
			statuses := make([]int, n)
			bodies := make([]map[string]interface{}, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					statuses[i], bodies[i] = e.exchange(c, code, v)
				}()
			}
			close(start)
			wg.Wait()
			var at string
			wins := 0
			for i, s := range statuses {
				if s == http.StatusOK {
					wins++
					at = bodies[i]["access_token"].(string)
				} else if s != http.StatusBadRequest || bodies[i]["error"] != "invalid_grant" {
					t.Errorf("exchange #%d: %d %v", i, s, bodies[i])
				}
			}
			if wins != 1 {
				t.Fatalf("%d exchanges won, want 1 (%v)", wins, statuses)
			}
			if got := e.introspect(c, at); got["active"] != false {
				t.Errorf("tokens of a code used twice stay active: %v", got)
			}
		})
	}
}

// response_mode=form_post: an HTML form posting to the client, allowed by
// a CSP naming the client's origin and the one script by hash.
func TestFormPostResponse(t *testing.T) {
	e := newEnv(t, memoryStore(t))
	c := e.client(nil)
	u := e.user()
	_, chal := pkcePair()
	q := authorizeParams(c, chal)
	q.Set("response_mode", "form_post")
	ch := e.startAuthorize(q)
	ctx := context.Background()
	if err := e.Challenges.AcceptLogin(ctx, ch, u.ID, "sid", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.Challenges.DecideConsent(ctx, ch, []string{"openid"}, true); err != nil {
		t.Fatal(err)
	}
	resp, err := noRedirect().Get(e.URL + oidc.PathResume + "?login_challenge=" + url.QueryEscape(ch))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `action="`+c.Redirect+`"`) ||
		!strings.Contains(string(body), `name="code"`) || !strings.Contains(string(body), `name="state" value="`+q.Get("state")+`"`) {
		t.Fatalf("form_post: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(csp, "form-action http://127.0.0.1:9999") || !strings.Contains(csp, "script-src 'sha256-") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("form_post CSP %q", csp)
	}
}

// fakeSessions is a BrowserSessions that finds a session by cookie value.
type fakeSessions struct {
	byCookie map[string]oidc.BrowserSession
}

func (f fakeSessions) Current(r *http.Request) (oidc.BrowserSession, bool, error) {
	c, err := r.Cookie("sso")
	if err != nil {
		return oidc.BrowserSession{}, false, nil
	}
	s, ok := f.byCookie[c.Value]
	return s, ok, nil
}

// envWithSessions is newEnv with SSO sessions and strict resume binding.
func envWithSessions(t *testing.T, sess fakeSessions) *env {
	t.Helper()
	e := newEnv(t, memoryStore(t))
	// A second handler on its own server, sharing provider and store.
	ck := e.clock
	h, err := oidc.New(oidc.Options{Issuer: e.URL, OAuth: e.Provider, Challenges: e.Challenges, Keys: e.Keys,
		Sessions: sess, RequireBrowserSession: true, Now: ck.Now})
	if err != nil {
		t.Fatal(err)
	}
	ec := web.New(web.Options{Name: "public"})
	h.Register(ec)
	srv := startServer(t, ec)
	e.URL = srv
	return e
}

func get(t *testing.T, u, cookie string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "sso", Value: cookie})
	}
	resp, err := noRedirect().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestPromptNoneAndSessionBinding(t *testing.T) {
	sess := fakeSessions{byCookie: map[string]oidc.BrowserSession{}}
	e := envWithSessions(t, sess)
	first := e.client(func(c *storage.Client) { c.FirstParty = true })
	third := e.client(nil)
	u := e.user()
	sess.byCookie["alice"] = oidc.BrowserSession{ID: "sid-alice", Subject: u.ID, AuthTime: time.Now().Add(-time.Minute)}
	sess.byCookie["other"] = oidc.BrowserSession{ID: "sid-other", Subject: u.ID, AuthTime: time.Now()}

	none := func(c testClient) url.Values {
		_, ch := pkcePair()
		q := authorizeParams(c, ch)
		q.Set("prompt", "none")
		return q
	}
	// No session: login_required at the client, no page.
	resp := get(t, e.URL+oidc.PathAuthorize+"?"+none(first).Encode(), "")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Query().Get("error") != "login_required" {
		t.Fatalf("prompt=none without a session: %d %s", resp.StatusCode, loc)
	}
	// A session but no consent for a third-party client: consent_required.
	resp = get(t, e.URL+oidc.PathAuthorize+"?"+none(third).Encode(), "alice")
	loc, _ = url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("error") != "consent_required" {
		t.Fatalf("prompt=none, third party: %s", loc)
	}
	// A session and a first-party client: the code at once, no page and
	// no parked challenge.
	q := none(first)
	resp = get(t, e.URL+oidc.PathAuthorize+"?"+q.Encode(), "alice")
	cb, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || cb.Query().Get("code") == "" || cb.Query().Get("state") != q.Get("state") ||
		!strings.HasPrefix(cb.String(), first.Redirect+"?") {
		t.Fatalf("prompt=none with SSO: %d %s", resp.StatusCode, cb)
	}
	// Also without prompt=none: single sign-on answers at once.
	_, chSSO := pkcePair()
	q = authorizeParams(first, chSSO)
	resp = get(t, e.URL+oidc.PathAuthorize+"?"+q.Encode(), "alice")
	if cb, _ := url.Parse(resp.Header.Get("Location")); cb.Query().Get("code") == "" {
		t.Fatalf("SSO without prompt: %d %s", resp.StatusCode, cb)
	}
	// prompt=login still asks.
	q.Set("prompt", "login")
	resp = get(t, e.URL+oidc.PathAuthorize+"?"+q.Encode(), "alice")
	if loc, _ := url.Parse(resp.Header.Get("Location")); loc.Query().Get("login_challenge") == "" {
		t.Fatalf("SSO with prompt=login: %d %s, want the login page", resp.StatusCode, loc)
	}
	// A parked request is bound to its browser: another cannot finish it.
	_, ch0 := pkcePair()
	resp = get(t, e.URL+oidc.PathAuthorize+"?"+authorizeParams(third, ch0).Encode(), "alice")
	loc, _ = url.Parse(resp.Header.Get("Location"))
	if resp := get(t, e.URL+oidc.PathResume+"?login_challenge="+url.QueryEscape(loc.Query().Get("login_challenge")), "other"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("resume from another session: %d", resp.StatusCode)
	}

	// Without prompt=none the SSO login is pre-filled for the pages.
	_, ch := pkcePair()
	resp = get(t, e.URL+oidc.PathAuthorize+"?"+authorizeParams(third, ch).Encode(), "alice")
	loc, _ = url.Parse(resp.Header.Get("Location"))
	info, err := e.Challenges.Challenge(context.Background(), loc.Query().Get("login_challenge"))
	if err != nil || !info.LoginSatisfied || info.SessionID != "sid-alice" {
		t.Fatalf("SSO not pre-filled: %+v %v", info, err)
	}
	// prompt=login ignores the session.
	q = authorizeParams(third, ch)
	q.Set("prompt", "login")
	resp = get(t, e.URL+oidc.PathAuthorize+"?"+q.Encode(), "alice")
	loc, _ = url.Parse(resp.Header.Get("Location"))
	info, _ = e.Challenges.Challenge(context.Background(), loc.Query().Get("login_challenge"))
	if info.LoginSatisfied {
		t.Fatal("prompt=login reused the SSO session")
	}
}

// Per-client lifespans override the defaults: access and refresh tokens,
// ID tokens and codes.
func TestPerClientLifespans(t *testing.T) {
	e := newEnv(t, memoryStore(t))
	c := e.client(func(c *storage.Client) {
		c.AccessTokenLifespan = 5 * time.Minute
		c.IDTokenLifespan = 2 * time.Minute
		c.RefreshTokenLifespan = 7 * time.Hour
		c.AuthCodeLifespan = time.Minute
	})
	u := e.user()
	v, ch := pkcePair()
	st, tok := e.exchange(c, e.codeFor(c, u, authorizeParams(c, ch)), v)
	if st != http.StatusOK {
		t.Fatal(st, tok)
	}
	if exp := tok["expires_in"].(float64); exp < 290 || exp > 300 {
		t.Errorf("expires_in %v, want the client's 5 minutes", exp)
	}
	row, err := e.Store.GetOAuthRequest(context.Background(), storage.KindRefreshToken, strings.SplitN(tok["refresh_token"].(string), ".", 2)[1])
	if err != nil || row.ExpiresAt.Sub(time.Now()) > 7*time.Hour+time.Second || row.ExpiresAt.Sub(time.Now()) < 6*time.Hour {
		t.Errorf("refresh row expires %v, want in the client's 7 hours (%v)", row.ExpiresAt, err)
	}
	claims := decodeJWTClaims(t, tok["id_token"].(string))
	if d := claims["exp"].(float64) - claims["iat"].(float64); d != 120 {
		t.Errorf("ID token lives %vs, want the client's 120", d)
	}
	// The code lives one minute.
	v, ch = pkcePair()
	code := e.codeFor(c, u, authorizeParams(c, ch))
	e.clock.offset = 90 * time.Second
	if st, body := e.exchange(c, code, v); st != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("code past the client's lifespan: %d %v", st, body)
	}
}

func decodeJWTClaims(t *testing.T, raw string) map[string]interface{} {
	t.Helper()
	parts := strings.Split(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]interface{}{}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Under strict binding a challenge whose login names no browser session
// cannot be finished by just any browser: there is nothing to bind to, so
// the resume is refused rather than answered with a code.
func TestResumeWithoutSessionIDIsRefusedUnderStrictBinding(t *testing.T) {
	sess := fakeSessions{byCookie: map[string]oidc.BrowserSession{}}
	e := envWithSessions(t, sess)
	c := e.client(nil)
	u := e.user()
	sess.byCookie["mallory"] = oidc.BrowserSession{ID: "sid-mallory", Subject: u.ID, AuthTime: time.Now()}
	_, pc := pkcePair()
	q := authorizeParams(c, pc)
	ch := e.startAuthorize(q)
	ctx := context.Background()
	if err := e.Challenges.AcceptLogin(ctx, ch, u.ID, "", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.Challenges.DecideConsent(ctx, ch, strings.Fields(q.Get("scope")), true); err != nil {
		t.Fatal(err)
	}
	for _, cookie := range []string{"", "mallory"} {
		resp := get(t, e.URL+oidc.PathResume+"?login_challenge="+url.QueryEscape(ch), cookie)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusBadRequest || loc.Query().Get("code") != "" {
			t.Fatalf("resume (cookie %q) of a login bound to no session: %d %s", cookie, resp.StatusCode, loc)
		}
	}
}

// signatureOf is the part of an HMAC token storage keys it by.
func signatureOf(tok string) string {
	_, sig, _ := strings.Cut(tok, ".")
	return sig
}
