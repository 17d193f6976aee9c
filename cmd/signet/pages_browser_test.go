package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/storage"
)

// The browser tests drive Debian's headless Chromium through the pages a
// person sees, with a real relying party (x/oauth2 + go-oidc) on loopback.
// Without Chromium they skip, except under CI (env CI set), where they fail.

const browserPassword = "a long and correct password"

// chromiumPath finds the browser or ends the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("SIGNET_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Chromium is required under CI but not found at %s (set SIGNET_CHROMIUM): %v", path, err)
		}
		t.Skipf("Chromium not found at %s (set SIGNET_CHROMIUM); skipping browser test", path)
	}
	return path
}

// browserTab is one headless Chromium with a fresh profile.
type browserTab struct {
	t   *testing.T
	ctx context.Context
}

func newBrowser(t *testing.T) *browserTab {
	t.Helper()
	path := chromiumPath(t)
	// A fresh profile per browser. Chromium's helper processes can still
	// write in it for a moment after the browser exits, so it is removed
	// with retries (this cleanup runs after the one that stops Chromium).
	profile, err := os.MkdirTemp("", "signet-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 50 {
			if err := os.RemoveAll(profile); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("could not remove the Chromium profile %s", profile)
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// Start the browser without a deadline (a deadline would end it).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return &browserTab{t: t, ctx: ctx}
}

// do runs steps with a deadline, failing the test on error.
func (b *browserTab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v (at %s)\n%s", what, err, b.location(), b.bodyText())
	}
}

func runIn[T any](b *browserTab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

func (b *browserTab) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	return loc
}

func (b *browserTab) bodyText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return s
}

// open navigates and waits for the final page (after redirects) to load.
func (b *browserTab) open(u string) {
	b.t.Helper()
	b.do("open "+u, chromedp.Navigate(u))
}

// submit clicks a button and waits for the page it leads to.
func (b *browserTab) submit(button string) {
	b.t.Helper()
	b.do("click "+button, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(button)))(ctx, t)
		return err
	}))
}

