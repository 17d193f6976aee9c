package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/signet-idp/signet/internal/adminclient"
	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/storage"
)

// fakeGitHub speaks the GitHub endpoints the github connector calls, as
// documented for OAuth apps and the REST API (GitHub Enterprise Server
// layout: /login/oauth/… and /api/v3/…): the authorize page (which
// approves at once as the person set with signInAs), the token endpoint
// (client secret and PKCE checked), /user, /user/emails, /user/orgs and
// /user/teams.
type fakeGitHub struct {
	t            *testing.T
	srv          *httptest.Server
	clientID     string
	clientSecret string

	mu     sync.Mutex
	as     *ghPerson
	codes  map[string]ghGrant
	tokens map[string]*ghPerson
	people map[string]*ghPerson
}

type ghPerson struct {
	ID     int64
	Login  string
	Name   string
	Emails []map[string]any
	Orgs   []string
	Teams  []string // org/slug
}

type ghGrant struct {
	person    *ghPerson
	challenge string
	redirect  string
}

func newFakeGitHub(t *testing.T) *fakeGitHub {
	g := &fakeGitHub{t: t, clientID: "gh-client", clientSecret: "gh-secret",
		codes: map[string]ghGrant{}, tokens: map[string]*ghPerson{}, people: map[string]*ghPerson{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", g.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", g.token)
	mux.HandleFunc("GET /api/v3/user", g.api(func(p *ghPerson) any {
		return map[string]any{"id": p.ID, "login": p.Login, "name": p.Name, "type": "User"}
	}))
	mux.HandleFunc("GET /api/v3/user/emails", g.api(func(p *ghPerson) any { return p.Emails }))
	mux.HandleFunc("GET /api/v3/user/orgs", g.api(func(p *ghPerson) any {
		out := []map[string]any{}
		for _, o := range p.Orgs {
			out = append(out, map[string]any{"login": o, "id": len(o)})
		}
		return out
	}))
	mux.HandleFunc("GET /api/v3/user/teams", g.api(func(p *ghPerson) any {
		out := []map[string]any{}
		for _, t := range p.Teams {
			org, slug, _ := strings.Cut(t, "/")
			out = append(out, map[string]any{"slug": slug, "name": slug, "organization": map[string]any{"login": org}})
		}
		return out
	}))
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGitHub) signInAs(p *ghPerson) {
	g.mu.Lock()
	g.as = p
	g.mu.Unlock()
}

func (g *fakeGitHub) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != g.clientID || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" {
		http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	code := browserRandom(g.t)
	g.mu.Lock()
	g.codes[code] = ghGrant{person: g.as, challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	g.mu.Unlock()
	back, _ := url.Parse(q.Get("redirect_uri"))
	back.RawQuery = url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (g *fakeGitHub) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fail := func(code string) {
		// GitHub answers 200 with an error body; x/oauth2 reads it.
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
	}
	if r.Form.Get("client_id") != g.clientID || subtle.ConstantTimeCompare([]byte(r.Form.Get("client_secret")), []byte(g.clientSecret)) != 1 {
		fail("incorrect_client_credentials")
		return
	}
	g.mu.Lock()
	grant, ok := g.codes[r.Form.Get("code")]
	delete(g.codes, r.Form.Get("code"))
	g.mu.Unlock()
	sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
	if !ok || grant.redirect != r.Form.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != grant.challenge {
		fail("bad_verification_code")
		return
	}
	tok := browserRandom(g.t)
	g.mu.Lock()
	g.tokens[tok] = grant.person
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"access_token": tok, "token_type": "bearer", "scope": "read:user,user:email,read:org"})
}

func (g *fakeGitHub) api(body func(*ghPerson) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		g.mu.Lock()
		p := g.tokens[tok]
		g.mu.Unlock()
		if !ok || p == nil {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body(p))
	}
}

