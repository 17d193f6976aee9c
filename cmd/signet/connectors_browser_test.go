package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/signet-idp/signet/internal/adminclient"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/storage"
)

// The connector tests sign in to one Signet ("downstream", on 127.0.0.1)
// through another real Signet ("upstream", reached as localhost, so the
// browser keeps the two servers' cookies apart) configured as its oidc
// connector. The upstream sits behind a reverse proxy that can tamper
// with what passes (state, nonce, PKCE challenge) to check each is
// refused.

// withIssuer serves under another public URL (a proxy in front).
func withIssuer(u string) testServerOption {
	return func(c *config.Config) { c.Issuer = u }
}

// tamperingProxy forwards to the upstream and, when told, changes one
// thing on the way.
type tamperingProxy struct {
	srv *httptest.Server
	url string // as the browser and the downstream reach it (localhost)

	mu     sync.Mutex
	target *url.URL
	mode   string // "", "state", "nonce", "pkce"
}

func newTamperingProxy(t *testing.T) *tamperingProxy {
	t.Helper()
	p := &tamperingProxy{}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			p.mu.Lock()
			target, mode := p.target, p.mode
			p.mu.Unlock()
			r.SetURL(target)
			r.Out.Host = r.In.Host // the upstream's issuer is the proxy's URL
			if r.In.URL.Path != "/oauth2/auth" {
				return
			}
			q := r.Out.URL.Query()
			switch mode {
			case "nonce":
				q.Set("nonce", "tampered-"+q.Get("nonce"))
			case "pkce":
				sum := sha256.Sum256([]byte("another verifier, not the connector's own one at all"))
				q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
			}
			r.Out.URL.RawQuery = q.Encode()
		},
		ModifyResponse: func(resp *http.Response) error {
			p.mu.Lock()
			mode := p.mode
			p.mu.Unlock()
			loc := resp.Header.Get("Location")
			if mode != "state" || !strings.Contains(loc, "/connectors/") {
				return nil
			}
			u, err := url.Parse(loc)
			if err != nil {
				return err
			}
			q := u.Query()
			q.Set("state", "forged-state")
			u.RawQuery = q.Encode()
			resp.Header.Set("Location", u.String())
			return nil
		},
	}
	p.srv = httptest.NewServer(rp)
	t.Cleanup(p.srv.Close)
	_, port, _ := net.SplitHostPort(p.srv.Listener.Addr().String())
	p.url = "http://localhost:" + port
	return p
}

func (p *tamperingProxy) setMode(m string) {
	p.mu.Lock()
	p.mode = m
	p.mu.Unlock()
}

// federation is a downstream Signet with an oidc connector "corp" to an
// upstream Signet behind a tampering proxy, and an app on the downstream.
type federation struct {
	t          *testing.T
	up, down   *testServer
	proxy      *tamperingProxy
	admin      *adminclient.Client
	app        *browserRP
	connector  adminclient.Connector
	upClientID string
}

