package main

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/mfa"
	"github.com/signet-idp/signet/internal/storage"
)

// The two-factor browser tests: a person sets up an authenticator app or
// a passkey and signs in to an app with it; the app verifies the ID
// token's amr and acr with go-oidc each time.

// totpCode is what an authenticator app shows for secret at t.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// expectMethods checks the relying party's last ID token says how the
// person signed in.
func expectMethods(t *testing.T, res browserRPResult, acr string, amr ...string) {
	t.Helper()
	if !slices.Equal(res.Claims.AMR, amr) || res.Claims.ACR != acr {
		t.Fatalf("ID token amr %q acr %q, want amr %q acr %q", res.Claims.AMR, res.Claims.ACR, amr, acr)
	}
}

// reauthURL starts a sign-in with prompt=login. Authentication times
// have whole seconds, so it first lets the second of the last sign-in
// pass (a sign-in within the request's second would satisfy it).
func reauthURL(rp *browserRP, params ...string) string {
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 10*time.Millisecond)))
	return rp.authURL(append([]string{"prompt", "login"}, params...)...)
}

// enterCode fills the page's code field and submits its form.
func (b *browserTab) enterCode(code string) {
	b.t.Helper()
	b.fill("code", code)
	b.submit(`form[method="post"] button.primary`)
}

// recoveryCodes reads the recovery codes page and leaves it by Continue.
func (b *browserTab) recoveryCodes() []string {
	b.t.Helper()
	codes := runIn(b, "read recovery codes", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#recovery-codes code")).map(e => e.textContent)`))
	if len(codes) != mfa.RecoveryCodeCount {
		b.t.Fatalf("%d recovery codes shown, want %d:\n%s", len(codes), mfa.RecoveryCodeCount, b.bodyText())
	}
	b.submit("#continue")
	return codes
}

// setUpTOTP enrols an authenticator app on the setup page the browser is
// on and returns its secret and the recovery codes shown once.
func (b *browserTab) setUpTOTP(ts *testServer) (string, []string) {
	b.t.Helper()
	secret := runIn(b, "read the secret", chromedp.Evaluate[string](`document.getElementById("totp-secret").textContent`))
	if secret == "" || !b.has(`img.qr[src^="data:image/png;base64,"]`) {
		b.t.Fatalf("no QR code and secret at %s:\n%s", b.location(), b.bodyText())
	}
	b.enterCode(totpCode(b.t, secret, ts.Clock.Now()))
	return secret, b.recoveryCodes()
}

// TestBrowserTwoFactorTOTP: a person adds an authenticator app on the
// account page; signing in to an app then asks for a code after the
// password (prompt=login asks both again), a wrong and a replayed code are
// refused, and a recovery code works exactly once.
func TestBrowserTwoFactorTOTP(t *testing.T) {
	ts := startTestServer(t)
	u := createBrowserUser(t, ts, "mia")
	rp := newBrowserRP(t, ts, "Wiki", true)
	b := newBrowser(t)

	b.open(rp.authURL())
	b.logIn("mia", browserPassword, false)
	expectMethods(t, rp.expectSignedIn(b), mfa.ACROneFactor, "pwd")

	b.open(ts.PublicURL + "/account/two-factor")
	b.expectText("Authenticator app", "Off")
	b.submit("#setup-totp")
	secret, codes := b.setUpTOTP(ts)
	b.expectText("On", "Signing in asks for a code from your app", "10 unused recovery codes")
	if st, err := ts.Store.MFAStatus(context.Background(), []string{u.ID}); err != nil || !st[u.ID].TOTP || st[u.ID].RecoveryCodes != 10 {
		t.Fatalf("after enrolment: %+v, %v", st[u.ID], err)
	}

	// Half signed in is not signed in: in a browser without a session,
	// the password alone opens no account page, answers no prompt=none
	// and starts no single sign-on.
	b2 := newBrowser(t)
	b2.open(rp.authURL())
	b2.logIn("mia", browserPassword, false)
	if !strings.Contains(b2.location(), "/login/two-factor") {
		t.Fatalf("after the password: %s, want the second-factor page", b2.location())
	}
	b2.open(ts.PublicURL + "/account")
	if !b2.has("#password") {
		t.Fatalf("the account page opened before the second factor:\n%s", b2.bodyText())
	}
	b2.open(rp.authURL("prompt", "none"))
	rp.expectError(b2, "login_required")
	b2.open(rp.authURL())
	if !b2.has("#password") {
		t.Fatalf("single sign-on before the second factor: %s", b2.location())
	}

	// The code that confirmed the app was used; the next step's works
	// (one step of clock skew is allowed). The server's clock stays: an
	// authentication time in the future would be refused.
	b.open(reauthURL(rp))
	b.logIn("mia", browserPassword, false)
	good := totpCode(t, secret, ts.Clock.Now().Add(30*time.Second))
	wrong := "000000"
	if wrong == good {
		wrong = "111111"
	}
	b.enterCode(wrong)
	b.expectText("That code is not right")
	b.enterCode(good)
	expectMethods(t, rp.expectSignedIn(b), mfa.ACRTwoFactor, "pwd", "otp", "mfa")

	// The same code again, in a new sign-in: refused.
	b.open(reauthURL(rp))
	b.logIn("mia", browserPassword, false)
	b.enterCode(good)
	b.expectText("already used")

	// A recovery code, once.
	b.open(reauthURL(rp))
	b.logIn("mia", browserPassword, false)
	b.submit("#use-recovery")
	b.enterCode(codes[0])
	expectMethods(t, rp.expectSignedIn(b), mfa.ACRTwoFactor, "pwd", "otp", "mfa")
	b.open(reauthURL(rp))
	b.logIn("mia", browserPassword, false)
	b.submit("#use-recovery")
	b.enterCode(codes[0])
	b.expectText("That code is not right")
	b.enterCode(codes[1])
	expectMethods(t, rp.expectSignedIn(b), mfa.ACRTwoFactor, "pwd", "otp", "mfa")
}

// withLocalhostIssuer names the test server by localhost: WebAuthn needs
// a domain as relying party id, never an IP address.
func withLocalhostIssuer() testServerOption {
	return func(c *config.Config) { c.Issuer = strings.Replace(c.Issuer, "127.0.0.1", "localhost", 1) }
}

// addVirtualAuthenticator gives the browser a platform authenticator that
// keeps discoverable credentials and verifies its user (Chromium's
// DevTools WebAuthn domain).
func (b *browserTab) addVirtualAuthenticator() {
	b.t.Helper()
	b.do("virtual authenticator", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
				Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true,
				HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
			},
		})
		return err
	}))
}

