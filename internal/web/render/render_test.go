package render

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func mustNew(t *testing.T, b Branding) *Renderer {
	t.Helper()
	r, err := New(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// inlineCode matches what the CSP forbids: inline scripts, inline styles,
// event-handler attributes, javascript: URLs.
var inlineCode = regexp.MustCompile(`(?i)<script|<style|\sstyle=|\son[a-z]+=|javascript:`)

func TestEveryPageRendersWithoutInlineCode(t *testing.T) {
	r := mustNew(t, Branding{Name: "Acme <Accounts>", LogoURL: "https://cdn.example.com/logo.png", AccentColor: "#0a7"})
	common := Common{CSRFToken: "tok-123", SignedInAs: "alice"}
	pages := map[string]func(w http.ResponseWriter) error{
		"login": func(w http.ResponseWriter) error {
			return r.Login(w, 200, LoginPage{Common: common, Challenge: "ch1", ClientName: "Photo <App>", Username: "bob", Error: "nope"})
		},
		"consent": func(w http.ResponseWriter) error {
			return r.Consent(w, 200, ConsentPage{Common: common, Challenge: "ch1", ClientName: "Photo App", Scopes: []Scope{{Name: "roles", Title: "See your roles"}}})
		},
		"error": func(w http.ResponseWriter) error {
			return r.Error(w, ErrorPage{Status: 400, Title: "Bad", Message: "Plain words", Code: "invalid_client"})
		},
		"logout": func(w http.ResponseWriter) error {
			return r.Logout(w, 200, LogoutPage{Common: common, ClientName: "Photo App", IDTokenHint: "a.b.c", State: "s t"})
		},
		"signed_out": func(w http.ResponseWriter) error { return r.SignedOut(w, 200, SignedOutPage{}) },
		"home":       func(w http.ResponseWriter) error { return r.Home(w, 200, HomePage{Common: common, Username: "alice"}) },
	}
	for name, render := range pages {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			if err := render(w); err != nil {
				t.Fatal(err)
			}
			body := w.Body.String()
			if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q", cc)
			}
			if m := inlineCode.FindString(body); m != "" {
				t.Errorf("page has inline code %q", m)
			}
			for _, want := range []string{`<html lang="en">`, `name="viewport"`, "Acme &lt;Accounts&gt;", "Secured by Signet", `href="/static/signet.css?v=`, `src="https://cdn.example.com/logo.png"`} {
				if !strings.Contains(body, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			if strings.Contains(body, "<Accounts>") || strings.Contains(body, "<App>") {
				t.Error("branding or client name not escaped")
			}
			// Every form posts with a CSRF token.
			if forms, tokens := strings.Count(body, "<form"), strings.Count(body, `name="csrf_token" value="tok-123"`); forms != tokens {
				t.Errorf("%d forms but %d CSRF fields", forms, tokens)
			}
		})
	}
}

func TestLoginPageContract(t *testing.T) {
	r := mustNew(t, Branding{})
	w := httptest.NewRecorder()
	if err := r.Login(w, 401, LoginPage{Challenge: "ch-1", ClientName: "Photo App", Username: "bob", Error: "The user name, e-mail or password is not right."}); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	if w.Code != 401 {
		t.Errorf("status %d", w.Code)
	}
	for _, want := range []string{
		`<form class="stack" method="post" action="/login">`,
		`name="username"`, `name="password" type="password"`, `name="remember" type="checkbox"`,
		`name="login_challenge" value="ch-1"`, `name="csrf_token"`,
		`<label for="username">`, `<label for="password">`, `<label for="remember">`,
		`role="alert"`, `aria-describedby="login-error"`, `autocomplete="current-password"`,
		"Photo App", `value="bob"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	if strings.Contains(body, "Secured by") {
		t.Error("unbranded page says Secured by")
	}
	if strings.Contains(body, `class="signout"`) {
		t.Error("sign-out form shown to nobody")
	}
}

func TestConsentPageContract(t *testing.T) {
	r := mustNew(t, Branding{})
	w := httptest.NewRecorder()
	if err := r.Consent(w, 200, ConsentPage{Challenge: "c", ClientName: "Photo App", Scopes: []Scope{{Name: "email", Title: "See your e-mail address", Detail: "verified"}}}); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	for _, want := range []string{`method="post"`, `name="decision" value="allow"`, `name="decision" value="deny"`, "Photo App", "See your e-mail address"} {
		if !strings.Contains(body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
}

func TestBrandingValidation(t *testing.T) {
	for _, b := range []Branding{
		{AccentColor: "red"},
		{AccentColor: "#12345"},
		{AccentColor: "#123; } body { display:none"},
		{LogoURL: "http://insecure.example/logo.png"},
		{LogoURL: "javascript:alert(1)"},
		{LogoURL: "//evil.example/logo.png"},
		{LogoURL: "https://user:pw@example.com/l.png"},
		{Name: strings.Repeat("x", 101)},
	} {
		if _, err := New(b); err == nil {
			t.Errorf("New(%+v) accepted bad branding", b)
		}
	}
	for _, b := range []Branding{{LogoURL: "/static/logo.svg"}, {AccentColor: "#ABCDEF"}, {Name: "Signet"}} {
		if _, err := New(b); err != nil {
			t.Errorf("New(%+v): %v", b, err)
		}
	}
}

func TestAccentColourPicksReadableText(t *testing.T) {
	dark := mustNew(t, Branding{AccentColor: "#123456"})
	css, v1 := dark.Stylesheet()
	if !strings.Contains(string(css), "--accent: #123456; --accent-text: #ffffff;") || !strings.Contains(string(css), "--link: #123456") {
		t.Errorf("dark accent: %s", css[len(css)-300:])
	}
	light := mustNew(t, Branding{AccentColor: "#FFE066"})
	css, v2 := light.Stylesheet()
	tail := string(css[len(css)-300:])
	if !strings.Contains(tail, "--accent: #ffe066; --accent-text: #000000;") || strings.Contains(tail, "--link: #ffe066") {
		t.Errorf("light accent: %s", tail)
	}
	_, v0 := mustNew(t, Branding{}).Stylesheet()
	if v0 == v1 || v1 == v2 {
		t.Error("stylesheet version does not follow its content")
	}
}
