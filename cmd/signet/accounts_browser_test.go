package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/mail/smtptest"
	"github.com/signet-idp/signet/internal/storage"
)

// The browser tests of the account pages run `signet serve` with its SMTP
// settings pointing at a real SMTP server inside the test (go-smtp, in
// internal/mail/smtptest), and follow the links it receives.

// withSMTP sends the server's mail to relay (plain SMTP on loopback).
func withSMTP(relay *smtptest.Server) testServerOption {
	return func(c *config.Config) {
		c.SMTPHost, c.SMTPPort = relay.Host, relay.Port
		c.SMTPStartTLS = "none"
		c.SMTPFrom = "Signet <no-reply@example.com>"
	}
}

// withRegistration switches sign-up on or off.
func withRegistration(on bool) testServerOption {
	return func(c *config.Config) { c.RegistrationEnabled = &on }
}

// fill sets form fields by id: id, value, id, value…
func (b *browserTab) fill(idValues ...string) {
	b.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(idValues); i += 2 {
		steps = append(steps, chromedp.SetValue(chromedp.ID(idValues[i]), idValues[i+1]))
	}
	b.do("fill form", steps...)
}

// expectText fails unless the page shows every one of wants.
func (b *browserTab) expectText(wants ...string) {
	b.t.Helper()
	text := b.bodyText()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			b.t.Fatalf("page at %s lacks %q:\n%s", b.location(), w, text)
		}
	}
}

const mailWait = 15 * time.Second

// refreshFails checks the token endpoint refuses a refresh token with
// invalid_grant.
func refreshFails(t *testing.T, rp *browserRP, refreshToken string) {
	t.Helper()
	_, err := rp.oauth.TokenSource(context.Background(), &oauth2.Token{RefreshToken: refreshToken}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("refresh with a revoked token: %v, want invalid_grant", err)
	}
}

// withOfflineAccess makes the relying party ask for a refresh token.
func withOfflineAccess(rp *browserRP) *browserRP {
	rp.oauth.Scopes = append(rp.oauth.Scopes, "offline_access")
	return rp
}