// TestBrowserTwoFactorPasskey: a person adds a passkey on the account page
// (Chromium's virtual authenticator), uses it as the second factor after
// the password, and then signs in with it alone ("Sign in with a
// passkey"), which counts as two factors.
func TestBrowserTwoFactorPasskey(t *testing.T) {
	ts := startTestServer(t, withLocalhostIssuer())
	u := createBrowserUser(t, ts, "noor")
	rp := newBrowserRP(t, ts, "Wiki", true)
	b := newBrowser(t)
	b.addVirtualAuthenticator()

	b.open(rp.authURL())
	b.logIn("noor", browserPassword, false)
	expectMethods(t, rp.expectSignedIn(b), mfa.ACROneFactor, "pwd")

	b.open(ts.PublicURL + "/account/two-factor")
	b.fill("passkey-name", "Laptop")
	b.submit("#add-passkey")
	b.recoveryCodes()
	b.expectText("Laptop", "never used")
	pks, err := ts.Store.ListPasskeys(context.Background(), u.ID)
	if err != nil || len(pks) != 1 || pks[0].Name != "Laptop" {
		t.Fatalf("passkeys after adding one: %+v, %v", pks, err)
	}

	b.open(reauthURL(rp))
	b.logIn("noor", browserPassword, false)
	b.submit("#use-passkey")
	expectMethods(t, rp.expectSignedIn(b), mfa.ACRTwoFactor, "pwd", "hwk", "mfa")

	b.open(reauthURL(rp))
	b.submit("#passkey-login")
	res := rp.expectSignedIn(b)
	expectMethods(t, res, mfa.ACRTwoFactor, "hwk", "mfa")
	if res.Claims.Subject != u.ID {
		t.Fatalf("passkey signed in %s, want %s", res.Claims.Subject, u.ID)
	}
	b.open(ts.PublicURL + "/account/two-factor")
	b.expectText("Laptop", "last used")
}

