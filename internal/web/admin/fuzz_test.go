package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/adminapi"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/keys"
	"github.com/signet-idp/signet/internal/storage/memory"
	"github.com/signet-idp/signet/internal/web/admin"
)

// fuzzKeys stands in for the key manager on POST /keys/rotate: the route's
// parsing is under test, and generating RSA keys would make every run
// slow. It answers as the manager does: ErrAlgorithm for an algorithm it
// does not know.
type fuzzKeys struct{}

func (fuzzKeys) List(context.Context) ([]keys.Info, error) { return nil, nil }

func (fuzzKeys) Rotate(_ context.Context, alg string) ([]keys.Info, error) {
	if alg != "" && !keys.IsSupported(alg) {
		return nil, fmt.Errorf("%w: %q", keys.ErrAlgorithm, alg)
	}
	return nil, nil
}

// adminRoute is a JSON-bodied route of the admin API and the type its
// body decodes into.
type adminRoute struct {
	method, path string
	body         func() any
}

var adminRoutes = []adminRoute{
	{http.MethodPost, "/admin/clients", func() any { return &adminapi.ClientRegistration{} }},
	{http.MethodPost, "/admin/users", func() any { return &adminapi.NewUser{} }},
	{http.MethodPut, "/admin/users/%s/roles", func() any { return &adminapi.UserRoles{} }},
	{http.MethodPost, "/admin/roles", func() any { return &adminapi.NewRole{} }},
	{http.MethodPost, "/admin/keys/rotate", func() any { return &adminapi.RotateKeys{} }},
	// The body is decoded onto the client's registration, whose Go shape
	// is the create body's.
	{http.MethodPatch, "/admin/clients/%s", func() any { return &adminapi.ClientRegistration{} }},
}

// strictlyDecodes reports whether body is what decode accepts for v: one
// JSON value of v's shape, no unknown fields, nothing after it.
func strictlyDecodes(body []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return false
	}
	return errors.Is(dec.Decode(&struct{}{}), io.EOF)
}

