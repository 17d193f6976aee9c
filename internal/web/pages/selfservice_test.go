package pages

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/storage"
)

const newPassword = "a brand new passphrase"

func selfEnv(t *testing.T) *env {
	t.Helper()
	return newEnv(t, envOptions{selfService: true, registration: true})
}

// countUsers is how many users the store holds.
func countUsers(t *testing.T, e *env) int {
	t.Helper()
	users, err := e.store.ListUsers(context.Background(), storage.UserQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return len(users)
}

// linkIn finds the link with path in the plain-text body of the latest
// mail to addr, as a path with query on the test server.
func linkIn(t *testing.T, e *env, addr, path string) string {
	t.Helper()
	msgs := e.outbox.To(addr)
	if len(msgs) == 0 {
		t.Fatalf("no mail to %s", addr)
	}
	m := regexp.MustCompile(`https://id\.example(` + regexp.QuoteMeta(path) + `\?token=[A-Za-z0-9_-]+)`).FindStringSubmatch(msgs[len(msgs)-1].Text)
	if m == nil {
		t.Fatalf("no %s link in the mail to %s:\n%s", path, addr, msgs[len(msgs)-1].Text)
	}
	return m[1]
}

func wantBody(t *testing.T, p page, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(p.body, w) {
			t.Errorf("page (status %d) lacks %q:\n%s", p.status, w, p.body)
		}
	}
}

// confirmVerification opens a verification link, which only shows the
// confirmation form, and sends that form.
func confirmVerification(t *testing.T, b *browser, link string) page {
	t.Helper()
	form := b.get(link)
	wantStatus(t, form, http.StatusOK)
	wantBody(t, form, "Confirm your e-mail address", `action="/verify-email"`)
	return b.post(VerifyEmailPath, url.Values{CSRFField: {csrfOf(t, form)}, "token": {tokenOf(link)}})
}

// tokenOf is the token of a mailed link (a path with query).
func tokenOf(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	return u.Query().Get("token")
}

// wantNoForm fails if the page offers the form posting to action.
func wantNoForm(t *testing.T, p page, action string) {
	t.Helper()
	if strings.Contains(p.body, `action="`+action+`"`) || strings.Contains(p.body, `name="token"`) {
		t.Errorf("page (status %d) offers the %s form:\n%s", p.status, action, p.body)
	}
}

