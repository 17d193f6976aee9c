package main

import (
	"context"
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
