package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/adminapi"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/mail"
	"github.com/signet-idp/signet/internal/mail/mailtest"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
	"github.com/signet-idp/signet/internal/web/admin"
)

const token = "test-admin-token-0123456789"

type env struct {
	t     *testing.T
	url   string
	store storage.Store
	// box receives the mails the accounts service sends.
	box *mailtest.Outbox
}

func newEnv(t *testing.T, clientOpts ...clients.Option) *env {
	t.Helper()
	store := memory.New()
	now := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	h := accounts.PasswordHasher{Memory: 64, Time: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	composer, err := mail.NewComposer("")
	if err != nil {
		t.Fatal(err)
	}
	box := &mailtest.Outbox{}
	au := audit.New(store, now, nil)
	api := admin.NewAPI(
		accounts.NewService(store, accounts.Options{Hasher: &h, Now: now, Issuer: "https://id.example.com",
			Mailer: mail.Postman{Composer: composer, Sender: box}, Audit: au}),
		clients.NewService(store, now, clientOpts...),
		au,
		nil,
	)
	e := echo.New()
	api.Register(e.Group("/admin", admin.RequireBearer(token)))
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &env{t: t, url: srv.URL, store: store, box: box}
}

type response struct {
	status int
	header http.Header
	body   string
}

// decode unmarshals the body into v, failing the test when it is not JSON.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("body %q is not the expected JSON: %v", r.body, err)
	}
}

// errorDescription returns error_description, checking the error shape.
func (r response) errorDescription(t *testing.T) string {
	t.Helper()
	var e adminapi.ErrorBody
	r.decode(t, &e)
	if e.Error == "" || e.Description == "" {
		t.Fatalf("error body %q lacks error or error_description", r.body)
	}
	return e.Description
}

// call sends a request with the right token and, when body is not empty,
// Content-Type: application/json.
func (e *env) call(method, path, body string) response {
	return e.send(method, path, body, map[string]string{"Authorization": "Bearer " + token})
}

func (e *env) send(method, path, body string, headers map[string]string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (e *env) mustStatus(r response, want int) {
	e.t.Helper()
	if r.status != want {
		e.t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
}

func TestBearerToken(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"no header", nil, http.StatusUnauthorized},
		{"wrong token", map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized},
		{"token prefix", map[string]string{"Authorization": "Bearer " + token[:10]}, http.StatusUnauthorized},
		{"token plus more", map[string]string{"Authorization": "Bearer " + token + "x"}, http.StatusUnauthorized},
		{"basic scheme", map[string]string{"Authorization": "Basic " + token}, http.StatusUnauthorized},
		{"bare token", map[string]string{"Authorization": token}, http.StatusUnauthorized},
		{"right token", map[string]string{"Authorization": "Bearer " + token}, http.StatusOK},
		{"scheme in lower case", map[string]string{"Authorization": "bearer " + token}, http.StatusOK},
		{"from a web page", map[string]string{"Authorization": "Bearer " + token, "Origin": "https://evil.example"}, http.StatusForbidden},
		{"cross-site fetch", map[string]string{"Authorization": "Bearer " + token, "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.send(http.MethodGet, "/admin/roles", "", tt.headers)
			if r.status != tt.want {
				t.Fatalf("status %d, want %d; body %s", r.status, tt.want, r.body)
			}
			if tt.want == http.StatusUnauthorized {
				r.errorDescription(t)
				if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q", r.header.Get("WWW-Authenticate"))
				}
			}
		})
	}
	// Unknown paths are behind the token too, and answer JSON.
	if r := e.send(http.MethodGet, "/admin/nothing", "", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("unknown path without token: %d", r.status)
	}
	r := e.call(http.MethodGet, "/admin/nothing", "")
	e.mustStatus(r, http.StatusNotFound)
	r.errorDescription(t)
}

