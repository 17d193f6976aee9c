package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/signet-idp/signet/internal/adminclient"
	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/oauth"
	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/storage"
)

// e2e is a running `signet serve` on PostgreSQL with the admin API, and
// relying parties (golang.org/x/oauth2 + go-oidc) talking to it. Login and
// consent are completed in test code: a browser session is started as the
// login page would, then the challenge is accepted and consent decided
// through the challenge service, and the browser resumes.
type e2e struct {
	t        *testing.T
	ts       *testServer
	admin    *adminclient.Client
	provider *gooidc.Provider
	ctx      context.Context
}

func newE2E(t *testing.T, opts ...testServerOption) *e2e {
	t.Helper()
	ts := startTestServer(t, opts...)
	admin, err := adminclient.New(ts.AdminURL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := gooidc.ClientContext(context.Background(), &http.Client{Timeout: 10 * time.Second})
	p, err := gooidc.NewProvider(ctx, ts.PublicURL)
	if err != nil {
		t.Fatalf("discovery through go-oidc: %v", err)
	}
	return &e2e{t: t, ts: ts, admin: admin, provider: p, ctx: ctx}
}

// rp is one relying party (a registered client) with its browser.
type rp struct {
	x       *e2e
	client  adminclient.OAuthClient
	conf    oauth2.Config
	browser *http.Client
}

const rpRedirect = "http://127.0.0.1:7777/callback"

func (x *e2e) newRP(reg adminclient.ClientRegistration) *rp {
	x.t.Helper()
	if reg.ClientName == "" {
		reg.ClientName = "RP " + randomName()
	}
	if reg.RedirectURIs == nil {
		reg.RedirectURIs = []string{rpRedirect}
	}
	c, err := x.admin.CreateClient(x.ctx, reg)
	if err != nil {
		x.t.Fatalf("register client: %v", err)
	}
	return x.newRPFor(c)
}

// newRPFor is the relying party of a client registered already.
func (x *e2e) newRPFor(c adminclient.OAuthClient) *rp {
	redirect := ""
	if len(c.RedirectURIs) > 0 {
		redirect = c.RedirectURIs[0]
	}
	ep := x.provider.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInHeader
	if c.TokenEndpointAuthMethod != storage.AuthMethodClientSecretBasic {
		ep.AuthStyle = oauth2.AuthStyleInParams
	}
	jar, _ := cookiejar.New(nil)
	return &rp{x: x, client: c, browser: &http.Client{Timeout: 10 * time.Second, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		conf: oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: ep, RedirectURL: redirect,
			Scopes: []string{"openid", "profile", "email", "roles", "offline_access"}}}
}

func randomName() string { return strings.ToLower(oauth2.GenerateVerifier()[:8]) }

func (x *e2e) newUser(roles ...string) adminclient.User {
	x.t.Helper()
	n := strings.NewReplacer("-", "x", "_", "y").Replace(randomName())
	u, err := x.admin.CreateUser(x.ctx, adminclient.NewUser{Username: "u" + n, Email: "u" + n + "@example.com",
		Name: "User " + n, Password: "correct horse battery " + n, EmailVerified: true, Roles: roles})
	if err != nil {
		x.t.Fatalf("create user: %v", err)
	}
	return u
}

// flow is one authorization request in progress.
type flow struct {
	state, nonce, verifier string
	challenge              string
}

// authorize sends the browser to the authorization endpoint and returns
// the login challenge the endpoint parked.
func (r *rp) authorize(extra ...oauth2.AuthCodeOption) flow {
	r.x.t.Helper()
	f := flow{state: "st-" + randomName(), nonce: "nonce-" + randomName(), verifier: oauth2.GenerateVerifier()}
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.verifier), gooidc.Nonce(f.nonce)}, extra...)
	resp := r.get(r.conf.AuthCodeURL(f.state, opts...))
	if resp.StatusCode != http.StatusSeeOther {
		r.x.t.Fatalf("authorize: %d %s", resp.StatusCode, readBody(resp))
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Path != "/login" || loc.Query().Get("login_challenge") == "" {
		r.x.t.Fatalf("authorize sent the browser to %s, want /login?login_challenge=…", loc)
	}
	f.challenge = loc.Query().Get("login_challenge")
	return f
}

func (r *rp) get(u string) *http.Response {
	r.x.t.Helper()
	resp, err := r.browser.Get(u)
	if err != nil {
		r.x.t.Fatal(err)
	}
	return resp
}

func readBody(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return string(b)
}

// signIn starts a browser session for the user, as the login page does,
// and returns it.
func (r *rp) signIn(u adminclient.User) storage.Session {
	r.x.t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/login", nil)
	s, err := newSessionManager(r.x.ts.Deps).Start(rec, req, sessions.StartInput{UserID: u.ID})
	if err != nil {
		r.x.t.Fatal(err)
	}
	issuer, _ := url.Parse(r.x.ts.PublicURL)
	r.browser.Jar.SetCookies(issuer, rec.Result().Cookies())
	return s
}