func registration(csrf string, kv ...string) url.Values {
	v := url.Values{CSRFField: {csrf}, "username": {"zoe"}, "email": {"zoe@example.com"}, "name": {"Zoe"},
		"password": {newPassword}, "password_confirm": {newPassword}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestRegisterVerifyAndSignIn(t *testing.T) {
	e := selfEnv(t)
	b := e.browser()

	e.ch.add("c1", Challenge{ClientID: "photo", ClientName: "Photo App", Scopes: []string{"openid"}})
	login := b.get(LoginPath + "?" + url.Values{ChallengeParam: {"c1"}}.Encode())
	wantBody(t, login, `href="/forgot-password"`, `href="/register?login_challenge=c1"`, "Create an account")

	form := b.get(RegisterPath + "?login_challenge=c1")
	wantStatus(t, form, http.StatusOK)
	wantBody(t, form, `action="/register"`, `name="username"`, `name="email"`, `name="password"`, `name="password_confirm"`,
		`name="login_challenge" value="c1"`, `<label for="username">`, `<legend>Choose a password</legend>`,
		// The display name is asked for, optional, and the form says what
		// leaving it empty means (no name claim).
		`name="name"`, `<label for="name">Display name (optional)</label>`, "Left empty, they get no name.")

	p := b.post(RegisterPath, registration(csrfOf(t, form), "login_challenge", "c1"))
	wantRedirect(t, p, RegisterDonePath+"?login_challenge=c1")
	done := b.get(p.location)
	wantBody(t, done, "Check your e-mail", `href="/login?login_challenge=c1"`)

	u, err := e.store.GetUserByLogin(context.Background(), "zoe")
	if err != nil {
		t.Fatal(err)
	}
	if u.EmailVerified || u.Name != "Zoe" || u.Email != "zoe@example.com" {
		t.Errorf("registered user = %+v", u)
	}
	if roles, _ := e.store.ListUserRoles(context.Background(), u.ID); len(roles) != 1 || roles[0] != "user" {
		t.Errorf("roles of a new user = %v", roles)
	}

	link := linkIn(t, e, "zoe@example.com", VerifyEmailPath)
	ok := confirmVerification(t, b, link)
	wantStatus(t, ok, http.StatusOK)
	wantBody(t, ok, "Your e-mail address is verified", "zoe@example.com")
	if u, _ := e.store.GetUser(context.Background(), u.ID); !u.EmailVerified {
		t.Error("address not verified after the link")
	}
	again := b.get(link)
	wantStatus(t, again, http.StatusBadRequest)
	wantBody(t, again, "This link cannot be used", "already used")
	wantNoForm(t, again, VerifyEmailPath)

	// And the person can sign in.
	wantRedirect(t, b.login("", "zoe", newPassword, false), HomePath)
}

func TestVerificationLinkExpires(t *testing.T) {
	e := selfEnv(t)
	b := e.browser()
	form := b.get(RegisterPath)
	wantRedirect(t, b.post(RegisterPath, registration(csrfOf(t, form))), RegisterDonePath)
	link := linkIn(t, e, "zoe@example.com", VerifyEmailPath)
	form = b.get(link)
	wantStatus(t, form, http.StatusOK)
	e.clock.Advance(25 * time.Hour)
	// Opened late: said at once, without the button, as often as it is
	// opened (looking uses nothing up).
	for range 2 {
		p := b.get(link)
		wantStatus(t, p, http.StatusGone)
		wantBody(t, p, "This link has expired")
		wantNoForm(t, p, VerifyEmailPath)
	}
	// Confirmed late, from a page opened in time: the same.
	p := b.post(VerifyEmailPath, url.Values{CSRFField: {csrfOf(t, form)}, "token": {tokenOf(link)}})
	wantStatus(t, p, http.StatusGone)
	wantBody(t, p, "This link has expired")
	if u, _ := e.store.GetUserByLogin(context.Background(), "zoe"); u.EmailVerified {
		t.Error("an expired link verified the address")
	}
	wantStatus(t, b.get(link), http.StatusBadRequest)
	for _, bad := range []string{VerifyEmailPath + "?token=nonsense", VerifyEmailPath, VerifyEmailPath + "?token=" + strings.Repeat("A", 43)} {
		p := b.get(bad)
		wantStatus(t, p, http.StatusBadRequest)
		wantNoForm(t, p, VerifyEmailPath)
	}
	for _, bad := range []string{"", "nonsense", strings.Repeat("x", 200)} {
		wantStatus(t, b.post(VerifyEmailPath, url.Values{CSRFField: {csrfOf(t, form)}, "token": {bad}}), http.StatusBadRequest)
	}
}

// TestVerificationNeedsTheButton: opening the link, as a mail scanner
// does, verifies nothing and keeps the link usable; the confirmation form
// needs its CSRF token; sending it verifies.
func TestVerificationNeedsTheButton(t *testing.T) {
	e := selfEnv(t)
	b := e.browser()
	ctx := context.Background()
	form := b.get(RegisterPath)
	wantRedirect(t, b.post(RegisterPath, registration(csrfOf(t, form))), RegisterDonePath)
	link := linkIn(t, e, "zoe@example.com", VerifyEmailPath)
	token := tokenOf(link)
	verified := func() bool {
		t.Helper()
		u, err := e.store.GetUserByLogin(ctx, "zoe")
		if err != nil {
			t.Fatal(err)
		}
		return u.EmailVerified
	}

	// A scanner without cookies, then the person, open the link.
	scanner := e.browser()
	for _, who := range []*browser{scanner, scanner, b} {
		p := who.get(link)
		wantStatus(t, p, http.StatusOK)
		wantBody(t, p, "Confirm your e-mail address", `method="post" action="/verify-email"`,
			`name="token" value="`+token+`"`, `name="csrf_token" value="`, `<button type="submit"`)
		if strings.Contains(p.body, "is verified") {
			t.Fatalf("the confirmation page claims a verification:\n%s", p.body)
		}
	}
	if verified() {
		t.Fatal("opening the link verified the address")
	}
	if err := e.acc.CheckVerifyToken(ctx, token); err != nil {
		t.Fatalf("the link after being opened: %v", err)
	}

	// The form without its CSRF token, with a forged one, or posted from
	// another site is refused, and nothing changes.
	confirm := b.get(link)
	for _, p := range []page{
		b.post(VerifyEmailPath, url.Values{"token": {token}}),
		b.post(VerifyEmailPath, url.Values{CSRFField: {"forged"}, "token": {token}}),
		scanner.post(VerifyEmailPath, url.Values{CSRFField: {csrfOf(t, confirm)}, "token": {token}}),
		b.post(VerifyEmailPath, url.Values{CSRFField: {csrfOf(t, confirm)}, "token": {token}}, "Sec-Fetch-Site", "cross-site"),
	} {
		wantStatus(t, p, http.StatusForbidden)
		wantBody(t, p, "csrf_failed")
	}
	if verified() {
		t.Fatal("a refused confirmation verified the address")
	}
	if err := e.acc.CheckVerifyToken(ctx, token); err != nil {
		t.Fatalf("the link after refused confirmations: %v", err)
	}

	// The button verifies.
	done := b.post(VerifyEmailPath, url.Values{CSRFField: {csrfOf(t, confirm)}, "token": {token}})
	wantStatus(t, done, http.StatusOK)
	wantBody(t, done, "Your e-mail address is verified", "zoe@example.com", `href="/login"`)
	if !verified() {
		t.Fatal("the confirmation did not verify the address")
	}
	again := b.post(VerifyEmailPath, url.Values{CSRFField: {csrfOf(t, confirm)}, "token": {token}})
	wantStatus(t, again, http.StatusBadRequest)
	wantBody(t, again, "This link cannot be used")
}

func TestRegisterFieldErrorsWriteNothing(t *testing.T) {
	e := selfEnv(t)
	b := e.browser()
	before := countUsers(t, e)
	long := func(n int) string { return strings.Repeat("a", n) }
	for _, tc := range []struct {
		name, field, value, want string
	}{
		{"malformed e-mail", "email", "zoe-at-example.com", "E-mail address is not a valid e-mail address."},
		{"e-mail with a name", "email", "Zoe <zoe@example.com>", "E-mail address is not a valid e-mail address."},
		{"over-long e-mail", "email", long(300) + "@example.com", "E-mail address must be at most 254 characters."},
		{"over-long user name", "username", long(65), "User name must be 1 to 64 letters"},
		{"user name with a space", "username", "zoe q", "User name must be 1 to 64 letters"},
		{"over-long name", "name", long(201), "Name must be at most 200 characters."},
		{"short password", "password", "short", "Password must be at least 8 characters."},
		{"common password", "password", "password123", "Password is one of the most common passwords"},
		{"over-long password", "password", long(1025), "Password must be at most 1024 bytes."},
		{"mismatched confirmation", "password_confirm", "something else entirely", "The confirmation does not match the password."},
		{"taken user name", "username", "ALICE", "User name is already taken."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := b.get(RegisterPath)
			v := registration(csrfOf(t, form), tc.field, tc.value)
			if tc.field == "password" {
				v.Set("password_confirm", tc.value)
			}
			p := b.post(RegisterPath, v)
			wantStatus(t, p, http.StatusUnprocessableEntity)
			wantBody(t, p, tc.want, `aria-invalid="true"`, `role="alert"`)
			if strings.Contains(p.body, long(1025)) || strings.Contains(p.body, long(300)) {
				t.Error("an over-long value was echoed whole")
			}
			if strings.Contains(p.body, "a brand new passphrase") {
				t.Error("the password was echoed")
			}
		})
	}
	if n := countUsers(t, e); n != before {
		t.Errorf("%d users after refused sign-ups, want %d", n, before)
	}
	if n := len(e.outbox.Messages()); n != 0 {
		t.Errorf("%d mails sent for refused sign-ups", n)
	}
}

// TestRegisterTakenAddressAnswersLikeSuccess: the page does not tell
// whether an address has an account; its owner gets a notice instead.
func TestRegisterTakenAddressAnswersLikeSuccess(t *testing.T) {
	e := selfEnv(t)
	b := e.browser()
	before := countUsers(t, e)
	form := b.get(RegisterPath)
	wantRedirect(t, b.post(RegisterPath, registration(csrfOf(t, form), "email", "Alice@Example.com")), RegisterDonePath)
	if n := countUsers(t, e); n != before {
		t.Errorf("%d users, want %d", n, before)
	}
	if n := len(e.outbox.To("alice@example.com")); n != 1 {
		t.Errorf("%d notices to the owner of the address", n)
	}
}

// TestRegisterIsThrottledPerAddress: sign-ups naming one address are
// slowed down (each taken one mails its owner a notice).
func TestRegisterIsThrottledPerAddress(t *testing.T) {
	e := selfEnv(t)
	b := e.browser()
	for i := range 5 {
		form := b.get(RegisterPath)
		p := b.post(RegisterPath, registration(csrfOf(t, form), "username", fmt.Sprintf("zoe%d", i), "email", "alice@example.com"))
		wantRedirect(t, p, RegisterDonePath)
	}
	form := b.get(RegisterPath)
	p := b.post(RegisterPath, registration(csrfOf(t, form), "username", "zoe9", "email", "alice@example.com"))
	wantStatus(t, p, http.StatusTooManyRequests)
	wantBody(t, p, "Too many sign-ups")
	if n := len(e.outbox.To("alice@example.com")); n != 5 {
		t.Errorf("%d notices to alice, want 5", n)
	}
	// Another address from the same place still works.
	wantRedirect(t, b.post(RegisterPath, registration(csrfOf(t, form))), RegisterDonePath)
}

func TestRegistrationDisabledIsNotFound(t *testing.T) {
	e := newEnv(t, envOptions{selfService: true, registration: false})
	b := e.browser()
	wantStatus(t, b.get(RegisterPath), http.StatusNotFound)
	login := b.get(LoginPath)
	if strings.Contains(login.body, "Create an account") || strings.Contains(login.body, `href="/register`) {
		t.Error("login page offers sign-up while it is off")
	}
	wantBody(t, login, `href="/forgot-password"`)
	p := b.post(RegisterPath, registration(csrfOf(t, login)))
	wantStatus(t, p, http.StatusNotFound)
	if _, err := e.store.GetUserByLogin(context.Background(), "zoe"); err == nil {
		t.Error("a sign-up went through while registration is off")
	}

	// Without the self-service pages at all: no links, no routes.
	plain := newEnv(t).browser()
	if l := plain.get(LoginPath); strings.Contains(l.body, "forgot-password") || strings.Contains(l.body, "/register") {
		t.Error("login page links to pages that are not mounted")
	}
}

// TestSelfServicePostsNeedCSRF: every form of the self-service pages is
// refused without the CSRF token, and nothing changes.
func TestSelfServicePostsNeedCSRF(t *testing.T) {
	e := selfEnv(t)
	b := e.browser()
	wantRedirect(t, b.login("", "alice", alicePassword, false), HomePath)
	forms := map[string]url.Values{
		RegisterPath:         registration(""),
		ForgotPasswordPath:   {"email": {"alice@example.com"}},
		ResetPasswordPath:    {"token": {"whatever"}, "password": {newPassword}, "password_confirm": {newPassword}},
		VerifyEmailPath:      {"token": {"whatever"}},
		AccountProfilePath:   {"name": {"Mallory"}},
		AccountEmailPath:     {"email": {"evil@example.com"}, "current_password": {alicePassword}},
		AccountVerifyPath:    {},
		AccountPasswordPath:  {"current_password": {alicePassword}, "password": {newPassword}, "password_confirm": {newPassword}},
		AccountRevokeAppPath: {"client_id": {"photo"}},
		AccountOtherSessions: {},
		AccountDeletePath:    {"current_password": {alicePassword}},
	}
	for path, v := range forms {
		for _, token := range []string{"", "forged"} {
			if token != "" {
				v.Set(CSRFField, token)
			} else {
				v.Del(CSRFField)
			}
			p := b.post(path, v)
			if p.status != http.StatusForbidden || !strings.Contains(p.body, "csrf_failed") {
				t.Errorf("POST %s with CSRF token %q = %d, want 403 csrf_failed", path, token, p.status)
			}
		}
	}
	// Cross-site posts are refused by Sec-Fetch-Site even with a token.
	acct := b.get(AccountPath)
	v := url.Values{CSRFField: {csrfOf(t, acct)}, "current_password": {alicePassword}}
	if p := b.post(AccountDeletePath, v, "Sec-Fetch-Site", "cross-site"); p.status != http.StatusForbidden {
		t.Errorf("cross-site delete = %d, want 403", p.status)
	}
	u, err := e.store.GetUser(context.Background(), e.alice.ID)
	if err != nil || u.Name != "Alice" || u.Email != "alice@example.com" {
		t.Fatalf("alice after refused forms = %+v, %v", u, err)
	}
	if u, err := e.acc.Authenticate(context.Background(), "alice", alicePassword); err != nil || u.ID != e.alice.ID {
		t.Error("password changed by a refused form")
	}
	if countUsers(t, e) != 2 || len(e.outbox.Messages()) != 0 {
		t.Errorf("refused forms wrote users (%d) or mail (%d)", countUsers(t, e), len(e.outbox.Messages()))
	}
}

func TestForgotPasswordAnswersAlike(t *testing.T) {
	e := selfEnv(t)
	b := e.browser()
	form := b.get(ForgotPasswordPath)
	wantBody(t, form, `action="/forgot-password"`, `name="email"`)
	known := b.post(ForgotPasswordPath, url.Values{CSRFField: {csrfOf(t, form)}, "email": {"alice@example.com"}})
	unknown := b.post(ForgotPasswordPath, url.Values{CSRFField: {csrfOf(t, form)}, "email": {"nobody@example.com"}})
	wantRedirect(t, known, ForgotPasswordSentPath)
	wantRedirect(t, unknown, ForgotPasswordSentPath)
	wantBody(t, b.get(ForgotPasswordSentPath), "If an account has that address")

	bad := b.post(ForgotPasswordPath, url.Values{CSRFField: {csrfOf(t, form)}, "email": {"not an address"}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	wantBody(t, bad, "E-mail address is not a valid e-mail address.", `value="not an address"`)

	e.acc.Wait()
	if n := len(e.outbox.To("alice@example.com")); n != 1 {
		t.Errorf("%d reset mails to alice", n)
	}
	if n := len(e.outbox.Messages()); n != 1 {
		t.Errorf("%d mails in all, want only alice's", n)
	}
}

func TestForgotPasswordIsThrottled(t *testing.T) {
	e := selfEnv(t)
	b := e.browser()
	form := b.get(ForgotPasswordPath)
	v := url.Values{CSRFField: {csrfOf(t, form)}, "email": {"alice@example.com"}}
	for i := range 5 {
		if p := b.post(ForgotPasswordPath, v); p.status != http.StatusSeeOther {
			t.Fatalf("request %d = %d", i+1, p.status)
		}
	}
	p := b.post(ForgotPasswordPath, v)
	wantStatus(t, p, http.StatusTooManyRequests)
	wantBody(t, p, "Too many reset links")
	if p.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	e.acc.Wait()
	if n := len(e.outbox.To("alice@example.com")); n != 5 {
		t.Errorf("%d mails, want 5", n)
	}
	// Logins from the same address are not slowed down by it.
	wantRedirect(t, b.login("", "alice", alicePassword, false), HomePath)
}

func TestResetPassword(t *testing.T) {
	e := selfEnv(t)
	b := e.browser()
	other := e.browser()
	wantRedirect(t, other.login("", "alice", alicePassword, true), HomePath)

	form := b.get(ForgotPasswordPath)
	wantRedirect(t, b.post(ForgotPasswordPath, url.Values{CSRFField: {csrfOf(t, form)}, "email": {"alice@example.com"}}), ForgotPasswordSentPath)
	e.acc.Wait()
	link := linkIn(t, e, "alice@example.com", ResetPasswordPath)
	token := strings.TrimPrefix(link, ResetPasswordPath+"?token=")

	rf := b.get(link)
	wantStatus(t, rf, http.StatusOK)
	wantBody(t, rf, `action="/reset-password"`, `name="token" value="`+token+`"`, `autocomplete="new-password"`)
	post := func(pw, confirm string) page {
		return b.post(ResetPasswordPath, url.Values{CSRFField: {csrfOf(t, rf)}, "token": {token}, "password": {pw}, "password_confirm": {confirm}})
	}
	p := post(newPassword, "not the same")
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "The confirmation does not match the password.")
	p = post("short", "short")
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "Password must be at least 8 characters.")
	p = post("password", "password")
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "Password is one of the most common passwords")
	p = post("alice@example.com", "alice@example.com")
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "Password must not be your user name or e-mail address.")

	// The link survived the refusals.
	wantRedirect(t, post(newPassword, newPassword), ResetPasswordDonePath)
	wantBody(t, b.get(ResetPasswordDonePath), "Your password is changed", `href="/login"`)
	if left, _ := e.store.ListUserSessions(context.Background(), e.alice.ID); len(left) != 0 {
		t.Errorf("%d sessions after a reset", len(left))
	}
	if p := other.get(AccountPath); p.status != http.StatusSeeOther {
		t.Errorf("the other browser's session survived the reset: %d", p.status)
	}
	used := post("another new passphrase", "another new passphrase")
	wantStatus(t, used, http.StatusBadRequest)
	wantBody(t, used, "This link cannot be used", `href="/forgot-password"`)
	usedForm := b.get(link)
	wantStatus(t, usedForm, http.StatusBadRequest)
	wantNoForm(t, usedForm, ResetPasswordPath)
	wantRedirect(t, b.login("", "alice", newPassword, false), HomePath)

	// An expired link says so.
	form = b.get(ForgotPasswordPath)
	wantRedirect(t, b.post(ForgotPasswordPath, url.Values{CSRFField: {csrfOf(t, form)}, "email": {"alice@example.com"}}), ForgotPasswordSentPath)
	e.acc.Wait()
	link = linkIn(t, e, "alice@example.com", ResetPasswordPath)
	token = strings.TrimPrefix(link, ResetPasswordPath+"?token=")
	e.clock.Advance(2 * time.Hour)
	// Opened late: said at once, without the form, as often as it is
	// opened; looking does not use the link up, so the form sent from a
	// page opened earlier says "expired" too.
	for range 2 {
		late := b.get(link)
		wantStatus(t, late, http.StatusGone)
		wantBody(t, late, "This link has expired", `href="/forgot-password"`)
		wantNoForm(t, late, ResetPasswordPath)
		if strings.Contains(late.body, `name="password"`) {
			t.Error("the expired link's page asks for a password")
		}
	}
	expired := post("yet another passphrase", "yet another passphrase")
	wantStatus(t, expired, http.StatusGone)
	wantBody(t, expired, "This link has expired")

	for _, bad := range []string{ResetPasswordPath, ResetPasswordPath + "?token=nonsense", link} {
		p := b.get(bad)
		wantStatus(t, p, http.StatusBadRequest)
		wantBody(t, p, "This link cannot be used")
		wantNoForm(t, p, ResetPasswordPath)
	}
}

