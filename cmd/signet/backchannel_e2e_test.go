package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-idp/signet/internal/adminclient"
	"github.com/signet-idp/signet/internal/backchannel"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/pgtest"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/postgres"
)

// withLoopbackOutbound lets requests to client-supplied URLs reach the
// test's servers on loopback (refused by default).
func withLoopbackOutbound() testServerOption {
	return func(c *config.Config) { c.OutboundAllowCIDRs = []string{"127.0.0.0/8"} }
}

// logoutReceiver is a relying party's back-channel logout endpoint: it
// keeps every logout_token POSTed to it.
type logoutReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	tokens []string
	got    chan struct{}
}

func newLogoutReceiver(t *testing.T) *logoutReceiver {
	t.Helper()
	lr := &logoutReceiver{got: make(chan struct{}, 16)}
	lr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "want a form POST", http.StatusBadRequest)
			return
		}
		tok := r.PostFormValue("logout_token")
		lr.mu.Lock()
		lr.tokens = append(lr.tokens, tok)
		lr.mu.Unlock()
		lr.got <- struct{}{}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(lr.srv.Close)
	return lr
}

// wait returns the first logout token, failing after 15s.
func (lr *logoutReceiver) wait(t *testing.T, who string) string {
	t.Helper()
	select {
	case <-lr.got:
	case <-time.After(15 * time.Second):
		t.Fatalf("%s received no logout token", who)
	}
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.tokens[0]
}

// logoutClaims are a logout token's claims.
type logoutClaims struct {
	jwt.Claims
	Sid    string                     `json:"sid"`
	Events map[string]json.RawMessage `json:"events"`
	Nonce  *string                    `json:"nonce"`
}

// verifyLogoutToken checks a logout token as a relying party must (OpenID
// Connect Back-Channel Logout 1.0, 2.6) with go-jose, against the keys the
// JWKS endpoint publishes, and returns its claims.
func verifyLogoutToken(t *testing.T, ts *testServer, raw, clientID string) logoutClaims {
	t.Helper()
	resp, err := http.Get(ts.PublicURL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatalf("logout token does not parse: %v", err)
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != backchannel.TokenType {
		t.Errorf("typ = %q, want %s", typ, backchannel.TokenType)
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q is not in the JWKS", h.KeyID)
	}
	var c logoutClaims
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: ts.PublicURL, AnyAudience: jwt.Audience{clientID}, Time: time.Now()}, time.Minute); err != nil {
		t.Errorf("claims: %v", err)
	}
	if c.IssuedAt == nil || c.Expiry == nil || c.ID == "" {
		t.Errorf("iat, exp and jti are required: %+v", c.Claims)
	}
	if _, ok := c.Events[backchannel.EventLogout]; !ok || len(c.Events) != 1 {
		t.Errorf("events = %v, want only %s", c.Events, backchannel.EventLogout)
	}
	if c.Nonce != nil {
		t.Error("a logout token must not carry a nonce")
	}
	return c
}

// setBackchannel registers the receiver as the client's logout URI.
func setBackchannel(t *testing.T, ts *testServer, c storage.Client, uri string) {
	t.Helper()
	svc := clients.NewService(ts.Store, time.Now)
	_, _, err := svc.Update(context.Background(), c.ID, clients.Registration{
		Name: c.Name, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		GrantTypes: c.GrantTypes, Scopes: c.Scopes, TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		FirstParty: c.FirstParty, BackchannelLogoutURI: uri, BackchannelLogoutSessionRequired: true,
	})
	if err != nil {
		t.Fatalf("set back-channel logout URI: %v", err)
	}
}

