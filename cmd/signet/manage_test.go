package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/adminapi"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

const manageTestToken = "manage-test-token-0123456789"

// startAdminAPI serves the admin API, wired exactly as serve wires it, over
// a fresh in-memory store, and points the management commands at it
// through their environment twins.
func startAdminAPI(t *testing.T, edits ...func(*config.Config)) storage.Store {
	t.Helper()
	store := memory.New()
	cfg := config.Default()
	cfg.AdminToken = manageTestToken
	for _, edit := range edits {
		edit(&cfg)
	}
	e := echo.New()
	d := serverDeps{
		cfg:    cfg,
		store:  store,
		logger: slog.New(slog.DiscardHandler),
		now:    time.Now,
		secret: []byte(testSecret),
	}
	acc, err := newAccounts(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := registerAdminAPI(e, d, acc); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	t.Setenv("SIGNET_ADMIN_URL", srv.URL)
	t.Setenv("SIGNET_ADMIN_TOKEN", manageTestToken)
	t.Setenv("SIGNET_OUTPUT", "")
	return store
}

// runCLI runs `signet args…` with stdin and returns what it printed.
func runCLI(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// mustRun runs the command and fails the test on error.
func mustRun(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := runCLI(t, stdin, args...)
	if err != nil {
		t.Fatalf("signet %s: %v", strings.Join(args, " "), err)
	}
	return out
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("output %q is not the expected JSON: %v", s, err)
	}
}

func TestManageUsers(t *testing.T) {
	store := startAdminAPI(t)
	ctx := context.Background()
	// The same store through the service: what a login would do.
	svc := accounts.NewService(store, accounts.Options{})

	mustRun(t, "", "roles", "create", "editor", "--description", "edits content")
	out := mustRun(t, "s3cret password\n", "users", "create", "--username", "alice", "--email", "alice@example.com",
		"--name", "Alice", "--password-stdin", "--email-verified", "--role", "admin", "--role", "editor", "-o", "json")
	var alice adminapi.User
	mustJSON(t, out, &alice)
	if alice.ID == "" || alice.Username != "alice" || !alice.EmailVerified || !slices.Equal(alice.Roles, []string{"admin", "editor"}) {
		t.Fatalf("users create printed %s", out)
	}
	// The trailing newline of the piped password is not part of it.
	u, err := svc.Authenticate(ctx, "alice", "s3cret password")
	if err != nil || u.ID != alice.ID {
		t.Fatalf("Authenticate with the piped password: %v", err)
	}

	tests := []struct {
		name    string
		stdin   string
		args    []string
		wantErr string
	}{
		{"missing role", "password-123", []string{"users", "create", "--username", "bob", "--email", "bob@example.com",
			"--password-stdin", "--role", "ghost"}, "ghost"},
		{"duplicate user name", "password-123", []string{"users", "create", "--username", "ALICE", "--email", "a2@example.com",
			"--password-stdin"}, "already taken"},
		{"duplicate e-mail", "password-123", []string{"users", "create", "--username", "alice2", "--email", "alice@example.com",
			"--password-stdin"}, "already taken"},
		{"no password", "", []string{"users", "create", "--username", "bob", "--email", "bob@example.com"}, "--password-stdin"},
		{"empty stdin", "", []string{"users", "create", "--username", "bob", "--email", "bob@example.com", "--password-stdin"}, "no password"},
		{"short password", "short\n", []string{"users", "create", "--username", "bob", "--email", "bob@example.com", "--password-stdin"}, "at least 8"},
		{"set missing role", "", []string{"users", "set-roles", "alice", "user", "ghost"}, "ghost"},
		{"unknown user", "", []string{"users", "get", "nobody"}, "not found"},
		{"bad output", "", []string{"users", "list", "-o", "yaml"}, "table or json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runCLI(t, tt.stdin, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("signet %s: error %v; want one mentioning %q", strings.Join(tt.args, " "), err, tt.wantErr)
			}
			users, _ := store.ListUsers(ctx, storage.UserQuery{})
			if len(users) != 1 {
				t.Fatalf("store holds %d users; want alice alone", len(users))
			}
			if roles, _ := store.ListUserRoles(ctx, alice.ID); !slices.Equal(roles, []string{"admin", "editor"}) {
				t.Fatalf("alice's roles changed to %v", roles)
			}
			if _, err := store.GetRole(ctx, "ghost"); !errors.Is(err, storage.ErrNotFound) {
				t.Fatal("a missing role was created")
			}
		})
	}

	var got adminapi.User
	mustJSON(t, mustRun(t, "", "users", "get", alice.ID, "-o", "json"), &got)
	if got.Username != "alice" {
		t.Fatalf("users get by id: %+v", got)
	}
	if out := mustRun(t, "", "users", "get", "alice@example.com"); !strings.Contains(out, alice.ID) ||
		!strings.Contains(out, "admin,editor") {
		t.Fatalf("users get (table):\n%s", out)
	}

	mustRun(t, "password-456\n", "users", "create", "--username", "bob", "--email", "bob@example.com", "--password-stdin")
	var list []adminapi.User
	mustJSON(t, mustRun(t, "", "users", "list", "-o", "json"), &list)
	if len(list) != 2 || list[0].Username != "alice" || list[1].Username != "bob" {
		t.Fatalf("users list: %+v", list)
	}
	mustJSON(t, mustRun(t, "", "users", "list", "--search", "bob", "-o", "json"), &list)
	if len(list) != 1 || list[0].Username != "bob" {
		t.Fatalf("users list --search: %+v", list)
	}
	table := mustRun(t, "", "users", "list")
	if !strings.HasPrefix(table, "ID ") || !strings.Contains(table, "USERNAME") || !strings.Contains(table, "bob@example.com") {
		t.Fatalf("users list (table):\n%s", table)
	}

	mustJSON(t, mustRun(t, "", "users", "set-roles", "bob", "user", "editor", "-o", "json"), &got)
	if !slices.Equal(got.Roles, []string{"editor", "user"}) {
		t.Fatalf("set-roles: %+v", got)
	}
	if roles, _ := store.ListUserRoles(ctx, got.ID); !slices.Equal(roles, []string{"editor", "user"}) {
		t.Fatalf("stored roles %v", roles)
	}
	mustJSON(t, mustRun(t, "", "users", "set-roles", "bob", "-o", "json"), &got)
	if len(got.Roles) != 0 {
		t.Fatalf("set-roles with no roles kept %v", got.Roles)
	}

	// alice is the only administrator: she cannot be disabled until
	// someone else is one.
	if _, err := runCLI(t, "", "users", "disable", "alice"); err == nil ||
		!strings.Contains(err.Error(), "administrator") || !strings.Contains(err.Error(), "409") {
		t.Fatalf("disabling the last admin: %v", err)
	}
	mustRun(t, "", "users", "set-roles", "bob", "admin")
	mustJSON(t, mustRun(t, "", "users", "disable", "alice", "-o", "json"), &got)
	if !got.Disabled {
		t.Fatalf("disable: %+v", got)
	}
	if _, err := svc.Authenticate(ctx, "alice", "s3cret password"); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Fatalf("disabled alice can log in: %v", err)
	}
	mustRun(t, "", "users", "enable", "alice")
	if _, err := svc.Authenticate(ctx, "alice", "s3cret password"); err != nil {
		t.Fatalf("enabled alice cannot log in: %v", err)
	}

	mustRun(t, "", "users", "delete", "bob")
	if _, err := store.GetUserByLogin(ctx, "bob"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("bob after delete: %v", err)
	}
	if _, err := runCLI(t, "", "users", "delete", "bob"); err == nil {
		t.Fatal("deleting a deleted user succeeded")
	}
}

