package accounts_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/mail"
	"github.com/signet-idp/signet/internal/mail/mailtest"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

const issuer = "https://id.example.com"

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// world is a service over a real memory store, mailing into an outbox
// through the real templates, auditing into the store.
type world struct {
	t     *testing.T
	svc   *accounts.Service
	store storage.Store
	box   *mailtest.Outbox
	clock *clock
}

func newWorld(t *testing.T, edit ...func(*accounts.Options)) *world {
	t.Helper()
	return newWorldOn(t, memory.New(), edit...)
}

func newWorldOn(t *testing.T, store storage.Store, edit ...func(*accounts.Options)) *world {
	t.Helper()
	c := &clock{now: fixedNow}
	composer, err := mail.NewComposer("")
	if err != nil {
		t.Fatal(err)
	}
	box := &mailtest.Outbox{}
	h := accounts.PasswordHasher{Memory: 64, Time: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	opts := accounts.Options{
		Hasher:              &h,
		Now:                 c.Now,
		Issuer:              issuer,
		Mailer:              mail.Postman{Composer: composer, Sender: box},
		Audit:               audit.New(store, c.Now, nil),
		RegistrationEnabled: true,
	}
	for _, e := range edit {
		e(&opts)
	}
	return &world{t: t, svc: accounts.NewService(store, opts), store: store, box: box, clock: c}
}

// linkToken returns the token of the last mail to addr whose link goes to
// path, checking the link's shape.
func (w *world) linkToken(addr, path string) string {
	w.t.Helper()
	msgs := w.box.To(addr)
	if len(msgs) == 0 {
		w.t.Fatalf("no mail to %s", addr)
	}
	m := msgs[len(msgs)-1]
	i := strings.Index(m.Text, issuer+path+"?token=")
	if i < 0 {
		w.t.Fatalf("mail to %s has no %s link:\n%s", addr, path, m.Text)
	}
	raw := strings.Fields(m.Text[i:])[0]
	u, err := url.Parse(raw)
	if err != nil {
		w.t.Fatal(err)
	}
	tok := u.Query().Get("token")
	if len(tok) != 43 || !strings.Contains(m.HTML, tok) {
		w.t.Fatalf("token %q is not 32 base64url bytes, or the HTML part lacks it", tok)
	}
	return tok
}

func (w *world) auditActions() []string {
	w.t.Helper()
	events, err := w.store.ListAudit(context.Background(), 0)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for i := len(events) - 1; i >= 0; i-- {
		out = append(out, events[i].Action)
	}
	return out
}

func (w *world) lastAudit(action string) storage.AuditEvent {
	w.t.Helper()
	events, _ := w.store.ListAudit(context.Background(), 0)
	for _, e := range events {
		if e.Action == action {
			return e
		}
	}
	w.t.Fatalf("no %s event among %v", action, w.auditActions())
	return storage.AuditEvent{}
}

func (w *world) mustCreate(u accounts.NewUser) accounts.User {
	w.t.Helper()
	got, err := w.svc.CreateUser(context.Background(), u)
	if err != nil {
		w.t.Fatal(err)
	}
	return got
}

func (w *world) addSession(userID, id string) {
	w.t.Helper()
	now := w.clock.Now()
	if err := w.store.CreateSession(context.Background(), storage.Session{ID: id, TokenHash: "hash-" + id, UserID: userID,
		AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) addClient(id string) {
	w.t.Helper()
	if err := w.store.CreateClient(context.Background(), storage.Client{ID: id, Name: "App " + id,
		RedirectURIs: []string{"https://app.example.com/cb"}, TokenEndpointAuthMethod: storage.AuthMethodNone,
		CreatedAt: fixedNow, UpdatedAt: fixedNow}); err != nil {
		w.t.Fatal(err)
	}
}

// addGrant stores an active access and refresh token of the user for the
// client, as fosite would.
func (w *world) addGrant(userID, clientID, requestID string) {
	w.t.Helper()
	for _, k := range []storage.RequestKind{storage.KindAccessToken, storage.KindRefreshToken} {
		if err := w.store.CreateOAuthRequest(context.Background(), storage.OAuthRequest{Kind: k, Signature: requestID + "-" + string(k),
			RequestID: requestID, ClientID: clientID, Subject: userID, RequestedAt: fixedNow, ExpiresAt: fixedNow.Add(24 * time.Hour),
			Active: true, Session: []byte("{}")}); err != nil {
			w.t.Fatal(err)
		}
	}
}

func (w *world) grantActive(requestID string) bool {
	w.t.Helper()
	r, err := w.store.GetOAuthRequest(context.Background(), storage.KindRefreshToken, requestID+"-refresh_token")
	if err != nil {
		w.t.Fatal(err)
	}
	a, err := w.store.GetOAuthRequest(context.Background(), storage.KindAccessToken, requestID+"-access_token")
	if err != nil {
		w.t.Fatal(err)
	}
	if r.Active != a.Active {
		w.t.Fatalf("grant %s: refresh active %v, access active %v", requestID, r.Active, a.Active)
	}
	return r.Active
}

func (w *world) sessionExists(id string) bool {
	_, err := w.store.GetSession(context.Background(), id)
	return err == nil
}

func registration() accounts.Registration {
	return accounts.Registration{Username: "dora", Email: "dora@example.com", Name: "Dora Explorer",
		Password: "map and backpack", PasswordConfirm: "map and backpack"}
}

func TestPasswordPolicy(t *testing.T) {
	tests := []struct {
		name     string
		password string
		personal []string
		wantErr  string
	}{
		{"good", "correct horse battery staple", nil, ""},
		{"exactly 8", "zq8#Lm2w", nil, ""},
		{"8 runes, more bytes", "ääääääää", nil, ""},
		{"7 characters", "zq8#Lm2", nil, "at least 8"},
		{"too long", strings.Repeat("z", 1025), nil, "at most 1024"},
		{"1024 bytes", strings.Repeat("z", 1024), nil, ""},
		{"not UTF-8", "abcdefg\xff", nil, "UTF-8"},
		{"empty", "", nil, "required"},
		{"common", "password123", nil, "common"},
		{"common, upper case", "PASSWORD123", nil, "common"},
		{"common, mixed case", "QwErTy123", nil, "common"},
		{"common, keyboard walk", "1q2w3e4r", nil, "common"},
		{"common, spaces around", "  iloveyou  ", nil, "common"},
		{"common, leet", "p@ssw0rd", nil, "common"},
		{"user name", "DoraTheExplorer", []string{"doratheexplorer", "dora@example.com"}, "user name or e-mail"},
		{"e-mail", "Dora.Long@Example.com", []string{"dora", "dora.long@example.com"}, "user name or e-mail"},
		{"e-mail local part", "dora.long.name", []string{"dora", "dora.long.name@example.com"}, "user name or e-mail"},
		{"contains the user name is fine", "dora loves long walks", []string{"dora", "dora@example.com"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := accounts.CheckPassword(tt.password, tt.personal...)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckPassword = %v; want nil", err)
				}
				return
			}
			var ve *accounts.ValidationError
			if !errors.As(err, &ve) || ve.Field != "password" || !strings.Contains(ve.Message, tt.wantErr) {
				t.Fatalf("CheckPassword = %v; want a password error mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestCreateUserAppliesPolicy(t *testing.T) {
	w := newWorld(t)
	for _, pw := range []string{"letmein123", "alice@example.com", "ALICE"} {
		in := alice()
		in.Password = pw
		var ve *accounts.ValidationError
		if _, err := w.svc.CreateUser(context.Background(), in); !errors.As(err, &ve) || ve.Field != "password" {
			t.Errorf("CreateUser with password %q = %v; want a password error", pw, err)
		}
	}
}

func TestRegister(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	u, err := w.svc.Register(ctx, registration())
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "dora" || u.Email != "dora@example.com" || u.EmailVerified || u.Disabled ||
		!slices.Equal(u.Roles, []string{"user"}) {
		t.Fatalf("registered %+v", u)
	}
	if _, err := w.svc.Authenticate(ctx, "dora", "map and backpack"); err != nil {
		t.Fatalf("log in after sign-up: %v", err)
	}
	msgs := w.box.Messages()
	if len(msgs) != 1 || msgs[0].To != "dora@example.com" || msgs[0].Subject != "Confirm your e-mail address for Signet" {
		t.Fatalf("mails after sign-up: %+v", msgs)
	}
	tok := w.linkToken("dora@example.com", "/verify-email")
	// Only the hash is stored: the raw token is not a key, its SHA-256 is.
	if _, err := w.store.ConsumeActionToken(ctx, storage.PurposeVerifyEmail, tok); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the raw token is stored as a key: %v", err)
	}
	stored, err := w.store.ConsumeActionToken(ctx, storage.PurposeVerifyEmail, accounts.HashLinkToken(tok))
	if err != nil || stored.UserID != u.ID || stored.Email != u.Email || !stored.ExpiresAt.Equal(fixedNow.Add(24*time.Hour)) {
		t.Fatalf("stored token %+v, %v", stored, err)
	}
	if e := w.lastAudit(audit.UserRegister); e.Actor != u.ID || e.Target != u.ID {
		t.Fatalf("audit %+v", e)
	}
}

func TestRegisterRefusals(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(*accounts.Registration)
		wantFields []string
	}{
		{"everything wrong at once", func(r *accounts.Registration) {
			r.Username, r.Email, r.Name, r.Password = "bad name", "not-an-address", "Ctrl\x01", "password1"
		}, []string{"username", "email", "name", "password"}},
		{"confirmation differs", func(r *accounts.Registration) { r.PasswordConfirm = "map and backpacks" }, []string{"password_confirm"}},
		{"password is the user name", func(r *accounts.Registration) {
			r.Username, r.Password, r.PasswordConfirm = "dora-the-explorer", "Dora-The-Explorer", "Dora-The-Explorer"
		}, []string{"password"}},
		{"user name taken, other case", func(r *accounts.Registration) { r.Username = "ALICE" }, []string{"username"}},
		{"both taken: only the user name is said", func(r *accounts.Registration) { r.Username, r.Email = "alice", "alice@example.com" }, []string{"username"}},
		{"over-long name", func(r *accounts.Registration) { r.Name = strings.Repeat("n", 201) }, []string{"name"}},
		{"over-long e-mail", func(r *accounts.Registration) { r.Email = strings.Repeat("e", 250) + "@example.com" }, []string{"email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			ctx := context.Background()
			w.mustCreate(alice())
			r := registration()
			tt.edit(&r)
			_, err := w.svc.Register(ctx, r)
			var errs accounts.ValidationErrors
			if !errors.As(err, &errs) {
				t.Fatalf("Register = %v; want ValidationErrors", err)
			}
			fields := accounts.FieldErrors(err)
			for _, f := range tt.wantFields {
				if fields[f] == "" {
					t.Errorf("no error on %s; got %v", f, fields)
				}
			}
			if len(fields) != len(tt.wantFields) {
				t.Errorf("errors on %v; want exactly %v", fields, tt.wantFields)
			}
			users, _ := w.store.ListUsers(ctx, storage.UserQuery{})
			if len(users) != 1 || len(w.box.Messages()) != 0 {
				t.Fatalf("a refused sign-up left %d users and %d mails", len(users), len(w.box.Messages()))
			}
		})
	}
}

// TestRegisterTakenAddress: the answer for an address that has an account
// is the answer for a new one (nil error), so sign-up reveals nothing;
// nothing is created and the owner is told by mail.
func TestRegisterTakenAddress(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	owner := w.mustCreate(alice())
	r := registration()
	r.Email = "Alice@Example.COM"
	u, err := w.svc.Register(ctx, r)
	if err != nil || u.ID != "" {
		t.Fatalf("Register with a taken address = %+v, %v; want a zero user and nil", u, err)
	}
	users, _ := w.store.ListUsers(ctx, storage.UserQuery{})
	if len(users) != 1 {
		t.Fatalf("%d users after a sign-up with a taken address; want only the owner", len(users))
	}
	msgs := w.box.To("alice@example.com")
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "/forgot-password") || !strings.Contains(msgs[0].Text, owner.Username) {
		t.Fatalf("owner's notice: %+v", msgs)
	}
	if e := w.lastAudit(audit.UserRegisterExisting); e.Target != owner.ID {
		t.Fatalf("audit %+v", e)
	}
}

func TestRegisterConfiguration(t *testing.T) {
	ctx := context.Background()
	off := newWorld(t, func(o *accounts.Options) { o.RegistrationEnabled = false })
	if _, err := off.svc.Register(ctx, registration()); !errors.Is(err, accounts.ErrRegistrationDisabled) {
		t.Fatalf("Register with sign-up off = %v", err)
	}

	editor := newWorld(t, func(o *accounts.Options) { o.DefaultRole = "editor" })
	if _, err := editor.svc.Register(ctx, registration()); err == nil {
		t.Fatal("Register with a missing default role succeeded")
	}
	if users, _ := editor.store.ListUsers(ctx, storage.UserQuery{}); len(users) != 0 {
		t.Fatal("a sign-up without its default role left a user")
	}
	if _, err := editor.svc.CreateRole(ctx, "editor", ""); err != nil {
		t.Fatal(err)
	}
	u, err := editor.svc.Register(ctx, registration())
	if err != nil || !slices.Equal(u.Roles, []string{"editor"}) {
		t.Fatalf("Register = %+v, %v; want role editor", u, err)
	}

	// A mail that cannot go out does not undo the sign-up.
	down := newWorld(t)
	down.box.Err = errors.New("smtp down")
	if _, err := down.svc.Register(ctx, registration()); err != nil {
		t.Fatalf("Register with mail down = %v", err)
	}
	if err := down.svc.SendVerification(ctx, "dora"); !errors.Is(err, accounts.ErrMailNotSent) {
		t.Fatalf("SendVerification with mail down = %v; want ErrMailNotSent", err)
	}
}

func TestVerifyEmail(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(w *world, tok string) string // returns the token to present
		wantErr error
	}{
		{"fresh link", func(w *world, tok string) string { return tok }, nil},
		{"one second before expiry", func(w *world, tok string) string {
			w.clock.Advance(24*time.Hour - time.Second)
			return tok
		}, nil},
		{"at expiry", func(w *world, tok string) string { w.clock.Advance(24 * time.Hour); return tok }, accounts.ErrExpiredToken},
		{"unknown token", func(w *world, tok string) string { return strings.Repeat("A", 43) }, accounts.ErrInvalidToken},
		{"malformed token", func(w *world, tok string) string { return tok[:20] }, accounts.ErrInvalidToken},
		{"token with bad characters", func(w *world, tok string) string { return "!" + tok[1:] }, accounts.ErrInvalidToken},
		{"empty token", func(w *world, tok string) string { return "" }, accounts.ErrInvalidToken},
		{"superseded by a new link", func(w *world, tok string) string {
			if err := w.svc.SendVerification(context.Background(), "dora"); err != nil {
				w.t.Fatal(err)
			}
			return tok
		}, accounts.ErrInvalidToken},
		{"address changed since", func(w *world, tok string) string {
			ctx := context.Background()
			rec, _ := w.store.GetUserByLogin(ctx, "dora")
			rec.Email = "dora2@example.com"
			if err := w.store.UpdateUser(ctx, rec); err != nil {
				w.t.Fatal(err)
			}
			return tok
		}, accounts.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			ctx := context.Background()
			if _, err := w.svc.Register(ctx, registration()); err != nil {
				t.Fatal(err)
			}
			tok := tt.prepare(w, w.linkToken("dora@example.com", "/verify-email"))
			u, err := w.svc.VerifyEmail(ctx, tok)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("VerifyEmail = %v; want %v", err, tt.wantErr)
			}
			rec, _ := w.store.GetUserByLogin(ctx, "dora")
			if rec.EmailVerified != (tt.wantErr == nil) {
				t.Fatalf("email_verified = %v after %v", rec.EmailVerified, err)
			}
			if tt.wantErr == nil {
				if !u.EmailVerified || w.lastAudit(audit.EmailVerify).Actor != u.ID {
					t.Fatalf("verified user %+v", u)
				}
			}
			// Whatever happened, the link is used up.
			if _, err := w.svc.VerifyEmail(ctx, tok); !errors.Is(err, accounts.ErrInvalidToken) {
				t.Fatalf("second use = %v; want ErrInvalidToken", err)
			}
		})
	}
}

