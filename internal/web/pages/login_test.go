package pages

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/sessions"
)

func photoChallenge() Challenge {
	return Challenge{ClientID: "photo", ClientName: "Photo App", Scopes: []string{"openid", "profile", "roles"}}
}

func TestLoginPageShowsClientAndSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	e.ch.add("c1", Challenge{ClientID: "photo", ClientName: "Photo App", LoginHint: "alice@example.com"})
	p := e.browser().get("/login?login_challenge=c1")
	wantStatus(t, p, http.StatusOK)
	for _, want := range []string{"Photo App", `value="alice@example.com"`, `name="login_challenge" value="c1"`, `name="csrf_token"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	for h, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
	} {
		if got := p.header.Get(h); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want it to contain %q", h, got, want)
		}
	}
	if csp := p.header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %s", csp)
	}
	var csrf *http.Cookie
	for _, c := range p.cookies {
		if c.Name == CSRFCookie {
			csrf = c
		}
	}
	if csrf == nil || !csrf.HttpOnly || csrf.SameSite != http.SameSiteLaxMode {
		t.Errorf("CSRF cookie = %+v, want HttpOnly SameSite=Lax", csrf)
	}
}

func TestLoginRejectsMissingOrForeignCSRF(t *testing.T) {
	e := newEnv(t)
	e.ch.add("c1", photoChallenge())
	b := e.browser()
	b.get("/login?login_challenge=c1") // gets a CSRF cookie
	creds := url.Values{"username": {"alice"}, "password": {alicePassword}, ChallengeParam: {"c1"}}

	for name, tc := range map[string]struct {
		token string
		hdr   []string
	}{
		"no token":           {},
		"wrong token":        {token: "forged"},
		"cross-site browser": {token: "forged", hdr: []string{"Sec-Fetch-Site", "cross-site"}},
		// A sibling subdomain could plant a CSRF cookie: refused too.
		"same-site browser": {token: "forged", hdr: []string{"Sec-Fetch-Site", "same-site"}},
	} {
		t.Run(name, func(t *testing.T) {
			v := url.Values{}
			for k, vs := range creds {
				v[k] = vs
			}
			if tc.token != "" {
				v.Set(CSRFField, tc.token)
			}
			p := b.post(LoginPath, v, tc.hdr...)
			if p.status != http.StatusForbidden && p.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 403 or 400", p.status)
			}
			if b.sessionCookie() != nil {
				t.Fatal("a session was started")
			}
			if e.ch.get("c1").Subject != "" {
				t.Fatal("the challenge was accepted")
			}
		})
	}
	// The forged post from another site gets Signet's page, not a bare
	// error.
	v := url.Values{CSRFField: {"x"}, "username": {"alice"}, "password": {alicePassword}}
	p := b.post(LoginPath, v, "Sec-Fetch-Site", "cross-site")
	if !strings.Contains(p.body, "csrf_failed") || !strings.Contains(p.body, "This form could not be accepted") {
		t.Errorf("CSRF rejection page:\n%s", p.body)
	}
	// A same-origin browser post passes on its Sec-Fetch-Site header.
	p = b.post(LoginPath, url.Values{"username": {"alice"}, "password": {alicePassword}, ChallengeParam: {"c1"}}, "Sec-Fetch-Site", "same-origin")
	wantRedirect(t, p, consentURL("c1"))
}

func TestLoginStartsFreshSessionAndAcceptsChallenge(t *testing.T) {
	e := newEnv(t)
	e.ch.add("c1", photoChallenge())
	b := e.browser()
	// A cookie planted before login is not adopted.
	u, _ := url.Parse(e.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessions.DefaultCookieName, Value: "planted", Path: "/"}})

	p := b.login("c1", "Alice@Example.com", alicePassword, false)
	wantRedirect(t, p, consentURL("c1"))
	var cookie *http.Cookie
	for _, c := range p.cookies {
		if c.Name == sessions.DefaultCookieName {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value == "planted" || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.MaxAge != 0 {
		t.Fatalf("session cookie = %+v", cookie)
	}
	s, err := e.store.GetSessionByTokenHash(t.Context(), sessions.HashToken(cookie.Value))
	if err != nil {
		t.Fatal(err)
	}
	ch := e.ch.get("c1")
	if ch.Subject != e.alice.ID || ch.SessionID != s.ID || !ch.AuthTime.Equal(s.AuthTime) {
		t.Errorf("challenge after login = %+v, session %+v", ch, s)
	}
	events, _ := e.store.ListAudit(t.Context(), 10)
	if len(events) == 0 || events[0].Action != "login.success" || events[0].Actor != e.alice.ID {
		t.Errorf("audit = %+v", events)
	}
}

func TestRememberMeSetsPersistentCookie(t *testing.T) {
	e := newEnv(t)
	e.ch.add("c1", photoChallenge())
	p := e.browser().login("c1", "alice", alicePassword, true)
	wantRedirect(t, p, consentURL("c1"))
	for _, c := range p.cookies {
		if c.Name == sessions.DefaultCookieName && c.MaxAge != int(sessions.DefaultRememberFor/time.Second) {
			t.Errorf("remembered cookie MaxAge = %d", c.MaxAge)
		}
	}
}

func TestLoginRefusalsLookTheSame(t *testing.T) {
	e := newEnv(t)
	e.ch.add("c1", photoChallenge())
	var bodies []string
	for _, creds := range [][2]string{{"alice", "wrong password"}, {"nobody", alicePassword}, {"mallory", alicePassword}, {"", ""}} {
		b := e.browser()
		p := b.login("c1", creds[0], creds[1], false)
		wantStatus(t, p, http.StatusUnauthorized)
		if !strings.Contains(p.body, msgInvalidCredentials) {
			t.Errorf("%s: page lacks the generic message", creds[0])
		}
		if b.sessionCookie() != nil {
			t.Errorf("%s: session started", creds[0])
		}
		if creds[0] == "" {
			continue // the form focuses the empty name field instead
		}
		// Compare the pages without the echoed user name and token.
		body := strings.ReplaceAll(p.body, `value="`+creds[0]+`"`, "")
		bodies = append(bodies, csrfField.ReplaceAllString(body, ""))
	}
	for i := 1; i < len(bodies); i++ {
		if bodies[i] != bodies[0] {
			t.Errorf("refusal %d differs from refusal 0", i)
		}
	}
}

func TestLoginThrottledAfterRepeatedFailures(t *testing.T) {
	e := newEnv(t)
	e.ch.add("c1", photoChallenge())
	b := e.browser()
	for i := range 5 {
		wantStatus(t, b.login("c1", "alice", "wrong password", false), http.StatusUnauthorized)
		e.clock.Advance(time.Second)
		_ = i
	}
	// Even the right password waits now; so does the e-mail spelling.
	for _, login := range []string{"alice", "ALICE@example.com"} {
		p := b.login("c1", login, alicePassword, false)
		wantStatus(t, p, http.StatusTooManyRequests)
		if !strings.Contains(p.body, "Too many failed attempts") || p.header.Get("Retry-After") == "" {
			t.Errorf("throttled page: Retry-After %q\n%s", p.header.Get("Retry-After"), p.body)
		}
	}
	// An unknown name is throttled the same way after five failures.
	for range 5 {
		b.login("c1", "nobody", "x", false)
	}
	wantStatus(t, b.login("c1", "nobody", "x", false), http.StatusTooManyRequests)

	e.clock.Advance(time.Minute)
	wantRedirect(t, b.login("c1", "alice", alicePassword, false), consentURL("c1"))
}

func TestLoginWithoutChallengeHonoursOnlyLocalReturnTo(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	form := b.get("/login?return_to=%2F%3Fwelcome%3D1")
	v := url.Values{CSRFField: {csrfOf(t, form)}, "username": {"alice"}, "password": {alicePassword}, "return_to": {"/?welcome=1"}}
	wantRedirect(t, b.post(LoginPath, v), "/?welcome=1")

	b = e.browser()
	form = b.get("/login")
	v = url.Values{CSRFField: {csrfOf(t, form)}, "username": {"alice"}, "password": {alicePassword}, "return_to": {"https://evil.example/"}}
	wantRedirect(t, b.post(LoginPath, v), "/")
	home := b.get("/")
	if !strings.Contains(home.body, "You are signed in") || !strings.Contains(home.body, "alice") {
		t.Errorf("home page:\n%s", home.body)
	}
}

func TestSafeReturnTo(t *testing.T) {
	for raw, want := range map[string]string{
		"/":                     "/",
		"/account?tab=sessions": "/account?tab=sessions",
		"":                      "",
		"https://evil.example/": "",
		"//evil.example/":       "",
		"/\\evil.example":       "",
		"\\\\evil.example":      "",
		"javascript:alert(1)":   "",
		"/ok\r\nSet-Cookie: x":  "",
		"evil.example":          "",
		"/%2F/evil.example":     "",
		"/./%2Fevil":            "",
		"/.//evil.example":      "",
	} {
		if got := SafeReturnTo(raw); got != want {
			t.Errorf("SafeReturnTo(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestUnknownChallengeGetsErrorPage(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/login?login_challenge=nope", "/consent?login_challenge=nope", "/consent"} {
		p := e.browser().get(path)
		wantStatus(t, p, http.StatusBadRequest)
		if !strings.Contains(p.body, "invalid_login_challenge") || !strings.Contains(p.body, "expired") {
			t.Errorf("%s: error page:\n%s", path, p.body)
		}
	}
}

func TestStylesheet(t *testing.T) {
	e := newEnv(t)
	p := e.browser().get("/static/signet.css")
	wantStatus(t, p, http.StatusOK)
	if ct := p.header.Get("Content-Type"); ct != "text/css; charset=utf-8" || !strings.Contains(p.body, "--accent") {
		t.Errorf("stylesheet %q: %.80s", ct, p.body)
	}
	for _, path := range []string{"/static/nope.css", "/static/..%2Fembed.go", "/static/.hidden"} {
		if p := e.browser().get(path); p.status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, p.status)
		}
	}
}

func TestLoginAsAnotherAccountThanTheHintAsksAgain(t *testing.T) {
	e := newEnv(t)
	e.ch.add("c1", Challenge{ClientID: "photo", ClientName: "Photo App", Scopes: []string{"openid"}, IDTokenHintSubject: "someone-else"})
	b := e.browser()
	p := b.login("c1", "alice", alicePassword, false)
	wantStatus(t, p, http.StatusOK)
	if !strings.Contains(p.body, msgOtherAccount) || !strings.Contains(p.body, `name="password"`) {
		t.Errorf("page after logging in as another account:\n%s", p.body)
	}
	if e.ch.get("c1").Subject != "" {
		t.Error("challenge accepted for the wrong account")
	}
	if b.sessionCookie() != nil {
		t.Error("a session was started for the wrong account")
	}
	// The account the hint names gets through.
	e.ch.add("c2", Challenge{ClientID: "photo", ClientName: "Photo App", Scopes: []string{"openid"}, IDTokenHintSubject: e.alice.ID})
	wantRedirect(t, b.login("c2", "alice", alicePassword, false), consentURL("c2"))
}

func TestPrefilledLoginAndConsentResumeAtOnce(t *testing.T) {
	e := newEnv(t)
	b, sid := signedIn(t, e)
	e.ch.add("c1", Challenge{ClientID: "photo", ClientName: "Photo App", Scopes: []string{"openid"}, Subject: e.alice.ID, SessionID: sid, ConsentGiven: true})
	wantRedirect(t, b.get("/login?login_challenge=c1"), resumeURL("c1"))
	// Prefilled for this session but consent missing: the consent page.
	e.ch.add("c2", Challenge{ClientID: "photo", ClientName: "Photo App", Scopes: []string{"openid"}, Subject: e.alice.ID, SessionID: sid})
	wantRedirect(t, b.get("/login?login_challenge=c2"), consentURL("c2"))
}

func TestLoginTheChallengeServiceRejectsAsksAgain(t *testing.T) {
	e := newEnv(t)
	b, _ := signedIn(t, e)
	e.ch.add("c1", photoChallenge())
	e.ch.reject = map[string]bool{"c1": true}
	// The session would do, but the service says no: the form, with a
	// reason.
	p := b.get("/login?login_challenge=c1")
	wantStatus(t, p, http.StatusOK)
	if !strings.Contains(p.body, msgReauthenticate) || !strings.Contains(p.body, `value="alice"`) {
		t.Errorf("page:\n%s", p.body)
	}
	p = b.login("c1", "alice", alicePassword, false)
	wantStatus(t, p, http.StatusOK)
	if !strings.Contains(p.body, msgOtherAccount) {
		t.Errorf("page after a rejected login:\n%s", p.body)
	}
}

func TestDatabaseDownGetsServiceUnavailablePage(t *testing.T) {
	e := newEnv(t)
	e.ch.add("c1", photoChallenge())
	b, _ := signedIn(t, e)
	form := b.get("/") // signed in: the start page carries a token
	e.flaky.down.Store(true)
	for name, p := range map[string]page{
		"login form": b.get("/login?login_challenge=c1"),
		"login post": b.post(LoginPath, url.Values{CSRFField: {csrfOf(t, form)}, "username": {"alice"}, "password": {alicePassword}}),
		"home":       b.get("/"),
		"logout":     b.get("/logout?client_id=photo"),
	} {
		if p.status != http.StatusServiceUnavailable || !strings.Contains(p.body, "temporarily_unavailable") {
			t.Errorf("%s with the database down: %d\n%s", name, p.status, p.body)
		}
	}
	e.flaky.down.Store(false)
	wantRedirect(t, b.get("/login?login_challenge=c1"), consentURL("c1"))
}