func (x *e2e) challenges() *oauth.Challenges {
	return oauth.NewChallenges(x.ts.Store, x.ts.Deps.cfg.LoginChallengeLifespan, x.ts.Deps.now)
}

// complete logs the user in (browser session + AcceptLogin), decides
// consent and resumes; it returns where the browser was sent.
func (r *rp) complete(f flow, u adminclient.User, granted []string, allow bool) (*url.URL, storage.Session) {
	r.x.t.Helper()
	s := r.signIn(u)
	ch := r.x.challenges()
	if err := ch.AcceptLogin(r.x.ctx, f.challenge, u.ID, s.ID, s.AuthTime); err != nil {
		r.x.t.Fatalf("AcceptLogin: %v", err)
	}
	if err := ch.DecideConsent(r.x.ctx, f.challenge, granted, allow); err != nil {
		r.x.t.Fatalf("DecideConsent: %v", err)
	}
	resp := r.get(r.x.ts.PublicURL + "/oauth2/auth/resume?login_challenge=" + url.QueryEscape(f.challenge))
	if resp.StatusCode != http.StatusSeeOther {
		r.x.t.Fatalf("resume: %d %s", resp.StatusCode, readBody(resp))
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	return loc, s
}

// code runs the authorization to a code.
func (r *rp) code(u adminclient.User, extra ...oauth2.AuthCodeOption) (string, flow, storage.Session) {
	r.x.t.Helper()
	f := r.authorize(extra...)
	loc, s := r.complete(f, u, r.conf.Scopes, true)
	if loc.Query().Get("state") != f.state || loc.Query().Get("code") == "" {
		r.x.t.Fatalf("callback %s: want code and state %s", loc, f.state)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != r.conf.RedirectURL {
		r.x.t.Fatalf("callback to %s, want %s", got, r.conf.RedirectURL)
	}
	return loc.Query().Get("code"), f, s
}

// login runs code + exchange and returns the tokens.
func (r *rp) login(u adminclient.User) (*oauth2.Token, flow, storage.Session) {
	r.x.t.Helper()
	code, f, s := r.code(u)
	tok, err := r.conf.Exchange(r.x.ctx, code, oauth2.VerifierOption(f.verifier))
	if err != nil {
		r.x.t.Fatalf("exchange: %v", err)
	}
	return tok, f, s
}

// idClaims are the ID token claims the tests look at.
type idClaims struct {
	Sub               string   `json:"sub"`
	Sid               string   `json:"sid"`
	AuthTime          int64    `json:"auth_time"`
	Nonce             *string  `json:"nonce"`
	AtHash            string   `json:"at_hash"`
	PreferredUsername string   `json:"preferred_username"`
	Name              string   `json:"name"`
	Email             string   `json:"email"`
	EmailVerified     *bool    `json:"email_verified"`
	Roles             []string `json:"roles"`
}

func (r *rp) verify(tok *oauth2.Token) (*gooidc.IDToken, idClaims, string) {
	r.x.t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		r.x.t.Fatal("no id_token in the token response")
	}
	idt, err := r.x.provider.Verifier(&gooidc.Config{ClientID: r.client.ClientID}).Verify(r.x.ctx, raw)
	if err != nil {
		r.x.t.Fatalf("go-oidc rejects the ID token: %v", err)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		r.x.t.Fatalf("at_hash: %v", err)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		r.x.t.Fatal(err)
	}
	return idt, c, raw
}

func (r *rp) post(path string, form url.Values, basic bool) (int, map[string]interface{}, http.Header) {
	r.x.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.x.ts.PublicURL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(r.client.ClientID), url.QueryEscape(r.client.ClientSecret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.x.t.Fatal(err)
	}
	body := readBody(resp)
	out := map[string]interface{}{}
	if body != "" {
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			r.x.t.Fatalf("%s answered %d with non-JSON: %s", path, resp.StatusCode, body)
		}
	}
	return resp.StatusCode, out, resp.Header
}

func (r *rp) introspect(token string) map[string]interface{} {
	r.x.t.Helper()
	st, body, _ := r.post("/oauth2/introspect", url.Values{"token": {token}}, true)
	if st != http.StatusOK {
		r.x.t.Fatalf("introspect: %d %v", st, body)
	}
	return body
}

func (r *rp) refresh(rt string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	return r.conf.TokenSource(r.x.ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Now().Add(-time.Hour)}).Token()
}

func wantRetrieveError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("error %v, want an OAuth error %s", err, code)
	}
	if re.Response.StatusCode != status || re.ErrorCode != code {
		t.Fatalf("got %d %s (%s), want %d %s", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription, status, code)
	}
}

// signature is the part of an opaque token storage keys it by.
func signature(tok string) string {
	_, sig, _ := strings.Cut(tok, ".")
	return sig
}

