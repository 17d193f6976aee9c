package oidc_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
	"github.com/signet-idp/signet/internal/web"
	"github.com/signet-idp/signet/internal/web/oidc"
)

// The endpoint fuzz targets call the handler in-process: no HTTP client in
// between refuses odd input, so the handler sees all the fuzzer makes.

const (
	fuzzAppID       = "fuzz-app"
	fuzzAppRedirect = "http://127.0.0.1:9999/cb"
	fuzzPubID       = "fuzz-public"
	fuzzPubRedirect = "com.example.app:/cb"
	fuzzSSOCookie   = "alice"
	// fuzzAppSecret is fixed: the fuzzing workers are separate processes,
	// and a seed with the right secret must be right in all of them.
	fuzzAppSecret = "fuzz-secret-0123456789-abcdefghijklmnopq"
)

// fuzzEnv is the protocol endpoints over a memory store, with a
// confidential client (fuzzAppID, all grants), a public client
// (fuzzPubID) and an SSO session behind the cookie sso=alice.
type fuzzEnv struct {
	*env
	handler http.Handler
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	e := newEnv(f, memory.New())
	e.client(func(c *storage.Client) {
		c.ID = fuzzAppID
		c.SecretHash = clients.HashSecret(fuzzAppSecret)
		c.RedirectURIs = []string{fuzzAppRedirect}
		c.GrantTypes = []string{"authorization_code", "refresh_token", "client_credentials"}
	})
	e.client(func(c *storage.Client) {
		c.ID = fuzzPubID
		c.RedirectURIs = []string{fuzzPubRedirect}
		c.TokenEndpointAuthMethod = storage.AuthMethodNone
	})
	u := e.user()
	sess := fakeSessions{byCookie: map[string]oidc.BrowserSession{
		fuzzSSOCookie: {ID: "sid-fuzz", Subject: u.ID, AuthTime: time.Now().Add(-time.Minute)},
	}}
	h, err := oidc.New(oidc.Options{Issuer: e.URL, OAuth: e.Provider, Challenges: e.Challenges, Keys: e.Keys,
		Sessions: sess, RequireBrowserSession: true, Now: e.clock.Now})
	if err != nil {
		f.Fatal(err)
	}
	ec := web.New(web.Options{Name: "public"})
	h.Register(ec)
	return &fuzzEnv{env: e, handler: ec}
}

func (e *fuzzEnv) serve(method, path, rawQuery, body string, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.URL.RawQuery = rawQuery
	r.RequestURI = r.URL.RequestURI()
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	return w
}

// redirectsSafely reports whether an authorization endpoint redirect goes
// where it may: Signet's own login or resume page, or a registered
// redirect URI (with the answer in its query or fragment).
func redirectsSafely(loc string) bool {
	for _, p := range []string{oidc.DefaultLoginPath + "?", oidc.PathResume + "?"} {
		if strings.HasPrefix(loc, p) {
			return true
		}
	}
	for _, reg := range []string{fuzzAppRedirect, fuzzPubRedirect} {
		if loc == reg || strings.HasPrefix(loc, reg+"?") || strings.HasPrefix(loc, reg+"#") {
			return true
		}
	}
	return false
}