func TestNoTokenConfigured(t *testing.T) {
	e := echo.New()
	store := memory.New()
	api := admin.NewAPI(accounts.NewService(store, accounts.Options{}), clients.NewService(store, nil), nil, nil)
	api.Register(e.Group("/admin", admin.RequireBearer("")))
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/admin/roles", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("without a configured token: %d %s", rec.Code, rec.Body)
	}
}

func TestClientsLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	r := e.call(http.MethodPost, "/admin/clients",
		`{"client_name":"My App","redirect_uris":["https://app.example.com/cb"],"first_party":true}`)
	e.mustStatus(r, http.StatusCreated)
	var created adminapi.OAuthClient
	r.decode(t, &created)
	if created.ClientID == "" || len(created.ClientSecret) != 43 {
		t.Fatalf("create answer lacks client_id or a 43-character secret: %s", r.body)
	}
	if created.Scope != "openid profile email roles offline_access" ||
		!slices.Equal(created.GrantTypes, []string{"authorization_code", "refresh_token"}) ||
		!slices.Equal(created.ResponseTypes, []string{"code"}) ||
		created.TokenEndpointAuthMethod != "client_secret_basic" || !created.FirstParty || created.IDTokenSignedResponseAlg != "RS256" ||
		created.PostLogoutRedirectURIs == nil || !strings.Contains(r.body, `"created_at":"2026-03-01T12:00:00Z"`) {
		t.Fatalf("create answer lacks the defaults: %s", r.body)
	}
	stored, err := e.store.GetClient(ctx, created.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if !clients.SecretMatches(stored.SecretHash, created.ClientSecret) {
		t.Fatal("the stored hash does not match the returned secret")
	}
	if stored.IDTokenSignedResponseAlg != "" {
		t.Fatalf("a client that asked for no ID token algorithm is stored with %q, not the default (empty)",
			stored.IDTokenSignedResponseAlg)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("create answer Cache-Control = %q; want no-store", r.header.Get("Cache-Control"))
	}

	r = e.call(http.MethodGet, "/admin/clients/"+created.ClientID, "")
	e.mustStatus(r, http.StatusOK)
	if strings.Contains(r.body, "client_secret\"") || strings.Contains(r.body, created.ClientSecret) {
		t.Fatalf("GET shows the secret: %s", r.body)
	}
	var got adminapi.OAuthClient
	r.decode(t, &got)
	if got.ClientID != created.ClientID || got.ClientName != "My App" {
		t.Fatalf("GET = %s", r.body)
	}

	r = e.call(http.MethodPost, "/admin/clients",
		`{"client_name":"CLI","redirect_uris":["http://127.0.0.1:8400/cb"],"token_endpoint_auth_method":"none","scope":"openid profile"}`)
	e.mustStatus(r, http.StatusCreated)
	var public adminapi.OAuthClient
	r.decode(t, &public)
	if strings.Contains(r.body, "client_secret\"") || public.Scope != "openid profile" {
		t.Fatalf("public client answer: %s", r.body)
	}

	r = e.call(http.MethodGet, "/admin/clients", "")
	e.mustStatus(r, http.StatusOK)
	var list []adminapi.OAuthClient
	r.decode(t, &list)
	if len(list) != 2 || strings.Contains(r.body, "client_secret\"") {
		t.Fatalf("list = %s", r.body)
	}

	e.mustStatus(e.call(http.MethodDelete, "/admin/clients/"+created.ClientID, ""), http.StatusNoContent)
	r = e.call(http.MethodGet, "/admin/clients/"+created.ClientID, "")
	e.mustStatus(r, http.StatusNotFound)
	r.errorDescription(t)
	e.mustStatus(e.call(http.MethodDelete, "/admin/clients/"+created.ClientID, ""), http.StatusNotFound)
}

