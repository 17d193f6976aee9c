package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/adminapi"
	"github.com/signet-idp/signet/internal/config"
	adminweb "github.com/signet-idp/signet/internal/web/admin"
)

// openAPIFile is where a missing route has to be added.
const openAPIFile = "internal/web/admin/openapi.json"

// TestAdminAPIMatchesOpenAPI keeps internal/web/admin/openapi.json true:
// the document is valid OpenAPI 3.1 and is what /admin/openapi.json
// serves; every route registered under /admin on the real admin listener
// is documented and every documented operation is registered; and
// adminAPIDriver calls every operation on a running server (PostgreSQL),
// each request and each answer (status, headers, body, with closed
// schemas) validated against the document.
func TestAdminAPIMatchesOpenAPI(t *testing.T) {
	const token = "openapi-test-admin-token-0123456789"
	ts := startTestServer(t, func(c *config.Config) { c.AdminToken = token })

	ctx := context.Background()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(adminweb.OpenAPI())
	if err != nil {
		t.Fatalf("%s does not load: %v", openAPIFile, err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("%s is not valid OpenAPI: %v", openAPIFile, err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("%s declares OpenAPI %s, want 3.1", openAPIFile, doc.OpenAPI)
	}

	// Every registered route is documented, and every documented one is
	// registered.
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	registered := adminRoutes(ts.Admin)
	for _, r := range registered {
		if !documented[r] {
			t.Errorf("admin route %s is registered but not in %s: add its operation there (see internal/web/admin/doc.go)", r, openAPIFile)
		}
	}
	for r := range documented {
		if !slices.Contains(registered, r) {
			t.Errorf("%s documents %s, which the admin listener does not serve", openAPIFile, r)
		}
	}

	doc.Servers = openapi3.Servers{{URL: ts.AdminURL}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	api := &openAPIClient{t: t, base: ts.AdminURL, token: token, router: router, called: map[string]bool{}}
	served := api.call("GET", "/admin/openapi.json", nil, http.StatusOK)
	if !bytes.Equal(served, adminweb.OpenAPI()) {
		t.Errorf("/admin/openapi.json does not serve %s", openAPIFile)
	}
	adminAPIDriver(api)

	for r := range documented {
		if !api.called[r] {
			t.Errorf("%s is documented but adminAPIDriver (cmd/signet/openapi_test.go) never calls it: add a call", r)
		}
	}
}

// adminAPIDriver calls every admin operation, answers of success and of
// the usual errors, in an order where each finds what it needs. A new
// admin route gets its calls here.
func adminAPIDriver(api *openAPIClient) {
	// Roles.
	api.call("POST", "/admin/roles", adminapi.NewRole{Name: "editor", Description: "edits"}, http.StatusCreated)
	api.call("POST", "/admin/roles", adminapi.NewRole{Name: "editor"}, http.StatusConflict)
	api.call("GET", "/admin/roles", nil, http.StatusOK)
	api.call("DELETE", "/admin/roles/admin", nil, http.StatusBadRequest)

	// Users.
	var u adminapi.User
	api.decode(api.call("POST", "/admin/users", adminapi.NewUser{Username: "ada", Email: "ada@example.com", Name: "Ada",
		Password: "an unusual passphrase 4711", Roles: []string{"user", "editor"}}, http.StatusCreated), &u)
	api.call("POST", "/admin/users", adminapi.NewUser{Username: "ada", Email: "ada2@example.com",
		Password: "an unusual passphrase 4711"}, http.StatusConflict)
	api.call("POST", "/admin/users", adminapi.NewUser{Username: "bob", Email: "not an address", Password: "x"}, http.StatusBadRequest)
	api.callRaw("POST", "/admin/users", "text/plain", `{}`, http.StatusUnsupportedMediaType)
	api.callRaw("POST", "/admin/users", "application/json", `{"username":"eve","shoe_size":42}`, http.StatusBadRequest)
	api.call("GET", "/admin/users?search=ad&limit=10&offset=0", nil, http.StatusOK)
	api.call("GET", "/admin/users?limit=0", nil, http.StatusBadRequest)
	api.call("GET", "/admin/users/"+u.ID, nil, http.StatusOK)
	api.call("GET", "/admin/users/ada@example.com", nil, http.StatusOK)
	api.call("GET", "/admin/users/nobody", nil, http.StatusNotFound)
	api.call("PUT", "/admin/users/ada/roles", adminapi.UserRoles{Roles: []string{"user"}}, http.StatusOK)
	api.callRaw("PUT", "/admin/users/ada/roles", "application/json", `{}`, http.StatusBadRequest)
	api.call("POST", "/admin/users/ada/disable", nil, http.StatusOK)
	api.call("POST", "/admin/users/ada/enable", nil, http.StatusOK)
	api.call("POST", "/admin/users/ada/verify-email", nil, http.StatusOK)
	api.call("POST", "/admin/users/ada/send-reset", nil, http.StatusOK)
	api.call("POST", "/admin/users/ada/logout", nil, http.StatusOK)
	api.call("POST", "/admin/users/nobody/logout", nil, http.StatusNotFound)
	api.call("POST", "/admin/users/ada/reset-mfa", nil, http.StatusOK)
	api.call("POST", "/admin/users/nobody/reset-mfa", nil, http.StatusNotFound)

	// Clients.
	var cl adminapi.OAuthClient
	api.decode(api.call("POST", "/admin/clients", adminapi.ClientRegistration{ClientName: "Wiki",
		RedirectURIs: []string{"https://wiki.example.com/cb"}, Scope: "openid profile offline_access"}, http.StatusCreated), &cl)
	if cl.ClientSecret == "" {
		api.t.Error("a confidential client was created without a secret")
	}
	api.call("POST", "/admin/clients", adminapi.ClientRegistration{ClientName: "API consumer",
		RedirectURIs: []string{"https://app.example.com/cb"}, AccessTokenFormat: "jwt",
		Audience: []string{"https://api.example.com"}, RequirePushedAuthorizationRequests: true}, http.StatusCreated)
	api.call("POST", "/admin/clients", adminapi.ClientRegistration{ClientName: "Bad",
		RedirectURIs: []string{"javascript:alert(1)"}}, http.StatusBadRequest)
	api.call("GET", "/admin/clients", nil, http.StatusOK)
	api.call("GET", "/admin/clients/"+cl.ClientID, nil, http.StatusOK)
	var changed adminapi.OAuthClient
	api.decode(api.call("PATCH", "/admin/clients/"+cl.ClientID,
		map[string]any{"redirect_uris": []string{"https://wiki.example.com/cb2"}}, http.StatusOK), &changed)
	if changed.ClientName != "Wiki" || changed.ClientSecret != "" {
		api.t.Errorf("PATCH of the redirect URIs: name %q (want Wiki), secret shown %v", changed.ClientName, changed.ClientSecret != "")
	}
	api.call("PATCH", "/admin/clients/"+cl.ClientID, map[string]any{"redirect_uris": []string{"javascript:alert(1)"}}, http.StatusBadRequest)
	api.call("PATCH", "/admin/clients/no-such-client", map[string]any{"client_name": "X"}, http.StatusNotFound)
	api.callRaw("PATCH", "/admin/clients/"+cl.ClientID, "text/plain", `{}`, http.StatusUnsupportedMediaType)
	var rotated adminapi.OAuthClient
	api.decode(api.call("POST", "/admin/clients/"+cl.ClientID+"/rotate-secret", nil, http.StatusOK), &rotated)
	if rotated.ClientSecret == "" || rotated.ClientSecret == cl.ClientSecret {
		api.t.Error("rotate-secret answered no new secret")
	}
	api.call("POST", "/admin/clients/no-such-client/rotate-secret", nil, http.StatusNotFound)
	var spa adminapi.OAuthClient
	api.decode(api.call("POST", "/admin/clients", adminapi.ClientRegistration{ClientName: "SPA", TokenEndpointAuthMethod: "none",
		RedirectURIs: []string{"https://spa.example.com/cb"}}, http.StatusCreated), &spa)
	api.call("POST", "/admin/clients/"+spa.ClientID+"/rotate-secret", nil, http.StatusBadRequest)
	api.call("DELETE", "/admin/clients/"+cl.ClientID, nil, http.StatusNoContent)
	api.call("GET", "/admin/clients/"+cl.ClientID, nil, http.StatusNotFound)

	// Initial access tokens for dynamic client registration.
	var rt adminapi.RegistrationToken
	api.decode(api.call("POST", "/admin/registration-tokens", adminapi.NewRegistrationToken{Description: "partner",
		ExpiresIn: 3600, MaxUses: 2}, http.StatusCreated), &rt)
	if rt.Token == "" || rt.ExpiresAt == nil {
		api.t.Errorf("registration token answer %+v: want the token and its expiry", rt)
	}
	api.call("POST", "/admin/registration-tokens", adminapi.NewRegistrationToken{ExpiresIn: -1}, http.StatusBadRequest)
	api.call("GET", "/admin/registration-tokens", nil, http.StatusOK)
	api.call("DELETE", "/admin/registration-tokens/"+rt.ID, nil, http.StatusNoContent)
	api.call("DELETE", "/admin/registration-tokens/"+rt.ID, nil, http.StatusNotFound)

	// Keys.
	api.call("GET", "/admin/keys", nil, http.StatusOK)
	api.call("POST", "/admin/keys/rotate", nil, http.StatusOK)
	api.call("POST", "/admin/keys/rotate", adminapi.RotateKeys{Algorithm: "RS256"}, http.StatusOK)
	api.call("POST", "/admin/keys/rotate", adminapi.RotateKeys{Algorithm: "HS256"}, http.StatusBadRequest)

	// Connectors.
	var conn adminapi.Connector
	api.decode(api.call("POST", "/admin/connectors", adminapi.NewConnector{ID: "corp", Type: "oidc", Name: "Corp",
		ClientID: "signet", ClientSecret: "s3cret", Config: json.RawMessage(`{"issuer":"https://login.corp.example"}`),
		RoleRules: []adminapi.RoleRule{{Claim: "groups", Value: "eds", Role: "editor"}}, DefaultRole: "user"}, http.StatusCreated), &conn)
	if !conn.HasClientSecret || strings.Contains(string(api.call("GET", "/admin/connectors/corp", nil, http.StatusOK)), "s3cret") {
		api.t.Error("a connector's client secret is missing or shown")
	}
	api.call("POST", "/admin/connectors", adminapi.NewConnector{ID: "corp", Type: "oidc", Name: "Corp", ClientID: "x",
		Config: json.RawMessage(`{"issuer":"https://login.corp.example"}`)}, http.StatusConflict)
	api.call("POST", "/admin/connectors", adminapi.NewConnector{ID: "Bad Id", Type: "saml", Name: "", ClientID: ""}, http.StatusBadRequest)
	api.call("GET", "/admin/connectors", nil, http.StatusOK)
	off := false
	api.call("PATCH", "/admin/connectors/corp", adminapi.ConnectorPatch{Enabled: &off}, http.StatusOK)
	api.call("PATCH", "/admin/connectors/nobody", adminapi.ConnectorPatch{Enabled: &off}, http.StatusNotFound)
	api.call("DELETE", "/admin/connectors/corp", nil, http.StatusNoContent)
	api.call("GET", "/admin/connectors/corp", nil, http.StatusNotFound)
	api.call("DELETE", "/admin/connectors/corp", nil, http.StatusNotFound)

	// Audit, then the deletions.
	api.call("GET", "/admin/audit?limit=5", nil, http.StatusOK)
	api.call("GET", "/admin/audit?limit=100000", nil, http.StatusBadRequest)
	api.call("DELETE", "/admin/users/ada", nil, http.StatusNoContent)
	api.call("DELETE", "/admin/roles/editor", nil, http.StatusNoContent)
	api.call("DELETE", "/admin/roles/editor", nil, http.StatusNotFound)

	// Without the token, and from a web page.
	api.token = ""
	api.call("GET", "/admin/users", nil, http.StatusUnauthorized)
	api.token = "wrong-token-0123456789"
	api.call("GET", "/admin/roles", nil, http.StatusUnauthorized)
}

// adminRoutes lists the admin listener's routes under /admin as
// "METHOD /path/{param}", OpenAPI's spelling.
func adminRoutes(e *echo.Echo) []string {
	param := regexp.MustCompile(`:([A-Za-z0-9_]+)`)
	var out []string
	for _, r := range e.Routes() {
		if !strings.HasPrefix(r.Path, "/admin/") || r.Method == echo.RouteNotFound || strings.Contains(r.Path, "*") {
			continue
		}
		out = append(out, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// openAPIClient calls the admin API and validates each request and answer
// against the document.
type openAPIClient struct {
	t      *testing.T
	base   string
	token  string
	router routers.Router
	// called holds "METHOD /path/{param}" of every operation called.
	called map[string]bool
}

func (a *openAPIClient) call(method, path string, body any, want int) []byte {
	a.t.Helper()
	if body == nil {
		return a.callRaw(method, path, "", "", want)
	}
	b, err := json.Marshal(body)
	if err != nil {
		a.t.Fatal(err)
	}
	return a.callRaw(method, path, "application/json", string(b), want)
}

// callRaw sends body as is. Requests the document allows are validated
// against it; deliberately bad ones (wrong content type, unknown fields,
// out-of-range parameters) are sent anyway to check their answers.
func (a *openAPIClient) callRaw(method, path, contentType, body string, want int) []byte {
	a.t.Helper()
	ctx := context.Background()
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	route, pathParams, err := a.router.FindRoute(req)
	if err != nil {
		a.t.Fatalf("%s %s: no operation of %s matches: %v", method, path, openAPIFile, err)
	}
	op := method + " " + route.Path
	a.called[op] = true
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: requireBearerHeader}}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	if want < 400 && reqErr != nil {
		a.t.Errorf("%s %s: the request does not match %s: %v", method, path, openAPIFile, reqErr)
	}
	req.Body = http.NoBody // validation read it
	if body != "" {
		req.Body = io.NopCloser(strings.NewReader(body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	if resp.StatusCode != want {
		a.t.Errorf("%s %s = %d %s, want %d", method, path, resp.StatusCode, got, want)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	out.SetBodyBytes(got)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		a.t.Errorf("%s %s: the %d answer does not match %s (operation %s): %v\nbody: %s", method, path, resp.StatusCode, openAPIFile, op, err, got)
	}
	return got
}

func (a *openAPIClient) decode(b []byte, v any) {
	a.t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		a.t.Fatalf("decode %s: %v", b, err)
	}
}

// requireBearerHeader is the document's security scheme as a client sees
// it: a bearer token is sent (the server checks its value).
func requireBearerHeader(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme == nil || in.SecurityScheme.Scheme != "bearer" {
		return fmt.Errorf("unexpected security scheme %s", in.SecuritySchemeName)
	}
	if !strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
		return errors.New("no bearer token")
	}
	return nil
}