func TestSendVerificationReplacesTheLink(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.svc.Register(ctx, registration()); err != nil {
		t.Fatal(err)
	}
	first := w.linkToken("dora@example.com", "/verify-email")
	if err := w.svc.SendVerification(ctx, "dora@example.com"); err != nil {
		t.Fatal(err)
	}
	second := w.linkToken("dora@example.com", "/verify-email")
	if first == second {
		t.Fatal("the new link reuses the old token")
	}
	if _, err := w.svc.VerifyEmail(ctx, second); err != nil {
		t.Fatal(err)
	}
	// Verified: nothing more is sent.
	n := len(w.box.Messages())
	if err := w.svc.SendVerification(ctx, "dora"); err != nil || len(w.box.Messages()) != n {
		t.Fatalf("SendVerification for a verified address = %v, %d new mails", err, len(w.box.Messages())-n)
	}
}

func TestMarkEmailVerified(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if _, err := w.svc.Register(ctx, registration()); err != nil {
		t.Fatal(err)
	}
	tok := w.linkToken("dora@example.com", "/verify-email")
	u, err := w.svc.MarkEmailVerified(audit.WithActor(ctx, audit.Actor{ID: audit.ActorAdminAPI, IP: "127.0.0.1"}), "dora")
	if err != nil || !u.EmailVerified {
		t.Fatalf("MarkEmailVerified = %+v, %v", u, err)
	}
	if e := w.lastAudit(audit.EmailVerify); e.Actor != "admin-api" || e.IP != "127.0.0.1" || e.Target != u.ID {
		t.Fatalf("audit %+v", e)
	}
	if _, err := w.svc.VerifyEmail(ctx, tok); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Fatalf("the outstanding link still works: %v", err)
	}
	if _, err := w.svc.MarkEmailVerified(ctx, "nobody"); !errors.Is(err, accounts.ErrUserNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}