func TestClientsBadInput(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		want        int
		wantDesc    string
	}{
		{"malformed JSON", "", `{"client_name":`, http.StatusBadRequest, "malformed JSON"},
		{"not an object", "", `["a"]`, http.StatusBadRequest, "JSON object"},
		{"empty body", "", ``, http.StatusBadRequest, "empty"},
		{"unknown field", "", `{"client_name":"A","redirect_uris":["https://a.example/cb"],"client_secret":"mine"}`,
			http.StatusBadRequest, "unknown field \"client_secret\""},
		{"trailing data", "", `{"client_name":"A","redirect_uris":["https://a.example/cb"]} {}`, http.StatusBadRequest, "nothing after"},
		{"wrong type", "", `{"client_name":"A","redirect_uris":"https://a.example/cb"}`, http.StatusBadRequest, "redirect_uris"},
		{"form content type", "application/x-www-form-urlencoded", `{"client_name":"A","redirect_uris":["https://a.example/cb"]}`,
			http.StatusUnsupportedMediaType, "application/json"},
		{"missing name", "", `{"redirect_uris":["https://a.example/cb"]}`, http.StatusBadRequest, "client_name"},
		{"http redirect URI", "", `{"client_name":"A","redirect_uris":["http://a.example/cb"]}`, http.StatusBadRequest, "loopback"},
		{"relative redirect URI", "", `{"client_name":"A","redirect_uris":["/cb"]}`, http.StatusBadRequest, "absolute"},
		{"fragment", "", `{"client_name":"A","redirect_uris":["https://a.example/cb#x"]}`, http.StatusBadRequest, "fragment"},
		{"no redirect URI", "", `{"client_name":"A"}`, http.StatusBadRequest, "redirect"},
		{"unknown scope", "", `{"client_name":"A","redirect_uris":["https://a.example/cb"],"scope":"openid admin"}`,
			http.StatusBadRequest, "admin"},
		{"public client credentials", "", `{"client_name":"A","grant_types":["client_credentials"],"token_endpoint_auth_method":"none"}`,
			http.StatusBadRequest, "client_credentials"},
		{"unsupported ID token algorithm", "", `{"client_name":"A","redirect_uris":["https://a.example/cb"],"id_token_signed_response_alg":"HS256"}`,
			http.StatusBadRequest, `id_token_signed_response_alg: "HS256" is not supported (one of: RS256, ES256, EdDSA)`},
		{"unsigned ID tokens", "", `{"client_name":"A","redirect_uris":["https://a.example/cb"],"id_token_signed_response_alg":"none"}`,
			http.StatusBadRequest, "id_token_signed_response_alg"},
		{"ID token algorithm not a string", "", `{"client_name":"A","redirect_uris":["https://a.example/cb"],"id_token_signed_response_alg":256}`,
			http.StatusBadRequest, "id_token_signed_response_alg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			headers := map[string]string{"Authorization": "Bearer " + token}
			if tt.contentType != "" {
				headers["Content-Type"] = tt.contentType
			} else if tt.body == "" {
				headers["Content-Type"] = "application/json"
			}
			r := e.send(http.MethodPost, "/admin/clients", tt.body, headers)
			e.mustStatus(r, tt.want)
			if d := r.errorDescription(t); !strings.Contains(d, tt.wantDesc) {
				t.Fatalf("error_description %q does not mention %q", d, tt.wantDesc)
			}
			list, err := e.store.ListClients(context.Background())
			if err != nil || len(list) != 0 {
				t.Fatalf("a refused request stored %d clients (err %v)", len(list), err)
			}
		})
	}
}