// has reports whether the current page has an element matching css.
func (b *browserTab) has(css string) bool {
	b.t.Helper()
	return runIn(b, "query "+css, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q) !== null`, css)))
}

// logIn fills the login form on the current page and submits it.
func (b *browserTab) logIn(username, password string, remember bool) {
	b.t.Helper()
	if !b.has("#password") {
		b.t.Fatalf("no login form at %s:\n%s", b.location(), b.bodyText())
	}
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.SetValue(chromedp.ID("username"), username),
		chromedp.SetValue(chromedp.ID("password"), password),
	}
	if remember {
		steps = append(steps, chromedp.Click(chromedp.ID("remember")))
	}
	b.do("fill login form", steps...)
	b.submit(`form.stack button[type="submit"]`)
}

// screenshot saves the current page at a width under test-output/.
func (b *browserTab) screenshot(name string, width int64) {
	b.t.Helper()
	b.do("resize", chromedp.EmulateViewport(width, 800))
	png := runIn(b, "screenshot", chromedp.FullScreenshot(100))
	dir := browserScreenshotDir(b.t)
	file := filepath.Join(dir, fmt.Sprintf("%s-%dpx.png", name, width))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", file)
	b.do("resize back", chromedp.EmulateViewport(1280, 900))
}

// browserScreenshotDir is test-output/screenshots at the module root (gitignored),
// or SIGNET_SCREENSHOT_DIR.
func browserScreenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SIGNET_SCREENSHOT_DIR")
	if dir == "" {
		root, err := filepath.Abs("../..")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
			dir = filepath.Join(os.TempDir(), "signet-screenshots")
		} else {
			dir = filepath.Join(root, "test-output", "screenshots")
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browserRP is a web app that signs people in with Signet: x/oauth2 for
// the code flow with PKCE, go-oidc to verify ID tokens.
type browserRP struct {
	t        *testing.T
	srv      *httptest.Server
	client   storage.Client
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier

	mu      sync.Mutex
	pending map[string]browserPending
	results []browserRPResult
}

type browserPending struct{ nonce, verifier string }

// browserIDClaims are the ID token claims the tests look at.
type browserIDClaims struct {
	Subject           string   `json:"sub"`
	SessionID         string   `json:"sid"`
	Nonce             string   `json:"nonce"`
	AuthTime          int64    `json:"auth_time"`
	PreferredUsername string   `json:"preferred_username"`
	Email             string   `json:"email"`
	Roles             []string `json:"roles"`
	EmailVerified     bool     `json:"email_verified"`
	AMR               []string `json:"amr"`
	ACR               string   `json:"acr"`
}

// browserRPResult is what one callback brought.
type browserRPResult struct {
	Error   string
	State   string
	Claims  browserIDClaims
	Scopes  string
	IDToken string
	// Token is what the token endpoint answered (access and, with
	// offline_access, refresh token).
	Token *oauth2.Token
}

var browserRPPage = template.Must(template.New("rp").Parse(`<!doctype html><html><head><title>RP</title></head><body>` +
	`<p id="rp-result">{{.}}</p></body></html>`))

func newBrowserRP(t *testing.T, ts *testServer, name string, firstParty bool) *browserRP {
	t.Helper()
	rp := &browserRP{t: t, pending: map[string]browserPending{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/callback", rp.callback)
	mux.HandleFunc("/signed-out", func(w http.ResponseWriter, r *http.Request) {
		_ = browserRPPage.Execute(w, "signed out state="+r.URL.Query().Get("state"))
	})
	rp.srv = httptest.NewServer(mux)
	t.Cleanup(rp.srv.Close)

	ctx := context.Background()
	cl, secret, err := clients.NewService(ts.Store, time.Now).Create(ctx, clients.Registration{
		Name:                   name,
		RedirectURIs:           []string{rp.srv.URL + "/callback"},
		PostLogoutRedirectURIs: []string{rp.srv.URL + "/signed-out"},
		FirstParty:             firstParty,
	})
	if err != nil {
		t.Fatalf("create client %s: %v", name, err)
	}
	rp.client = cl
	provider, err := oidc.NewProvider(ctx, ts.PublicURL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	rp.oauth = oauth2.Config{
		ClientID:     cl.ID,
		ClientSecret: secret,
		Endpoint:     provider.Endpoint(),
		RedirectURL:  rp.srv.URL + "/callback",
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email", "roles"},
	}
	rp.verifier = provider.Verifier(&oidc.Config{ClientID: cl.ID, Now: ts.Clock.Now})
	return rp
}

func browserRandom(t *testing.T) string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// authURL starts a sign-in: state, nonce and a PKCE verifier are kept for
// the callback.
func (rp *browserRP) authURL(params ...string) string {
	state, nonce, verifier := browserRandom(rp.t), browserRandom(rp.t), oauth2.GenerateVerifier()
	rp.mu.Lock()
	rp.pending[state] = browserPending{nonce: nonce, verifier: verifier}
	rp.mu.Unlock()
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)}
	for i := 0; i+1 < len(params); i += 2 {
		opts = append(opts, oauth2.SetAuthURLParam(params[i], params[i+1]))
	}
	return rp.oauth.AuthCodeURL(state, opts...)
}

func (rp *browserRP) callback(w http.ResponseWriter, r *http.Request) {
	res, err := rp.finish(r)
	if err != nil {
		res.Error = "rp: " + err.Error()
	}
	rp.mu.Lock()
	rp.results = append(rp.results, res)
	rp.mu.Unlock()
	msg := "signed in as " + res.Claims.Subject
	if res.Error != "" {
		msg = "error " + res.Error
	}
	_ = browserRPPage.Execute(w, msg)
}

func (rp *browserRP) finish(r *http.Request) (browserRPResult, error) {
	q := r.URL.Query()
	res := browserRPResult{State: q.Get("state")}
	rp.mu.Lock()
	p, ok := rp.pending[res.State]
	delete(rp.pending, res.State)
	rp.mu.Unlock()
	if !ok {
		return res, errors.New("unknown state")
	}
	if e := q.Get("error"); e != "" {
		res.Error = e
		return res, nil
	}
	ctx := r.Context()
	tok, err := rp.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(p.verifier))
	if err != nil {
		return res, fmt.Errorf("exchange: %w", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return res, errors.New("no id_token")
	}
	idt, err := rp.verifier.Verify(ctx, raw)
	if err != nil {
		return res, fmt.Errorf("verify id_token: %w", err)
	}
	if err := idt.Claims(&res.Claims); err != nil {
		return res, err
	}
	if res.Claims.Nonce != p.nonce {
		return res, errors.New("nonce mismatch")
	}
	res.IDToken = raw
	res.Token = tok
	res.Scopes, _ = tok.Extra("scope").(string)
	return res, nil
}

// last returns the latest callback result, failing when there is none.
func (rp *browserRP) last() browserRPResult {
	rp.t.Helper()
	rp.mu.Lock()
	defer rp.mu.Unlock()
	if len(rp.results) == 0 {
		rp.t.Fatal("the relying party got no callback")
	}
	return rp.results[len(rp.results)-1]
}

// expectSignedIn checks the browser is back at the relying party with a
// verified ID token and returns its result.
func (rp *browserRP) expectSignedIn(b *browserTab) browserRPResult {
	rp.t.Helper()
	if loc := b.location(); !strings.HasPrefix(loc, rp.srv.URL+"/callback") {
		rp.t.Fatalf("browser at %s, want the %s callback:\n%s", loc, rp.client.Name, b.bodyText())
	}
	res := rp.last()
	if res.Error != "" {
		rp.t.Fatalf("%s callback error: %s", rp.client.Name, res.Error)
	}
	return res
}

// expectError checks the relying party got the OAuth error code.
func (rp *browserRP) expectError(b *browserTab, code string) {
	rp.t.Helper()
	if loc := b.location(); !strings.HasPrefix(loc, rp.srv.URL+"/callback") {
		rp.t.Fatalf("browser at %s, want the %s callback with %s:\n%s", loc, rp.client.Name, code, b.bodyText())
	}
	if res := rp.last(); res.Error != code {
		rp.t.Fatalf("%s callback error %q, want %q", rp.client.Name, res.Error, code)
	}
}

// createBrowserUser makes a person with the user role.
func createBrowserUser(t *testing.T, ts *testServer, username string) accounts.User {
	t.Helper()
	h := accounts.PasswordHasher{Memory: 1024, Time: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	u, err := accounts.NewService(ts.Store, accounts.Options{Hasher: &h}).CreateUser(context.Background(), accounts.NewUser{
		Username: username, Email: username + "@example.com", Name: strings.ToUpper(username[:1]) + username[1:],
		Password: browserPassword, EmailVerified: true, Roles: []string{storage.RoleUser},
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// endSessionEndpoint reads it from discovery, as a relying party would.
func endSessionEndpoint(t *testing.T, ts *testServer) string {
	t.Helper()
	resp, err := http.Get(ts.PublicURL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.EndSession == "" {
		// Reported, and the rest of the journey still runs against the
		// logout page itself.
		t.Error("discovery has no end_session_endpoint")
		return ts.PublicURL + "/logout"
	}
	return d.EndSession
}

func browserLogoutURL(endpoint string, q url.Values) string { return endpoint + "?" + q.Encode() }

// TestBrowserSignInJourney walks one person through everything a session
// does: login and consent, single sign-on into a second app, remembered
// consent, prompt=none, max_age, and logout back to the app.
func TestBrowserSignInJourney(t *testing.T) {
	ts := startTestServer(t)
	b := newBrowser(t)
	alice := createBrowserUser(t, ts, "alice")
	photo := newBrowserRP(t, ts, "Photo App", false)
	notes := newBrowserRP(t, ts, "Notes", false)

	// 1. Login, then consent, then back at the app with a verified token.
	b.open(photo.authURL())
	if !strings.Contains(b.bodyText(), "Photo App") {
		t.Errorf("login page does not name the app:\n%s", b.bodyText())
	}
	// The stylesheet loads under the CSP: the primary button has the
	// accent colour, not the browser's default grey.
	bg := runIn(b, "button colour", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("button.primary")).backgroundColor`))
	if bg != "rgb(31, 79, 191)" {
		t.Errorf("sign-in button background %q: stylesheet not applied", bg)
	}
	b.screenshot("login", 390)
	b.screenshot("login", 1280)
	b.logIn("alice", browserPassword, false)
	if !b.has(`button[name="decision"][value="allow"]`) {
		t.Fatalf("no consent page after login at %s:\n%s", b.location(), b.bodyText())
	}
	text := b.bodyText()
	for _, want := range []string{"Photo App", "Know who you are", "See your e-mail address", "See your roles"} {
		if !strings.Contains(text, want) {
			t.Errorf("consent page lacks %q:\n%s", want, text)
		}
	}
	b.screenshot("consent", 390)
	b.screenshot("consent", 1280)
	b.submit(`button[value="allow"]`)
	first := photo.expectSignedIn(b)
	c := first.Claims
	if c.Subject != alice.ID || c.PreferredUsername != "alice" || c.Email != "alice@example.com" || c.SessionID == "" || c.AuthTime == 0 {
		t.Errorf("ID token claims = %+v", c)
	}
	if len(c.Roles) != 1 || c.Roles[0] != storage.RoleUser {
		t.Errorf("roles claim = %v", c.Roles)
	}
	sessions, err := ts.Store.ListUserSessions(context.Background(), alice.ID)
	if err != nil || len(sessions) != 1 || sessions[0].ID != c.SessionID {
		t.Fatalf("sessions = %+v, %v; sid %s", sessions, err, c.SessionID)
	}

	// 2. A second app: no password (single sign-on), only its consent.
	b.open(notes.authURL())
	if b.has("#password") {
		t.Fatal("second app asked for the password again")
	}
	if !strings.Contains(b.bodyText(), "Notes") {
		t.Fatalf("want the consent page of Notes:\n%s", b.bodyText())
	}
	b.submit(`button[value="allow"]`)
	sso := notes.expectSignedIn(b).Claims
	if sso.Subject != alice.ID || sso.SessionID != c.SessionID || sso.AuthTime != c.AuthTime {
		t.Errorf("SSO claims = %+v, first %+v", sso, c)
	}

	// 3. The first app again, with fewer scopes: consent is remembered,
	// the browser goes straight back.
	b.open(photo.authURL("scope", "openid email"))
	again := photo.expectSignedIn(b)
	if again.Claims.Subject != alice.ID || again.Claims.Email != "alice@example.com" || again.Claims.PreferredUsername != "" {
		t.Errorf("remembered consent claims = %+v (only openid email granted)", again.Claims)
	}

	// 4. prompt=none with a session and consent: a silent success.
	b.open(photo.authURL("prompt", "none"))
	if got := photo.expectSignedIn(b).Claims; got.Subject != alice.ID {
		t.Errorf("prompt=none claims = %+v", got)
	}

	// 5. max_age: an older login is not good enough; auth_time moves.
	// (Real time passes here: fosite checks auth_time against its own
	// clock, so the test clock must not run ahead of it.)
	time.Sleep(2100 * time.Millisecond)
	b.open(photo.authURL("max_age", "1"))
	if !b.has("#password") {
		t.Fatalf("max_age=1 after 2 seconds did not ask for the password:\n%s", b.bodyText())
	}
	if v := runIn(b, "username", chromedp.Value(chromedp.ID("username"))); v != "alice" {
		t.Errorf("re-authentication form user name = %q, want alice", v)
	}
	b.logIn("alice", browserPassword, false)
	re := photo.expectSignedIn(b)
	if re.Claims.AuthTime < c.AuthTime+2 {
		t.Errorf("auth_time after max_age = %d, first %d: not moved", re.Claims.AuthTime, c.AuthTime)
	}

	// 6. Logout from the app, back to its registered page with state; the
	// session and its cookie are gone.
	end := endSessionEndpoint(t, ts)
	b.open(browserLogoutURL(end, url.Values{
		"id_token_hint":            {re.IDToken},
		"post_logout_redirect_uri": {photo.srv.URL + "/signed-out"},
		"state":                    {"bye-123"},
	}))
	if loc := b.location(); !strings.HasPrefix(loc, photo.srv.URL+"/signed-out") || !strings.Contains(b.bodyText(), "state=bye-123") {
		t.Fatalf("after logout at %s:\n%s", loc, b.bodyText())
	}
	if left, _ := ts.Store.ListUserSessions(context.Background(), alice.ID); len(left) != 0 {
		t.Errorf("sessions after logout: %d", len(left))
	}

	// 7. prompt=none without a session: login_required.
	b.open(photo.authURL("prompt", "none"))
	photo.expectError(b, "login_required")

	// 8. prompt=none with a session but no consent for this app:
	// consent_required.
	b.open(photo.authURL())
	b.logIn("alice@example.com", browserPassword, true)
	photo.expectSignedIn(b) // consent was remembered
	calendar := newBrowserRP(t, ts, "Calendar", false)
	b.open(calendar.authURL("prompt", "none"))
	calendar.expectError(b, "consent_required")

	// 9. Logout without a hint: Signet asks first, then goes back to the
	// app (its form may end there under the CSP).
	b.open(browserLogoutURL(end, url.Values{
		"client_id":                {photo.client.ID},
		"post_logout_redirect_uri": {photo.srv.URL + "/signed-out"},
		"state":                    {"s2"},
	}))
	if !b.has(`button[name="decision"][value="logout"]`) || !strings.Contains(b.bodyText(), "Photo App") {
		t.Fatalf("no logout confirmation naming the app:\n%s", b.bodyText())
	}
	b.screenshot("logout-confirm", 390)
	b.submit(`button[value="logout"]`)
	if loc := b.location(); !strings.HasPrefix(loc, photo.srv.URL+"/signed-out") || !strings.Contains(b.bodyText(), "state=s2") {
		t.Fatalf("after confirmed logout at %s:\n%s", loc, b.bodyText())
	}
	if left, _ := ts.Store.ListUserSessions(context.Background(), alice.ID); len(left) != 0 {
		t.Errorf("sessions after confirmed logout: %d", len(left))
	}

	// 10. The plain "Sign out" on Signet's own pages.
	b.open(photo.authURL())
	b.logIn("alice", browserPassword, false)
	photo.expectSignedIn(b)
	b.open(ts.PublicURL + "/")
	if !strings.Contains(b.bodyText(), "You are signed in") {
		t.Fatalf("start page:\n%s", b.bodyText())
	}
	b.submit(`form.signout button`)
	if !strings.Contains(b.bodyText(), "You are signed out") {
		t.Fatalf("after Sign out:\n%s", b.bodyText())
	}
	b.screenshot("signed-out", 390)
	if left, _ := ts.Store.ListUserSessions(context.Background(), alice.ID); len(left) != 0 {
		t.Errorf("sessions after Sign out: %d", len(left))
	}
}