func TestAccountNeedsASession(t *testing.T) {
	e := selfEnv(t)
	b := e.browser()
	p := b.get(AccountPath)
	wantRedirect(t, p, "/login?return_to=%2Faccount")
	form := b.get(p.location)
	wantBody(t, form, `name="return_to" value="/account"`)
	v := url.Values{CSRFField: {csrfOf(t, form)}, "username": {"alice"}, "password": {alicePassword}, "return_to": {"/account"}}
	wantRedirect(t, b.post(LoginPath, v), AccountPath)
	acct := b.get(AccountPath)
	wantStatus(t, acct, http.StatusOK)
	wantBody(t, acct, "Your account", "alice@example.com", `href="/account"`)
	// A form sent after the session ended goes to the login page too.
	fresh := e.browser()
	fresh.get(LoginPath)
	u, _ := url.Parse(e.srv.URL)
	var token string
	for _, ck := range fresh.c.Jar.Cookies(u) {
		if ck.Name == CSRFCookie {
			token = ck.Value
		}
	}
	wantRedirect(t, fresh.post(AccountProfilePath, url.Values{CSRFField: {token}, "name": {"X"}}), "/login?return_to=%2Faccount")
}

// accountPost sends a form of the account page with a fresh CSRF token.
func accountPost(t *testing.T, b *browser, path string, v url.Values) page {
	t.Helper()
	acct := b.get(AccountPath)
	wantStatus(t, acct, http.StatusOK)
	v.Set(CSRFField, csrfOf(t, acct))
	return b.post(path, v)
}

