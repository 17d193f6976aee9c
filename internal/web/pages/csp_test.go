package pages

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestFormActionSource(t *testing.T) {
	for uri, want := range map[string]string{
		"https://photo.example/cb?x=1":      "https://photo.example",
		"http://127.0.0.1:5555/callback":    "http://127.0.0.1:5555",
		"http://[::1]:8080/cb":              "http://[::1]:8080",
		"HTTPS://Photo.Example/cb":          "https://Photo.Example",
		"com.example.app:/oauth2redirect":   "com.example.app:",
		"https://evil.example;script-src *": "",
		"not a uri":                         "",
		"":                                  "",
	} {
		if got := formActionSource(uri); got != want {
			t.Errorf("formActionSource(%q) = %q, want %q", uri, got, want)
		}
	}
}

func TestWithFormAction(t *testing.T) {
	csp := "default-src 'none'; form-action 'self'; frame-ancestors 'none'"
	got := withFormAction(csp, []string{"https://a.example", "app:"})
	if got != "default-src 'none'; form-action 'self' https://a.example app:; frame-ancestors 'none'" {
		t.Errorf("got %q", got)
	}
	if got := withFormAction("default-src 'none'", []string{"https://a.example"}); got != "default-src 'none'; form-action 'self' https://a.example" {
		t.Errorf("without form-action: %q", got)
	}
	if got := withFormAction(csp, nil); got != csp {
		t.Errorf("no sources changed the CSP: %q", got)
	}
}

// The pages whose forms end at the app allow exactly its origins.
func TestPagesAllowTheAppInFormAction(t *testing.T) {
	e := newEnv(t)
	e.ch.add("c1", photoChallenge())
	b := e.browser()
	p := b.get("/login?login_challenge=c1")
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://photo.example;") {
		t.Errorf("login page CSP %q", csp)
	}
	wantRedirect(t, b.login("c1", "alice", alicePassword, false), consentURL("c1"))
	p = b.get(consentURL("c1"))
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://photo.example;") || strings.Contains(csp, "unsafe") {
		t.Errorf("consent page CSP %q", csp)
	}
	q := url.Values{"client_id": {"photo"}, "post_logout_redirect_uri": {photoLogout}}
	p = b.get("/logout?" + q.Encode())
	wantStatus(t, p, http.StatusOK)
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://photo.example;") {
		t.Errorf("logout confirmation CSP %q", csp)
	}
	// Pages that only post to Signet keep form-action 'self'.
	if csp := b.get("/").header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self';") {
		t.Errorf("home CSP %q", csp)
	}
}

// TestAllowScripts: a passkey page may load scripts and call back to
// Signet's own origin only; everything else of the policy stays.
func TestAllowScripts(t *testing.T) {
	e := echo.New()
	rec := httptest.NewRecorder()
	c := e.NewContext(httptest.NewRequest(http.MethodGet, "/login", nil), rec)
	c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; script-src https://cdn.example; form-action 'self' https://a.example")
	allowScripts(c)
	want := "default-src 'none'; form-action 'self' https://a.example; script-src 'self'; connect-src 'self'"
	if got := rec.Header().Get("Content-Security-Policy"); got != want {
		t.Fatalf("CSP = %q, want %q", got, want)
	}
}