// slowSender takes a while per message, like a distant SMTP server.
type slowSender struct {
	mailtest.Outbox
	delay time.Duration
}

func (s *slowSender) Send(ctx context.Context, m mail.Message) error {
	time.Sleep(s.delay)
	return s.Outbox.Send(ctx, m)
}

func TestRequestPasswordReset(t *testing.T) {
	slow := &slowSender{delay: 300 * time.Millisecond}
	composer, _ := mail.NewComposer("")
	w := newWorld(t, func(o *accounts.Options) { o.Mailer = mail.Postman{Composer: composer, Sender: slow} })
	ctx := context.Background()
	w.mustCreate(alice())
	w.mustCreate(accounts.NewUser{Username: "mallory", Email: "mallory@example.com", Password: "mallory's password"})
	if _, err := w.svc.DisableUser(ctx, "mallory"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		email    string
		wantMail bool
	}{
		{"alice@example.com", true},
		{"ALICE@example.com", true},
		{"nobody@example.com", false},
		{"mallory@example.com", false}, // disabled
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			slow.Reset()
			start := time.Now()
			if err := w.svc.RequestPasswordReset(ctx, tt.email); err != nil {
				t.Fatalf("RequestPasswordReset = %v; want nil whoever asks", err)
			}
			// The answer does not wait for the look-up or the mail, so it
			// takes the same (short) time whether or not the account exists.
			if d := time.Since(start); d > 150*time.Millisecond {
				t.Fatalf("RequestPasswordReset took %v: it waits for the mail", d)
			}
			w.svc.Wait()
			got := slow.Messages()
			if tt.wantMail != (len(got) == 1) {
				t.Fatalf("%d mails; want mail: %v", len(got), tt.wantMail)
			}
			if tt.wantMail && (got[0].To != "alice@example.com" || got[0].Subject != "Reset your Signet password" ||
				!strings.Contains(got[0].Text, issuer+"/reset-password?token=")) {
				t.Fatalf("reset mail %+v", got[0])
			}
		})
	}
	var ve *accounts.ValidationError
	if err := w.svc.RequestPasswordReset(ctx, "not an address"); !errors.As(err, &ve) || ve.Field != "email" {
		t.Fatalf("malformed address = %v; want a field error", err)
	}
}