// TestClientIDTokenAlgorithm: id_token_signed_response_alg goes from the
// create body to the store and back in every answer.
func TestClientIDTokenAlgorithm(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			e := newEnv(t)
			r := e.call(http.MethodPost, "/admin/clients",
				`{"client_name":"App","redirect_uris":["https://app.example.com/cb"],"id_token_signed_response_alg":"`+alg+`"}`)
			e.mustStatus(r, http.StatusCreated)
			if !strings.Contains(r.body, `"id_token_signed_response_alg":"`+alg+`"`) {
				t.Fatalf("create answer lacks the algorithm: %s", r.body)
			}
			var created adminapi.OAuthClient
			r.decode(t, &created)
			stored, err := e.store.GetClient(context.Background(), created.ClientID)
			if err != nil || stored.IDTokenSignedResponseAlg != alg {
				t.Fatalf("stored algorithm %q (err %v); want %s", stored.IDTokenSignedResponseAlg, err, alg)
			}
			for _, path := range []string{"/admin/clients/" + created.ClientID, "/admin/clients"} {
				r = e.call(http.MethodGet, path, "")
				e.mustStatus(r, http.StatusOK)
				if !strings.Contains(r.body, `"id_token_signed_response_alg":"`+alg+`"`) {
					t.Fatalf("GET %s lacks the algorithm: %s", path, r.body)
				}
			}
		})
	}
}

// TestClientIDTokenAlgorithmNotOffered: a server that does not sign with
// the algorithm refuses the client with a 400 naming --signing-algorithms,
// and stores nothing.
func TestClientIDTokenAlgorithmNotOffered(t *testing.T) {
	e := newEnv(t, clients.WithSigningAlgorithms([]string{"RS256"}))
	r := e.call(http.MethodPost, "/admin/clients",
		`{"client_name":"Edge","redirect_uris":["https://edge.example.com/cb"],"id_token_signed_response_alg":"ES256"}`)
	e.mustStatus(r, http.StatusBadRequest)
	if !strings.Contains(r.body, "--signing-algorithms") || !strings.Contains(r.body, "ES256") {
		t.Fatalf("refusal does not name the algorithm and --signing-algorithms: %s", r.body)
	}
	if cs, _ := e.store.ListClients(context.Background()); len(cs) != 0 {
		t.Fatalf("%d clients stored after the refusal", len(cs))
	}
}

const aliceBody = `{"username":"alice","email":"alice@example.com","name":"Alice","password":"correct horse battery","email_verified":true,"roles":["admin"]}`

func TestUsersLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	r := e.call(http.MethodPost, "/admin/users", aliceBody)
	e.mustStatus(r, http.StatusCreated)
	if strings.Contains(strings.ToLower(r.body), "password") || strings.Contains(r.body, "argon2") {
		t.Fatalf("user answer mentions the password: %s", r.body)
	}
	var alice adminapi.User
	r.decode(t, &alice)
	if alice.ID == "" || alice.Username != "alice" || alice.Email != "alice@example.com" || alice.Name != "Alice" ||
		!alice.EmailVerified || alice.Disabled || !slices.Equal(alice.Roles, []string{"admin"}) || alice.CreatedAt.IsZero() {
		t.Fatalf("created user = %s", r.body)
	}

	for _, ref := range []string{alice.ID, "alice", "alice@example.com"} {
		r = e.call(http.MethodGet, "/admin/users/"+ref, "")
		e.mustStatus(r, http.StatusOK)
		var got adminapi.User
		r.decode(t, &got)
		if got.ID != alice.ID {
			t.Fatalf("GET /users/%s = %s", ref, r.body)
		}
	}

	e.mustStatus(e.call(http.MethodPost, "/admin/users",
		`{"username":"bob","email":"bob@example.com","password":"bob-password"}`), http.StatusCreated)

	r = e.call(http.MethodGet, "/admin/users", "")
	e.mustStatus(r, http.StatusOK)
	var list []adminapi.User
	r.decode(t, &list)
	if len(list) != 2 || list[0].Username != "alice" || list[1].Username != "bob" || list[1].Roles == nil {
		t.Fatalf("list = %s", r.body)
	}
	r = e.call(http.MethodGet, "/admin/users?search=BOB&limit=10&offset=0", "")
	e.mustStatus(r, http.StatusOK)
	r.decode(t, &list)
	if len(list) != 1 || list[0].Username != "bob" {
		t.Fatalf("search = %s", r.body)
	}
	r = e.call(http.MethodGet, "/admin/users?limit=1&offset=1", "")
	r.decode(t, &list)
	if len(list) != 1 || list[0].Username != "bob" {
		t.Fatalf("page = %s", r.body)
	}

	r = e.call(http.MethodPut, "/admin/users/bob/roles", `{"roles":["user","admin"]}`)
	e.mustStatus(r, http.StatusOK)
	var bob adminapi.User
	r.decode(t, &bob)
	if !slices.Equal(bob.Roles, []string{"admin", "user"}) {
		t.Fatalf("set roles = %s", r.body)
	}

	r = e.call(http.MethodPost, "/admin/users/bob/disable", "")
	e.mustStatus(r, http.StatusOK)
	r.decode(t, &bob)
	if !bob.Disabled {
		t.Fatalf("disable = %s", r.body)
	}
	if rec, _ := e.store.GetUser(ctx, bob.ID); !rec.Disabled {
		t.Fatal("disable did not reach the store")
	}
	r = e.call(http.MethodPost, "/admin/users/"+bob.ID+"/enable", "")
	e.mustStatus(r, http.StatusOK)
	r.decode(t, &bob)
	if bob.Disabled {
		t.Fatalf("enable = %s", r.body)
	}

	e.mustStatus(e.call(http.MethodDelete, "/admin/users/bob", ""), http.StatusNoContent)
	e.mustStatus(e.call(http.MethodGet, "/admin/users/bob", ""), http.StatusNotFound)
	e.mustStatus(e.call(http.MethodDelete, "/admin/users/bob", ""), http.StatusNotFound)
	if _, err := e.store.GetUser(ctx, bob.ID); err == nil {
		t.Fatal("deleted user still in the store")
	}
}