// TestBrowserTwoFactorRequiredForAdmins: with --mfa-required-roles admin,
// an administrator without a second factor is made to set one up after
// the password, before the console opens; the console then shows who has
// one and resets it. Apps signed in to from that session see two factors.
func TestBrowserTwoFactorRequiredForAdmins(t *testing.T) {
	ts := startTestServer(t, func(c *config.Config) { c.MFARequiredRoles = []string{"admin"} })
	admin := newAdmin(t, ts, "root")
	createBrowserUser(t, ts, "olga")
	rp := newBrowserRP(t, ts, "Wiki", true)
	b := newBrowser(t)

	b.open(ts.PublicURL + "/admin/users")
	b.logIn("root", browserPassword, false)
	if !strings.Contains(b.location(), "/login/two-factor/setup") || !b.has("#totp-secret") {
		t.Fatalf("after the password: %s, want the forced set-up:\n%s", b.location(), b.bodyText())
	}
	b.expectText("Your account needs two-factor sign-in")
	// Not signed in yet: the console does not open.
	b.open(ts.PublicURL + "/admin/users")
	if !b.has("#password") {
		t.Fatalf("the console opened before the second factor:\n%s", b.bodyText())
	}
	b.logIn("root", browserPassword, false)
	b.setUpTOTP(ts)
	if !strings.HasSuffix(b.location(), "/admin/users") {
		t.Fatalf("after the set-up: %s, want the console", b.location())
	}
	b.expectText("Users", "Two-factor", "root", "olga")

	b.open(rp.authURL())
	expectMethods(t, rp.expectSignedIn(b), mfa.ACRTwoFactor, "pwd", "otp", "mfa")

	// A user without the role signs in with the password alone.
	b2 := newBrowser(t)
	b2.open(rp.authURL())
	b2.logIn("olga", browserPassword, false)
	expectMethods(t, rp.expectSignedIn(b2), mfa.ACROneFactor, "pwd")

	// The console resets the administrator's own factors (they lost
	// them); the audit log has it.
	b.open(ts.PublicURL + "/admin/users/" + admin.ID)
	b.expectText("Two-factor sign-in: On")
	b.submit("#reset-mfa")
	b.expectText("second factors and recovery codes are removed")
	if st, err := ts.Store.MFAStatus(context.Background(), []string{admin.ID}); err != nil || st[admin.ID].Enrolled() {
		t.Fatalf("after the reset: %+v, %v", st[admin.ID], err)
	}
	events, err := ts.Store.ListAudit(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		if e.Target == admin.ID {
			actions = append(actions, e.Action)
		}
	}
	for _, want := range []string{mfa.AuditEnrolled, mfa.AuditReset} {
		if !slices.Contains(actions, want) {
			t.Fatalf("audit actions on the admin %v lack %s", actions, want)
		}
	}
}

