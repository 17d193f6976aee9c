package mfa_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/mfa"
	"github.com/signet-idp/signet/internal/pgtest"
	"github.com/signet-idp/signet/internal/storage"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newService(t *testing.T) (*mfa.Service, storage.Store, *clock) {
	t.Helper()
	st := pgtest.NewStore(t)
	clk := &clock{t: time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := st.CreateUser(t.Context(), storage.User{ID: "u1", Username: "ada", Email: "ada@example.com",
		CreatedAt: clk.t, UpdatedAt: clk.t}); err != nil {
		t.Fatal(err)
	}
	svc, err := mfa.New(mfa.Options{Store: st, Secrets: [][]byte{[]byte(strings.Repeat("s", 32))},
		Issuer: "https://id.example.com", Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	return svc, st, clk
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTOTP(t *testing.T) {
	svc, st, clk := newService(t)
	ctx := t.Context()
	enr, err := svc.StartTOTP(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enr.QRCode, "data:image/png;base64,") || !strings.HasPrefix(enr.URL, "otpauth://totp/") {
		t.Fatalf("enrolment = %+v", enr)
	}
	again, err := svc.StartTOTP(ctx, "u1")
	if err != nil || again.Secret != enr.Secret {
		t.Fatalf("a reload shows another secret: %v", err)
	}
	row, err := st.GetTOTP(ctx, "u1")
	if err != nil || strings.Contains(string(row.Secret), enr.Secret) {
		t.Fatalf("secret kept in the clear or missing: %v", err)
	}
	if _, err := svc.ConfirmTOTP(ctx, "u1", "000000"); !errors.Is(err, mfa.ErrInvalidCode) && code(t, enr.Secret, clk.t) != "000000" {
		t.Fatalf("wrong confirmation code: %v", err)
	}
	codes, err := svc.ConfirmTOTP(ctx, "u1", code(t, enr.Secret, clk.t))
	if err != nil || len(codes) != mfa.RecoveryCodeCount {
		t.Fatalf("ConfirmTOTP = %d codes, %v", len(codes), err)
	}
	if _, err := svc.StartTOTP(ctx, "u1"); !errors.Is(err, mfa.ErrAlreadyEnrolled) {
		t.Fatalf("second app: %v", err)
	}

	// The confirming code cannot sign in; the next one can, once.
	if err := svc.VerifyTOTP(ctx, "u1", code(t, enr.Secret, clk.t)); !errors.Is(err, mfa.ErrCodeUsed) {
		t.Fatalf("confirming code reused: %v", err)
	}
	clk.t = clk.t.Add(30 * time.Second)
	next := code(t, enr.Secret, clk.t)
	if err := svc.VerifyTOTP(ctx, "u1", next); err != nil {
		t.Fatalf("next code: %v", err)
	}
	if err := svc.VerifyTOTP(ctx, "u1", next); !errors.Is(err, mfa.ErrCodeUsed) {
		t.Fatalf("replayed code: %v", err)
	}
	// One step of clock skew either way; two is too many.
	clk.t = clk.t.Add(90 * time.Second)
	if err := svc.VerifyTOTP(ctx, "u1", code(t, enr.Secret, clk.t.Add(30*time.Second))); err != nil {
		t.Fatalf("code of the next step: %v", err)
	}
	clk.t = clk.t.Add(5 * time.Minute)
	if err := svc.VerifyTOTP(ctx, "u1", code(t, enr.Secret, clk.t.Add(-60*time.Second))); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Fatalf("code two steps old: %v", err)
	}
	for _, bad := range []string{"", "12345", "abcdef", "1234567"} {
		if err := svc.VerifyTOTP(ctx, "u1", bad); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Fatalf("VerifyTOTP(%q) = %v", bad, err)
		}
	}

	// Recovery codes work once each, whatever their spelling.
	if !mfa.LooksLikeRecoveryCode(codes[0]) || mfa.LooksLikeRecoveryCode("123456") {
		t.Fatal("LooksLikeRecoveryCode")
	}
	if err := svc.UseRecoveryCode(ctx, "u1", strings.ToUpper(strings.ReplaceAll(codes[0], "-", " "))); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	if err := svc.UseRecoveryCode(ctx, "u1", codes[0]); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Fatalf("recovery code twice: %v", err)
	}
	stat, err := svc.Status(ctx, "u1")
	if err != nil || !stat.TOTP || stat.RecoveryCodes != mfa.RecoveryCodeCount-1 {
		t.Fatalf("Status = %+v, %v", stat, err)
	}

	if err := svc.Reset(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if stat, _ := svc.Status(ctx, "u1"); stat.Enrolled() || stat.RecoveryCodes != 0 {
		t.Fatalf("after reset: %+v", stat)
	}
}

func TestCookies(t *testing.T) {
	clk := &clock{t: time.Unix(2_000_000_000, 0)}
	key := []byte(strings.Repeat("k", 32))
	c, err := mfa.NewCookies([][]byte{key}, true, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if err := c.SetPending(rec, mfa.Pending{UserID: "u1", AMR: []string{"pwd"}, Remember: true}); err != nil {
		t.Fatal(err)
	}
	if err := c.RememberDevice(rec, "u1", 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, ck := range rec.Result().Cookies() {
		if !ck.HttpOnly || !ck.Secure {
			t.Fatalf("cookie %s not HttpOnly and Secure", ck.Name)
		}
		req.AddCookie(ck)
	}
	p, ok := c.Pending(req)
	if !ok || p.UserID != "u1" || !p.Remember || len(p.AMR) != 1 {
		t.Fatalf("Pending = %+v, %v", p, ok)
	}
	if !c.DeviceRemembered(req, "u1", clk.t.Add(-time.Hour)) {
		t.Fatal("device not remembered")
	}
	if c.DeviceRemembered(req, "u2", time.Time{}) {
		t.Fatal("device remembered for another user")
	}
	if c.DeviceRemembered(req, "u1", clk.t.Add(time.Second)) {
		t.Fatal("device remembered before the factors were enrolled")
	}
	other, _ := mfa.NewCookies([][]byte{[]byte(strings.Repeat("o", 32))}, true, clk.now)
	if _, ok := other.Pending(req); ok {
		t.Fatal("pending cookie accepted under another key")
	}
	clk.t = clk.t.Add(mfa.PendingLifetime)
	if _, ok := c.Pending(req); ok {
		t.Fatal("expired pending sign-in accepted")
	}
	clk.t = clk.t.Add(24 * time.Hour)
	if c.DeviceRemembered(req, "u1", time.Time{}) {
		t.Fatal("expired device accepted")
	}
}

// TestRenamePasskey: a person renames their own passkey (the name tidied
// and audited); bad names are refused, and someone else's passkey answers
// exactly as one that does not exist, unchanged.
func TestRenamePasskey(t *testing.T) {
	st := pgtest.NewStore(t)
	ctx := t.Context()
	at := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, id := range []string{"u1", "u2"} {
		if err := st.CreateUser(ctx, storage.User{ID: id, Username: "user-" + id, Email: id + "@example.com", CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []storage.Passkey{{ID: "k1", UserID: "u1", Name: "Laptop"}, {ID: "k2", UserID: "u2", Name: "Phone"}} {
		p.Credential, p.CreatedAt = []byte(`{}`), at
		if err := st.CreatePasskey(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := mfa.New(mfa.Options{Store: st, Secrets: [][]byte{[]byte(strings.Repeat("s", 32))},
		Issuer: "https://id.example.com", Now: func() time.Time { return at }, Audit: audit.New(st, func() time.Time { return at }, nil)})
	if err != nil {
		t.Fatal(err)
	}
	name := func(id string) string {
		t.Helper()
		p, err := st.GetPasskey(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p.Name
	}

	for _, tc := range []struct{ in, want string }{
		{"Work laptop", "Work laptop"},
		{"  YubiKey\t5 \n NFC ", "YubiKey 5 NFC"},
		{"Téléphone 📱", "Téléphone 📱"},
		{strings.Repeat("é", mfa.MaxPasskeyName), strings.Repeat("é", mfa.MaxPasskeyName)},
	} {
		if err := svc.RenamePasskey(ctx, "u1", "k1", tc.in); err != nil || name("k1") != tc.want {
			t.Errorf("rename to %q: %v, stored %q, want %q", tc.in, err, name("k1"), tc.want)
		}
	}
	for _, bad := range []string{"", "   ", "\t\n", strings.Repeat("x", mfa.MaxPasskeyName+1), "bell\a", "null\x00byte",
		"rtl\u202eoverride", "zero\u200bwidth", "bad\xffutf8"} {
		if err := svc.RenamePasskey(ctx, "u1", "k1", bad); !errors.Is(err, mfa.ErrPasskeyName) {
			t.Errorf("rename to %q: %v, want ErrPasskeyName", bad, err)
		}
	}
	if err := svc.RenamePasskey(ctx, "u1", "k1", "Laptop"); err != nil {
		t.Fatal(err)
	}

	errOther := svc.RenamePasskey(ctx, "u1", "k2", "Mine now")
	errNone := svc.RenamePasskey(ctx, "u1", "nope", "Mine now")
	if !errors.Is(errOther, mfa.ErrNotEnrolled) || !errors.Is(errNone, mfa.ErrNotEnrolled) || errOther.Error() != errNone.Error() {
		t.Fatalf("someone else's passkey: %v; an unknown one: %v (want the same ErrNotEnrolled)", errOther, errNone)
	}
	if got := name("k2"); got != "Phone" {
		t.Fatalf("someone else's passkey renamed to %q", got)
	}

	events, err := st.ListAudit(ctx, 20)
	if err != nil {
		t.Fatal(err)
	}
	var renames []string
	for _, e := range events {
		if e.Action == mfa.AuditPasskeyRenamed {
			if e.Actor != "u1" || e.Target != "u1" {
				t.Errorf("rename audited as %+v", e)
			}
			renames = append(renames, e.Details["from"]+" → "+e.Details["passkey"])
		}
	}
	if len(renames) != 5 || renames[0] != strings.Repeat("é", mfa.MaxPasskeyName)+" → Laptop" {
		t.Errorf("audited renames (newest first): %q", renames)
	}
}