func TestAccountProfileEmailAndPassword(t *testing.T) {
	e := selfEnv(t)
	b := e.browser()
	other := e.browser()
	wantRedirect(t, b.login("", "alice", alicePassword, false), HomePath)
	wantRedirect(t, other.login("", "alice", alicePassword, false), HomePath)
	ctx := context.Background()

	// Name: post, redirect, a flash message once.
	wantRedirect(t, accountPost(t, b, AccountProfilePath, url.Values{"name": {"Alice Liddell"}}), AccountPath)
	acct := b.get(AccountPath)
	wantBody(t, acct, "Your name is saved.", `value="Alice Liddell"`)
	if strings.Contains(b.get(AccountPath).body, "Your name is saved.") {
		t.Error("the flash message showed twice")
	}
	p := accountPost(t, b, AccountProfilePath, url.Values{"name": {strings.Repeat("n", 201)}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "Name must be at most 200 characters.")

	// E-mail: malformed and wrong password are refused; nothing changes.
	p = accountPost(t, b, AccountEmailPath, url.Values{"email": {"alice@@example"}, "current_password": {alicePassword}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "E-mail address is not a valid e-mail address.", `value="alice@@example"`)
	p = accountPost(t, b, AccountEmailPath, url.Values{"email": {"alice@new.example"}, "current_password": {"wrong password"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "Your current password is not correct.")
	if u, _ := e.store.GetUser(ctx, e.alice.ID); u.Email != "alice@example.com" {
		t.Fatalf("e-mail changed by a refused form: %s", u.Email)
	}
	// The change waits for the link mailed to the new address.
	p = accountPost(t, b, AccountEmailPath, url.Values{"email": {"alice@new.example"}, "current_password": {alicePassword}})
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "We sent a link to alice@new.example; your address changes when you open it.")
	if u, _ := e.store.GetUser(ctx, e.alice.ID); u.Email != "alice@example.com" {
		t.Fatalf("e-mail changed before the link was opened: %+v", u)
	}
	link := linkIn(t, e, "alice@new.example", VerifyEmailPath)
	// Opening the link changes nothing (mail scanners open links): the
	// button does.
	wantStatus(t, b.get(link), http.StatusOK)
	if u, _ := e.store.GetUser(ctx, e.alice.ID); u.Email != "alice@example.com" {
		t.Fatalf("opening the link changed the address: %+v", u)
	}
	// "Send the link again" is for the current address; the pending
	// change stays.
	wantRedirect(t, accountPost(t, b, AccountVerifyPath, url.Values{}), AccountPath)
	wantBody(t, b.get(AccountPath), "We sent a new verification link", "alice@example.com", "Not verified")
	oldLink := linkIn(t, e, "alice@example.com", VerifyEmailPath)
	done := confirmVerification(t, b, link)
	wantStatus(t, done, http.StatusOK)
	wantBody(t, done, "Your e-mail address is verified", "alice@new.example", `href="/account"`)
	if u, _ := e.store.GetUser(ctx, e.alice.ID); u.Email != "alice@new.example" || !u.EmailVerified {
		t.Errorf("after the change: %+v", u)
	}
	wantBody(t, b.get(AccountPath), "alice@new.example", "Verified")
	// Both links are spent: the change's, and the one to the old address.
	wantStatus(t, b.get(link), http.StatusBadRequest)
	wantStatus(t, b.get(oldLink), http.StatusBadRequest)

	// Password: wrong current one, policy, then success ends the other
	// session but not this one.
	p = accountPost(t, b, AccountPasswordPath, url.Values{"current_password": {"nope nope"}, "password": {newPassword}, "password_confirm": {newPassword}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "Your current password is not correct.")
	p = accountPost(t, b, AccountPasswordPath, url.Values{"current_password": {alicePassword}, "password": {"qwertyuiop"}, "password_confirm": {"qwertyuiop"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "Password is one of the most common passwords")
	wantRedirect(t, accountPost(t, b, AccountPasswordPath, url.Values{"current_password": {alicePassword}, "password": {newPassword}, "password_confirm": {newPassword}}), AccountPath)
	wantBody(t, b.get(AccountPath), "Your password is changed.")
	if p := other.get(AccountPath); p.status != http.StatusSeeOther {
		t.Errorf("the other session survived the password change: %d", p.status)
	}
	if _, err := e.acc.Authenticate(ctx, "alice", newPassword); err != nil {
		t.Errorf("new password: %v", err)
	}
}

func TestAccountCurrentPasswordIsThrottled(t *testing.T) {
	e := selfEnv(t)
	b := e.browser()
	wantRedirect(t, b.login("", "alice", alicePassword, false), HomePath)
	for range 5 {
		p := accountPost(t, b, AccountDeletePath, url.Values{"current_password": {"guess guess"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
	}
	p := accountPost(t, b, AccountDeletePath, url.Values{"current_password": {alicePassword}})
	wantStatus(t, p, http.StatusTooManyRequests)
	wantBody(t, p, "Too many wrong passwords.")
	if _, err := e.store.GetUser(context.Background(), e.alice.ID); err != nil {
		t.Fatalf("alice deleted while throttled: %v", err)
	}
}

func TestAccountAppsSessionsAndDelete(t *testing.T) {
	e := selfEnv(t)
	ctx := context.Background()
	b := e.browser()
	other := e.browser()
	wantRedirect(t, b.login("", "alice", alicePassword, false), HomePath)
	wantRedirect(t, other.login("", "alice", alicePassword, true), HomePath)
	now := e.clock.Now()
	if err := e.store.UpsertConsent(ctx, storage.Consent{UserID: e.alice.ID, ClientID: "photo", Scopes: []string{"openid", "email"}, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	token := storage.OAuthRequest{Kind: storage.KindRefreshToken, Signature: "rt-1", RequestID: "req-1", ClientID: "photo",
		Subject: e.alice.ID, RequestedAt: now, ExpiresAt: now.Add(time.Hour), Active: true, Session: []byte("{}")}
	if err := e.store.CreateOAuthRequest(ctx, token); err != nil {
		t.Fatal(err)
	}

	acct := b.get(AccountPath)
	wantBody(t, acct, "Photo App", "See your e-mail address", `name="client_id" value="photo"`, "This browser", "Sign out other sessions")
	if n := strings.Count(acct.body, `data-label="Browser"`); n != 2 {
		t.Errorf("%d sessions listed, want 2", n)
	}

	wantRedirect(t, accountPost(t, b, AccountRevokeAppPath, url.Values{"client_id": {"photo"}}), AccountPath)
	acct = b.get(AccountPath)
	wantBody(t, acct, "access is revoked", "You have not allowed any apps")
	if _, err := e.store.GetConsent(ctx, e.alice.ID, "photo"); err == nil {
		t.Error("consent kept after Revoke")
	}
	if rt, _ := e.store.GetOAuthRequest(ctx, storage.KindRefreshToken, "rt-1"); rt.Active {
		t.Error("the app's refresh token is still active after Revoke")
	}

	wantRedirect(t, accountPost(t, b, AccountOtherSessions, url.Values{}), AccountPath)
	wantBody(t, b.get(AccountPath), "Your other sessions are signed out.")
	if left, _ := e.store.ListUserSessions(ctx, e.alice.ID); len(left) != 1 {
		t.Errorf("%d sessions after signing out the others", len(left))
	}
	if p := other.get(AccountPath); p.status != http.StatusSeeOther {
		t.Errorf("other session still works: %d", p.status)
	}

	p := accountPost(t, b, AccountDeletePath, url.Values{"current_password": {"not it at all"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "Your current password is not correct.", "<details open>")
	if _, err := e.store.GetUser(ctx, e.alice.ID); err != nil {
		t.Fatal("deleted with a wrong password")
	}
	p = accountPost(t, b, AccountDeletePath, url.Values{"current_password": {alicePassword}})
	wantRedirect(t, p, HomePath)
	home := b.get(HomePath)
	wantBody(t, home, "Your account is deleted.", "You are not signed in.")
	if _, err := e.store.GetUser(ctx, e.alice.ID); err == nil {
		t.Error("the user row is still there")
	}
	if _, err := e.acc.Authenticate(ctx, "alice", alicePassword); err != accounts.ErrInvalidCredentials {
		t.Errorf("login after delete: %v", err)
	}
	wantRedirect(t, b.get(AccountPath), "/login?return_to=%2Faccount")
}

func TestDescribeDevice(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36": "Chrome on Linux",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0":                          "Firefox on Windows",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Version/17.1 Safari/604.1":     "Safari on iOS",
		"Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0":                     "Edge on Windows",
		"curl/8.5.0": "curl",
		"":           "Unknown browser",
	} {
		if got := describeDevice(ua); got != want {
			t.Errorf("describeDevice(%q) = %q, want %q", ua, got, want)
		}
	}
}

// TestAccountVerificationMailIsThrottled: the account page's "send the
// link again" mails whatever address the account has (possibly someone
// else's, typed at sign-up), so it is slowed down like sign-ups and reset
// requests rather than being a way to flood a mailbox.
// TestAccountEmailChangeAnswersAlike: asking for another account's address
// answers as for a free one (status and words, but for the address), so
// the form cannot tell which addresses are registered. The owner of the
// taken address gets a notice; nothing changes.
func TestAccountEmailChangeAnswersAlike(t *testing.T) {
	e := selfEnv(t)
	b := e.browser()
	wantRedirect(t, b.login("", "alice", alicePassword, false), HomePath)
	ctx := context.Background()
	csrf := regexp.MustCompile(`value="[A-Za-z0-9_=-]{20,}"`)
	answer := func(addr string) (int, string) {
		t.Helper()
		p := accountPost(t, b, AccountEmailPath, url.Values{"email": {addr}, "current_password": {alicePassword}})
		wantBody(t, p, "We sent a link to "+addr+"; your address changes when you open it.")
		return p.status, csrf.ReplaceAllString(strings.ReplaceAll(p.body, addr, "ADDRESS"), `value="CSRF"`)
	}
	freeStatus, freeBody := answer("alice@free.example")
	takenStatus, takenBody := answer("mallory@example.com")
	if freeStatus != http.StatusOK || takenStatus != freeStatus {
		t.Fatalf("status %d for a free address, %d for a taken one", freeStatus, takenStatus)
	}
	if freeBody != takenBody {
		t.Fatalf("the pages differ:\nfree:\n%s\ntaken:\n%s", freeBody, takenBody)
	}
	if u, _ := e.store.GetUser(ctx, e.alice.ID); u.Email != "alice@example.com" {
		t.Fatalf("alice changed: %+v", u)
	}
	if m, _ := e.store.GetUserByLogin(ctx, "mallory"); m.Email != "mallory@example.com" {
		t.Fatalf("mallory changed: %+v", m)
	}
	notice := e.outbox.To("mallory@example.com")
	if len(notice) != 1 || strings.Contains(notice[0].Text, "token=") {
		t.Fatalf("mails to the owner of the taken address: %+v", notice)
	}
}

func TestAccountVerificationMailIsThrottled(t *testing.T) {
	e := selfEnv(t)
	b := e.browser()
	wantRedirect(t, b.login("", "alice", alicePassword, false), HomePath)
	for range 5 {
		wantRedirect(t, accountPost(t, b, AccountVerifyPath, url.Values{}), AccountPath)
	}
	p := accountPost(t, b, AccountVerifyPath, url.Values{})
	wantStatus(t, p, http.StatusTooManyRequests)
	wantBody(t, p, "Too many e-mails")
	if p.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if n := len(e.outbox.To("alice@example.com")); n != 5 {
		t.Errorf("%d verification mails to alice, want 5", n)
	}
	// Changing the address mails the new one: the same limit.
	p = accountPost(t, b, AccountEmailPath, url.Values{"email": {"victim@else.example"}, "current_password": {alicePassword}})
	wantStatus(t, p, http.StatusTooManyRequests)
	if n := len(e.outbox.To("victim@else.example")); n != 0 {
		t.Errorf("%d mails to the new address while throttled", n)
	}
}