// TestBrowserTwoFactorStepUp: a session signed in with the password
// alone (the person set up an app afterwards) is not accepted for an app
// that asks acr_values=urn:signet:acr:2fa: prompt=none gets
// login_required, and a normal request asks for the code, not the
// password, then answers with acr 2fa. A client registered to require a
// second factor steps up the same way.
func TestBrowserTwoFactorStepUp(t *testing.T) {
	ts := startTestServer(t)
	createBrowserUser(t, ts, "sam")
	rp := newBrowserRP(t, ts, "Wiki", true)
	strict := newBrowserRP(t, ts, "Bank", true)
	cl := strict.client
	cl.RequireMFA = true
	if err := ts.Store.UpdateClient(context.Background(), cl); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)

	b.open(rp.authURL())
	b.logIn("sam", browserPassword, false)
	expectMethods(t, rp.expectSignedIn(b), mfa.ACROneFactor, "pwd")
	b.open(ts.PublicURL + "/account/two-factor/totp")
	secret, _ := b.setUpTOTP(ts)

	// Single sign-on without acr_values: the session as it is.
	b.open(rp.authURL())
	expectMethods(t, rp.expectSignedIn(b), mfa.ACROneFactor, "pwd")
	b.open(rp.authURL("acr_values", mfa.ACRTwoFactor, "prompt", "none"))
	rp.expectError(b, "login_required")

	b.open(rp.authURL("acr_values", mfa.ACRTwoFactor))
	if !strings.Contains(b.location(), "/login/two-factor") || b.has("#password") {
		t.Fatalf("step-up at %s, want the second-factor page:\n%s", b.location(), b.bodyText())
	}
	b.enterCode(totpCode(t, secret, ts.Clock.Now().Add(30*time.Second)))
	expectMethods(t, rp.expectSignedIn(b), mfa.ACRTwoFactor, "pwd", "otp", "mfa")

	// The stepped-up session now serves both apps without asking.
	b.open(strict.authURL())
	expectMethods(t, strict.expectSignedIn(b), mfa.ACRTwoFactor, "pwd", "otp", "mfa")

	// A fresh password-only sign-in to the strict client asks the code
	// too (max_age=0 re-asks both factors).
	b2 := newBrowser(t)
	b2.open(strict.authURL("max_age", "0"))
	b2.logIn("sam", browserPassword, false)
	if !strings.Contains(b2.location(), "/login/two-factor") {
		t.Fatalf("the strict client at %s, want the second-factor page", b2.location())
	}
}

// TestBrowserTwoFactorRememberDevice: with --mfa-remember-days, "don't ask
// again on this device" skips the code at the next sign-in in that
// browser only; the ID token then says mfa without otp.
func TestBrowserTwoFactorRememberDevice(t *testing.T) {
	ts := startTestServer(t, func(c *config.Config) { c.MFARememberDays = 30 })
	createBrowserUser(t, ts, "rita")
	rp := newBrowserRP(t, ts, "Wiki", true)
	b := newBrowser(t)
	b.open(rp.authURL())
	b.logIn("rita", browserPassword, false)
	b.open(ts.PublicURL + "/account/two-factor/totp")
	secret, _ := b.setUpTOTP(ts)

	b.open(reauthURL(rp))
	b.logIn("rita", browserPassword, false)
	b.expectText("Don't ask again on this device for 30 days")
	b.do("tick remember", chromedp.Click(chromedp.ID("remember_device")))
	b.enterCode(totpCode(t, secret, ts.Clock.Now().Add(30*time.Second)))
	expectMethods(t, rp.expectSignedIn(b), mfa.ACRTwoFactor, "pwd", "otp", "mfa")

	b.open(reauthURL(rp))
	b.logIn("rita", browserPassword, false)
	expectMethods(t, rp.expectSignedIn(b), mfa.ACRTwoFactor, "pwd", "mfa")

	// Another browser is asked.
	b2 := newBrowser(t)
	b2.open(rp.authURL())
	b2.logIn("rita", browserPassword, false)
	if !strings.Contains(b2.location(), "/login/two-factor") {
		t.Fatalf("another browser at %s, want the second-factor page", b2.location())
	}
}