// FuzzAuthorizeEndpoint: whatever the query (or POST body) and cookie,
// the authorization endpoint and its resume endpoint never answer 5xx,
// and never send the browser anywhere but to the login page, back to
// itself or to a redirect URI registered for a client: an error for a
// request whose redirect URI is unknown is a page, not a redirect.
func FuzzAuthorizeEndpoint(f *testing.F) {
	e := newFuzzEnv(f)
	_, challenge := pkcePair()
	good := url.Values{
		"client_id": {fuzzAppID}, "redirect_uri": {fuzzAppRedirect}, "response_type": {"code"},
		"scope": {"openid profile offline_access"}, "state": {"state-123"}, "nonce": {"nonce-123456"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	with := func(k, v string) string {
		q := url.Values{}
		for kk, vv := range good {
			q[kk] = vv
		}
		q.Set(k, v)
		return q.Encode()
	}
	f.Add(uint8(0), good.Encode(), "")
	f.Add(uint8(0), good.Encode(), "sso="+fuzzSSOCookie)
	f.Add(uint8(0), with("prompt", "none"), "sso="+fuzzSSOCookie)
	f.Add(uint8(0), with("prompt", "none"), "")
	f.Add(uint8(0), with("prompt", "none login"), "")
	f.Add(uint8(0), with("max_age", "9999999999999999"), "sso="+fuzzSSOCookie)
	f.Add(uint8(0), with("max_age", "-1"), "")
	f.Add(uint8(0), with("response_mode", "form_post"), "")
	f.Add(uint8(0), with("response_type", "token"), "")
	f.Add(uint8(0), with("redirect_uri", "https://evil.example/cb"), "")
	f.Add(uint8(0), with("redirect_uri", fuzzAppRedirect+"/../x"), "")
	f.Add(uint8(0), with("client_id", "nobody"), "")
	f.Add(uint8(0), with("client_id", fuzzPubID)+"&redirect_uri="+url.QueryEscape(fuzzPubRedirect), "")
	f.Add(uint8(0), with("id_token_hint", "eyJhbGciOiJSUzI1NiJ9.e30.AA"), "")
	f.Add(uint8(0), with("request", "eyJhbGciOiJub25lIn0.e30."), "")
	f.Add(uint8(0), with("code_challenge_method", "plain"), "")
	f.Add(uint8(0), good.Encode()+"&client_id="+fuzzAppID, "")
	f.Add(uint8(0), good.Encode()+"&state=2", "")
	f.Add(uint8(0), "client_id=%zz", "")
	f.Add(uint8(0), "", "")
	f.Add(uint8(1), good.Encode(), "")
	f.Add(uint8(2), "login_challenge=AAAA", "")
	f.Add(uint8(2), "login_challenge="+strings.Repeat("A", 200), "sso="+fuzzSSOCookie)
	f.Fuzz(func(t *testing.T, route uint8, raw, cookie string) {
		method, path, query, body := http.MethodGet, oidc.PathAuthorize, raw, ""
		h := http.Header{}
		switch route % 3 {
		case 1:
			method, query, body = http.MethodPost, "", raw
			h.Set("Content-Type", "application/x-www-form-urlencoded")
		case 2:
			path = oidc.PathResume
		}
		if cookie != "" {
			h.Set("Cookie", cookie)
		}
		w := e.serve(method, path, query, body, h)
		switch {
		case w.Code >= 500:
			t.Fatalf("%s %s?%s: status %d: %s", method, path, query, w.Code, w.Body)
		case w.Code >= 300 && w.Code < 400:
			if loc := w.Header().Get("Location"); !redirectsSafely(loc) {
				t.Fatalf("%s %s?%s redirected to %q", method, path, query, loc)
			}
		case w.Code == http.StatusOK:
			// Only a form_post answer, to a registered redirect URI.
			b := w.Body.String()
			if !strings.Contains(b, `action="`+fuzzAppRedirect+`"`) && !strings.Contains(b, `action="`+fuzzPubRedirect+`"`) {
				t.Fatalf("%s %s?%s: 200 that is not a form_post to a registered URI: %s", method, path, query, b)
			}
		case w.Code < 400:
			t.Fatalf("%s %s?%s: unexpected status %d", method, path, query, w.Code)
		}
	})
}

// FuzzTokenEndpoints: whatever the body and Authorization header, the
// token, revocation, introspection and userinfo endpoints answer 200 or a
// 4xx with a JSON body (an OAuth error object for every 4xx), never 5xx.
func FuzzTokenEndpoints(f *testing.F) {
	e := newFuzzEnv(f)
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	}
	auth := basic(fuzzAppID, fuzzAppSecret)
	paths := []string{oidc.PathToken, oidc.PathRevoke, oidc.PathIntrospect, oidc.PathUserinfo}
	f.Add(uint8(0), "grant_type=client_credentials", auth)
	f.Add(uint8(0), "grant_type=client_credentials&scope=openid", auth)
	f.Add(uint8(0), "grant_type=client_credentials", basic(fuzzAppID, "wrong"))
	f.Add(uint8(0), "grant_type=client_credentials&client_id="+fuzzAppID+"&client_secret="+url.QueryEscape(fuzzAppSecret), "")
	f.Add(uint8(0), "grant_type=authorization_code&code=abc.def&redirect_uri="+url.QueryEscape(fuzzAppRedirect)+"&code_verifier="+strings.Repeat("v", 43), auth)
	f.Add(uint8(0), "grant_type=refresh_token&refresh_token=ory_rt_abc.def&scope=openid", auth)
	f.Add(uint8(0), "grant_type=authorization_code&code=x&client_id="+fuzzPubID, "")
	f.Add(uint8(0), "grant_type=password&username=a&password=b", auth)
	f.Add(uint8(0), "grant_type=client_credentials&grant_type=client_credentials", auth)
	f.Add(uint8(0), "grant_type=client_credentials", "Basic %%%")
	f.Add(uint8(0), "grant_type=client_credentials", "Basic "+base64.StdEncoding.EncodeToString([]byte("%zz:%zz")))
	f.Add(uint8(0), "", "")
	f.Add(uint8(1), "token=abc", auth)
	f.Add(uint8(1), "token=abc&token_type_hint=refresh_token", auth)
	f.Add(uint8(1), "token=", "")
	f.Add(uint8(2), "token=abc", auth)
	f.Add(uint8(2), "token=abc&access_token=x", auth)
	f.Add(uint8(3), "access_token=abc", "")
	f.Add(uint8(3), "", "Bearer ory_at_abc.def")
	f.Add(uint8(3), "", "Bearer")
	f.Fuzz(func(t *testing.T, route uint8, body, authorization string) {
		path := paths[int(route)%len(paths)]
		h := http.Header{}
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		if authorization != "" {
			h["Authorization"] = []string{authorization}
		}
		w := e.serve(http.MethodPost, path, "", body, h)
		if w.Code >= 500 || (w.Code != http.StatusOK && w.Code < 400) {
			t.Fatalf("POST %s %q (Authorization %q): status %d: %s", path, body, authorization, w.Code, w.Body)
		}
		if path == oidc.PathRevoke && w.Code == http.StatusOK {
			return // RFC 7009: an empty 200
		}
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("POST %s %q: status %d, body is not JSON: %q", path, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			if code, _ := out["error"].(string); code == "" {
				t.Fatalf("POST %s %q: status %d without an error code: %s", path, body, w.Code, w.Body)
			}
		}
	})
}