func TestResetPassword(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.mustCreate(alice())
	b := w.mustCreate(accounts.NewUser{Username: "bob", Email: "bob@example.com", Password: "bob's own password"})
	w.addClient("app")
	w.addSession(a.ID, "a1")
	w.addSession(a.ID, "a2")
	w.addSession(b.ID, "b1")
	w.addGrant(a.ID, "app", "grant-a")
	w.addGrant(b.ID, "app", "grant-b")

	if err := w.svc.RequestPasswordReset(ctx, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	w.svc.Wait()
	tok := w.linkToken("alice@example.com", "/reset-password")

	// Refused passwords leave the link usable.
	for _, bad := range []string{"short", "qwerty123", "alice@example.com", "ALICE"} {
		var ve *accounts.ValidationError
		if _, err := w.svc.ResetPassword(ctx, tok, bad); !errors.As(err, &ve) || ve.Field != "password" {
			t.Fatalf("ResetPassword(%q) = %v; want a password error", bad, err)
		}
	}
	if !w.sessionExists("a1") || !w.grantActive("grant-a") {
		t.Fatal("a refused reset ended sessions or revoked tokens")
	}

	u, err := w.svc.ResetPassword(ctx, tok, "a fresh new secret")
	if err != nil || u.ID != a.ID {
		t.Fatalf("ResetPassword = %+v, %v", u, err)
	}
	if _, err := w.svc.Authenticate(ctx, "alice", "a fresh new secret"); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if _, err := w.svc.Authenticate(ctx, "alice", "correct horse battery"); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Fatalf("old password still works: %v", err)
	}
	if w.sessionExists("a1") || w.sessionExists("a2") || w.grantActive("grant-a") {
		t.Fatal("alice's sessions or tokens survived the reset")
	}
	if !w.sessionExists("b1") || !w.grantActive("grant-b") {
		t.Fatal("bob's session or tokens were touched")
	}
	if e := w.lastAudit(audit.PasswordReset); e.Actor != a.ID || e.Details["sessions_ended"] != "2" {
		t.Fatalf("audit %+v", e)
	}
	if _, err := w.svc.ResetPassword(ctx, tok, "yet another secret"); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Fatalf("reused link = %v; want ErrInvalidToken", err)
	}
}