func TestOAuthE2EDiscoveryAndJWKS(t *testing.T) {
	x := newE2E(t)
	var d map[string]interface{}
	if err := x.provider.Claims(&d); err != nil {
		t.Fatal(err)
	}
	base := x.ts.PublicURL
	for k, want := range map[string]string{
		"issuer": base, "authorization_endpoint": base + "/oauth2/auth", "token_endpoint": base + "/oauth2/token",
		"userinfo_endpoint": base + "/userinfo", "jwks_uri": base + "/.well-known/jwks.json",
		"revocation_endpoint": base + "/oauth2/revoke", "introspection_endpoint": base + "/oauth2/introspect",
	} {
		if d[k] != want {
			t.Errorf("%s = %v, want %s", k, d[k], want)
		}
	}
	list := func(k string) []string {
		var out []string
		for _, v := range d[k].([]interface{}) {
			out = append(out, v.(string))
		}
		return out
	}
	if got := list("code_challenge_methods_supported"); !slices.Equal(got, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %v", got)
	}
	if got := list("scopes_supported"); !slices.Equal(got, []string{"openid", "profile", "email", "roles", "offline_access"}) {
		t.Errorf("scopes_supported = %v", got)
	}
	if got := list("response_types_supported"); !slices.Equal(got, []string{"code"}) {
		t.Errorf("response_types_supported = %v", got)
	}
	for _, c := range []string{"sub", "sid", "auth_time", "nonce", "at_hash", "preferred_username", "name", "email", "email_verified", "roles"} {
		if !slices.Contains(list("claims_supported"), c) {
			t.Errorf("claims_supported lacks %s", c)
		}
	}
	// RP-Initiated Logout is the pages' logout endpoint, and it is served.
	if d["end_session_endpoint"] != base+"/logout" || !routeExists(t, base+"/logout") {
		t.Errorf("end_session_endpoint = %v (or not served)", d["end_session_endpoint"])
	}

	resp, err := http.Get(base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
		t.Errorf("JWKS Cache-Control %q", cc)
	}
	if len(set.Keys) != 1 || !set.Keys[0].IsPublic() || set.Keys[0].Algorithm != "RS256" || set.Keys[0].Use != "sig" {
		t.Fatalf("JWKS = %+v", set.Keys)
	}
}

func routeExists(t *testing.T, u string) bool {
	resp, err := http.Get(u)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode != http.StatusNotFound
}

func TestOAuthE2ECodeFlow(t *testing.T) {
	x := newE2E(t)
	u := x.newUser("admin", "user")
	for _, method := range []string{"client_secret_basic", "client_secret_post", "none"} {
		t.Run(method, func(t *testing.T) {
			r := x.newRP(adminclient.ClientRegistration{TokenEndpointAuthMethod: method})
			tok, f, sess := r.login(u)
			idt, c, raw := r.verify(tok)
			// kid names the published key that signed.
			hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
			var h struct{ Kid, Alg string }
			_ = json.Unmarshal(hdr, &h)
			keys, _ := x.ts.Store.ListKeys(x.ctx)
			if h.Alg != "RS256" || h.Kid == "" || len(keys) != 1 || h.Kid != keys[0].ID {
				t.Fatalf("ID token header %+v, want RS256 and kid of the current key", h)
			}
			if idt.Nonce != f.nonce || c.Nonce == nil || *c.Nonce != f.nonce {
				t.Errorf("nonce %q, want %q", idt.Nonce, f.nonce)
			}
			if c.Sub != u.ID || c.Sid != sess.ID || c.AuthTime != sess.AuthTime.Unix() || c.AtHash == "" {
				t.Errorf("claims %+v; want sub %s, sid %s, auth_time %d", c, u.ID, sess.ID, sess.AuthTime.Unix())
			}
			if c.PreferredUsername != u.Username || c.Name != u.Name || c.Email != u.Email || c.EmailVerified == nil || !*c.EmailVerified {
				t.Errorf("profile/email claims %+v", c)
			}
			if !slices.Equal(c.Roles, []string{"admin", "user"}) {
				t.Errorf("roles %v", c.Roles)
			}
			if tok.RefreshToken == "" || tok.TokenType != "bearer" && tok.TokenType != "Bearer" {
				t.Errorf("token response %+v", tok)
			}

			// Userinfo, GET (go-oidc) and POST: the same claims.
			ui, err := x.provider.UserInfo(x.ctx, oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatal(err)
			}
			var uc idClaims
			_ = ui.Claims(&uc)
			if uc.Sub != u.ID || !slices.Equal(uc.Roles, c.Roles) || uc.Email != u.Email || uc.PreferredUsername != u.Username {
				t.Errorf("userinfo %+v", uc)
			}
			st, body, _ := r.post("/userinfo", url.Values{"access_token": {tok.AccessToken}}, false)
			if st != http.StatusOK || body["sub"] != u.ID {
				t.Errorf("userinfo POST: %d %v", st, body)
			}

			// Only signatures are stored, never the tokens.
			ctx := x.ctx
			for _, k := range []struct {
				kind storage.RequestKind
				tok  string
			}{{storage.KindAccessToken, tok.AccessToken}, {storage.KindRefreshToken, tok.RefreshToken}} {
				if _, err := x.ts.Store.GetOAuthRequest(ctx, k.kind, k.tok); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("%s stored under the raw token", k.kind)
				}
				row, err := x.ts.Store.GetOAuthRequest(ctx, k.kind, signature(k.tok))
				if err != nil || !row.Active || row.Subject != u.ID || row.ClientID != r.client.ClientID {
					t.Errorf("%s row %+v, %v", k.kind, row, err)
				}
			}
		})
	}
}