func TestManageClients(t *testing.T) {
	store := startAdminAPI(t)
	ctx := context.Background()

	out := mustRun(t, "", "clients", "create", "--name", "My App",
		"--redirect-uri", "https://app.example.com/cb?a=1,2", "--redirect-uri", "http://localhost:3000/cb",
		"--post-logout-redirect-uri", "https://app.example.com/bye", "--first-party", "-o", "json")
	var c adminapi.OAuthClient
	mustJSON(t, out, &c)
	if c.ClientID == "" || len(c.ClientSecret) != 43 {
		t.Fatalf("clients create -o json lacks client_id or client_secret: %s", out)
	}
	if !slices.Equal(c.RedirectURIs, []string{"https://app.example.com/cb?a=1,2", "http://localhost:3000/cb"}) ||
		!slices.Equal(c.PostLogoutRedirectURIs, []string{"https://app.example.com/bye"}) ||
		!slices.Equal(c.GrantTypes, []string{"authorization_code", "refresh_token"}) ||
		c.Scope != "openid profile email roles offline_access" || c.TokenEndpointAuthMethod != "client_secret_basic" || !c.FirstParty {
		t.Fatalf("clients create: %+v", c)
	}
	stored, err := store.GetClient(ctx, c.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if !clients.SecretMatches(stored.SecretHash, c.ClientSecret) {
		t.Fatal("the printed secret does not match the stored hash")
	}

	out = mustRun(t, "", "clients", "create", "--name", "CLI tool", "--public",
		"--redirect-uri", "http://127.0.0.1:8400/callback", "--scope", "openid profile", "--scope", "email", "-o", "json")
	var pub adminapi.OAuthClient
	mustJSON(t, out, &pub)
	if pub.ClientSecret != "" || pub.TokenEndpointAuthMethod != "none" || pub.Scope != "openid profile email" {
		t.Fatalf("public client: %s", out)
	}
	out = mustRun(t, "", "clients", "create", "--name", "Worker", "--grant-type", "client_credentials",
		"--token-endpoint-auth-method", "client_secret_post", "--scope", "roles", "-o", "json")
	var worker adminapi.OAuthClient
	mustJSON(t, out, &worker)
	if worker.ClientSecret == "" || !slices.Equal(worker.GrantTypes, []string{"client_credentials"}) {
		t.Fatalf("client_credentials client: %s", out)
	}

	// The table form still shows the secret, once, with its warning.
	out = mustRun(t, "", "clients", "create", "--name", "Tabled", "--redirect-uri", "https://t.example.com/cb")
	if !strings.Contains(out, "client_id") || !strings.Contains(out, "client_secret") || !strings.Contains(out, "shown only now") {
		t.Fatalf("clients create (table):\n%s", out)
	}

	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"http redirect", []string{"clients", "create", "--name", "A", "--redirect-uri", "http://app.example.com/cb"}, "loopback"},
		{"fragment", []string{"clients", "create", "--name", "A", "--redirect-uri", "https://app.example.com/cb#x"}, "fragment"},
		{"no redirect", []string{"clients", "create", "--name", "A"}, "redirect"},
		{"no name", []string{"clients", "create", "--redirect-uri", "https://app.example.com/cb"}, "name"},
		{"public with secret method", []string{"clients", "create", "--name", "A", "--public",
			"--token-endpoint-auth-method", "client_secret_post", "--redirect-uri", "https://app.example.com/cb"}, "--public"},
		{"public client credentials", []string{"clients", "create", "--name", "A", "--public",
			"--grant-type", "client_credentials"}, "client_credentials"},
		{"unknown scope", []string{"clients", "create", "--name", "A", "--redirect-uri", "https://app.example.com/cb",
			"--scope", "everything"}, "everything"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := store.ListClients(ctx)
			_, err := runCLI(t, "", tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v; want one mentioning %q", err, tt.wantErr)
			}
			if after, _ := store.ListClients(ctx); len(after) != len(before) {
				t.Fatalf("a refused create stored a client (%d → %d)", len(before), len(after))
			}
		})
	}

	var list []adminapi.OAuthClient
	mustJSON(t, mustRun(t, "", "clients", "list", "-o", "json"), &list)
	if len(list) != 4 {
		t.Fatalf("clients list: %d clients", len(list))
	}
	for _, l := range list {
		if l.ClientSecret != "" {
			t.Fatalf("clients list shows a secret: %+v", l)
		}
	}
	if table := mustRun(t, "", "clients", "list"); !strings.Contains(table, "CLIENT_ID") || !strings.Contains(table, c.ClientID) {
		t.Fatalf("clients list (table):\n%s", table)
	}
	var got adminapi.OAuthClient
	mustJSON(t, mustRun(t, "", "clients", "get", c.ClientID, "-o", "json"), &got)
	if got.ClientID != c.ClientID || got.ClientSecret != "" || got.ClientName != "My App" {
		t.Fatalf("clients get: %+v", got)
	}

	mustRun(t, "", "clients", "delete", c.ClientID)
	if _, err := store.GetClient(ctx, c.ClientID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("client after delete: %v", err)
	}
	if _, err := runCLI(t, "", "clients", "get", c.ClientID); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("clients get after delete: %v", err)
	}
}