func TestResetPasswordLinkRules(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(w *world, tok string) string
		wantErr error
	}{
		{"59 minutes later", func(w *world, tok string) string { w.clock.Advance(59 * time.Minute); return tok }, nil},
		{"an hour later", func(w *world, tok string) string { w.clock.Advance(time.Hour); return tok }, accounts.ErrExpiredToken},
		{"superseded by a second request", func(w *world, tok string) string {
			if _, err := w.svc.SendPasswordReset(context.Background(), "alice"); err != nil {
				w.t.Fatal(err)
			}
			return tok
		}, accounts.ErrInvalidToken},
		{"account disabled since", func(w *world, tok string) string {
			w.mustCreate(accounts.NewUser{Username: "root", Email: "root@example.com", Password: "root's password", Roles: []string{"admin"}})
			if _, err := w.svc.DisableUser(context.Background(), "alice"); err != nil {
				w.t.Fatal(err)
			}
			return tok
		}, accounts.ErrInvalidToken},
		{"password changed since", func(w *world, tok string) string {
			u, _ := w.svc.GetUser(context.Background(), "alice")
			if err := w.svc.ChangePassword(context.Background(), accounts.PasswordChange{UserID: u.ID,
				Current: "correct horse battery", New: "changed by me", Confirm: "changed by me"}); err != nil {
				w.t.Fatal(err)
			}
			return tok
		}, accounts.ErrInvalidToken},
		{"verification token presented as reset", func(w *world, tok string) string {
			if err := w.svc.SendVerification(context.Background(), "alice"); err != nil {
				w.t.Fatal(err)
			}
			return w.linkToken("alice@example.com", "/verify-email")
		}, accounts.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			ctx := context.Background()
			in := alice()
			in.EmailVerified = false
			w.mustCreate(in)
			if _, err := w.svc.SendPasswordReset(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
			tok := tt.prepare(w, w.linkToken("alice@example.com", "/reset-password"))
			u, err := w.svc.ResetPassword(ctx, tok, "a fresh new secret")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ResetPassword = %v; want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && !u.EmailVerified {
				t.Fatal("a reset through the mailed link did not mark the address verified")
			}
			if _, err := w.svc.Authenticate(ctx, "alice", "a fresh new secret"); (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("log in with the new password: %v", err)
			}
		})
	}
}