func newFederation(t *testing.T, downOpts ...testServerOption) *federation {
	t.Helper()
	f := &federation{t: t, proxy: newTamperingProxy(t)}
	f.up = startTestServer(t, withIssuer(f.proxy.url))
	target, _ := url.Parse("http://" + f.up.Deps.cfg.Listen)
	f.proxy.mu.Lock()
	f.proxy.target = target
	f.proxy.mu.Unlock()
	f.down = startTestServer(t, downOpts...)
	ctx := context.Background()

	// At the upstream: Signet's downstream is a first-party client; a
	// role "ops" the connector maps to the downstream's "staff".
	cl, secret, err := clients.NewService(f.up.Store, time.Now).Create(ctx, clients.Registration{
		Name: "Downstream Signet", RedirectURIs: []string{f.down.PublicURL + "/connectors/corp/callback"}, FirstParty: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.upClientID = cl.ID
	if err := f.up.Store.CreateRole(ctx, storage.Role{Name: "ops", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := f.down.Store.CreateRole(ctx, storage.Role{Name: "staff", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	f.admin, err = adminclient.New(f.down.AdminURL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.connector, err = f.admin.CreateConnector(ctx, adminclient.NewConnector{
		ID: "corp", Type: "oidc", Name: "Corp", ClientID: cl.ID, ClientSecret: secret,
		Config:      json.RawMessage(`{"issuer":"` + f.proxy.url + `","scopes":["openid","email","profile","roles"]}`),
		RoleRules:   []adminclient.RoleRule{{Claim: "roles", Value: "ops", Role: "staff"}},
		DefaultRole: "user",
	})
	if err != nil {
		t.Fatalf("create connector: %v", err)
	}
	f.app = withOfflineAccess(newBrowserRP(t, f.down, "App", true))
	return f
}

// upstreamUser is a person at the upstream (password browserPassword).
func (f *federation) upstreamUser(username string, roles ...string) string {
	f.t.Helper()
	u := createBrowserUser(f.t, f.up, username)
	if len(roles) > 0 {
		if err := f.up.Store.SetUserRoles(context.Background(), u.ID, append(roles, storage.RoleUser)); err != nil {
			f.t.Fatal(err)
		}
	}
	return u.ID
}

// viaCorp opens the app's sign-in, takes "Continue with Corp" and signs in
// at the upstream.
func (f *federation) viaCorp(b *browserTab, username string) {
	f.t.Helper()
	b.open(f.app.authURL())
	if !b.has(`a.connector`) {
		f.t.Fatalf("no connector button on %s:\n%s", b.location(), b.bodyText())
	}
	b.expectText("Continue with Corp")
	b.submit(`a.connector`)
	if !strings.HasPrefix(b.location(), f.proxy.url) {
		f.t.Fatalf("Continue with Corp led to %s, want the upstream %s", b.location(), f.proxy.url)
	}
	b.logIn(username, browserPassword, false)
	settle(b)
}

// settle waits until the browser is on a page that does not move on by
// itself (the "Signing you in" page refreshes to the next step).
func settle(b *browserTab) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		// Errors (the page navigating away meanwhile) just mean "not yet".
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](
			`document.readyState === "complete" && document.querySelector('meta[http-equiv="refresh"]') === null`))
		cancel()
		if err == nil && done {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the browser stays on %s:\n%s", b.location(), b.bodyText())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fedClaims are the claims of a downstream ID token these tests read.
type fedClaims struct {
	Subject string   `json:"sub"`
	Email   string   `json:"email"`
	Roles   []string `json:"roles"`
	AMR     []string `json:"amr"`
	IDP     string   `json:"idp"`
}

// claimsOf reads the claims of an ID token the relying party verified.
func claimsOf(t *testing.T, raw string) fedClaims {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c fedClaims
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *federation) identity(subject string) (storage.UpstreamIdentity, error) {
	return f.down.Store.GetUpstreamIdentity(context.Background(), "corp", subject)
}

// TestBrowserConnectorJITSignIn: the first sign-in through an upstream
// OpenID provider makes a Signet user with the mapped roles, and the app
// gets a Signet ID token that says the sign-in was federated.
func TestBrowserConnectorJITSignIn(t *testing.T) {
	f := newFederation(t)
	b := newBrowser(t)
	carolUp := f.upstreamUser("carol", "ops")

	f.viaCorp(b, "carol")
	res := f.app.expectSignedIn(b)
	c := claimsOf(t, res.IDToken)
	if c.Email != "carol@example.com" || c.IDP != "corp" || !slices.Equal(c.AMR, []string{"fed"}) {
		t.Fatalf("ID token claims %+v, want carol's e-mail, idp corp, amr [fed]", c)
	}
	if !slices.Contains(c.Roles, "staff") || !slices.Contains(c.Roles, "user") {
		t.Fatalf("roles %v, want staff (mapped from ops) and user (default)", c.Roles)
	}
	// A refreshed ID token still says how the session signed in.
	tok, err := f.app.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: res.Token.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if rc := claimsOf(t, raw); rc.IDP != "corp" || !slices.Equal(rc.AMR, []string{"fed"}) || rc.Subject != c.Subject {
		t.Fatalf("refreshed ID token claims %+v, want idp corp and amr [fed]", rc)
	}
	link, err := f.identity(carolUp)
	if err != nil {
		t.Fatalf("no upstream identity for carol: %v", err)
	}
	if link.UserID != c.Subject {
		t.Fatalf("identity links to %s, ID token is for %s", link.UserID, c.Subject)
	}
	u, err := f.down.Store.GetUser(context.Background(), c.Subject)
	if err != nil || u.Username != "carol" || u.PasswordHash != "" || !u.EmailVerified {
		t.Fatalf("JIT user %+v (%v): want carol, no password, verified e-mail", u, err)
	}

	// The mapped role follows the upstream: without ops, staff goes at the
	// next sign-in; user (not mapped) stays.
	if err := f.up.Store.SetUserRoles(context.Background(), carolUp, []string{storage.RoleUser}); err != nil {
		t.Fatal(err)
	}
	b2 := newBrowser(t)
	f.viaCorp(b2, "carol")
	c = claimsOf(t, f.app.expectSignedIn(b2).IDToken)
	if slices.Contains(c.Roles, "staff") || !slices.Contains(c.Roles, "user") {
		t.Fatalf("roles after losing ops upstream: %v, want user without staff", c.Roles)
	}
}

// TestBrowserConnectorLinking: an upstream identity whose e-mail belongs
// to an existing account is never linked silently: the person must give
// that account's password; then unlinking works, except for the last way in.
func TestBrowserConnectorLinking(t *testing.T) {
	f := newFederation(t)
	b := newBrowser(t)
	dave := createBrowserUser(t, f.down, "dave")
	daveUp := f.upstreamUser("dave")

	f.viaCorp(b, "dave")
	if !strings.HasPrefix(b.location(), f.down.PublicURL+"/connectors/link") {
		t.Fatalf("an upstream identity with an existing account's e-mail went to %s:\n%s", b.location(), b.bodyText())
	}
	b.expectText("Link your Corp account", "dave@example.com")
	if _, err := f.identity(daveUp); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("identity linked before the password (silent linking): %v", err)
	}
	if list, _ := f.down.Store.ListUserSessions(context.Background(), dave.ID); len(list) != 0 {
		t.Fatalf("dave has %d sessions before giving his password", len(list))
	}

	b.fill("password", "not dave's password")
	b.submit(`form.stack button[type="submit"]`)
	b.expectText("The password is not right")
	if _, err := f.identity(daveUp); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("identity linked after a wrong password: %v", err)
	}

	b.fill("password", browserPassword)
	b.submit(`form.stack button[type="submit"]`)
	settle(b)
	c := claimsOf(t, f.app.expectSignedIn(b).IDToken)
	if c.Subject != dave.ID || c.IDP != "corp" || !slices.Contains(c.AMR, "fed") {
		t.Fatalf("after linking: claims %+v, want dave's account (%s), idp corp, amr with fed", c, dave.ID)
	}
	if link, err := f.identity(daveUp); err != nil || link.UserID != dave.ID {
		t.Fatalf("identity after linking: %+v, %v", link, err)
	}

	// Next time the upstream alone signs dave in.
	b2 := newBrowser(t)
	f.viaCorp(b2, "dave")
	if c := claimsOf(t, f.app.expectSignedIn(b2).IDToken); c.Subject != dave.ID {
		t.Fatalf("second upstream sign-in as %s, want dave %s", c.Subject, dave.ID)
	}

	// Unlink on the account page (dave has a password, so it may go).
	b.open(f.down.PublicURL + "/account")
	b.expectText("Sign-in providers", "Corp")
	b.submit(`form[action="/account/connectors/unlink"] button`)
	b.expectText("The provider is unlinked")
	if _, err := f.identity(daveUp); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("identity still linked after unlink: %v", err)
	}

	// Link again from the account page: the upstream session is still on,
	// so the upstream answers at once.
	b.submit(`form[action="/account/connectors/link"] button`)
	settle(b)
	b.expectText("The provider is linked")
	if link, err := f.identity(daveUp); err != nil || link.UserID != dave.ID {
		t.Fatalf("identity after linking from the account page: %+v, %v", link, err)
	}
}

// TestBrowserConnectorLastWayIn: a user made by an upstream sign-in has no
// password, so that identity cannot be unlinked.
func TestBrowserConnectorLastWayIn(t *testing.T) {
	f := newFederation(t)
	b := newBrowser(t)
	erinUp := f.upstreamUser("erin")
	f.viaCorp(b, "erin")
	f.app.expectSignedIn(b)
	b.open(f.down.PublicURL + "/account")
	b.submit(`form[action="/account/connectors/unlink"] button`)
	b.expectText("only way to sign in")
	if _, err := f.identity(erinUp); err != nil {
		t.Fatalf("the last way in was unlinked: %v", err)
	}
}

// TestBrowserConnectorTampering: a changed state, nonce or PKCE challenge
// between Signet and the upstream ends on Signet's own error page, and
// nobody is signed in.
func TestBrowserConnectorTampering(t *testing.T) {
	f := newFederation(t)
	f.upstreamUser("frank")
	for _, tc := range []struct{ mode, code string }{
		{"state", "upstream_state_mismatch"},
		{"nonce", "upstream_nonce_mismatch"},
		{"pkce", "upstream_refused"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			f.proxy.setMode(tc.mode)
			defer f.proxy.setMode("")
			b := newBrowser(t)
			f.viaCorp(b, "frank")
			if !strings.HasPrefix(b.location(), f.down.PublicURL+"/connectors/corp/callback") {
				t.Fatalf("tampered %s: browser at %s:\n%s", tc.mode, b.location(), b.bodyText())
			}
			b.expectText(tc.code)
			users, err := f.down.Store.ListUsers(context.Background(), storage.UserQuery{Search: "frank"})
			if err != nil || len(users) != 0 {
				t.Fatalf("tampered %s: users %v (%v), want none created", tc.mode, users, err)
			}
		})
	}
}

// TestBrowserConnectorUpstreamDown: an upstream that does not answer gives
// a clear page within the connector timeout.
func TestBrowserConnectorUpstreamDown(t *testing.T) {
	// Accepts connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	const timeout = 2 * time.Second
	ts := startTestServer(t, func(c *config.Config) { c.ConnectorTimeout = timeout })
	admin, err := adminclient.New(ts.AdminURL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateConnector(context.Background(), adminclient.NewConnector{
		ID: "down", Type: "oidc", Name: "Down Corp", ClientID: "x",
		Config: json.RawMessage(`{"issuer":"http://127.0.0.1:` + strings.Split(ln.Addr().String(), ":")[1] + `"}`),
	}); err != nil {
		t.Fatal(err)
	}
	app := newBrowserRP(t, ts, "App", true)
	b := newBrowser(t)
	b.open(app.authURL())
	b.expectText("Continue with Down Corp")
	start := time.Now()
	b.submit(`a.connector`)
	took := time.Since(start)
	b.expectText("Provider not reachable", "Down Corp did not answer in time", "upstream_unreachable")
	if took > timeout+3*time.Second {
		t.Fatalf("the error page took %v, want about the %v timeout", took, timeout)
	}
	events, err := ts.Store.ListAudit(context.Background(), 20)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(events, func(e storage.AuditEvent) bool {
		return e.Action == "upstream.login_failure" && e.Details["reason"] == "upstream_unreachable"
	}) {
		t.Fatalf("no audit event for the unreachable upstream: %+v", events)
	}
}