// TestBrowserConnectorGitHub: a github connector restricted to an
// organisation lets a member in (verified primary e-mail, team mapped to a
// role) and refuses a non-member on Signet's own page.
func TestBrowserConnectorGitHub(t *testing.T) {
	gh := newFakeGitHub(t)
	ts := startTestServer(t)
	ctx := context.Background()
	if err := ts.Store.CreateRole(ctx, storage.Role{Name: "ops"}); err != nil {
		t.Fatal(err)
	}
	admin, err := adminclient.New(ts.AdminURL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateConnector(ctx, adminclient.NewConnector{
		ID: "github", Type: "github", Name: "GitHub", ClientID: gh.clientID, ClientSecret: gh.clientSecret,
		Config:      json.RawMessage(`{"base_url":"` + gh.srv.URL + `","orgs":["acme"],"load_teams":true}`),
		RoleRules:   []adminclient.RoleRule{{Claim: "teams", Value: "acme/sre", Role: "ops"}},
		DefaultRole: "user",
	}); err != nil {
		t.Fatal(err)
	}
	app := newBrowserRP(t, ts, "App", true)

	member := &ghPerson{ID: 4711, Login: "octo-cat", Name: "Octo Cat", Orgs: []string{"acme"}, Teams: []string{"acme/sre"},
		Emails: []map[string]any{
			{"email": "old@example.com", "primary": false, "verified": true},
			{"email": "octo@example.com", "primary": true, "verified": true},
		}}
	gh.signInAs(member)
	b := newBrowser(t)
	b.open(app.authURL())
	b.expectText("Continue with GitHub")
	b.submit(`a.connector`)
	settle(b)
	c := claimsOf(t, app.expectSignedIn(b).IDToken)
	if c.Email != "octo@example.com" || c.IDP != "github" || !slices.Contains(c.Roles, "ops") || !slices.Contains(c.Roles, "user") {
		t.Fatalf("GitHub member's ID token claims %+v: want the verified primary e-mail, idp github, roles ops and user", c)
	}
	link, err := ts.Store.GetUpstreamIdentity(ctx, "github", "4711")
	if err != nil || link.UserID != c.Subject {
		t.Fatalf("identity keyed by GitHub's numeric id: %+v, %v", link, err)
	}
	if u, err := ts.Store.GetUser(ctx, c.Subject); err != nil || u.Username != "octo-cat" {
		t.Fatalf("JIT user %+v (%v), want user name octo-cat", u, err)
	}

	outsider := &ghPerson{ID: 99, Login: "mallory", Orgs: []string{"evil"}, Teams: []string{"evil/all"},
		Emails: []map[string]any{{"email": "mallory@example.com", "primary": true, "verified": true}}}
	gh.signInAs(outsider)
	b2 := newBrowser(t)
	b2.open(app.authURL())
	b2.submit(`a.connector`)
	settle(b2)
	b2.expectText("Not allowed to sign in", "upstream_not_allowed")
	if _, err := ts.Store.GetUserByLogin(ctx, "mallory@example.com"); err == nil {
		t.Fatal("a non-member of the allowed organisations got an account")
	}

	// A member whose primary address GitHub has not verified is refused.
	unverified := &ghPerson{ID: 100, Login: "newbie", Orgs: []string{"acme"},
		Emails: []map[string]any{{"email": "newbie@example.com", "primary": true, "verified": false}}}
	gh.signInAs(unverified)
	b3 := newBrowser(t)
	b3.open(app.authURL())
	b3.submit(`a.connector`)
	settle(b3)
	b3.expectText("E-mail address not verified", "upstream_email_unverified")
}

// TestBrowserConnectorConsole: an administrator adds a provider in the
// console; the login page then offers it (a link, reachable with the
// keyboard); turned off, it is gone. With --password-login=false the
// password form gives way to the providers.
func TestBrowserConnectorConsole(t *testing.T) {
	gh := newFakeGitHub(t)
	ts := startTestServer(t, func(c *config.Config) { c.PasswordLogin = false })
	newAdmin(t, ts, "root")
	b := newBrowser(t)

	// No provider yet: the password form stays, whatever the flag says.
	b.open(ts.PublicURL + "/admin/connectors")
	b.logIn("root", browserPassword, false)
	b.expectText("Sign-in providers", "No sign-in providers yet.")
	b.do("choose github", chromedp.SetValue(chromedp.ID("connector-type"), "github"))
	b.fill("connector-id", "github", "connector-name", "GitHub", "connector-client-id", gh.clientID,
		"connector-client-secret", gh.clientSecret, "connector-orgs", "acme", "connector-rules", "teams:acme/sre=nosuchrole")
	b.submit(`form[action="/admin/connectors"] button[type="submit"]`)
	b.expectText("Role nosuchrole does not exist")
	if b.has(`#connector-client-secret[value]`) {
		t.Fatal("the form shows the client secret again")
	}
	b.fill("connector-client-secret", gh.clientSecret, "connector-rules", " ")
	b.submit(`form[action="/admin/connectors"] button[type="submit"]`)
	b.expectText("The sign-in provider is added", "/connectors/github/callback")
	row, err := ts.Store.GetConnector(context.Background(), "github")
	if err != nil || row.Type != "github" || len(row.ClientSecret) == 0 || strings.Contains(string(row.ClientSecret), gh.clientSecret) {
		t.Fatalf("stored connector %+v (%v)", row, err)
	}

	app := newBrowserRP(t, ts, "App", true)
	b2 := newBrowser(t)
	b2.open(app.authURL())
	b2.expectText("Continue with GitHub")
	if b2.has("#password") {
		t.Fatal("--password-login=false still shows the password form next to a provider")
	}
	// Keyboard: the first Tab stops (after the skip link) reach the button.
	focused := ""
	for range 6 {
		b2.do("tab", chromedp.KeyEvent("\t"))
		focused = runIn(b2, "focused", chromedp.Evaluate[string](`document.activeElement ? document.activeElement.textContent : ""`))
		if strings.Contains(focused, "Continue with GitHub") {
			break
		}
	}
	if !strings.Contains(focused, "Continue with GitHub") {
		t.Fatalf("Tab never reached the provider button (last focus %q)", focused)
	}
	b2.screenshot("login-connectors", 390)
	b2.screenshot("login-connectors", 1280)

	// Turned off in the console: off the login page, and the password form is back.
	// (root's session is still on: with the flag off and a provider on,
	// nobody signs in with a password.)
	b.open(ts.PublicURL + "/admin/connectors")
	b.submit(`form[action="/admin/connectors/github/disable"] button`)
	b.expectText("off the login page")
	b2.open(app.authURL())
	if b2.has(`a.connector`) || !b2.has("#password") {
		t.Fatalf("after turning the provider off:\n%s", b2.bodyText())
	}
}

// TestBrowserConnectorEdit: an administrator changes a provider on its
// console page: settings and role rules are stored, an empty secret field
// keeps the secret and a filled one replaces it, and a refusal is shown
// on the page with what was typed.
func TestBrowserConnectorEdit(t *testing.T) {
	ts := startTestServer(t)
	newAdmin(t, ts, "root")
	ctx := context.Background()
	for _, r := range []string{"developer", "ops"} {
		if err := ts.Store.CreateRole(ctx, storage.Role{Name: r}); err != nil {
			t.Fatal(err)
		}
	}
	stored := func() storage.Connector {
		t.Helper()
		c, err := ts.Store.GetConnector(ctx, "corp")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	b := newBrowser(t)
	b.open(ts.PublicURL + "/admin/connectors")
	b.logIn("root", browserPassword, false)
	b.fill("connector-id", "corp", "connector-name", "Corp", "connector-client-id", "signet",
		"connector-client-secret", "first-secret", "connector-issuer", "https://login.corp.example")
	b.submit(`form[action="/admin/connectors"] button[type="submit"]`)
	b.expectText("The sign-in provider is added")
	first := stored()

	b.submit(`a[href="/admin/connectors/corp/edit"]`)
	b.expectText("Change Corp", "A client secret is set", "/connectors/corp/callback")
	if b.has(`#connector-client-secret[value]`) || b.has(`#connector-orgs`) {
		t.Fatal("the edit page shows the secret, or a github field on an oidc provider")
	}
	b.fill("connector-name", "Corp SSO", "connector-scopes", "openid email groups", "connector-groups-claim", "roles",
		"rule-claim-1", "groups", "rule-value-1", "engineering", "rule-role-1", "developer",
		"rule-claim-2", "groups", "rule-value-2", "sre", "rule-role-2", "ghost")
	b.submit(`form[action="/admin/connectors/corp/edit"] button[type="submit"]`)
	b.expectText("Role ghost does not exist", "Change Corp")
	if v := runIn(b, "typed value", chromedp.Evaluate[string](`document.getElementById("rule-role-2").value`)); v != "ghost" {
		t.Fatalf("the refused form lost what was typed: %q", v)
	}
	if c := stored(); c.Name != "Corp" || len(c.RoleRules) != 0 {
		t.Fatalf("a refused form changed the provider: %+v", c)
	}
	b.screenshot("admin-connector-edit", 390)
	b.screenshot("admin-connector-edit", 1280)

	b.fill("rule-role-2", "ops")
	b.submit(`form[action="/admin/connectors/corp/edit"] button[type="submit"]`)
	b.expectText("changes are saved", "Corp SSO", "groups:engineering=developer", "groups:sre=ops")
	c := stored()
	wantRules := []storage.RoleRule{{Claim: "groups", Value: "engineering", Role: "developer"}, {Claim: "groups", Value: "sre", Role: "ops"}}
	if c.Name != "Corp SSO" || !slices.Equal(c.RoleRules, wantRules) || !strings.Contains(string(c.Config), `"groups_claim":"roles"`) ||
		!strings.Contains(string(c.Config), `"scopes":["openid","email","groups"]`) {
		t.Fatalf("stored after the edit: %+v (config %s)", c, c.Config)
	}
	if !bytes.Equal(c.ClientSecret, first.ClientSecret) {
		t.Fatal("an empty secret field changed the client secret")
	}

	b.submit(`a[href="/admin/connectors/corp/edit"]`)
	b.fill("connector-client-secret", "second-secret")
	runIn(b, "empty the first rule", chromedp.Evaluate[bool](`["claim","value","role"].every(f => (document.getElementById("rule-" + f + "-1").value = "") === "")`))
	b.submit(`form[action="/admin/connectors/corp/edit"] button[type="submit"]`)
	b.expectText("changes are saved")
	c = stored()
	if len(c.ClientSecret) == 0 || bytes.Equal(c.ClientSecret, first.ClientSecret) || bytes.Contains(c.ClientSecret, []byte("second-secret")) {
		t.Fatal("a new secret was not stored sealed")
	}
	if !slices.Equal(c.RoleRules, wantRules[1:]) {
		t.Fatalf("rules after emptying a row: %+v", c.RoleRules)
	}
}