func TestOAuthE2ERefreshRotationAndReuse(t *testing.T) {
	x := newE2E(t)
	u := x.newUser("user")
	r := x.newRP(adminclient.ClientRegistration{})
	tok1, _, sess := r.login(u)

	// Rotation: a new refresh token each time; roles are re-read.
	if _, err := x.admin.SetUserRoles(x.ctx, u.ID, []string{"admin"}); err != nil {
		t.Fatal(err)
	}
	tok2, err := r.refresh(tok1.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == tok1.RefreshToken || tok2.AccessToken == tok1.AccessToken {
		t.Fatal("refresh did not rotate the tokens")
	}
	_, c2, _ := r.verify(tok2)
	if !slices.Equal(c2.Roles, []string{"admin"}) || c2.Sid != sess.ID || c2.AuthTime != sess.AuthTime.Unix() || c2.Sub != u.ID {
		t.Errorf("refreshed ID token claims %+v", c2)
	}
	if r.introspect(tok1.AccessToken)["active"] != false {
		t.Error("the previous access token is still active after rotation")
	}
	old, err := x.ts.Store.GetOAuthRequest(x.ctx, storage.KindRefreshToken, signature(tok1.RefreshToken))
	if err != nil || old.Active {
		t.Errorf("rotated refresh row: %+v, %v; want it kept, inactive", old, err)
	}
	if in := r.introspect(tok2.AccessToken); in["active"] != true || in["sub"] != u.ID || in["client_id"] != r.client.ClientID {
		t.Errorf("introspection of the new access token: %v", in)
	}

	// Within the grace window a repeat (a lost response, another tab)
	// gets the same new pair again and revokes nothing.
	again, err := r.refresh(tok1.RefreshToken)
	if err != nil {
		t.Fatalf("repeat within the grace window: %v", err)
	}
	if again.AccessToken != tok2.AccessToken || again.RefreshToken != tok2.RefreshToken {
		t.Error("a repeat within the grace window got another token pair")
	}
	if r.introspect(tok2.AccessToken)["active"] != true {
		t.Error("a repeat within the grace window deactivated the new access token")
	}

	// A disabled user's grant cannot be refreshed.
	v := x.newUser("user")
	tok3, _, _ := r.login(v)
	if _, err := x.admin.DisableUser(x.ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	_, err = r.refresh(tok3.RefreshToken)
	wantRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
	if r.introspect(tok3.AccessToken)["active"] != false {
		t.Error("a disabled user's access token stays active after the refusal")
	}

	// After the window, reuse of the rotated token revokes the whole grant
	// (last: the moved clock is ahead of fosite's for new logins).
	x.ts.Clock.Advance(config.Default().RefreshGracePeriod + time.Second)
	_, err = r.refresh(tok1.RefreshToken)
	wantRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
	if r.introspect(tok2.AccessToken)["active"] != false {
		t.Error("access token survived refresh-token reuse")
	}
	_, err = r.refresh(tok2.RefreshToken)
	wantRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
}

func TestOAuthE2ERevocationIntrospectionClientCredentials(t *testing.T) {
	x := newE2E(t)
	u := x.newUser()
	r := x.newRP(adminclient.ClientRegistration{})
	other := x.newRP(adminclient.ClientRegistration{})

	// Revoking the refresh token revokes the grant's access token too.
	tok, _, _ := r.login(u)
	st, body, _ := other.post("/oauth2/revoke", url.Values{"token": {tok.RefreshToken}}, true)
	if st != http.StatusBadRequest || body["error"] != "unauthorized_client" {
		t.Errorf("revoking another client's token: %d %v", st, body)
	}
	if r.introspect(tok.AccessToken)["active"] != true {
		t.Fatal("another client's revocation took effect")
	}
	st, body, _ = r.post("/oauth2/revoke", url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}, true)
	if st != http.StatusOK {
		t.Fatalf("revoke: %d %v", st, body)
	}
	if r.introspect(tok.AccessToken)["active"] != false || r.introspect(tok.RefreshToken)["active"] != false {
		t.Error("tokens active after revocation")
	}
	// Unknown tokens: 200 (RFC 7009).
	if st, _, _ := r.post("/oauth2/revoke", url.Values{"token": {"nonsense"}}, true); st != http.StatusOK {
		t.Errorf("revoking an unknown token: %d", st)
	}
	// ID token claims never leak into introspection.
	tok, _, _ = r.login(u)
	// Another client (not named in --introspection-clients) sees nothing.
	if in := other.introspect(tok.AccessToken); len(in) != 1 || in["active"] != false {
		t.Errorf("another client's introspection: %v", in)
	}
	in := r.introspect(tok.AccessToken)
	if in["active"] != true || in["email"] != nil || in["roles"] != nil || in["scope"] == nil || in["exp"] == nil {
		t.Errorf("introspection: %v", in)
	}

	// client_credentials.
	cc := x.newRP(adminclient.ClientRegistration{GrantTypes: []string{"client_credentials"}, RedirectURIs: []string{}})
	ccTok, err := clientCredentials(x, cc, "")
	if err != nil {
		t.Fatal(err)
	}
	if ccTok.RefreshToken != "" || ccTok.Extra("id_token") != nil {
		t.Error("client_credentials issued a refresh or ID token")
	}
	if in := cc.introspect(ccTok.AccessToken); in["active"] != true || in["sub"] != cc.client.ClientID || in["client_id"] != cc.client.ClientID {
		t.Errorf("client_credentials token introspection: %v", in)
	}
	_, err = clientCredentials(x, cc, "openid")
	wantRetrieveError(t, err, http.StatusBadRequest, "invalid_scope")
	// A code-flow client may not use client_credentials.
	_, err = clientCredentials(x, r, "")
	wantRetrieveError(t, err, http.StatusBadRequest, "unauthorized_client")
	// No userinfo for a client token.
	req, _ := http.NewRequest(http.MethodGet, x.ts.PublicURL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+ccTok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("userinfo with a client token: %d", resp.StatusCode)
	}
}

func clientCredentials(x *e2e, r *rp, scope string) (*oauth2.Token, error) {
	cfg := clientcredentialsConfig(r, scope)
	return cfg.Token(x.ctx)
}

func clientcredentialsConfig(r *rp, scope string) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: r.client.ClientID, ClientSecret: r.client.ClientSecret,
		TokenURL: r.conf.Endpoint.TokenURL, AuthStyle: r.conf.Endpoint.AuthStyle, Scopes: strings.Fields(scope)}
}