// TestBrowserPasskeyRename: on the account page a person renames their
// passkey (the rows are made in the store: the page lists them only),
// from Signet's own page only; a name that is too long is refused on the page, and a form
// pointed at someone else's passkey answers as for one that does not
// exist, changing nothing.
func TestBrowserPasskeyRename(t *testing.T) {
	ts := startTestServer(t, withLocalhostIssuer())
	ctx := context.Background()
	noor := createBrowserUser(t, ts, "noor")
	omar := createBrowserUser(t, ts, "omar")
	name := func(id string) string {
		t.Helper()
		p, err := ts.Store.GetPasskey(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p.Name
	}
	// Signed in before the passkeys exist, so the password is enough: the
	// page only lists passkeys, it never uses them.
	b := newBrowser(t)
	b.open(ts.PublicURL + "/account/two-factor")
	b.logIn("noor", browserPassword, false)
	b.open(ts.PublicURL + "/account/two-factor")
	b.expectText("Passkeys and security keys", "No passkeys yet")
	for _, p := range []storage.Passkey{{ID: "noor-key", UserID: noor.ID, Name: "Laptop"}, {ID: "omar-key", UserID: omar.ID, Name: "Phone"}} {
		p.Credential, p.CreatedAt = []byte(`{}`), time.Now()
		if err := ts.Store.CreatePasskey(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	b.open(ts.PublicURL + "/account/two-factor")
	b.expectText("Laptop")
	if strings.Contains(b.bodyText(), "Phone") {
		t.Fatal("someone else's passkey is listed")
	}
	rename := func(newName string) {
		t.Helper()
		b.do("open rename", chromedp.Click(chromedp.CSS(`#passkeys details summary`)))
		b.fill("pk-name-noor-key", newName)
		b.submit(`form[action="/account/two-factor/passkeys/rename"] button`)
	}

	rename("  Work   laptop ")
	b.expectText("The passkey is renamed", "Work laptop")
	if got := name("noor-key"); got != "Work laptop" {
		t.Fatalf("stored name %q", got)
	}

	// A form on another site (the same form, token and all) is refused.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<form method="post" action="%s/account/two-factor/passkeys/rename">
<input type="hidden" name="id" value="noor-key"><input type="hidden" name="name" value="Forged">
<button id="go" type="submit">Go</button></form>`, html.EscapeString(ts.PublicURL))
	}))
	t.Cleanup(evil.Close)
	b.open(evil.URL)
	b.submit("#go")
	b.expectText("This form could not be accepted")
	if got := name("noor-key"); got != "Work laptop" {
		t.Fatalf("a form from another site renamed the passkey to %q", got)
	}
	b.open(ts.PublicURL + "/account/two-factor")

	rename(strings.Repeat("x", mfa.MaxPasskeyName+1))
	b.expectText("must be 1 to 64 characters")
	if got := name("noor-key"); got != "Work laptop" {
		t.Fatalf("a refused name was stored: %q", got)
	}

	// Someone else's credential id and an unknown one: the same answer.
	var answers []string
	for _, id := range []string{"omar-key", "no-such-key"} {
		b.open(ts.PublicURL + "/account/two-factor")
		b.do("point the form elsewhere", chromedp.Click(chromedp.CSS(`#passkeys details summary`)),
			chromedp.SetValue(chromedp.CSS(`form[action="/account/two-factor/passkeys/rename"] input[name="id"]`), id))
		b.fill("pk-name-noor-key", "Mine now")
		b.submit(`form[action="/account/two-factor/passkeys/rename"] button`)
		b.expectText("There is no such passkey on your account")
		answers = append(answers, b.bodyText())
	}
	if answers[0] != answers[1] {
		t.Errorf("someone else's passkey answers differently from an unknown one:\n%s\n---\n%s", answers[0], answers[1])
	}
	if got := name("omar-key"); got != "Phone" {
		t.Fatalf("someone else's passkey was renamed to %q", got)
	}
	if got := name("noor-key"); got != "Work laptop" {
		t.Fatalf("own passkey changed by a form for another: %q", got)
	}

	events, err := ts.Store.ListAudit(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	renames := 0
	for _, e := range events {
		if e.Action == mfa.AuditPasskeyRenamed {
			renames++
			if e.Actor != noor.ID || e.Details["from"] != "Laptop" || e.Details["passkey"] != "Work laptop" {
				t.Errorf("rename audited as %+v", e)
			}
		}
	}
	if renames != 1 {
		t.Errorf("%d passkey renames audited, want 1", renames)
	}
}
