package bench

import (
	"net/http"
	"net/url"
	"testing"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// signetLayout wraps content as Signet's layout does: a sign-out form in
// the header when someone is signed in, before the page's own form.
func signetLayout(content string) string {
	return `<!doctype html><html lang="en"><head><title>Sign in · Signet</title></head><body>
<header class="top"><div class="session"><form class="signout" method="post" action="/logout">
<input type="hidden" name="csrf_token" value="tok-1"><button type="submit" class="link">Sign out</button></form></div></header>
<main>` + content + `</main></body></html>`
}

func TestFindLoginForm(t *testing.T) {
	for _, tc := range []struct {
		name       string
		page       string
		html       string
		wantAction string
		wantMethod string
		wantUser   string
		wantPass   string
		// want are the values sent besides the credentials.
		want url.Values
	}{
		{
			name: "signet",
			page: "http://127.0.0.1:8080/login?login_challenge=ch-1",
			html: signetLayout(`<h1>Sign in</h1>
<form class="stack" method="post" action="/login">
  <input type="hidden" name="csrf_token" value="tok-1">
  <input type="hidden" name="login_challenge" value="ch-1">
  <div class="field"><label for="username">User name or e-mail</label>
    <input id="username" name="username" type="text" value="" required maxlength="320" autofocus></div>
  <div class="field"><label for="password">Password</label>
    <input id="password" name="password" type="password" required maxlength="1024"></div>
  <div class="check"><input id="remember" name="remember" type="checkbox" value="1">
    <label for="remember">Keep me signed in on this device</label></div>
  <button type="submit" class="button primary">Sign in</button>
</form>
<p class="form-links"><a href="/forgot-password">Forgot your password?</a></p>`),
			wantAction: "http://127.0.0.1:8080/login", wantMethod: http.MethodPost, wantUser: "username", wantPass: "password",
			want: url.Values{"csrf_token": {"tok-1"}, "login_challenge": {"ch-1"}},
		},
		{
			name: "keycloak-like: absolute action with query, named submit input, checked box",
			page: "https://kc.example.com/realms/r/protocol/openid-connect/auth?client_id=x",
			html: `<html><body><form id="kc-form-login" onsubmit="return true;" action="https://kc.example.com/realms/r/login-actions/authenticate?session_code=abc&amp;execution=e1&amp;tab_id=t1" method="post">
<input tabindex="1" id="username" name="username" value="" type="text" autofocus autocomplete="off">
<input tabindex="2" id="password" name="password" type="password" autocomplete="off">
<input id="rememberMe" name="rememberMe" type="checkbox" checked>
<input type="hidden" id="id-hidden-input" name="credentialId">
<input tabindex="4" name="login" id="kc-login" type="submit" value="Sign In"/>
</form></body></html>`,
			wantAction: "https://kc.example.com/realms/r/login-actions/authenticate?session_code=abc&execution=e1&tab_id=t1",
			wantMethod: http.MethodPost, wantUser: "username", wantPass: "password",
			want: url.Values{"rememberMe": {"on"}, "credentialId": {""}, "login": {"Sign In"}},
		},
		{
			name: "hydra example: email field, relative action, select and remember box",
			page: "http://127.0.0.1:3000/login?login_challenge=h1",
			html: `<form action="./login" method="POST"><input type="hidden" name="_csrf" value="c">
<input type="hidden" name="challenge" value="h1">
<table><tr><td><input type="email" id="email" name="email" placeholder="email@foobar.com"></td></tr>
<tr><td><input type="password" id="password" name="password"></td></tr></table>
<select name="lang"><option value="en">English</option><option value="de" selected>Deutsch</option></select>
<input type="checkbox" id="remember" name="remember" value="1"><label for="remember">Remember me</label>
<input type="submit" id="accept" name="submit" value="Log in"></form>`,
			wantAction: "http://127.0.0.1:3000/login", wantMethod: http.MethodPost, wantUser: "email", wantPass: "password",
			want: url.Values{"_csrf": {"c"}, "challenge": {"h1"}, "lang": {"de"}, "submit": {"Log in"}},
		},
		{
			name: "node-oidc-provider dev interaction: login field, prefilled",
			page: "http://localhost:3000/interaction/uid-1",
			html: `<div class="login-card"><h1>Sign-in</h1>
<form autocomplete="off" action="/interaction/uid-1/login" method="post">
<input required type="text" name="login" placeholder="Enter any login" value="someone">
<input required type="password" name="password" placeholder="and password">
<button type="submit" class="login login-submit">Sign-in</button></form>
<div class="login-help"><a href="/interaction/uid-1/abort">[ Cancel ]</a></div></div>`,
			wantAction: "http://localhost:3000/interaction/uid-1/login", wantMethod: http.MethodPost, wantUser: "login", wantPass: "password",
			want: url.Values{},
		},
		{
			name: "unusual names: first text field, no action, GET; a search form and a registration form first",
			page: "https://idp.example.org/signin?x=1#frag",
			html: `<form action="/search"><input type="search" name="q"></form>
<form method="post" action="/register"><input name="user"><input type="password" name="pw1"><input type="password" name="pw2"></form>
<form><input name="ident" type="text"><input name="secret" type="password"><input type="hidden" name="step" value="pw">
<button>Go</button></form>`,
			wantAction: "https://idp.example.org/signin?x=1", wantMethod: http.MethodGet, wantUser: "ident", wantPass: "secret",
			want: url.Values{"step": {"pw"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, ok, err := FindLoginForm(mustURL(t, tc.page), []byte(tc.html))
			if err != nil || !ok {
				t.Fatalf("FindLoginForm: ok %v, err %v", ok, err)
			}
			if l.UserField != tc.wantUser || l.PasswordField != tc.wantPass {
				t.Errorf("fields = %q, %q; want %q, %q", l.UserField, l.PasswordField, tc.wantUser, tc.wantPass)
			}
			f := l.Fill("alice", "s3cret")
			if f.Action.String() != tc.wantAction || f.Method != tc.wantMethod {
				t.Errorf("submits %s %s, want %s %s", f.Method, f.Action, tc.wantMethod, tc.wantAction)
			}
			want := cloneValues(tc.want)
			want.Set(tc.wantUser, "alice")
			want.Set(tc.wantPass, "s3cret")
			if f.Values.Encode() != want.Encode() {
				t.Errorf("values = %s\nwant     %s", f.Values.Encode(), want.Encode())
			}
			// Filling is per submission: the parsed form stays blank.
			if l.Values.Get(tc.wantPass) != "" {
				t.Error("Fill changed the parsed form")
			}
			req, err := f.Request()
			if err != nil {
				t.Fatal(err)
			}
			if req.Method != tc.wantMethod {
				t.Errorf("request method %s", req.Method)
			}
			if tc.wantMethod == http.MethodGet && req.URL.Query().Get(tc.wantPass) != "s3cret" {
				t.Errorf("GET form: query %s", req.URL.RawQuery)
			}
			if tc.wantMethod == http.MethodPost && req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
				t.Errorf("POST form: content type %q", req.Header.Get("Content-Type"))
			}
		})
	}
}

func TestFindLoginFormNone(t *testing.T) {
	for name, page := range map[string]string{
		"consent page":        signetLayout(`<form method="post" action="/consent"><button name="decision" value="allow">Allow</button></form>`),
		"only a registration": `<form method="post"><input name="u"><input type="password" name="a"><input type="password" name="b"></form>`,
		"no forms":            `<p>Hello</p>`,
		"not HTML at all":     `{"error":"invalid_request"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, ok, err := FindLoginForm(mustURL(t, "http://127.0.0.1/x"), []byte(page)); ok || err != nil {
				t.Errorf("ok %v, err %v; want no login form", ok, err)
			}
		})
	}
	// A password field alone (identifier-first login) is a login form the
	// bench cannot fill.
	_, ok, err := FindLoginForm(mustURL(t, "http://127.0.0.1/x"), []byte(`<form method="post"><input type="password" name="p"></form>`))
	if !ok || err != errNoUserField {
		t.Errorf("password-only form: ok %v, err %v", ok, err)
	}
}

func TestFindConsentForm(t *testing.T) {
	for _, tc := range []struct {
		name       string
		page       string
		html       string
		wantAction string
		want       url.Values
	}{
		{
			name: "signet: decision=allow, not the sign-out form, not deny",
			page: "http://127.0.0.1:8080/consent?login_challenge=ch-1",
			html: signetLayout(`<h1><span class="client">App</span> wants to access your account</h1>
<form method="post" action="/consent">
  <input type="hidden" name="csrf_token" value="tok-1">
  <input type="hidden" name="login_challenge" value="ch-1">
  <div class="actions">
    <button type="submit" name="decision" value="deny" class="button secondary">Deny</button>
    <button type="submit" name="decision" value="allow" class="button primary">Allow</button>
  </div>
</form>`),
			wantAction: "http://127.0.0.1:8080/consent",
			want:       url.Values{"csrf_token": {"tok-1"}, "login_challenge": {"ch-1"}, "decision": {"allow"}},
		},
		{
			name: "hydra example: checked scopes, submit input labelled",
			page: "http://127.0.0.1:3000/consent?consent_challenge=c1",
			html: `<form action="/consent" method="POST"><input type="hidden" name="challenge" value="c1">
<input type="hidden" name="_csrf" value="x">
<input type="checkbox" class="grant_scope" id="openid" value="openid" name="grant_scope" checked>
<input type="checkbox" class="grant_scope" id="offline_access" value="offline_access" name="grant_scope" checked>
<input type="checkbox" id="remember" name="remember" value="1">
<input type="submit" id="accept" name="submit" value="Allow access">
<input type="submit" id="reject" name="submit" value="Deny access"></form>`,
			wantAction: "http://127.0.0.1:3000/consent",
			want:       url.Values{"challenge": {"c1"}, "_csrf": {"x"}, "grant_scope": {"openid", "offline_access"}, "submit": {"Allow access"}},
		},
		{
			name: "keycloak-like: accept by name, label Yes",
			page: "https://kc.example.com/realms/r/login-actions/required-action?x=1",
			html: `<form class="form-actions" action="/realms/r/login-actions/consent?session_code=s" method="POST">
<input type="hidden" name="code" value="k">
<input class="btn" name="accept" id="kc-login" type="submit" value="Yes">
<input class="btn" name="cancel" id="kc-cancel" type="submit" value="No"></form>`,
			wantAction: "https://kc.example.com/realms/r/login-actions/consent?session_code=s",
			want:       url.Values{"code": {"k"}, "accept": {"Yes"}},
		},
		{
			name: "node-oidc-provider dev interaction: only a Continue button",
			page: "http://localhost:3000/interaction/uid-2",
			html: `<form autocomplete="off" action="/interaction/uid-2/confirm" method="post">
<input type="hidden" name="prompt" value="consent"><button autofocus type="submit" class="login login-submit">Continue</button></form>
<div class="login-help"><a href="/interaction/uid-2/abort">[ Cancel ]</a></div>`,
			wantAction: "http://localhost:3000/interaction/uid-2/confirm",
			want:       url.Values{"prompt": {"consent"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok, err := FindConsentForm(mustURL(t, tc.page), []byte(tc.html))
			if err != nil || !ok {
				t.Fatalf("FindConsentForm: ok %v, err %v", ok, err)
			}
			if f.Action.String() != tc.wantAction || f.Method != http.MethodPost {
				t.Errorf("submits %s %s, want POST %s", f.Method, f.Action, tc.wantAction)
			}
			if f.Values.Encode() != tc.want.Encode() {
				t.Errorf("values = %s\nwant     %s", f.Values.Encode(), tc.want.Encode())
			}
		})
	}
}

func TestFindConsentFormNone(t *testing.T) {
	for name, page := range map[string]string{
		"signet sign-out only": signetLayout(`<h1>Something went wrong</h1>`),
		"deny only":            `<form method="post"><button name="decision" value="deny">Deny</button></form>`,
		"no submit":            `<form method="post"><input type="hidden" name="a" value="allow"></form>`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, ok, err := FindConsentForm(mustURL(t, "http://127.0.0.1/x"), []byte(page)); ok || err != nil {
				t.Errorf("ok %v, err %v; want no consent form", ok, err)
			}
		})
	}
}