// auditOf returns the audit events with that action, newest first.
func auditOf(t *testing.T, ts *testServer, action string) []storage.AuditEvent {
	t.Helper()
	all, err := ts.Store.ListAudit(context.Background(), 200)
	if err != nil {
		t.Fatal(err)
	}
	var out []storage.AuditEvent
	for _, e := range all {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// TestBrowserBackchannelLogout: a person signs in to two apps with single
// sign-on in Chromium and signs out at one of them (RP-initiated logout);
// each app's back-channel endpoint receives a logout token for the
// session, which verifies against the JWKS.
func TestBrowserBackchannelLogout(t *testing.T) {
	ts := startTestServer(t, withLoopbackOutbound())
	b := newBrowser(t)
	alice := createBrowserUser(t, ts, "alice")
	wiki := newBrowserRP(t, ts, "Wiki", true)
	photo := newBrowserRP(t, ts, "Photo", true)
	other := newBrowserRP(t, ts, "Never used", true)
	wikiBC, photoBC, otherBC := newLogoutReceiver(t), newLogoutReceiver(t), newLogoutReceiver(t)
	setBackchannel(t, ts, wiki.client, wikiBC.srv.URL+"/backchannel")
	setBackchannel(t, ts, photo.client, photoBC.srv.URL+"/backchannel")
	setBackchannel(t, ts, other.client, otherBC.srv.URL+"/backchannel")

	resp, err := http.Get(ts.PublicURL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if disc["backchannel_logout_supported"] != true || disc["backchannel_logout_session_supported"] != true {
		t.Errorf("discovery: backchannel_logout_supported %v, session %v", disc["backchannel_logout_supported"], disc["backchannel_logout_session_supported"])
	}

	b.open(wiki.authURL())
	b.logIn("alice", browserPassword, false)
	w := wiki.expectSignedIn(b)
	b.open(photo.authURL()) // single sign-on: no login page
	p := photo.expectSignedIn(b)
	if w.Claims.SessionID == "" || w.Claims.SessionID != p.Claims.SessionID {
		t.Fatalf("sid %q and %q: want one session for both apps", w.Claims.SessionID, p.Claims.SessionID)
	}

	b.open(browserLogoutURL(endSessionEndpoint(t, ts), url.Values{
		"id_token_hint":            {p.IDToken},
		"post_logout_redirect_uri": {photo.srv.URL + "/signed-out"},
		"state":                    {"bye"},
	}))
	if loc := b.location(); !strings.HasPrefix(loc, photo.srv.URL+"/signed-out") {
		t.Fatalf("after logout at %s:\n%s", loc, b.bodyText())
	}

	for _, rc := range []struct {
		name string
		rp   *browserRP
		lr   *logoutReceiver
	}{{"Wiki", wiki, wikiBC}, {"Photo", photo, photoBC}} {
		c := verifyLogoutToken(t, ts, rc.lr.wait(t, rc.name), rc.rp.client.ID)
		if c.Subject != alice.ID || c.Sid != w.Claims.SessionID {
			t.Errorf("%s: sub %q sid %q, want %q %q", rc.name, c.Subject, c.Sid, alice.ID, w.Claims.SessionID)
		}
	}
	// Audited once per client; the app that got no tokens in the session
	// got no logout token.
	deadline := time.Now().Add(5 * time.Second)
	for len(auditOf(t, ts, backchannel.ActionDelivered)) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	targets := map[string]bool{}
	for _, e := range auditOf(t, ts, backchannel.ActionDelivered) {
		targets[e.Target] = true
	}
	if len(targets) != 2 || !targets[wiki.client.ID] || !targets[photo.client.ID] {
		t.Errorf("backchannel.delivered audited for %v, want Wiki and Photo", targets)
	}
	otherBC.mu.Lock()
	if n := len(otherBC.tokens); n != 0 {
		t.Errorf("the unused app got %d logout tokens", n)
	}
	otherBC.mu.Unlock()
	if q, _ := ts.Store.ListBackchannelDeliveries(context.Background()); len(q) != 0 {
		t.Errorf("%d deliveries left in the queue", len(q))
	}
}

// TestBackchannelDeadRelyingParty: when an account is disabled, every
// session of it ends; an app whose logout endpoint is down, one that does
// not answer in time and one outside the outbound allowlist are each
// retried, then given up with an audit entry, while a healthy app in the
// same logout gets its token at the first attempt.
func TestBackchannelDeadRelyingParty(t *testing.T) {
	x := newE2E(t, withLoopbackOutbound(), func(c *config.Config) {
		c.BackchannelLogoutAttempts = 3
		c.BackchannelLogoutBackoff = 100 * time.Millisecond
		c.OutboundTimeout = time.Second
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + ln.Addr().String() + "/backchannel" // nothing listens there
	ln.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // answers long after the outbound timeout
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	}))
	defer slow.Close()
	healthy := newLogoutReceiver(t)

	rps := map[string]*rp{
		"dead":    x.newRP(adminclient.ClientRegistration{BackchannelLogoutURI: deadURL}),
		"slow":    x.newRP(adminclient.ClientRegistration{BackchannelLogoutURI: slow.URL + "/bc"}),
		"refused": x.newRP(adminclient.ClientRegistration{BackchannelLogoutURI: "http://[::1]:9/bc"}), // not in 127.0.0.0/8
		"healthy": x.newRP(adminclient.ClientRegistration{BackchannelLogoutURI: healthy.srv.URL + "/bc"}),
	}
	u := x.newUser("user")
	for _, r := range rps {
		r.login(u) // a session each
	}
	if _, err := x.admin.DisableUser(x.ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	verifyLogoutToken(t, x.ts, healthy.wait(t, "the healthy app"), rps["healthy"].client.ClientID)

	want := map[string]string{ // client id → what the failure says
		rps["dead"].client.ClientID:    "connection refused",
		rps["slow"].client.ClientID:    "",
		rps["refused"].client.ClientID: "refused by policy",
	}
	deadline := time.Now().Add(30 * time.Second)
	var failed []storage.AuditEvent
	for time.Now().Before(deadline) {
		if failed = auditOf(t, x.ts, backchannel.ActionFailed); len(failed) >= len(want) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(failed) != len(want) {
		t.Fatalf("backchannel.failed audited %d times, want %d: %+v", len(failed), len(want), failed)
	}
	for _, e := range failed {
		frag, ok := want[e.Target]
		if !ok {
			t.Errorf("backchannel.failed for %s, which should have succeeded", e.Target)
			continue
		}
		if e.Details["attempts"] != "3" || !strings.Contains(e.Details["error"], frag) || e.Details["sid"] == "" {
			t.Errorf("backchannel.failed for %s: %v, want 3 attempts and an error with %q", e.Target, e.Details, frag)
		}
	}
	delivered := auditOf(t, x.ts, backchannel.ActionDelivered)
	if len(delivered) != 1 || delivered[0].Target != rps["healthy"].client.ClientID || delivered[0].Details["attempts"] != "1" {
		t.Errorf("backchannel.delivered: %+v, want the healthy app at its first attempt", delivered)
	}
	if q, _ := x.ts.Store.ListBackchannelDeliveries(context.Background()); len(q) != 0 {
		t.Errorf("%d deliveries left in the queue after giving up", len(q))
	}
}

// TestBackchannelOffDropsQueue: deliveries queued while back-channel
// logout was on are, on a server started with --backchannel-logout=false,
// removed at start without a logout token being sent, each with a
// backchannel.dropped audit entry.
func TestBackchannelOffDropsQueue(t *testing.T) {
	ctx := context.Background()
	lr := newLogoutReceiver(t)
	dbURL := pgtest.NewDatabase(t)
	seed, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	if err := postgres.Migrate(ctx, seed.DB()); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, err := range []error{
		seed.CreateUser(ctx, storage.User{ID: "u-ada", Username: "ada", Email: "ada@example.com", CreatedAt: now, UpdatedAt: now}),
		seed.CreateClient(ctx, storage.Client{ID: "app", Name: "App", BackchannelLogoutURI: lr.srv.URL + "/bc",
			TokenEndpointAuthMethod: storage.AuthMethodNone, CreatedAt: now, UpdatedAt: now}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, sid := range []string{"s1", "s2"} {
		if err := seed.CreateSession(ctx, storage.Session{ID: sid, TokenHash: "hash-" + sid, UserID: "u-ada", AuthTime: now,
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := seed.RecordSessionClient(ctx, sid, "app", now); err != nil {
			t.Fatal(err)
		}
		if err := seed.DeleteSession(ctx, sid); err != nil { // the session ends: a delivery is queued
			t.Fatal(err)
		}
	}
	if q, err := seed.ListBackchannelDeliveries(ctx); err != nil || len(q) != 2 {
		t.Fatalf("queued %d deliveries (%v), want 2", len(q), err)
	}
	seed.Close()

	ts := startTestServer(t, withDatabase(dbURL), withLoopbackOutbound(), func(c *config.Config) { c.BackchannelLogout = false })
	var dropped []storage.AuditEvent
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if dropped = auditOf(t, ts, backchannel.ActionDropped); len(dropped) >= 2 {
			break
		}
	}
	if len(dropped) != 2 {
		t.Fatalf("backchannel.dropped audited %d times, want 2: %+v", len(dropped), dropped)
	}
	sids := map[string]bool{}
	for _, e := range dropped {
		if e.Target != "app" || e.Actor != "system" || e.Details["sub"] != "u-ada" || e.Details["attempts"] != "0" {
			t.Errorf("backchannel.dropped entry %+v", e)
		}
		sids[e.Details["sid"]] = true
	}
	if !sids["s1"] || !sids["s2"] {
		t.Errorf("dropped sessions %v, want s1 and s2", sids)
	}
	if q, _ := ts.Store.ListBackchannelDeliveries(ctx); len(q) != 0 {
		t.Errorf("%d deliveries still queued", len(q))
	}
	time.Sleep(2 * backchannel.DefaultPollInterval) // a delivery loop, were one running, would have sent by now
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if len(lr.tokens) != 0 {
		t.Errorf("%d logout tokens sent with back-channel logout off", len(lr.tokens))
	}
}