// TestBrowserDeny: denying consent sends the app access_denied.
func TestBrowserDeny(t *testing.T) {
	ts := startTestServer(t)
	b := newBrowser(t)
	createBrowserUser(t, ts, "bob")
	app := newBrowserRP(t, ts, "Curious App", false)
	b.open(app.authURL())
	b.logIn("bob", browserPassword, false)
	b.submit(`button[value="deny"]`)
	app.expectError(b, "access_denied")

	// A first-party app never asks.
	portal := newBrowserRP(t, ts, "Portal", true)
	b.open(portal.authURL())
	portal.expectSignedIn(b)
}

// TestBrowserCSRFRejected: a login form posted from another site is
// refused with Signet's error page, and nobody is signed in.
func TestBrowserCSRFRejected(t *testing.T) {
	ts := startTestServer(t)
	b := newBrowser(t)
	u := createBrowserUser(t, ts, "carol")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><html><body><form method="post" action="%s/login">`+
			`<input name="username" value="carol"><input name="password" value="%s">`+
			`<input name="csrf_token" value="guessed"><button id="go" type="submit">go</button></form></body></html>`,
			ts.PublicURL, browserPassword)
	}))
	t.Cleanup(evil.Close)
	b.open(evil.URL)
	b.submit("#go")
	text := b.bodyText()
	if !strings.Contains(text, "This form could not be accepted") || !strings.Contains(text, "csrf_failed") {
		t.Fatalf("cross-site login form was not refused at %s:\n%s", b.location(), text)
	}
	if left, _ := ts.Store.ListUserSessions(context.Background(), u.ID); len(left) != 0 {
		t.Fatal("a cross-site form started a session")
	}
}

// TestBrowserThrottle: after five wrong passwords even the right one waits;
// once the back-off has passed it works.
func TestBrowserThrottle(t *testing.T) {
	ts := startTestServer(t)
	b := newBrowser(t)
	createBrowserUser(t, ts, "dave")
	app := newBrowserRP(t, ts, "Photo App", false)
	b.open(app.authURL())
	for i := range 5 {
		b.logIn("dave", "wrong password", false)
		if !strings.Contains(b.bodyText(), "not right") {
			t.Fatalf("failure %d: want the generic message:\n%s", i+1, b.bodyText())
		}
	}
	b.logIn("dave", browserPassword, false)
	if text := b.bodyText(); !strings.Contains(text, "Too many failed attempts") {
		t.Fatalf("sixth attempt not throttled:\n%s", text)
	}
	b.screenshot("login-throttled", 390)
	events, err := ts.Store.ListAudit(context.Background(), 20)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range events {
		seen[e.Action]++
	}
	if seen["login.failure"] != 5 || seen["login.lockout"] != 1 {
		t.Errorf("audit log: %v, want 5 login.failure and 1 login.lockout", seen)
	}
	ts.Clock.Advance(time.Minute)
	b.logIn("dave", browserPassword, false)
	if !b.has(`button[value="allow"]`) {
		t.Fatalf("login after the back-off failed:\n%s", b.bodyText())
	}
}