// TestOAuthE2EBadAuthorizationRequests: an untrusted client or redirect
// URI gets an HTML page and no redirect; every other error goes back to
// the client's redirect URI with the RFC 6749 error code.
func TestOAuthE2EBadAuthorizationRequests(t *testing.T) {
	x := newE2E(t)
	r := x.newRP(adminclient.ClientRegistration{})
	pub := x.newRP(adminclient.ClientRegistration{TokenEndpointAuthMethod: "none"})
	good := func(c *rp) url.Values {
		v := oauth2.GenerateVerifier()
		u, _ := url.Parse(c.conf.AuthCodeURL("state-1234567", oauth2.S256ChallengeOption(v), gooidc.Nonce("nonce-1234567")))
		return u.Query()
	}
	long := strings.Repeat("a", 3000)
	for _, tc := range []struct {
		name   string
		client *rp
		change func(q url.Values) string // returns a raw query when it builds one itself
		page   string                    // error code on an HTML page (no redirect)
		redir  string                    // error code in the redirect
	}{
		{"missing client_id", r, func(q url.Values) string { q.Del("client_id"); return "" }, "invalid_request", ""},
		{"unknown client", r, func(q url.Values) string { q.Set("client_id", "nope"); return "" }, "invalid_client", ""},
		{"unregistered redirect_uri", r, func(q url.Values) string { q.Set("redirect_uri", "http://127.0.0.1:7777/other"); return "" }, "invalid_request", ""},
		{"redirect_uri on another port", r, func(q url.Values) string { q.Set("redirect_uri", "http://127.0.0.1:7778/callback"); return "" }, "invalid_request", ""},
		{"missing redirect_uri", r, func(q url.Values) string { q.Del("redirect_uri"); return "" }, "invalid_request", ""},
		{"duplicate redirect_uri", r, func(q url.Values) string { q.Add("redirect_uri", rpRedirect); return "" }, "invalid_request", ""},
		{"duplicate client_id", r, func(q url.Values) string { q.Add("client_id", q.Get("client_id")); return "" }, "invalid_request", ""},
		{"whole request oversized", r, func(q url.Values) string { q.Set("x", strings.Repeat("b", 20000)); return "" }, "invalid_request", ""},
		{"duplicate state", r, func(q url.Values) string { q.Add("state", "state-other1"); return "" }, "", "invalid_request"},
		{"missing response_type", r, func(q url.Values) string { q.Del("response_type"); return "" }, "", "unsupported_response_type"},
		{"response_type token", r, func(q url.Values) string { q.Set("response_type", "token"); return "" }, "", "unsupported_response_type"},
		{"scope the client may not ask", r, func(q url.Values) string { q.Set("scope", "openid admin"); return "" }, "", "invalid_scope"},
		{"public client without PKCE", pub, func(q url.Values) string { q.Del("code_challenge"); q.Del("code_challenge_method"); return "" }, "", "invalid_request"},
		{"PKCE plain", r, func(q url.Values) string { q.Set("code_challenge_method", "plain"); return "" }, "", "invalid_request"},
		{"PKCE method without challenge", r, func(q url.Values) string { q.Del("code_challenge"); return "" }, "", "invalid_request"},
		{"malformed code_challenge", r, func(q url.Values) string { q.Set("code_challenge", "short"); return "" }, "", "invalid_request"},
		{"oversized state", r, func(q url.Values) string { q.Set("state", long); return "" }, "", "invalid_request"},
		{"oversized nonce", r, func(q url.Values) string { q.Set("nonce", long); return "" }, "", "invalid_request"},
		{"short nonce", r, func(q url.Values) string { q.Set("nonce", "abc"); return "" }, "", "invalid_request"},
		{"bad max_age", r, func(q url.Values) string { q.Set("max_age", "-1"); return "" }, "", "invalid_request"},
		{"unknown prompt", r, func(q url.Values) string { q.Set("prompt", "select_account"); return "" }, "", "invalid_request"},
		{"prompt=none without a session", r, func(q url.Values) string { q.Set("prompt", "none"); return "" }, "", "login_required"},
		{"garbage id_token_hint", r, func(q url.Values) string { q.Set("id_token_hint", "a.b.c"); return "" }, "", "invalid_request"},
		{"request object", r, func(q url.Values) string { q.Set("request", "a.b.c"); return "" }, "", "request_not_supported"},
		{"response_mode fragment", r, func(q url.Values) string { q.Set("response_mode", "fragment"); return "" }, "", "unsupported_response_mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := good(tc.client)
			raw := tc.change(q)
			if raw == "" {
				raw = q.Encode()
			}
			resp := tc.client.get(x.ts.PublicURL + "/oauth2/auth?" + raw)
			body := readBody(resp)
			if tc.page != "" {
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" ||
					!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, tc.page) {
					t.Fatalf("want an HTML page with %s and no redirect; got %d Location=%q %s", tc.page, resp.StatusCode, resp.Header.Get("Location"), body)
				}
				// The product's own page (layout and stylesheet), not a bare one.
				if !strings.Contains(body, `rel="stylesheet"`) {
					t.Fatalf("error page is not the styled product page: %s", body)
				}
				return
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			if resp.StatusCode != http.StatusSeeOther || err != nil {
				t.Fatalf("want a redirect with %s; got %d %s", tc.redir, resp.StatusCode, body)
			}
			params := loc.Query()
			if loc.Fragment != "" {
				params, _ = url.ParseQuery(loc.Fragment)
			}
			if !strings.HasPrefix(loc.String(), rpRedirect) || params.Get("error") != tc.redir {
				t.Fatalf("redirect %s, want %s at %s", loc, tc.redir, rpRedirect)
			}
			// RFC 9207: error responses name the issuer too.
			if params.Get("iss") != x.ts.PublicURL {
				t.Fatalf("redirect %s: iss %q, want %s", loc, params.Get("iss"), x.ts.PublicURL)
			}
		})
	}
}

