package console

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/connectors"
	"github.com/signet-idp/signet/internal/mail"
	"github.com/signet-idp/signet/internal/mail/mailtest"
	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/storage/memory"
	"github.com/signet-idp/signet/internal/web"
	"github.com/signet-idp/signet/internal/web/pages"
	"github.com/signet-idp/signet/internal/web/render"
)

const password = "correct horse battery"

// noChallenges: the console's tests sign in to Signet itself only.
type noChallenges struct{}

func (noChallenges) Challenge(context.Context, string) (pages.Challenge, error) {
	return pages.Challenge{}, pages.ErrChallengeNotFound
}

func (noChallenges) AcceptLogin(context.Context, string, string, string, time.Time) error {
	return pages.ErrChallengeNotFound
}

func (noChallenges) DecideConsent(context.Context, string, []string, bool) error {
	return pages.ErrChallengeNotFound
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

type env struct {
	t      *testing.T
	srv    *httptest.Server
	store  *memory.Store
	acc    *accounts.Service
	outbox *mailtest.Outbox
	root   accounts.User
	alice  accounts.User
}

// newEnv serves the login page and the console over the memory store,
// with an administrator root and a user alice.
func newEnv(t *testing.T) *env {
	t.Helper()
	st := memory.New()
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	hasher := accounts.PasswordHasher{Memory: 64, Time: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	composer, err := mail.NewComposer("")
	if err != nil {
		t.Fatal(err)
	}
	outbox := &mailtest.Outbox{}
	au := audit.New(st, clk.Now, nil)
	acc := accounts.NewService(st, accounts.Options{Hasher: &hasher, Now: clk.Now, Audit: au, Issuer: "https://id.example",
		Mailer: mail.Postman{Composer: composer, Sender: outbox}})
	ctx := context.Background()
	root, err := acc.CreateUser(ctx, accounts.NewUser{Username: "root", Email: "root@example.com", Password: password, EmailVerified: true, Roles: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	alice, err := acc.CreateUser(ctx, accounts.NewUser{Username: "alice", Email: "alice@example.com", Name: "Alice", Password: password, Roles: []string{"user"}})
	if err != nil {
		t.Fatal(err)
	}
	rd, err := render.New(render.Branding{})
	if err != nil {
		t.Fatal(err)
	}
	sm := sessions.NewManager(st, sessions.Options{Now: clk.Now})
	ph, err := pages.New(pages.Config{
		Render: rd, Sessions: sm, Throttle: sessions.NewThrottle(st, sessions.ThrottlePolicy{}, sessions.ThrottlePolicy{}, clk.Now),
		Consents: sessions.NewConsents(st, clk.Now), Challenges: noChallenges{}, Accounts: acc, Users: st, Clients: st, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	conn := connectors.New(st, connectors.Options{Secret: []byte("console-test-secret-0123456789abcdef"), Issuer: "https://id.example", Audit: au, Now: clk.Now})
	if _, err := conn.Create(ctx, connectors.Input{ID: "corp", Type: "oidc", Name: "Corp", ClientID: "signet", ClientSecret: "first-secret",
		Config: []byte(`{"issuer":"https://login.corp.example"}`)}); err != nil {
		t.Fatal(err)
	}
	ch, err := New(Config{Render: rd, Sessions: sm, Accounts: acc, Clients: clients.NewService(st, clk.Now, clients.WithSigningAlgorithms([]string{"RS256"})), Audit: au, CSRF: ph.CSRF(),
		Connectors: conn})
	if err != nil {
		t.Fatal(err)
	}
	e := web.New(web.Options{Name: "public"})
	ph.Register(e)
	ch.Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, store: st, acc: acc, outbox: outbox, root: root, alice: alice}
}

type browser struct {
	env *env
	c   *http.Client
}

type page struct {
	status   int
	body     string
	location string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{env: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) page {
	b.env.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.env.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, body: string(body), location: resp.Header.Get("Location")}
}

func (b *browser) get(path string) page {
	b.env.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.env.srv.URL+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, v url.Values) page {
	b.env.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.env.srv.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF field on the page (status %d):\n%s", p.status, p.body)
	}
	return m[1]
}

// signIn logs in through the login form.
func (b *browser) signIn(username string) {
	b.env.t.Helper()
	form := b.get(pages.LoginPath)
	p := b.post(pages.LoginPath, url.Values{pages.CSRFField: {csrfOf(b.env.t, form)}, "username": {username}, "password": {password}})
	if p.status != http.StatusSeeOther {
		b.env.t.Fatalf("login as %s = %d:\n%s", username, p.status, p.body)
	}
}

// send posts a console form with a CSRF token taken from page from.
func (b *browser) send(from, path string, v url.Values) page {
	b.env.t.Helper()
	f := b.get(from)
	if f.status != http.StatusOK {
		b.env.t.Fatalf("GET %s = %d (to %q)", from, f.status, f.location)
	}
	if v == nil {
		v = url.Values{}
	}
	v.Set(pages.CSRFField, csrfOf(b.env.t, f))
	return b.post(path, v)
}

func wantStatus(t *testing.T, p page, status int) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d (location %q), want %d:\n%s", p.status, p.location, status, p.body)
	}
}

func wantRedirect(t *testing.T, p page, to string) {
	t.Helper()
	if p.status != http.StatusSeeOther || p.location != to {
		t.Fatalf("answer %d to %q, want 303 to %q:\n%s", p.status, p.location, to, p.body)
	}
}

func wantBody(t *testing.T, p page, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(p.body, w) {
			t.Errorf("page (status %d) lacks %q:\n%s", p.status, w, p.body)
		}
	}
}

func (e *env) roles(id string) []string {
	e.t.Helper()
	r, err := e.store.ListUserRoles(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// routes are every console route, with a form that would change
// something if it were accepted.
func routes(e *env) (gets []string, posts map[string]url.Values) {
	u := UsersPath + "/" + e.alice.ID
	gets = []string{Prefix, UsersPath, UsersPath + "?q=ali", u, RolesPath, ClientsPath, AuditPath, Prefix + "/nowhere",
		ConnectorsPath, ConnectorsPath + "/corp/edit", ClientsPath + "/x/edit"}
	posts = map[string]url.Values{
		UsersPath:                        {"q": {"a"}},
		u + "/roles":                     {"roles": {"admin"}},
		u + "/disable":                   {},
		u + "/enable":                    {},
		u + "/verify-email":              {},
		u + "/send-reset":                {},
		u + "/sign-out":                  {},
		RolesPath:                        {"name": {"editor"}},
		RolesPath + "/x/delete":          {},
		ClientsPath:                      {"client_name": {"Evil"}, "redirect_uris": {"https://evil.example/cb"}},
		ClientsPath + "/x/delete":        {},
		ClientsPath + "/x/edit":          {"client_name": {"Evil"}, "redirect_uris": {"https://evil.example/cb"}},
		ClientsPath + "/x/rotate-secret": {},
		ConnectorsPath + "/corp/edit": {"name": {"Evil"}, "client_id": {"signet"}, "issuer": {"https://evil.example"},
			"client_secret": {"evil"}},
	}
	return gets, posts
}

// unchanged checks that no route did anything.
func (e *env) unchanged() {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.store.GetUser(ctx, e.alice.ID)
	if err != nil || u.Disabled || u.EmailVerified {
		e.t.Errorf("alice changed: %+v, %v", u, err)
	}
	if r := e.roles(e.alice.ID); !slices.Equal(r, []string{"user"}) {
		e.t.Errorf("alice's roles changed: %v", r)
	}
	if _, err := e.store.GetRole(ctx, "editor"); err == nil {
		e.t.Error("a role was created")
	}
	if cl, _ := e.store.ListClients(ctx); len(cl) != 0 {
		e.t.Errorf("clients created: %v", cl)
	}
	if n := len(e.outbox.Messages()); n != 0 {
		e.t.Errorf("%d mails sent", n)
	}
	if c, err := e.store.GetConnector(ctx, "corp"); err != nil || c.Name != "Corp" || !strings.Contains(string(c.Config), "login.corp.example") {
		e.t.Errorf("connector corp changed: %+v, %v", c, err)
	}
}

func TestConsoleSendsStrangersToLogin(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	wantRedirect(t, b.get(UsersPath+"?q=a"), "/login?return_to=%2Fadmin%2Fusers%3Fq%3Da")
	wantRedirect(t, b.get(Prefix), "/login?return_to=%2Fadmin")
	// Through the login form and back.
	form := b.get("/login?return_to=%2Fadmin%2Fusers")
	p := b.post(pages.LoginPath, url.Values{pages.CSRFField: {csrfOf(t, form)}, "username": {"root"}, "password": {password}, "return_to": {UsersPath}})
	wantRedirect(t, p, UsersPath)
	wantStatus(t, b.get(UsersPath), http.StatusOK)

	// A form without a session goes to the login page too (with a token,
	// so the CSRF check passes) and changes nothing.
	stranger := e.browser()
	f := stranger.get(pages.LoginPath)
	_, posts := routes(e)
	for path, v := range posts {
		v.Set(pages.CSRFField, csrfOf(t, f))
		wantRedirect(t, stranger.post(path, v), "/login?return_to=%2Fadmin")
	}
	e.unchanged()
}

func TestConsoleForbidsNonAdmins(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("alice")
	gets, posts := routes(e)
	for _, path := range gets {
		p := b.get(path)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "only for administrators") {
			t.Errorf("GET %s as a non-admin = %d", path, p.status)
		}
	}
	home := b.get("/")
	token := csrfOf(t, home)
	if strings.Contains(home.body, `href="/admin"`) {
		t.Error("a non-admin is shown the console link")
	}
	for path, v := range posts {
		v.Set(pages.CSRFField, token)
		if p := b.post(path, v); p.status != http.StatusForbidden {
			t.Errorf("POST %s as a non-admin = %d", path, p.status)
		}
	}
	e.unchanged()

	// A disabled administrator's session ends with the account; an
	// administrator demoted meanwhile is refused at once.
	root := e.browser()
	root.signIn("root")
	if _, err := e.acc.CreateUser(context.Background(), accounts.NewUser{Username: "second", Email: "second@example.com", Password: password, Roles: []string{"admin"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.acc.SetRoles(context.Background(), "root", []string{"user"}); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, root.get(UsersPath), http.StatusForbidden)
}

func TestConsoleRejectsFormsWithoutCSRF(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("root")
	_, posts := routes(e)
	for path, v := range posts {
		for _, token := range []string{"", "forged"} {
			v.Set(pages.CSRFField, token)
			if token == "" {
				v.Del(pages.CSRFField)
			}
			p := b.post(path, v)
			if p.status != http.StatusForbidden || !strings.Contains(p.body, "csrf_failed") {
				t.Errorf("POST %s with token %q = %d, want 403 csrf_failed", path, token, p.status)
			}
		}
	}
	e.unchanged()
}

func TestConsoleListsSearchesAndPages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range 25 {
		if _, err := e.acc.CreateUser(ctx, accounts.NewUser{Username: fmt.Sprintf("user%02d", i), Email: fmt.Sprintf("u%02d@example.org", i), Password: password}); err != nil {
			t.Fatal(err)
		}
	}
	b := e.browser()
	b.signIn("root")
	first := b.get(UsersPath)
	wantStatus(t, first, http.StatusOK)
	if n := strings.Count(first.body, `data-label="User name"`); n != PageSize {
		t.Errorf("%d rows on page 1, want %d", n, PageSize)
	}
	wantBody(t, first, "alice", "root", `href="/admin/users?page=2"`, "Next page", `aria-current="page"`, `href="/admin/users/`+e.alice.ID+`"`)
	second := b.get(UsersPath + "?page=2")
	if n := strings.Count(second.body, `data-label="User name"`); n != 27-PageSize {
		t.Errorf("%d rows on page 2, want %d", n, 27-PageSize)
	}
	wantBody(t, second, `href="/admin/users"`, "Previous page")
	if strings.Contains(second.body, "Next page") {
		t.Error("last page links to a next one")
	}

	// The search form posts and lands on the results.
	p := b.send(UsersPath, UsersPath, url.Values{"q": {"EXAMPLE.ORG"}})
	wantRedirect(t, p, "/admin/users?q=EXAMPLE.ORG")
	found := b.get(p.location)
	if n := strings.Count(found.body, `data-label="User name"`); n != PageSize {
		t.Errorf("%d matches on the first page, want %d", n, PageSize)
	}
	wantBody(t, found, `value="EXAMPLE.ORG"`, `href="/admin/users?page=2&amp;q=EXAMPLE.ORG"`)
	none := b.get(UsersPath + "?q=" + url.QueryEscape("nobody here"))
	wantBody(t, none, "No user matches")
	wantStatus(t, b.get(UsersPath+"?q=%00"), http.StatusOK)
	wantStatus(t, b.get(UsersPath+"?page=-3"), http.StatusOK)
	wantStatus(t, b.get(UsersPath+"/no-such-user"), http.StatusNotFound)
}

func TestConsoleUserActions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.browser()
	b.signIn("root")
	alice := UsersPath + "/" + e.alice.ID
	page := b.get(alice)
	wantBody(t, page, "alice@example.com", "Not verified", `name="roles" type="checkbox" value="admin"`, `value="user" checked`)

	if _, err := e.acc.CreateRole(ctx, "editor", "Edits things"); err != nil {
		t.Fatal(err)
	}
	wantRedirect(t, b.send(alice, alice+"/roles", url.Values{"roles": {"user", "editor"}}), alice)
	after := b.get(alice)
	wantBody(t, after, "The roles are saved.", `value="editor" checked`, "Edits things")
	if r := e.roles(e.alice.ID); !slices.Equal(r, []string{"editor", "user"}) {
		t.Errorf("roles = %v", r)
	}
	p := b.send(alice, alice+"/roles", url.Values{"roles": {"ghost"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "does not exist")

	wantRedirect(t, b.send(alice, alice+"/verify-email", nil), alice)
	if u, _ := e.store.GetUser(ctx, e.alice.ID); !u.EmailVerified {
		t.Error("e-mail not verified")
	}
	wantRedirect(t, b.send(alice, alice+"/send-reset", nil), alice)
	if n := len(e.outbox.To("alice@example.com")); n != 1 {
		t.Errorf("%d reset mails", n)
	}

	ab := e.browser()
	ab.signIn("alice")
	wantRedirect(t, b.send(alice, alice+"/sign-out", nil), alice)
	if left, _ := e.store.ListUserSessions(ctx, e.alice.ID); len(left) != 0 {
		t.Errorf("%d sessions after sign out everywhere", len(left))
	}
	ab.signIn("alice")
	wantRedirect(t, b.send(alice, alice+"/disable", nil), alice)
	wantBody(t, b.get(alice), "The account is disabled.", "Disabled", "Enable account")
	if u, _ := e.store.GetUser(ctx, e.alice.ID); !u.Disabled {
		t.Error("not disabled")
	}
	if left, _ := e.store.ListUserSessions(ctx, e.alice.ID); len(left) != 0 {
		t.Error("sessions survive disabling")
	}
	p = b.send(alice, alice+"/send-reset", nil)
	wantStatus(t, p, http.StatusConflict)
	wantBody(t, p, "The user is disabled")
	wantRedirect(t, b.send(alice, alice+"/enable", nil), alice)
	if u, _ := e.store.GetUser(ctx, e.alice.ID); u.Disabled {
		t.Error("not enabled")
	}

	// The audit log names the administrator as the actor.
	events, _ := e.store.ListAudit(ctx, 50)
	var sawRole bool
	for _, ev := range events {
		if ev.Action == audit.RoleChange && ev.Target == e.alice.ID {
			sawRole = ev.Actor == e.root.ID && ev.IP != ""
		}
	}
	if !sawRole {
		t.Errorf("no role.change by root with an address in %+v", events)
	}
}

func TestConsoleLastAdminAndSelf(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("root")
	self := UsersPath + "/" + e.root.ID
	wantBody(t, b.get(self), "This is your own account")

	p := b.send(self, self+"/disable", nil)
	wantStatus(t, p, http.StatusConflict)
	wantBody(t, p, "you cannot disable your own account here", `role="alert"`)
	p = b.send(self, self+"/roles", url.Values{"roles": {"user"}})
	wantStatus(t, p, http.StatusConflict)
	wantBody(t, p, "only enabled administrator")
	if r := e.roles(e.root.ID); !slices.Equal(r, []string{"admin"}) {
		t.Errorf("root's roles = %v", r)
	}
	if u, _ := e.store.GetUser(context.Background(), e.root.ID); u.Disabled {
		t.Error("root disabled")
	}
}

func TestConsoleRoles(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.browser()
	b.signIn("root")
	page := b.get(RolesPath)
	wantBody(t, page, "<code>admin</code>", "built in", `action="/admin/roles"`)

	wantRedirect(t, b.send(RolesPath, RolesPath, url.Values{"name": {"editor"}, "description": {"Edits"}}), RolesPath)
	wantBody(t, b.get(RolesPath), "The role is created.", "<code>editor</code>", `action="/admin/roles/editor/delete"`)
	p := b.send(RolesPath, RolesPath, url.Values{"name": {"editor"}})
	wantStatus(t, p, http.StatusConflict)
	wantBody(t, p, "A role with this name exists already.")
	for _, bad := range []string{"Editor", "has space", strings.Repeat("r", 65), ""} {
		p := b.send(RolesPath, RolesPath, url.Values{"name": {bad}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		wantBody(t, p, `aria-invalid="true"`, "Name ")
	}
	p = b.send(RolesPath, RolesPath, url.Values{"name": {"long-desc"}, "description": {strings.Repeat("d", 501)}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "Description must be at most 500 characters.")
	if roles, _ := e.store.ListRoles(ctx); len(roles) != 3 {
		t.Errorf("roles after refusals: %v", roles)
	}

	wantRedirect(t, b.send(RolesPath, RolesPath+"/editor/delete", nil), RolesPath)
	if _, err := e.store.GetRole(ctx, "editor"); err == nil {
		t.Error("role not deleted")
	}
	p = b.send(RolesPath, RolesPath+"/admin/delete", nil)
	wantStatus(t, p, http.StatusConflict)
	wantBody(t, p, "built in and cannot be deleted")
	wantStatus(t, b.send(RolesPath, RolesPath+"/ghost/delete", nil), http.StatusNotFound)
}

func TestConsoleClients(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b := e.browser()
	b.signIn("root")
	wantBody(t, b.get(ClientsPath), "No clients are registered yet.", `name="redirect_uris"`)

	p := b.send(ClientsPath, ClientsPath, url.Values{"client_name": {"Photo App"}, "redirect_uris": {"https://photo.example/cb\r\n\r\nhttps://photo.example/cb2"},
		"token_endpoint_auth_method": {"client_secret_basic"}})
	wantStatus(t, p, http.StatusCreated)
	wantBody(t, p, "Photo App is registered", "Copy the client secret now", "cannot be shown again")
	secret := regexp.MustCompile(`<code class="copy secret">([^<]+)</code>`).FindStringSubmatch(p.body)
	id := regexp.MustCompile(`<code class="copy">([0-9a-f]{32})</code>`).FindStringSubmatch(p.body)
	if secret == nil || id == nil {
		t.Fatalf("no id or secret on the page:\n%s", p.body)
	}
	cl, err := e.store.GetClient(ctx, id[1])
	if err != nil {
		t.Fatal(err)
	}
	if !clients.SecretMatches(cl.SecretHash, secret[1]) || !slices.Equal(cl.RedirectURIs, []string{"https://photo.example/cb", "https://photo.example/cb2"}) {
		t.Errorf("stored client %+v does not match the page", cl)
	}
	list := b.get(ClientsPath)
	wantBody(t, list, "Photo App", id[1], "confidential")
	if strings.Contains(list.body, secret[1]) {
		t.Error("the secret is shown again")
	}

	pub := b.send(ClientsPath, ClientsPath, url.Values{"client_name": {"SPA"}, "redirect_uris": {"https://spa.example/cb"},
		"token_endpoint_auth_method": {"none"}, "first_party": {"1"}})
	wantStatus(t, pub, http.StatusCreated)
	wantBody(t, pub, "a public client proves itself with PKCE")
	// Access token format and required PAR (issue 13, part A).
	api := b.send(ClientsPath, ClientsPath, url.Values{"client_name": {"API app"}, "redirect_uris": {"https://api.example/cb"},
		"access_token_format": {"jwt"}, "require_pushed_authorization_requests": {"1"}})
	wantStatus(t, api, http.StatusCreated)
	apiID := regexp.MustCompile(`<code class="copy">([0-9a-f]{32})</code>`).FindStringSubmatch(api.body)
	if apiID == nil {
		t.Fatalf("no id on the page:\n%s", api.body)
	}
	if c, err := e.store.GetClient(ctx, apiID[1]); err != nil || c.AccessTokenFormat != "jwt" || !c.RequirePushedAuthorizationRequests {
		t.Errorf("stored %+v, %v: want jwt access tokens and required PAR", c, err)
	}
	wantBody(t, b.send(ClientsPath, ClientsPath, url.Values{"client_name": {"X"}, "redirect_uris": {"https://x.example/cb"},
		"access_token_format": {"paseto"}}), "The access token format")

	for name, form := range map[string]url.Values{
		"no name":           {"redirect_uris": {"https://x.example/cb"}},
		"no redirect":       {"client_name": {"X"}},
		"fragment redirect": {"client_name": {"X"}, "redirect_uris": {"https://x.example/cb#frag"}},
		"bad auth method":   {"client_name": {"X"}, "redirect_uris": {"https://x.example/cb"}, "token_endpoint_auth_method": {"private_key_jwt"}},
		"over-long name":    {"client_name": {strings.Repeat("n", 300)}, "redirect_uris": {"https://x.example/cb"}},
		"over-long uris":    {"client_name": {"X"}, "redirect_uris": {"https://x.example/" + strings.Repeat("p", 9000)}},
		"alg not offered":   {"client_name": {"X"}, "redirect_uris": {"https://x.example/cb"}, "id_token_signed_response_alg": {"ES256"}},
	} {
		p := b.send(ClientsPath, ClientsPath, form)
		if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `class="field-error"`) && !strings.Contains(p.body, `role="alert"`) {
			t.Errorf("%s: status %d, want 422 with a message:\n%s", name, p.status, p.body)
		}
	}
	if all, _ := e.store.ListClients(ctx); len(all) != 3 {
		t.Errorf("%d clients after refused forms, want 3", len(all))
	}
	// The refusal names the flag the operator has to change, and the
	// form keeps the choice.
	alg := b.send(ClientsPath, ClientsPath, url.Values{"client_name": {"Edge"}, "redirect_uris": {"https://edge.example/cb"},
		"id_token_signed_response_alg": {"ES256"}})
	wantStatus(t, alg, http.StatusUnprocessableEntity)
	wantBody(t, alg, "ES256", "--signing-algorithms", `<option value="ES256" selected>`)

	wantRedirect(t, b.send(ClientsPath, ClientsPath+"/"+cl.ID+"/delete", nil), ClientsPath)
	if _, err := e.store.GetClient(ctx, cl.ID); err == nil {
		t.Error("client not deleted")
	}
	wantStatus(t, b.send(ClientsPath, ClientsPath+"/"+cl.ID+"/delete", nil), http.StatusNotFound)

	audits := b.get(AuditPath)
	wantBody(t, audits, "client.create", "client.delete", cl.ID, "root <span class=\"muted id\">"+e.root.ID, "name=Photo App")
}