func TestUsersBadInput(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		want     int
		wantDesc string
	}{
		{"duplicate user name", "POST", "/admin/users",
			`{"username":"ALICE","email":"other@example.com","password":"a fine passphrase"}`, http.StatusConflict, "taken"},
		{"duplicate e-mail", "POST", "/admin/users",
			`{"username":"alice2","email":"Alice@Example.com","password":"a fine passphrase"}`, http.StatusConflict, "taken"},
		{"unknown role", "POST", "/admin/users",
			`{"username":"carol","email":"carol@example.com","password":"a fine passphrase","roles":["ghost"]}`, http.StatusBadRequest, "ghost"},
		{"common password", "POST", "/admin/users",
			`{"username":"carol","email":"carol@example.com","password":"Password123"}`, http.StatusBadRequest, "common"},
		{"short password", "POST", "/admin/users",
			`{"username":"carol","email":"carol@example.com","password":"short"}`, http.StatusBadRequest, "password"},
		{"bad e-mail", "POST", "/admin/users",
			`{"username":"carol","email":"carol","password":"a fine passphrase"}`, http.StatusBadRequest, "email"},
		{"bad user name", "POST", "/admin/users",
			`{"username":"car ol","email":"carol@example.com","password":"a fine passphrase"}`, http.StatusBadRequest, "username"},
		{"password hash smuggled", "POST", "/admin/users",
			`{"username":"carol","email":"carol@example.com","password":"a fine passphrase","password_hash":"x"}`, http.StatusBadRequest, "unknown field"},
		{"malformed JSON", "POST", "/admin/users", `{"username":"carol",}`, http.StatusBadRequest, "malformed JSON"},
		{"bad limit", "GET", "/admin/users?limit=many", "", http.StatusBadRequest, "limit"},
		{"limit too big", "GET", "/admin/users?limit=100000", "", http.StatusBadRequest, "limit"},
		{"negative offset", "GET", "/admin/users?offset=-1", "", http.StatusBadRequest, "offset"},
		{"set unknown role", "PUT", "/admin/users/alice/roles", `{"roles":["admin","ghost"]}`, http.StatusBadRequest, "ghost"},
		{"set roles without roles", "PUT", "/admin/users/alice/roles", `{}`, http.StatusBadRequest, "roles"},
		{"set roles of nobody", "PUT", "/admin/users/nobody/roles", `{"roles":["user"]}`, http.StatusNotFound, "not found"},
		{"disable nobody", "POST", "/admin/users/nobody/disable", "", http.StatusNotFound, "not found"},
		{"get nobody", "GET", "/admin/users/nobody", "", http.StatusNotFound, "not found"},
		{"NUL in reference", "GET", "/admin/users/al%00ice", "", http.StatusNotFound, "not found"},
		{"invalid UTF-8 reference", "DELETE", "/admin/users/%ff", "", http.StatusNotFound, "not found"},
		{"invalid UTF-8 search", "GET", "/admin/users?search=%ff", "", http.StatusBadRequest, "search"},
		{"NUL in client id", "GET", "/admin/clients/a%00", "", http.StatusNotFound, "not found"},
		{"NUL in role name", "DELETE", "/admin/roles/a%00", "", http.StatusNotFound, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.mustStatus(e.call(http.MethodPost, "/admin/users", aliceBody), http.StatusCreated)
			r := e.call(tt.method, tt.path, tt.body)
			e.mustStatus(r, tt.want)
			if d := r.errorDescription(t); !strings.Contains(d, tt.wantDesc) {
				t.Fatalf("error_description %q does not mention %q", d, tt.wantDesc)
			}
			// Nothing written: alice alone, with her one role, and no
			// role created on the way.
			users, err := e.store.ListUsers(context.Background(), storage.UserQuery{})
			if err != nil || len(users) != 1 {
				t.Fatalf("store holds %d users (err %v); want alice alone", len(users), err)
			}
			if roles, _ := e.store.ListUserRoles(context.Background(), users[0].ID); !slices.Equal(roles, []string{"admin"}) {
				t.Fatalf("alice's roles changed to %v", roles)
			}
			if _, err := e.store.GetRole(context.Background(), "ghost"); err == nil {
				t.Fatal("a role was created as a side effect")
			}
		})
	}
}