// TestOAuthE2EDenyAndChallengeReuse: a denied consent is access_denied at
// the client; a challenge finishes once.
func TestOAuthE2EDenyAndChallengeReuse(t *testing.T) {
	x := newE2E(t)
	u := x.newUser()
	r := x.newRP(adminclient.ClientRegistration{})
	f := r.authorize()
	loc, _ := r.complete(f, u, nil, false)
	if loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != f.state {
		t.Fatalf("denied consent: %s", loc)
	}
	resp := r.get(x.ts.PublicURL + "/oauth2/auth/resume?login_challenge=" + url.QueryEscape(f.challenge))
	body := readBody(resp)
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body, "expired or was already completed") {
		t.Fatalf("second resume: %d %s", resp.StatusCode, body)
	}
	// An expired challenge cannot be completed either.
	f = r.authorize()
	x.ts.Clock.Advance(x.ts.Deps.cfg.LoginChallengeLifespan + time.Minute)
	if err := x.challenges().AcceptLogin(x.ctx, f.challenge, u.ID, "sid", time.Now()); !errors.Is(err, oauth.ErrChallengeNotFound) {
		t.Fatalf("AcceptLogin on an expired challenge: %v", err)
	}
}

// TestOAuthE2EBadTokenRequests covers each refused token request with its
// status and error code, and what it leaves behind.
func TestOAuthE2EBadTokenRequests(t *testing.T) {
	x := newE2E(t)
	u := x.newUser()
	r := x.newRP(adminclient.ClientRegistration{})
	other := x.newRP(adminclient.ClientRegistration{})
	postClient := x.newRP(adminclient.ClientRegistration{TokenEndpointAuthMethod: "client_secret_post"})
	noOffline := x.newRP(adminclient.ClientRegistration{})
	noOffline.conf.Scopes = []string{"openid", "profile"}

	exchange := func(c *rp, code, verifier string, extra ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
		opts := append([]oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}, extra...)
		return c.conf.Exchange(x.ctx, code, opts...)
	}
	raw := func(c *rp, form url.Values, basic bool) (int, map[string]interface{}) {
		st, body, _ := c.post("/oauth2/token", form, basic)
		return st, body
	}

	t.Run("code reused revokes the first tokens", func(t *testing.T) {
		code, f, _ := r.code(u)
		tok, err := exchange(r, code, f.verifier)
		if err != nil {
			t.Fatal(err)
		}
		_, err = exchange(r, code, f.verifier)
		wantRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
		if r.introspect(tok.AccessToken)["active"] != false {
			t.Error("access token of the first use survived")
		}
		_, err = r.refresh(tok.RefreshToken)
		wantRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
		row, err := x.ts.Store.GetOAuthRequest(x.ctx, storage.KindAuthorizeCode, signature(code))
		if err != nil || row.Active {
			t.Errorf("used code row %+v, %v: want kept, inactive", row, err)
		}
	})
	t.Run("PKCE verifier missing", func(t *testing.T) {
		code, _, _ := r.code(u)
		_, err := r.conf.Exchange(x.ctx, code)
		wantRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
	})
	t.Run("PKCE verifier mismatch, then no downgrade", func(t *testing.T) {
		code, f, _ := r.code(u)
		_, err := exchange(r, code, oauth2.GenerateVerifier())
		wantRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
		_, err = r.conf.Exchange(x.ctx, code)
		wantRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
		if _, err := exchange(r, code, f.verifier); err != nil {
			t.Errorf("the right verifier after a wrong one: %v", err)
		}
	})
	t.Run("code of another client", func(t *testing.T) {
		code, f, _ := r.code(u)
		_, err := exchange(other, code, f.verifier)
		wantRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
		if _, err := exchange(r, code, f.verifier); err != nil {
			t.Errorf("the code stopped working for its own client: %v", err)
		}
	})
	t.Run("redirect_uri differs at the token endpoint", func(t *testing.T) {
		code, f, _ := r.code(u)
		st, body := raw(r, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {f.verifier},
			"redirect_uri": {"http://127.0.0.1:7777/other"}}, true)
		if st != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("%d %v", st, body)
		}
	})
	t.Run("refresh token of another client", func(t *testing.T) {
		tok, _, _ := r.login(u)
		_, err := other.refresh(tok.RefreshToken)
		wantRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
		if _, err := r.refresh(tok.RefreshToken); err != nil {
			t.Errorf("the refresh token stopped working for its own client: %v", err)
		}
	})
	t.Run("scope widening on refresh", func(t *testing.T) {
		granted := []string{"openid", "profile", "offline_access"}
		f := r.authorize(oauth2.SetAuthURLParam("scope", strings.Join(granted, " ")))
		loc, _ := r.complete(f, u, granted, true)
		tok, err := exchange(r, loc.Query().Get("code"), f.verifier)
		if err != nil {
			t.Fatal(err)
		}
		st, body := raw(r, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "scope": {"openid profile email"}}, true)
		if st != http.StatusBadRequest || body["error"] != "invalid_scope" {
			t.Fatalf("%d %v", st, body)
		}
		st, body = raw(r, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "scope": {"openid"}}, true)
		if st != http.StatusOK || body["scope"] != "openid profile offline_access" {
			t.Fatalf("narrower scope on refresh: %d %v", st, body)
		}
	})
	t.Run("no refresh token without offline_access", func(t *testing.T) {
		tok, _, _ := noOffline.login(u)
		if tok.RefreshToken != "" {
			t.Fatal("refresh token issued without offline_access")
		}
	})

	for _, tc := range []struct {
		name   string
		client *rp
		form   url.Values
		basic  bool
		status int
		code   string
	}{
		{"missing grant_type", r, url.Values{"code": {"x"}}, true, 400, "invalid_request"},
		{"unsupported grant_type", r, url.Values{"grant_type": {"password"}, "username": {"a"}, "password": {"b"}}, true, 400, "unsupported_grant_type"},
		{"unknown client", &rp{x: x, client: adminclient.OAuthClient{ClientID: "nope", ClientSecret: "nope"}}, url.Values{"grant_type": {"client_credentials"}}, true, 401, "invalid_client"},
		{"wrong secret", &rp{x: x, client: adminclient.OAuthClient{ClientID: r.client.ClientID, ClientSecret: "wrong"}}, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x.y"}}, true, 401, "invalid_client"},
		{"no credentials", r, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x.y"}, "client_id": {r.client.ClientID}}, false, 401, "invalid_client"},
		{"basic client sending its secret in the body", r, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x.y"},
			"client_id": {r.client.ClientID}, "client_secret": {r.client.ClientSecret}}, false, 401, "invalid_client"},
		{"post client using basic", postClient, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x.y"}}, true, 401, "invalid_client"},
		{"unknown code", r, url.Values{"grant_type": {"authorization_code"}, "code": {"ory_ac_x.y"}, "redirect_uri": {rpRedirect}}, true, 400, "invalid_grant"},
		{"duplicate code", r, url.Values{"grant_type": {"authorization_code"}, "code": {"a.b", "c.d"}}, true, 400, "invalid_request"},
		{"oversized code", r, url.Values{"grant_type": {"authorization_code"}, "code": {strings.Repeat("a", 5000)}}, true, 400, "invalid_request"},
		{"oversized body", r, url.Values{"grant_type": {"authorization_code"}, "x": {strings.Repeat("a", 40000)}}, true, 400, "invalid_request"},
		{"unknown refresh token", r, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"ory_rt_x.y"}}, true, 400, "invalid_grant"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body := raw(tc.client, tc.form, tc.basic)
			if st != tc.status || body["error"] != tc.code {
				t.Fatalf("got %d %v, want %d %s", st, body, tc.status, tc.code)
			}
		})
	}

	t.Run("GET on the token endpoint", func(t *testing.T) {
		resp, err := http.Get(x.ts.PublicURL + "/oauth2/token")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
	t.Run("introspection needs client credentials", func(t *testing.T) {
		tok, _, _ := r.login(u)
		st, body, hdr := r.post("/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, false)
		if st != http.StatusUnauthorized || body["error"] != "invalid_client" || hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("no credentials: %d %v", st, body)
		}
		bad := &rp{x: x, client: adminclient.OAuthClient{ClientID: r.client.ClientID, ClientSecret: "wrong"}}
		if st, body, _ := bad.post("/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, true); st != http.StatusUnauthorized {
			t.Errorf("wrong secret: %d %v", st, body)
		}
		req, _ := http.NewRequest(http.MethodPost, x.ts.PublicURL+"/oauth2/introspect", strings.NewReader(url.Values{"token": {tok.RefreshToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("an access token as introspection credential: %d", resp.StatusCode)
		}
		// Nor in the query string, next to made-up Basic credentials:
		// fosite would take it as the caller's credential and skip the
		// client authentication.
		req, _ = http.NewRequest(http.MethodPost, x.ts.PublicURL+"/oauth2/introspect?access_token="+url.QueryEscape(tok.AccessToken),
			strings.NewReader(url.Values{"token": {tok.RefreshToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("nobody", "nothing")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if b := readBody(resp); resp.StatusCode == http.StatusOK || strings.Contains(b, `"active":true`) {
			t.Errorf("an access token in the query as introspection credential: %d %s", resp.StatusCode, b)
		}
	})
	t.Run("userinfo refusals", func(t *testing.T) {
		tok, _, _ := r.login(u)
		for _, tc := range []struct {
			name, auth string
			status     int
		}{{"no token", "", 401}, {"garbage", "Bearer nonsense", 401}, {"basic scheme", "Basic eDp5", 401}, {"refresh token", "Bearer " + tok.RefreshToken, 401}} {
			req, _ := http.NewRequest(http.MethodGet, x.ts.PublicURL+"/userinfo", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s: %d %q", tc.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
		}
	})
}

// TestOAuthE2EExpiredCode moves the server's clock past the code's
// lifetime (its own server: a moved clock makes later logins look like
// they happen in the future to fosite, which stamps with the real time).
func TestOAuthE2EExpiredCode(t *testing.T) {
	x := newE2E(t)
	u := x.newUser()
	r := x.newRP(adminclient.ClientRegistration{})
	code, f, _ := r.code(u)
	x.ts.Clock.Advance(x.ts.Deps.cfg.AuthCodeLifespan + time.Minute)
	_, err := r.conf.Exchange(x.ctx, code, oauth2.VerifierOption(f.verifier))
	wantRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
}

// TestOAuthE2ERefusesUndecryptableKeys: keys exist that the configured
// secret cannot open: serve refuses to start and creates no new key.
func TestOAuthE2ERefusesUndecryptableKeys(t *testing.T) {
	ts := startTestServer(t)
	dbURL := ts.Deps.cfg.DatabaseURL
	ts.Stop()

	cfg := ts.Deps.cfg
	cfg.Secret = "a-completely-different-secret-0123456789"
	pub, _ := netListen(t)
	adm, _ := netListen(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := serve(ctx, cfg, discardLogger(), serveHooks{publicListener: pub, adminListener: adm})
	if err == nil || !strings.Contains(err.Error(), "signing keys") {
		t.Fatalf("serve with the wrong secret: %v, want a signing keys error", err)
	}
	// With the old secret listed it starts again.
	ts2 := startTestServer(t, withDatabase(dbURL), func(c *config.Config) {
		c.Secret = "a-completely-different-secret-0123456789"
		c.OldSecrets = []string{testSecret}
	})
	keys, err := ts2.Store.ListKeys(context.Background())
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys after restarts: %d, %v", len(keys), err)
	}
}

func netListen(t *testing.T) (net.Listener, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, nil
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