// FuzzAdminJSON: whatever the body, content type and path id, the admin
// API's JSON routes answer 2xx only for a body that strictly decodes,
// 400 for one that does not (415 for a body that is not declared JSON),
// and otherwise only the documented 404 and 409: never a 5xx, always the
// JSON error shape.
func FuzzAdminJSON(f *testing.F) {
	store := memory.New()
	now := func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }
	h := accounts.PasswordHasher{Memory: 64, Time: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	api := admin.NewAPI(accounts.NewService(store, accounts.Options{Hasher: &h, Now: now}),
		clients.NewService(store, now), nil, nil)
	e := echo.New()
	g := e.Group("/admin")
	api.Register(g)
	admin.RegisterKeys(g, fuzzKeys{}, nil)
	ctx := context.Background()
	if _, err := accounts.NewService(store, accounts.Options{Hasher: &h, Now: now}).CreateUser(ctx,
		accounts.NewUser{Username: "alice", Email: "alice@example.com", Password: "correct horse battery"}); err != nil {
		f.Fatal(err)
	}
	// The client PATCH changes when the input names no id.
	cl, _, err := clients.NewService(store, now).Create(ctx, clients.Registration{Name: "Fuzzed", RedirectURIs: []string{"https://fuzz.example/cb"}})
	if err != nil {
		f.Fatal(err)
	}

	const js = "application/json"
	f.Add(uint8(0), js, "", []byte(`{"client_name":"App","redirect_uris":["https://app.example/cb"]}`))
	f.Add(uint8(0), js, "", []byte(`{"client_name":"App","redirect_uris":["http://evil.example/cb#x"],"scope":"openid"}`))
	f.Add(uint8(0), js, "", []byte(`{"client_name":"App","redirect_uris":["https://u:p@app.example/cb"]}`))
	f.Add(uint8(0), js, "", []byte(`{"client_name":"App","grant_types":["client_credentials"],"token_endpoint_auth_method":"none"}`))
	f.Add(uint8(0), js, "", []byte(`{"client_name":"App","id_token_signed_response_alg":"HS256"}`))
	f.Add(uint8(0), js, "", []byte(`{"client_name":"App","redirect_uris":null,"first_party":"yes"}`))
	f.Add(uint8(0), "application/json; charset=utf-8", "", []byte(`{"client_name":"\u0000"}`))
	f.Add(uint8(1), js, "", []byte(`{"username":"bob","email":"bob@example.com","password":"long enough password","roles":["admin"]}`))
	f.Add(uint8(1), js, "", []byte(`{"username":"alice","email":"a2@example.com","password":"long enough password"}`))
	f.Add(uint8(1), js, "", []byte(`{"username":"x","email":"Bob <bob@example.com>","password":"p"}`))
	f.Add(uint8(1), js, "", []byte(`{"username":"x","email":"x@example.com","password":"pppppppp","extra":1}`))
	f.Add(uint8(2), js, "alice", []byte(`{"roles":["admin","billing:read"]}`))
	f.Add(uint8(2), js, "alice", []byte(`{"roles":null}`))
	f.Add(uint8(2), js, "alice", []byte(`{}`))
	f.Add(uint8(2), js, "nobody", []byte(`{"roles":[]}`))
	f.Add(uint8(2), js, "a/b%2F..", []byte(`{"roles":[]}`))
	f.Add(uint8(3), js, "", []byte(`{"name":"billing:read","description":"Reads bills"}`))
	f.Add(uint8(3), js, "", []byte(`{"name":"Admin"}`))
	f.Add(uint8(3), js, "", []byte(`{"name":"x"} {"name":"y"}`))
	f.Add(uint8(3), js, "", []byte(`[]`))
	f.Add(uint8(3), js, "", []byte(`"x"`))
	f.Add(uint8(3), js, "", []byte(`{"name":`))
	f.Add(uint8(3), js, "", []byte(``))
	f.Add(uint8(3), "text/plain", "", []byte(`{"name":"x"}`))
	f.Add(uint8(3), "", "", []byte(`{"name":"x"}`))
	f.Add(uint8(4), js, "", []byte(`{"alg":"ES256"}`))
	f.Add(uint8(4), js, "", []byte(`{"alg":"none"}`))
	f.Add(uint8(4), "", "", []byte(``))
	f.Add(uint8(4), js, "", []byte(`{"alg":1e999}`))
	f.Add(uint8(5), js, "", []byte(`{"redirect_uris":["https://fuzz.example/cb2"]}`))
	f.Add(uint8(5), js, "", []byte(`{"redirect_uris":[],"client_name":""}`))
	f.Add(uint8(5), js, "", []byte(`{"token_endpoint_auth_method":"none","grant_types":["client_credentials"]}`))
	f.Add(uint8(5), js, "", []byte(`{"jwks":null,"token_endpoint_auth_method":"private_key_jwt"}`))
	f.Add(uint8(5), js, "", []byte(`{"client_secret":"mine"}`))
	f.Add(uint8(5), js, "", []byte(`null`))
	f.Add(uint8(5), js, "nope", []byte(`{}`))
	f.Add(uint8(5), "text/plain", "", []byte(`{}`))
	f.Fuzz(func(t *testing.T, route uint8, contentType, id string, body []byte) {
		rt := adminRoutes[int(route)%len(adminRoutes)]
		path := rt.path
		if strings.Contains(path, "%s") {
			if id == "" {
				id = "alice"
				if rt.method == http.MethodPatch {
					id = cl.ID
				}
			}
			path = fmt.Sprintf(path, url.PathEscape(id))
		}
		r := httptest.NewRequest(rt.method, "/", bytes.NewReader(body))
		u, err := url.Parse(path)
		if err != nil {
			t.Skip()
		}
		r.URL = u
		if contentType != "" {
			r.Header["Content-Type"] = []string{contentType}
		}
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)

		// POST /keys/rotate takes no body at all as "every algorithm".
		isRotateWithoutBody := rt.path == "/admin/keys/rotate" && len(body) == 0 && contentType == ""
		var eb adminapi.ErrorBody
		switch {
		case w.Code >= 500:
			t.Fatalf("%s %s %q (%q): status %d: %s", rt.method, path, body, contentType, w.Code, w.Body)
		case w.Code >= 200 && w.Code < 300:
			if !isRotateWithoutBody && !strictlyDecodes(body, rt.body()) {
				t.Fatalf("%s %s accepted %q (%d), which does not strictly decode", rt.method, path, body, w.Code)
			}
			return
		case w.Code != http.StatusBadRequest && w.Code != http.StatusNotFound && w.Code != http.StatusConflict &&
			w.Code != http.StatusUnsupportedMediaType:
			t.Fatalf("%s %s %q: undocumented status %d: %s", rt.method, path, body, w.Code, w.Body)
		case json.Unmarshal(w.Body.Bytes(), &eb) != nil || eb.Error == "" || eb.Description == "":
			t.Fatalf("%s %s %q: status %d without the error shape: %s", rt.method, path, body, w.Code, w.Body)
		}
		mt, _, _ := strings.Cut(contentType, ";")
		declared := strings.EqualFold(strings.TrimSpace(mt), "application/json")
		if !isRotateWithoutBody && !declared && w.Code != http.StatusUnsupportedMediaType {
			t.Fatalf("%s %s with Content-Type %q: status %d, want 415", rt.method, path, contentType, w.Code)
		}
		if declared && !strictlyDecodes(body, rt.body()) && w.Code != http.StatusBadRequest {
			t.Fatalf("%s %s %q does not strictly decode but answered %d, want 400", rt.method, path, body, w.Code)
		}
	})
}