func TestSendPasswordReset(t *testing.T) {
	w := newWorld(t)
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: audit.ActorAdminAPI, IP: "10.0.0.9"})
	a := w.mustCreate(alice())
	if _, err := w.svc.SendPasswordReset(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if len(w.box.To("alice@example.com")) != 1 {
		t.Fatal("no reset mail")
	}
	if e := w.lastAudit(audit.PasswordResetRequest); e.Actor != "admin-api" || e.IP != "10.0.0.9" || e.Target != a.ID {
		t.Fatalf("audit %+v", e)
	}
	if _, err := w.svc.SendPasswordReset(ctx, "ghost"); !errors.Is(err, accounts.ErrUserNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	w.box.Err = errors.New("connection refused")
	if _, err := w.svc.SendPasswordReset(ctx, "alice"); !errors.Is(err, accounts.ErrMailNotSent) {
		t.Fatalf("mail down: %v; want ErrMailNotSent", err)
	}
	w.box.Err = nil
	w.mustCreate(accounts.NewUser{Username: "root", Email: "root@example.com", Password: "root's password", Roles: []string{"admin"}})
	if _, err := w.svc.DisableUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.SendPasswordReset(ctx, "alice"); !errors.Is(err, accounts.ErrUserDisabled) {
		t.Fatalf("disabled user: %v; want ErrUserDisabled", err)
	}
}

func TestChangePassword(t *testing.T) {
	tests := []struct {
		name      string
		change    accounts.PasswordChange
		wantField string
	}{
		{"wrong current", accounts.PasswordChange{Current: "wrong password", New: "brand new secret", Confirm: "brand new secret"}, "current_password"},
		{"no current", accounts.PasswordChange{New: "brand new secret", Confirm: "brand new secret"}, "current_password"},
		{"common new", accounts.PasswordChange{Current: "correct horse battery", New: "football123", Confirm: "football123"}, "password"},
		{"user name as new", accounts.PasswordChange{Current: "correct horse battery", New: "Alice@Example.com", Confirm: "Alice@Example.com"}, "password"},
		{"mismatch", accounts.PasswordChange{Current: "correct horse battery", New: "brand new secret", Confirm: "brand new secreT"}, "password_confirm"},
		{"good", accounts.PasswordChange{Current: "correct horse battery", New: "brand new secret", Confirm: "brand new secret"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			ctx := context.Background()
			a := w.mustCreate(alice())
			w.addSession(a.ID, "here")
			w.addSession(a.ID, "elsewhere")
			tt.change.UserID, tt.change.KeepSessionID = a.ID, "here"
			err := w.svc.ChangePassword(ctx, tt.change)
			if tt.wantField != "" {
				var ve *accounts.ValidationError
				if !errors.As(err, &ve) || ve.Field != tt.wantField {
					t.Fatalf("ChangePassword = %v; want an error on %s", err, tt.wantField)
				}
				if _, err := w.svc.Authenticate(ctx, "alice", "correct horse battery"); err != nil || !w.sessionExists("elsewhere") {
					t.Fatal("a refused change changed something")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.Authenticate(ctx, "alice", "brand new secret"); err != nil {
				t.Fatal(err)
			}
			if !w.sessionExists("here") || w.sessionExists("elsewhere") {
				t.Fatal("want the current session kept and the other one ended")
			}
			if e := w.lastAudit(audit.PasswordChange); e.Actor != a.ID || e.Details["sessions_ended"] != "1" {
				t.Fatalf("audit %+v", e)
			}
		})
	}
}

func TestChangeEmail(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.mustCreate(alice())
	w.mustCreate(accounts.NewUser{Username: "bob", Email: "bob@example.com", Password: "bob's own password"})
	if _, err := w.svc.SendPasswordReset(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	resetTok := w.linkToken("alice@example.com", "/reset-password")

	refusals := []struct {
		name, email, password, field string
	}{
		{"wrong password", "alice@new.example.com", "nope nope nope", "current_password"},
		{"wrong password, taken address", "bob@example.com", "nope nope nope", "current_password"},
		{"malformed", "alice at new", "correct horse battery", "email"},
	}
	for _, tt := range refusals {
		var ve *accounts.ValidationError
		if _, err := w.svc.ChangeEmail(ctx, a.ID, tt.email, tt.password); !errors.As(err, &ve) || ve.Field != tt.field {
			t.Fatalf("%s: ChangeEmail = %v; want an error on %s", tt.name, err, tt.field)
		}
	}
	unchanged := func(when string) {
		t.Helper()
		if rec, _ := w.store.GetUser(ctx, a.ID); rec.Email != "alice@example.com" || !rec.EmailVerified {
			t.Fatalf("%s: the user changed: %+v", when, rec)
		}
	}
	unchanged("refused changes")
	if n := len(w.box.To("bob@example.com")) + len(w.box.To("alice@new.example.com")); n != 0 {
		t.Fatalf("%d mails after refused changes", n)
	}

	// A free address: nothing changes yet; the link goes to the new address.
	u, err := w.svc.ChangeEmail(ctx, a.ID, " alice@new.example.com ", "correct horse battery")
	if err != nil || u.Email != "alice@example.com" || !u.EmailVerified {
		t.Fatalf("ChangeEmail = %+v, %v; want the user as they were", u, err)
	}
	unchanged("a pending change")
	if e := w.lastAudit(audit.EmailChange); e.Actor != a.ID || e.Details["step"] != "requested" {
		t.Fatalf("audit %+v", e)
	}
	tok := w.linkToken("alice@new.example.com", "/verify-email")
	if err := w.svc.CheckVerifyToken(ctx, tok); err != nil {
		t.Fatalf("CheckVerifyToken of the change link: %v", err)
	}
	unchanged("checking the link")

	// A taken address: the same answer, nothing changes, its owner is told.
	before := len(w.box.To("alice@new.example.com"))
	u2, err := w.svc.ChangeEmail(ctx, a.ID, "BOB@example.com", "correct horse battery")
	if err != nil || u2.Email != u.Email || u2.EmailVerified != u.EmailVerified || u2.ID != u.ID {
		t.Fatalf("ChangeEmail to a taken address = %+v, %v; want %+v, nil", u2, err, u)
	}
	unchanged("a taken address")
	if bob, _ := w.store.GetUserByLogin(ctx, "bob"); bob.Email != "bob@example.com" {
		t.Fatalf("bob changed: %+v", bob)
	}
	toBob := w.box.To("bob@example.com")
	if len(toBob) != 1 || !strings.Contains(toBob[0].Text, "asked to change its e-mail address to this one") ||
		strings.Contains(toBob[0].Text, "alice") || strings.Contains(toBob[0].Text, "token=") {
		t.Fatalf("notice to the owner: %+v", toBob)
	}
	if len(w.box.To("alice@new.example.com")) != before {
		t.Fatal("a taken address sent a link too")
	}
	// The newest request replaced the earlier pending change.
	if _, err := w.svc.VerifyEmail(ctx, tok); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Fatalf("a replaced change link: %v", err)
	}
	unchanged("a replaced link")

	// A new request; opening its link switches the address, verified.
	if _, err := w.svc.ChangeEmail(ctx, a.ID, "alice@new.example.com", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	tok = w.linkToken("alice@new.example.com", "/verify-email")
	v, err := w.svc.VerifyEmail(ctx, tok)
	if err != nil || v.Email != "alice@new.example.com" || !v.EmailVerified {
		t.Fatalf("VerifyEmail of the change link = %+v, %v", v, err)
	}
	if rec, _ := w.store.GetUser(ctx, a.ID); rec.Email != "alice@new.example.com" || !rec.EmailVerified {
		t.Fatalf("after the change: %+v", rec)
	}
	notice := w.box.To("alice@example.com")
	if last := notice[len(notice)-1]; last.Subject != "Your Signet e-mail address was changed" ||
		!strings.Contains(last.Text, "alice@new.example.com") {
		t.Fatalf("notice to the old address: %+v", last)
	}
	if e := w.lastAudit(audit.EmailChange); e.Actor != a.ID || e.Details["step"] != "changed" {
		t.Fatalf("audit %+v (no addresses belong in it)", e)
	}
	events, _ := w.store.ListAudit(ctx, 0)
	for _, e := range events {
		for _, d := range e.Details {
			if strings.Contains(d, "@") {
				t.Fatalf("an address in the audit log: %+v", e)
			}
		}
	}
	if _, err := w.svc.ResetPassword(ctx, resetTok, "a fresh new secret"); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Fatalf("a reset link sent to the old address still works: %v", err)
	}
	// Single use.
	if _, err := w.svc.VerifyEmail(ctx, tok); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Fatalf("a used change link: %v", err)
	}
	if err := w.svc.CheckVerifyToken(ctx, tok); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Fatalf("CheckVerifyToken of a used change link: %v", err)
	}
}

func TestChangeEmailLinkExpires(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.mustCreate(alice())
	if _, err := w.svc.ChangeEmail(ctx, a.ID, "alice@new.example.com", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	tok := w.linkToken("alice@new.example.com", "/verify-email")
	w.clock.Advance(24*time.Hour + time.Second)
	if err := w.svc.CheckVerifyToken(ctx, tok); !errors.Is(err, accounts.ErrExpiredToken) {
		t.Fatalf("CheckVerifyToken of an old change link: %v", err)
	}
	if _, err := w.svc.VerifyEmail(ctx, tok); !errors.Is(err, accounts.ErrExpiredToken) {
		t.Fatalf("an old change link: %v", err)
	}
	if _, err := w.svc.VerifyEmail(ctx, tok); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Fatalf("an expired change link is used up: %v", err)
	}
	if rec, _ := w.store.GetUser(ctx, a.ID); rec.Email != "alice@example.com" {
		t.Fatalf("an expired link changed the address: %+v", rec)
	}
}

func TestChangeEmailAddressTakenMeanwhile(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.mustCreate(alice())
	if _, err := w.svc.ChangeEmail(ctx, a.ID, "shared@example.com", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	tok := w.linkToken("shared@example.com", "/verify-email")
	w.mustCreate(accounts.NewUser{Username: "carol", Email: "shared@example.com", Password: "carol's own password"})
	if err := w.svc.CheckVerifyToken(ctx, tok); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Fatalf("CheckVerifyToken: %v", err)
	}
	if _, err := w.svc.VerifyEmail(ctx, tok); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Fatalf("VerifyEmail of a change to a taken address: %v", err)
	}
	if rec, _ := w.store.GetUser(ctx, a.ID); rec.Email != "alice@example.com" || !rec.EmailVerified {
		t.Fatalf("alice changed: %+v", rec)
	}
}