// TestManageClientsIDTokenAlgorithm: --id-token-signed-response-alg
// reaches the store and comes back from clients create and clients get;
// without it a client shows the default, RS256.
func TestManageClientsIDTokenAlgorithm(t *testing.T) {
	store := startAdminAPI(t, func(c *config.Config) { c.SigningAlgorithms = []string{"RS256", "ES256"} })
	ctx := context.Background()

	var c adminapi.OAuthClient
	mustJSON(t, mustRun(t, "", "clients", "create", "--name", "Go app", "--redirect-uri", "https://go.example.com/cb",
		"--id-token-signed-response-alg", "ES256", "-o", "json"), &c)
	if c.ClientID == "" || c.IDTokenSignedResponseAlg != "ES256" {
		t.Fatalf("clients create --id-token-signed-response-alg ES256 printed %+v", c)
	}
	if stored, err := store.GetClient(ctx, c.ClientID); err != nil || stored.IDTokenSignedResponseAlg != "ES256" {
		t.Fatalf("stored algorithm %q (err %v)", stored.IDTokenSignedResponseAlg, err)
	}
	out := mustRun(t, "", "clients", "get", c.ClientID, "-o", "json")
	if !strings.Contains(out, `"id_token_signed_response_alg": "ES256"`) {
		t.Fatalf("clients get -o json lacks the algorithm:\n%s", out)
	}
	if table := mustRun(t, "", "clients", "get", c.ClientID); !strings.Contains(table, "id_token_signed_response_alg") ||
		!strings.Contains(table, "ES256") {
		t.Fatalf("clients get (table) lacks the algorithm:\n%s", table)
	}

	var def adminapi.OAuthClient
	mustJSON(t, mustRun(t, "", "clients", "create", "--name", "Plain", "--redirect-uri", "https://plain.example.com/cb",
		"-o", "json"), &def)
	if def.IDTokenSignedResponseAlg != "RS256" {
		t.Fatalf("a client created without the flag shows %q; want RS256", def.IDTokenSignedResponseAlg)
	}

	for _, alg := range []string{"HS256", "none", "es256"} {
		_, err := runCLI(t, "", "clients", "create", "--name", "Bad", "--redirect-uri", "https://bad.example.com/cb",
			"--id-token-signed-response-alg", alg)
		if err == nil || !strings.Contains(err.Error(), "id_token_signed_response_alg") || !strings.Contains(err.Error(), "HTTP 400") {
			t.Errorf("--id-token-signed-response-alg %s: %v; want a 400 naming the field", alg, err)
		}
	}
	if list, _ := store.ListClients(ctx); len(list) != 2 {
		t.Fatalf("%d clients stored; a refused create stored one", len(list))
	}
}