func newAdmin(t *testing.T, ts *testServer, username string) accounts.User {
	t.Helper()
	h := accounts.PasswordHasher{Memory: 1024, Time: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	u, err := accounts.NewService(ts.Store, accounts.Options{Hasher: &h}).CreateUser(context.Background(), accounts.NewUser{
		Username: username, Email: username + "@example.com", Password: browserPassword, EmailVerified: true,
		Roles: []string{storage.RoleAdmin},
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestBrowserRegisterVerifySignIn: a person signs up from an app's login
// page, gets the verification mail, opens its link, confirms with the
// page's button, and signs in to the app, whose ID token says the address
// is verified.
func TestBrowserRegisterVerifySignIn(t *testing.T) {
	relay := smtptest.Start(t, smtptest.Options{})
	ts := startTestServer(t, withSMTP(relay), withRegistration(true))
	b := newBrowser(t)
	app := newBrowserRP(t, ts, "Photo App", false)
	ctx := context.Background()

	b.open(app.authURL())
	b.expectText("Forgot your password?", "Create an account")
	b.submit(`a[href^="/register"]`)
	b.expectText("Create an account", "Choose a password")
	b.screenshot("register", 390)
	b.screenshot("register", 1280)

	// A common password is refused at its field, and nothing is written.
	b.fill("username", "zoe", "email", "zoe@example.com", "name", "Zoe Quinn", "password", "password123", "password_confirm", "password123")
	b.submit(`form.stack button[type="submit"]`)
	b.expectText("Password is one of the most common passwords")
	if _, err := ts.Store.GetUserByLogin(ctx, "zoe"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a refused sign-up wrote a user: %v", err)
	}
	b.screenshot("register-errors", 390)

	b.fill("password", "zoe's long passphrase", "password_confirm", "zoe's long passphrase")
	b.submit(`form.stack button[type="submit"]`)
	b.expectText("Check your e-mail", "Continue to sign in")
	u, err := ts.Store.GetUserByLogin(ctx, "zoe")
	if err != nil || u.EmailVerified || u.Name != "Zoe Quinn" {
		t.Fatalf("registered user = %+v, %v", u, err)
	}

	m := relay.Wait(t, "zoe@example.com", 1, mailWait)
	link := m.Link("/verify-email?token=")
	if !strings.HasPrefix(link, ts.PublicURL+"/verify-email?token=") {
		t.Fatalf("verification link %q not under the issuer:\n%s", link, m.Text)
	}
	// Opening the link (as a mail scanner would) verifies nothing: the
	// page asks for the button.
	b.open(link)
	b.expectText("Confirm your e-mail address")
	if u, _ := ts.Store.GetUser(ctx, u.ID); u.EmailVerified {
		t.Fatal("opening the verification link verified the address")
	}
	b.screenshot("verify-email", 390)
	b.submit(`form.stack button[type="submit"]`)
	b.expectText("Your e-mail address is verified", "zoe@example.com")
	if u, _ := ts.Store.GetUser(ctx, u.ID); !u.EmailVerified {
		t.Fatal("address not verified in the store after the button")
	}
	b.open(link)
	b.expectText("This link cannot be used")
	if b.has(`form.stack`) {
		t.Fatal("a used verification link still offers the button")
	}

	b.open(app.authURL())
	b.logIn("zoe", "zoe's long passphrase", false)
	b.submit(`button[value="allow"]`)
	c := app.expectSignedIn(b).Claims
	if c.Subject != u.ID || c.Email != "zoe@example.com" || !c.EmailVerified || c.PreferredUsername != "zoe" {
		t.Errorf("ID token claims = %+v, want zoe with email_verified", c)
	}
	if !slices.Equal(c.Roles, []string{storage.RoleUser}) {
		t.Errorf("roles of a new user = %v", c.Roles)
	}
}

// TestBrowserRegistrationOff: without registration the page does not
// exist and the login page does not offer it.
func TestBrowserRegistrationOff(t *testing.T) {
	ts := startTestServer(t, withMemoryStore(), withRegistration(false))
	b := newBrowser(t)
	b.open(ts.PublicURL + "/login")
	if b.has(`a[href^="/register"]`) || !b.has(`a[href="/forgot-password"]`) {
		t.Fatalf("login page links:\n%s", b.bodyText())
	}
	b.open(ts.PublicURL + "/register")
	b.expectText("Page not found", "registration_disabled")
}

// TestBrowserForgottenPassword: the reset link from the mail sets a new
// password, the app's old refresh token is rejected, and the new password
// signs in.
func TestBrowserForgottenPassword(t *testing.T) {
	relay := smtptest.Start(t, smtptest.Options{})
	ts := startTestServer(t, withSMTP(relay))
	b := newBrowser(t)
	erin := createBrowserUser(t, ts, "erin")
	app := withOfflineAccess(newBrowserRP(t, ts, "Notes", false))

	b.open(app.authURL())
	b.logIn("erin", browserPassword, true)
	b.submit(`button[value="allow"]`)
	first := app.expectSignedIn(b)
	if first.Token == nil || first.Token.RefreshToken == "" {
		t.Fatalf("no refresh token with offline_access: %+v", first.Token)
	}

	b.open(ts.PublicURL + "/")
	b.submit(`form.signout button`)
	b.open(ts.PublicURL + "/login")
	b.submit(`a[href="/forgot-password"]`)
	b.fill("email", "erin@example.com")
	b.submit(`form.stack button[type="submit"]`)
	b.expectText("Check your e-mail", "If an account has that address")
	// The same answer for an address nobody has.
	b.open(ts.PublicURL + "/forgot-password")
	b.fill("email", "nobody@example.com")
	b.submit(`form.stack button[type="submit"]`)
	b.expectText("If an account has that address")

	m := relay.Wait(t, "erin@example.com", 1, mailWait)
	link := m.Link("/reset-password?token=")
	if !strings.HasPrefix(link, ts.PublicURL+"/reset-password?token=") {
		t.Fatalf("reset link %q:\n%s", link, m.Text)
	}
	b.open(link)
	b.expectText("Choose a new password")
	b.fill("password", "erin's new passphrase", "password_confirm", "not the same at all")
	b.submit(`form.stack button[type="submit"]`)
	b.expectText("The confirmation does not match the password.")
	b.fill("password", "erin's new passphrase", "password_confirm", "erin's new passphrase")
	b.submit(`form.stack button[type="submit"]`)
	b.expectText("Your password is changed", "signed out everywhere")
	b.screenshot("reset-done", 390)

	refreshFails(t, app, first.Token.RefreshToken)
	if left, _ := ts.Store.ListUserSessions(context.Background(), erin.ID); len(left) != 0 {
		t.Errorf("%d sessions after the reset", len(left))
	}
	if n := len(relay.To("nobody@example.com")); n != 0 {
		t.Errorf("%d mails to an address without an account", n)
	}

	b.open(app.authURL())
	b.logIn("erin", browserPassword, false)
	b.expectText("not right")
	b.logIn("erin", "erin's new passphrase", false)
	again := app.expectSignedIn(b) // consent is remembered
	if again.Claims.Subject != erin.ID {
		t.Errorf("signed in as %s after the reset", again.Claims.Subject)
	}
	// A used link says so as soon as it is opened, without a form.
	b.open(link)
	b.expectText("This link cannot be used")
	if b.has("#password") {
		t.Fatal("a used reset link still asks for a password")
	}
}

// TestBrowserAdminGrantsRole: an administrator creates the role editor
// and gives it to bob in the console; bob's next ID token and userinfo
// carry it, and so does the refresh of a token issued before.
func TestBrowserAdminGrantsRole(t *testing.T) {
	ts := startTestServer(t)
	b := newBrowser(t)
	newAdmin(t, ts, "root")
	bob := createBrowserUser(t, ts, "bob")
	for i := range 3 {
		createBrowserUser(t, ts, "user"+string(rune('a'+i)))
	}
	app := withOfflineAccess(newBrowserRP(t, ts, "Wiki", false))
	ctx := context.Background()

	// bob signs in once before the change.
	b.open(app.authURL())
	b.logIn("bob", browserPassword, false)
	b.submit(`button[value="allow"]`)
	before := app.expectSignedIn(b)
	if slices.Contains(before.Claims.Roles, "editor") {
		t.Fatal("bob is an editor already")
	}
	// A person without the role admin gets 403 in the console.
	b.open(ts.PublicURL + "/admin/users")
	b.expectText("You cannot open this page", "forbidden")
	b.submit(`form.signout button`)

	// The console sends a stranger to sign in and back.
	b.open(ts.PublicURL + "/admin")
	b.logIn("root", browserPassword, false)
	if loc := b.location(); !strings.HasPrefix(loc, ts.PublicURL+"/admin/users") {
		t.Fatalf("after login at %s", loc)
	}
	b.expectText("Users", "bob", "root")
	b.screenshot("admin-users", 390)
	b.screenshot("admin-users", 1280)

	b.submit(`nav.sections a[href="/admin/roles"]`)
	b.fill("role-name", "editor", "role-description", "Edits the wiki")
	b.submit(`form[action="/admin/roles"] button[type="submit"]`)
	b.expectText("The role is created.", "editor")

	b.submit(`nav.sections a[href="/admin/users"]`)
	b.fill("q", "bob")
	b.submit(`form.search button`)
	b.expectText("bob@example.com")
	b.submit(`td a[href="/admin/users/` + bob.ID + `"]`)
	b.do("tick editor", chromedp.Click(chromedp.CSS(`input[name="roles"][value="editor"]`)))
	b.submit(`form[action$="/roles"] button[type="submit"]`)
	b.expectText("The roles are saved.")
	b.screenshot("admin-user", 390)
	roles, err := ts.Store.ListUserRoles(ctx, bob.ID)
	if err != nil || !slices.Equal(roles, []string{"editor", "user"}) {
		t.Fatalf("bob's roles = %v, %v", roles, err)
	}
	b.screenshot("admin-user", 1280)

	// A client registered in the console shows its secret once.
	b.submit(`nav.sections a[href="/admin/clients"]`)
	b.fill("client-name", "Reports", "client-redirects", "https://reports.example/callback")
	b.submit(`form[action="/admin/clients"] button[type="submit"]`)
	b.expectText("Reports is registered", "Copy the client secret now")
	b.screenshot("admin-client-created", 390)
	secret := runIn(b, "secret", chromedp.Text(chromedp.CSS(`code.secret`)))
	clientID := runIn(b, "client id", chromedp.Text(chromedp.CSS(`code.copy:not(.secret)`)))
	cl, err := ts.Store.GetClient(ctx, strings.TrimSpace(clientID))
	if err != nil || !clients.SecretMatches(cl.SecretHash, strings.TrimSpace(secret)) {
		t.Fatalf("console client %q: %v (secret matches: %v)", clientID, err, err == nil && clients.SecretMatches(cl.SecretHash, secret))
	}
	b.submit(`nav.sections a[href="/admin/clients"]`)
	if strings.Contains(b.bodyText(), strings.TrimSpace(secret)) {
		t.Error("the client list shows the secret again")
	}
	b.screenshot("admin-clients", 1280)

	// Changed in place from its page, then given a new secret, shown once.
	b.submit(`a[href="/admin/clients/` + cl.ID + `/edit"]`)
	b.fill("client-name", "Reports 2", "client-redirects", "https://reports.example/callback\nhttps://reports.example/cb2")
	b.submit(`form[action$="/edit"] button[type="submit"]`)
	b.expectText("The client's changes are saved.")
	if got, err := ts.Store.GetClient(ctx, cl.ID); err != nil || got.Name != "Reports 2" ||
		!slices.Equal(got.RedirectURIs, []string{"https://reports.example/callback", "https://reports.example/cb2"}) {
		t.Fatalf("client after the console edit: %+v, %v", got, err)
	}
	b.screenshot("admin-client-edit", 390)
	b.do("open the new-secret form", chromedp.Click(chromedp.CSS(`details.confirm summary`)))
	b.submit(`form[action$="/rotate-secret"] button`)
	b.expectText("Reports 2 has a new secret", "Copy the client secret now")
	rotated := strings.TrimSpace(runIn(b, "new secret", chromedp.Text(chromedp.CSS(`code.secret`))))
	if got, err := ts.Store.GetClient(ctx, cl.ID); err != nil || !clients.SecretMatches(got.SecretHash, rotated) ||
		clients.SecretMatches(got.SecretHash, strings.TrimSpace(secret)) {
		t.Fatalf("after the console's new secret the stored hash is not the new secret's alone (%v)", err)
	}

	b.open(ts.PublicURL + "/admin/audit")
	b.expectText("role.change", "role.create", "client.create", "client.update", "client.rotate_secret")
	b.screenshot("admin-audit", 390)
	b.submit(`form.signout button`)

	// The refresh of the token issued before carries the new role…
	tok, err := app.oauth.TokenSource(ctx, &oauth2.Token{RefreshToken: before.Token.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := app.verifier.Verify(ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	var refreshed browserIDClaims
	if err := idt.Claims(&refreshed); err != nil || !slices.Contains(refreshed.Roles, "editor") {
		t.Errorf("refreshed ID token roles = %v, %v", refreshed.Roles, err)
	}

	// …and so do the next sign-in's ID token and userinfo.
	b.open(app.authURL())
	b.logIn("bob", browserPassword, false)
	next := app.expectSignedIn(b)
	if !slices.Equal(next.Claims.Roles, []string{"editor", "user"}) {
		t.Errorf("next ID token roles = %v", next.Claims.Roles)
	}
	provider, err := oidc.NewProvider(ctx, ts.PublicURL)
	if err != nil {
		t.Fatal(err)
	}
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(next.Token))
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Roles []string `json:"roles"`
	}
	if err := info.Claims(&claims); err != nil || !slices.Equal(claims.Roles, []string{"editor", "user"}) {
		t.Errorf("userinfo roles = %v, %v", claims.Roles, err)
	}
}

// TestBrowserAccountRevokeAndDelete: revoking an app on the account page
// kills its refresh token; deleting the account removes the user, and the
// password no longer signs in.
func TestBrowserAccountRevokeAndDelete(t *testing.T) {
	ts := startTestServer(t)
	b := newBrowser(t)
	carol := createBrowserUser(t, ts, "carol")
	app := withOfflineAccess(newBrowserRP(t, ts, "Photo App", false))
	notes := newBrowserRP(t, ts, "Notes", false)
	ctx := context.Background()

	b.open(app.authURL())
	b.logIn("carol", browserPassword, false)
	b.submit(`button[value="allow"]`)
	got := app.expectSignedIn(b)
	b.open(notes.authURL())
	b.submit(`button[value="allow"]`)
	notes.expectSignedIn(b)

	b.open(ts.PublicURL + "/")
	b.submit(`a[href="/account"]`)
	b.expectText("Your account", "carol@example.com", "Connected apps", "Photo App", "Notes", "This browser")
	b.screenshot("account", 390)
	b.screenshot("account", 1280)

	// Revoke the first app: its refresh token stops working, the other
	// app stays connected.
	b.submit(`form[action="/account/apps/revoke"]:has(input[value="` + app.client.ID + `"]) button`)
	b.expectText("access is revoked", "Notes")
	refreshFails(t, app, got.Token.RefreshToken)
	if _, err := ts.Store.GetConsent(ctx, carol.ID, app.client.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("consent after revoke: %v", err)
	}
	if _, err := ts.Store.GetConsent(ctx, carol.ID, notes.client.ID); err != nil {
		t.Errorf("the other app's consent is gone: %v", err)
	}
	// The app asks for consent again.
	b.open(app.authURL())
	if !b.has(`button[value="allow"]`) {
		t.Fatalf("no consent asked after revoke:\n%s", b.bodyText())
	}

	// Delete: a wrong password is refused, the right one deletes.
	b.open(ts.PublicURL + "/account")
	b.do("open the delete form", chromedp.Click(chromedp.CSS(`.danger-zone summary`)))
	b.fill("delete-current", "not my password")
	b.submit(`form[action="/account/delete"] button`)
	b.expectText("Your current password is not correct.")
	b.fill("delete-current", browserPassword)
	b.submit(`form[action="/account/delete"] button`)
	b.expectText("Your account is deleted.", "You are not signed in.")
	if _, err := ts.Store.GetUser(ctx, carol.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("user row after delete: %v", err)
	}
	if left, _ := ts.Store.ListUserSessions(ctx, carol.ID); len(left) != 0 {
		t.Errorf("%d sessions after delete", len(left))
	}
	b.open(notes.authURL())
	b.logIn("carol", browserPassword, false)
	b.expectText("not right")
}