func TestRolesLifecycle(t *testing.T) {
	e := newEnv(t)
	r := e.call(http.MethodPost, "/admin/roles", `{"name":"editor","description":"edits content"}`)
	e.mustStatus(r, http.StatusCreated)
	var role adminapi.Role
	r.decode(t, &role)
	if role.Name != "editor" || role.Description != "edits content" || role.CreatedAt.IsZero() {
		t.Fatalf("created role = %s", r.body)
	}
	r = e.call(http.MethodPost, "/admin/roles", `{"name":"editor"}`)
	e.mustStatus(r, http.StatusConflict)
	r.errorDescription(t)
	e.mustStatus(e.call(http.MethodPost, "/admin/roles", `{"name":"Bad Name"}`), http.StatusBadRequest)
	e.mustStatus(e.call(http.MethodPost, "/admin/roles", `{"name":"x","color":"red"}`), http.StatusBadRequest)

	r = e.call(http.MethodGet, "/admin/roles", "")
	e.mustStatus(r, http.StatusOK)
	var roles []adminapi.Role
	r.decode(t, &roles)
	var names []string
	for _, x := range roles {
		names = append(names, x.Name)
	}
	for _, want := range []string{"admin", "user", "editor"} {
		if !slices.Contains(names, want) {
			t.Fatalf("roles %v lack %s", names, want)
		}
	}

	for _, builtin := range []string{"admin", "user"} {
		r = e.call(http.MethodDelete, "/admin/roles/"+builtin, "")
		e.mustStatus(r, http.StatusBadRequest)
		r.errorDescription(t)
	}
	e.mustStatus(e.call(http.MethodDelete, "/admin/roles/editor", ""), http.StatusNoContent)
	e.mustStatus(e.call(http.MethodDelete, "/admin/roles/editor", ""), http.StatusNotFound)
}
