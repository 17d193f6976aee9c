package mfa_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/keys"
	"github.com/signet-idp/signet/internal/mfa"
	"github.com/signet-idp/signet/internal/pgtest"
	"github.com/signet-idp/signet/internal/storage"
)

// TestResealSecrets: with the secret rotated (B, old A), authenticator
// secrets sealed under A are sealed again under B — once, however many
// replicas do it at the same time — those already under B are left, one
// under neither is counted and left, and codes keep working with B alone.
func TestResealSecrets(t *testing.T) {
	st := pgtest.NewStore(t)
	ctx := t.Context()
	clk := &clock{t: time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)}
	secretA, secretB, secretC := []byte(strings.Repeat("a", 32)), []byte(strings.Repeat("b", 32)), []byte(strings.Repeat("c", 32))
	service := func(secrets ...[]byte) *mfa.Service {
		svc, err := mfa.New(mfa.Options{Store: st, Secrets: secrets, Issuer: "https://id.example.com", Now: clk.now})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	underA, underB, underC := service(secretA), service(secretB), service(secretC)
	// Six users under A (one of them not confirmed yet), one under B, one under C.
	plain := map[string]string{}
	enrol := func(svc *mfa.Service, user string, confirm bool) {
		if err := st.CreateUser(ctx, storage.User{ID: user, Username: user, Email: user + "@example.com", CreatedAt: clk.t, UpdatedAt: clk.t}); err != nil {
			t.Fatal(err)
		}
		enr, err := svc.StartTOTP(ctx, user)
		if err != nil {
			t.Fatal(err)
		}
		plain[user] = enr.Secret
		if confirm {
			if _, err := svc.ConfirmTOTP(ctx, user, code(t, enr.Secret, clk.t)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 6 {
		enrol(underA, fmt.Sprintf("a%d", i), i != 5)
	}
	enrol(underB, "b0", true)
	enrol(underC, "c0", true)
	before, err := st.ListTOTPCredentials(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}

	rotated := service(secretB, secretA)
	const replicas = 4
	var wg sync.WaitGroup
	resealed, unreadable := make([]int, replicas), make([][]string, replicas)
	for i := range replicas {
		wg.Go(func() {
			var err error
			resealed[i], unreadable[i], err = rotated.ResealSecrets(ctx)
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	total := 0
	for i := range replicas {
		total += resealed[i]
		if len(unreadable[i]) != 1 || unreadable[i][0] != "c0" {
			t.Errorf("replica %d found unreadable secrets of %v, want c0's", i, unreadable[i])
		}
	}
	if total != 6 {
		t.Fatalf("%d secrets re-sealed across %d replicas, want 6 (each once): %v", total, replicas, resealed)
	}

	after, err := st.ListTOTPCredentials(ctx, "", 0)
	if err != nil || len(after) != len(before) {
		t.Fatalf("%d credentials after, %v; want %d", len(after), err, len(before))
	}
	for i, c := range after {
		b := before[i]
		changed := !bytes.Equal(c.Secret, b.Secret)
		if want := strings.HasPrefix(c.UserID, "a"); changed != want {
			t.Errorf("user %s: secret changed %v, want %v", c.UserID, changed, want)
		}
		if c.ID != b.ID || c.UserID != b.UserID || c.LastUsedStep != b.LastUsedStep || !c.ConfirmedAt.Equal(b.ConfirmedAt) {
			t.Errorf("user %s: more than the secret changed: %+v, was %+v", c.UserID, c, b)
		}
		if c.UserID == "c0" {
			continue
		}
		got, which, err := keys.OpenSealed(c.Secret, []byte(c.ID), [][]byte{secretB})
		if err != nil || which != 0 || string(got) != plain[c.UserID] {
			t.Errorf("user %s: secret does not open with B alone (%v)", c.UserID, err)
		}
	}
	if n, bad, err := rotated.ResealSecrets(ctx); n != 0 || len(bad) != 1 || err != nil {
		t.Errorf("second re-seal: %d re-sealed, unreadable %v, %v; want 0, 1", n, bad, err)
	}

	// With B alone, sign-in codes and the pending enrolment still work.
	clk.t = clk.t.Add(time.Minute)
	for i := range 5 {
		user := fmt.Sprintf("a%d", i)
		if err := underB.VerifyTOTP(ctx, user, code(t, plain[user], clk.t)); err != nil {
			t.Errorf("user %s: code after the rotation: %v", user, err)
		}
	}
	if _, err := underB.ConfirmTOTP(ctx, "a5", code(t, plain["a5"], clk.t)); err != nil {
		t.Errorf("pending enrolment after the rotation: %v", err)
	}
}

// TestResealSecretsWithoutOldSecrets: with no old secret there is nothing
// to re-seal and nothing is read.
func TestResealSecretsWithoutOldSecrets(t *testing.T) {
	svc, _, _ := newService(t)
	if n, bad, err := svc.ResealSecrets(t.Context()); n != 0 || len(bad) != 0 || err != nil {
		t.Fatalf("ResealSecrets = %d, %v, %v", n, bad, err)
	}
}