func TestChangeEmailCaseOnly(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.mustCreate(alice())
	u, err := w.svc.ChangeEmail(ctx, a.ID, "Alice@Example.com", "correct horse battery")
	if err != nil || u.Email != "Alice@Example.com" || !u.EmailVerified {
		t.Fatalf("ChangeEmail of the letter case = %+v, %v", u, err)
	}
}

func TestChangeEmailUserGoneMeanwhile(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.mustCreate(alice())
	w.mustCreate(accounts.NewUser{Username: "bob", Email: "bob@example.com", Password: "bob's own password", Roles: []string{"admin"}})
	if _, err := w.svc.ChangeEmail(ctx, a.ID, "alice@new.example.com", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	tok := w.linkToken("alice@new.example.com", "/verify-email")
	if err := w.svc.DeleteAccount(ctx, a.ID, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.VerifyEmail(ctx, tok); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Fatalf("the link of a deleted user: %v", err)
	}
}

func TestUpdateProfile(t *testing.T) {
	w := newWorld(t)
	a := w.mustCreate(alice())
	u, err := w.svc.UpdateProfile(context.Background(), a.ID, "  Alice Pleasance Liddell ")
	if err != nil || u.Name != "Alice Pleasance Liddell" {
		t.Fatalf("UpdateProfile = %+v, %v", u, err)
	}
	var ve *accounts.ValidationError
	if _, err := w.svc.UpdateProfile(context.Background(), a.ID, strings.Repeat("x", 201)); !errors.As(err, &ve) || ve.Field != "name" {
		t.Fatalf("over-long name: %v", err)
	}
}

func TestDeleteAccount(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.mustCreate(alice())
	w.addClient("app")
	w.addSession(a.ID, "s1")
	w.addGrant(a.ID, "app", "grant-a")
	if err := w.store.UpsertConsent(ctx, storage.Consent{UserID: a.ID, ClientID: "app", Scopes: []string{"openid"},
		CreatedAt: fixedNow, UpdatedAt: fixedNow}); err != nil {
		t.Fatal(err)
	}
	var ve *accounts.ValidationError
	if err := w.svc.DeleteAccount(ctx, a.ID, "not my password"); !errors.As(err, &ve) || ve.Field != "current_password" {
		t.Fatalf("wrong password = %v", err)
	}
	if _, err := w.store.GetUser(ctx, a.ID); err != nil {
		t.Fatal("a refused delete removed the user")
	}
	if err := w.svc.DeleteAccount(ctx, a.ID, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.GetUser(ctx, a.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("user after delete: %v", err)
	}
	if _, err := w.store.GetUserByLogin(ctx, "alice@example.com"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatal("the address is still on record")
	}
	if w.sessionExists("s1") || w.grantActive("grant-a") {
		t.Fatal("sessions or tokens survived")
	}
	if _, err := w.store.GetConsent(ctx, a.ID, "app"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("consent after delete: %v", err)
	}
	e := w.lastAudit(audit.UserDelete)
	if e.Actor != a.ID || e.Target != a.ID {
		t.Fatalf("audit %+v", e)
	}
	events, _ := w.store.ListAudit(ctx, 0)
	for _, ev := range events {
		for _, v := range append([]string{ev.Actor, ev.Target}, mapValues(ev.Details)...) {
			if strings.Contains(v, "alice") {
				t.Fatalf("the audit log keeps personal data: %+v", ev)
			}
		}
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestLastAdmin(t *testing.T) {
	tests := []struct {
		name  string
		setup func(w *world) // other users
		op    func(w *world) error
		want  error
	}{
		{"disable the only admin", nil, func(w *world) error { _, err := w.svc.DisableUser(context.Background(), "alice"); return err }, accounts.ErrLastAdmin},
		{"delete the only admin", nil, func(w *world) error { return w.svc.DeleteUser(context.Background(), "alice") }, accounts.ErrLastAdmin},
		{"strip the only admin", nil, func(w *world) error {
			_, err := w.svc.SetRoles(context.Background(), "alice", []string{"user"})
			return err
		}, accounts.ErrLastAdmin},
		{"the only admin deletes their account", nil, func(w *world) error {
			u, _ := w.svc.GetUser(context.Background(), "alice")
			return w.svc.DeleteAccount(context.Background(), u.ID, "correct horse battery")
		}, accounts.ErrLastAdmin},
		{"the other admin is disabled", func(w *world) {
			w.mustCreate(accounts.NewUser{Username: "root", Email: "root@example.com", Password: "root's password", Roles: []string{"admin"}})
			if _, err := w.svc.DisableUser(context.Background(), "root"); err != nil {
				w.t.Fatal(err)
			}
		}, func(w *world) error { _, err := w.svc.DisableUser(context.Background(), "alice"); return err }, accounts.ErrLastAdmin},
		{"another enabled admin exists", func(w *world) {
			w.mustCreate(accounts.NewUser{Username: "root", Email: "root@example.com", Password: "root's password", Roles: []string{"admin"}})
		}, func(w *world) error { _, err := w.svc.DisableUser(context.Background(), "alice"); return err }, nil},
		{"keeping admin among new roles", nil, func(w *world) error {
			_, err := w.svc.SetRoles(context.Background(), "alice", []string{"admin"})
			return err
		}, nil},
		{"an admin cannot disable themselves", func(w *world) {
			w.mustCreate(accounts.NewUser{Username: "root", Email: "root@example.com", Password: "root's password", Roles: []string{"admin"}})
		}, func(w *world) error {
			u, _ := w.svc.GetUser(context.Background(), "alice")
			_, err := w.svc.DisableUser(audit.WithActor(context.Background(), audit.Actor{ID: u.ID}), "alice")
			return err
		}, accounts.ErrSelf},
		{"an admin cannot delete themselves in the console", func(w *world) {
			w.mustCreate(accounts.NewUser{Username: "root", Email: "root@example.com", Password: "root's password", Roles: []string{"admin"}})
		}, func(w *world) error {
			u, _ := w.svc.GetUser(context.Background(), "alice")
			return w.svc.DeleteUser(audit.WithActor(context.Background(), audit.Actor{ID: u.ID}), u.ID)
		}, accounts.ErrSelf},
		{"non-admins are not affected", func(w *world) {
			w.mustCreate(accounts.NewUser{Username: "bob", Email: "bob@example.com", Password: "bob's own password"})
		}, func(w *world) error { _, err := w.svc.DisableUser(context.Background(), "bob"); return err }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			in := alice()
			in.Roles = []string{"admin", "user"}
			w.mustCreate(in)
			if tt.setup != nil {
				tt.setup(w)
			}
			if err := tt.op(w); !errors.Is(err, tt.want) {
				t.Fatalf("got %v; want %v", err, tt.want)
			}
			if tt.want != nil {
				u, err := w.svc.GetUser(context.Background(), "alice")
				if err != nil || u.Disabled || !slices.Contains(u.Roles, "admin") {
					t.Fatalf("a refused operation changed alice: %+v, %v", u, err)
				}
			}
		})
	}
}

func TestSignOutEverywhere(t *testing.T) {
	w := newWorld(t)
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: audit.ActorAdminAPI, IP: "127.0.0.1"})
	a := w.mustCreate(alice())
	w.addClient("app")
	w.addSession(a.ID, "s1")
	w.addSession(a.ID, "s2")
	w.addGrant(a.ID, "app", "g1")
	n, err := w.svc.SignOutEverywhere(ctx, "alice")
	if err != nil || n != 2 {
		t.Fatalf("SignOutEverywhere = %d, %v", n, err)
	}
	if w.sessionExists("s1") || w.sessionExists("s2") || w.grantActive("g1") {
		t.Fatal("sessions or tokens survived")
	}
	if e := w.lastAudit(audit.SessionRevokeAll); e.Actor != "admin-api" || e.Target != a.ID || e.Details["sessions_ended"] != "2" {
		t.Fatalf("audit %+v", e)
	}
	if _, err := w.svc.SignOutEverywhere(ctx, "ghost"); !errors.Is(err, accounts.ErrUserNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestConnectedApps(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.mustCreate(alice())
	w.addClient("app1")
	w.addClient("app2")
	for _, c := range []string{"app1", "app2"} {
		if err := w.store.UpsertConsent(ctx, storage.Consent{UserID: a.ID, ClientID: c, Scopes: []string{"openid", "email"},
			CreatedAt: fixedNow, UpdatedAt: fixedNow}); err != nil {
			t.Fatal(err)
		}
		w.addGrant(a.ID, c, "grant-"+c)
	}
	w.addSession(a.ID, "s1")
	apps, err := w.svc.ConnectedApps(ctx, a.ID)
	if err != nil || len(apps) != 2 {
		t.Fatalf("ConnectedApps = %+v, %v", apps, err)
	}
	if err := w.svc.RevokeApp(ctx, a.ID, "app1"); err != nil {
		t.Fatal(err)
	}
	if w.grantActive("grant-app1") || !w.grantActive("grant-app2") || !w.sessionExists("s1") {
		t.Fatal("RevokeApp must revoke exactly app1's tokens and keep the session")
	}
	apps, _ = w.svc.ConnectedApps(ctx, a.ID)
	if len(apps) != 1 || apps[0].ClientID != "app2" || apps[0].ClientName != "App app2" {
		t.Fatalf("after revoke: %+v", apps)
	}
	if e := w.lastAudit(audit.ConsentRevoke); e.Actor != a.ID || e.Target != "app1" {
		t.Fatalf("audit %+v", e)
	}

	w.addSession(a.ID, "s2")
	n, err := w.svc.SignOutOtherSessions(ctx, a.ID, "s2")
	if err != nil || n != 1 || w.sessionExists("s1") || !w.sessionExists("s2") {
		t.Fatalf("SignOutOtherSessions = %d, %v", n, err)
	}
	list, err := w.svc.Sessions(ctx, a.ID)
	if err != nil || len(list) != 1 || list[0].ID != "s2" {
		t.Fatalf("Sessions = %+v, %v", list, err)
	}
}

func TestAdminActionsAreAudited(t *testing.T) {
	w := newWorld(t)
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: audit.ActorAdminAPI, IP: "192.0.2.7"})
	if _, err := w.svc.CreateRole(ctx, "editor", ""); err != nil {
		t.Fatal(err)
	}
	u, err := w.svc.CreateUser(ctx, alice())
	if err != nil {
		t.Fatal(err)
	}
	steps := []func() error{
		func() error { _, err := w.svc.SetRoles(ctx, "alice", []string{"editor"}); return err },
		func() error { _, err := w.svc.DisableUser(ctx, "alice"); return err },
		func() error { _, err := w.svc.EnableUser(ctx, "alice"); return err },
		func() error { return w.svc.SetPassword(ctx, "alice", "set by the operator") },
		func() error { return w.svc.DeleteUser(ctx, "alice") },
		func() error { return w.svc.DeleteRole(ctx, "editor") },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{audit.RoleCreate, audit.UserCreate, audit.RoleChange, audit.UserDisable, audit.UserEnable,
		audit.PasswordChange, audit.UserDelete, audit.RoleDelete}
	if got := w.auditActions(); !slices.Equal(got, want) {
		t.Fatalf("audit actions %v; want %v", got, want)
	}
	events, _ := w.store.ListAudit(context.Background(), 0)
	for _, e := range events {
		if e.Actor != "admin-api" || e.IP != "192.0.2.7" {
			t.Fatalf("event %+v lacks the actor or address", e)
		}
		if e.Action == audit.RoleChange && (e.Target != u.ID || e.Details["roles"] != "editor") {
			t.Fatalf("role change event %+v", e)
		}
	}
}