// TestManageClientsAlgorithmNotOffered: on a server signing RS256 only
// (the default), a client asking for ES256 is refused at registration
// with a message naming --signing-algorithms, not stored to fail later at
// the token endpoint.
func TestManageClientsAlgorithmNotOffered(t *testing.T) {
	store := startAdminAPI(t)
	_, err := runCLI(t, "", "clients", "create", "--name", "Edge", "--redirect-uri", "https://edge.example.com/cb",
		"--id-token-signed-response-alg", "ES256")
	if err == nil || !strings.Contains(err.Error(), "HTTP 400") || !strings.Contains(err.Error(), "--signing-algorithms") {
		t.Fatalf("clients create --id-token-signed-response-alg ES256 on an RS256 server: %v; want a 400 naming --signing-algorithms", err)
	}
	if list, _ := store.ListClients(context.Background()); len(list) != 0 {
		t.Fatalf("%d clients stored after the refusal", len(list))
	}
}

func TestManageRoles(t *testing.T) {
	store := startAdminAPI(t)
	ctx := context.Background()

	out := mustRun(t, "", "roles", "create", "billing:read", "--description", "reads invoices", "-o", "json")
	var r adminapi.Role
	mustJSON(t, out, &r)
	if r.Name != "billing:read" || r.Description != "reads invoices" {
		t.Fatalf("roles create: %s", out)
	}
	var roles []adminapi.Role
	mustJSON(t, mustRun(t, "", "roles", "list", "-o", "json"), &roles)
	var names []string
	for _, x := range roles {
		names = append(names, x.Name)
	}
	for _, want := range []string{"admin", "user", "billing:read"} {
		if !slices.Contains(names, want) {
			t.Fatalf("roles list %v lacks %s", names, want)
		}
	}

	for _, tt := range []struct {
		args    []string
		wantErr string
	}{
		{[]string{"roles", "create", "billing:read"}, "exists"},
		{[]string{"roles", "create", "Bad Name"}, "lower-case"},
		{[]string{"roles", "delete", "admin"}, "built-in"},
		{[]string{"roles", "delete", "user"}, "built-in"},
		{[]string{"roles", "delete", "ghost"}, "not found"},
	} {
		if _, err := runCLI(t, "", tt.args...); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("signet %s: %v; want an error mentioning %q", strings.Join(tt.args, " "), err, tt.wantErr)
		}
	}
	for _, builtin := range []string{"admin", "user"} {
		if _, err := store.GetRole(ctx, builtin); err != nil {
			t.Fatalf("built-in role %s: %v", builtin, err)
		}
	}

	out = mustRun(t, "", "roles", "delete", "billing:read", "-o", "json")
	if !strings.Contains(out, `"deleted"`) {
		t.Fatalf("roles delete -o json printed %q", out)
	}
	if _, err := store.GetRole(ctx, "billing:read"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("role after delete: %v", err)
	}
}

func TestManageAdminToken(t *testing.T) {
	startAdminAPI(t)
	tests := []struct {
		name    string
		token   string
		args    []string
		wantErr string
	}{
		{"no token", "", []string{"roles", "list"}, "admin token is required"},
		{"wrong token", "not-the-token", []string{"roles", "list"}, "not valid"},
		{"flag wins over env", "not-the-token", []string{"roles", "list", "--admin-token", manageTestToken}, ""},
		{"right token", manageTestToken, []string{"roles", "list"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SIGNET_ADMIN_TOKEN", tt.token)
			_, err := runCLI(t, "", tt.args...)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "401") {
				t.Fatalf("error %v; want a 401 mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestManageUnreachable(t *testing.T) {
	srv := httptest.NewServer(echo.New())
	url := srv.URL
	srv.Close()
	t.Setenv("SIGNET_ADMIN_TOKEN", "")
	_, err := runCLI(t, "", "users", "list", "--admin-url", url)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the admin API") {
		t.Fatalf("error %v; want a clear unreachable message", err)
	}
}
