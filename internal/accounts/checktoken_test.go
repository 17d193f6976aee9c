package accounts_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

// backends are the stores the token checks must work on alike.
var backends = []struct {
	name string
	open func(t *testing.T) storage.Store
}{{"memory", func(*testing.T) storage.Store { return memory.New() }}, {"postgres", postgresStore}}

// auditCount is how many audit events the store holds.
func (w *world) auditCount() int {
	w.t.Helper()
	events, err := w.store.ListAudit(context.Background(), 0)
	if err != nil {
		w.t.Fatal(err)
	}
	return len(events)
}

// signedUpOn is a world on store in which dora has signed up; it returns
// her and the token of her verification link.
func signedUpOn(t *testing.T, store storage.Store) (*world, accounts.User, string) {
	t.Helper()
	w := newWorldOn(t, store)
	u, err := w.svc.Register(context.Background(), registration())
	if err != nil {
		t.Fatal(err)
	}
	return w, u, w.linkToken("dora@example.com", "/verify-email")
}

// mustCheck fails unless check answers want (nil or an error matched with
// errors.Is) every time of n.
func mustCheck(t *testing.T, what string, n int, check func() error, want error) {
	t.Helper()
	for i := range n {
		if err := check(); !errors.Is(err, want) || (want == nil) != (err == nil) {
			t.Fatalf("%s, check %d: %v; want %v", what, i+1, err, want)
		}
	}
}

// TestCheckTokensDoNotConsume: CheckVerifyToken and CheckResetToken answer
// what VerifyEmail and ResetPassword would, as often as they are asked,
// and leave the link usable, on both stores.
func TestCheckTokensDoNotConsume(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			w, u, verify := signedUpOn(t, b.open(t))
			ctx := context.Background()
			events := w.auditCount()

			// Verification: checked twice, the link still verifies once.
			checkVerify := func() error { return w.svc.CheckVerifyToken(ctx, verify) }
			mustCheck(t, "fresh verification link", 2, checkVerify, nil)
			if rec, _ := w.store.GetUser(ctx, u.ID); rec.EmailVerified {
				t.Fatal("a check verified the address")
			}
			if n := w.auditCount(); n != events {
				t.Fatalf("checks recorded %d audit events", n-events)
			}
			if v, err := w.svc.VerifyEmail(ctx, verify); err != nil || !v.EmailVerified {
				t.Fatalf("VerifyEmail after checks = %+v, %v", v, err)
			}
			mustCheck(t, "used verification link", 1, checkVerify, accounts.ErrInvalidToken)

			// Reset: checked twice, the link still resets once.
			if _, err := w.svc.SendPasswordReset(ctx, "dora"); err != nil {
				t.Fatal(err)
			}
			reset := w.linkToken("dora@example.com", "/reset-password")
			checkReset := func() error { return w.svc.CheckResetToken(ctx, reset) }
			mustCheck(t, "fresh reset link", 2, checkReset, nil)
			// A reset token is not a verification token, nor the reverse.
			mustCheck(t, "reset link as verification", 1, func() error { return w.svc.CheckVerifyToken(ctx, reset) }, accounts.ErrInvalidToken)
			mustCheck(t, "verification link as reset", 1, func() error { return w.svc.CheckResetToken(ctx, verify) }, accounts.ErrInvalidToken)
			if _, err := w.svc.ResetPassword(ctx, reset, "a brand new passphrase"); err != nil {
				t.Fatalf("ResetPassword after checks: %v", err)
			}
			mustCheck(t, "used reset link", 1, checkReset, accounts.ErrInvalidToken)

			// Expired: said every time (the check uses nothing up, so it
			// never turns into "used"), and the link is still there for
			// ResetPassword to refuse and use up.
			if _, err := w.svc.SendPasswordReset(ctx, "dora"); err != nil {
				t.Fatal(err)
			}
			late := w.linkToken("dora@example.com", "/reset-password")
			w.clock.Advance(time.Hour)
			mustCheck(t, "expired reset link", 2, func() error { return w.svc.CheckResetToken(ctx, late) }, accounts.ErrExpiredToken)
			if _, err := w.svc.ResetPassword(ctx, late, "another passphrase"); !errors.Is(err, accounts.ErrExpiredToken) {
				t.Fatalf("ResetPassword with an expired link: %v", err)
			}
			mustCheck(t, "expired link once used", 1, func() error { return w.svc.CheckResetToken(ctx, late) }, accounts.ErrInvalidToken)

			// Unknown and malformed tokens.
			for _, tok := range []string{strings.Repeat("A", 43), "", "nonsense", "!" + strings.Repeat("A", 42)} {
				mustCheck(t, "verification token "+tok, 1, func() error { return w.svc.CheckVerifyToken(ctx, tok) }, accounts.ErrInvalidToken)
				mustCheck(t, "reset token "+tok, 1, func() error { return w.svc.CheckResetToken(ctx, tok) }, accounts.ErrInvalidToken)
			}
		})
	}
}

// TestCheckTokensJudgeLikeTheirUse: expiry, a changed address and a
// disabled account are judged as VerifyEmail and ResetPassword judge them,
// and judging changes nothing (a disabled account's link works again once
// the account is enabled).
func TestCheckTokensJudgeLikeTheirUse(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			w, _, verify := signedUpOn(t, b.open(t))
			ctx := context.Background()
			checkVerify := func() error { return w.svc.CheckVerifyToken(ctx, verify) }

			// An address changed behind the link's back.
			rec, err := w.store.GetUserByLogin(ctx, "dora")
			if err != nil {
				t.Fatal(err)
			}
			rec.Email = "dora2@example.com"
			if err := w.store.UpdateUser(ctx, rec); err != nil {
				t.Fatal(err)
			}
			mustCheck(t, "link to a former address", 2, checkVerify, accounts.ErrInvalidToken)
			rec.Email = "dora@example.com"
			if err := w.store.UpdateUser(ctx, rec); err != nil {
				t.Fatal(err)
			}
			mustCheck(t, "link to the address again", 1, checkVerify, nil)

			// A disabled account's reset link.
			if _, err := w.svc.SendPasswordReset(ctx, "dora"); err != nil {
				t.Fatal(err)
			}
			reset := w.linkToken("dora@example.com", "/reset-password")
			checkReset := func() error { return w.svc.CheckResetToken(ctx, reset) }
			if _, err := w.svc.DisableUser(ctx, "dora"); err != nil {
				t.Fatal(err)
			}
			mustCheck(t, "reset link of a disabled account", 2, checkReset, accounts.ErrInvalidToken)
			if _, err := w.svc.EnableUser(ctx, "dora"); err != nil {
				t.Fatal(err)
			}
			mustCheck(t, "reset link of the account enabled again", 1, checkReset, nil)

			// Expiry: one second before, then at the instant.
			w.clock.Advance(time.Hour - time.Second)
			mustCheck(t, "reset link a second before expiry", 1, checkReset, nil)
			w.clock.Advance(time.Second)
			mustCheck(t, "reset link at expiry", 1, checkReset, accounts.ErrExpiredToken)
			w.clock.Advance(23 * time.Hour)
			mustCheck(t, "verification link at expiry", 2, checkVerify, accounts.ErrExpiredToken)
			if rec, _ := w.store.GetUserByLogin(ctx, "dora"); rec.EmailVerified {
				t.Fatal("a check verified the address")
			}
		})
	}
}

// TestCheckTokenInsideATransaction: InTx joins a transaction the context
// already carries, so the check's own rollback is then the caller's
// decision. A caller that commits must still find the link unused.
func TestCheckTokenInsideATransaction(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			w, _, verify := signedUpOn(t, b.open(t))
			ctx := context.Background()
			if _, err := w.svc.SendPasswordReset(ctx, "dora"); err != nil {
				t.Fatal(err)
			}
			reset := w.linkToken("dora@example.com", "/reset-password")
			for range 2 {
				if err := w.store.InTx(ctx, func(ctx context.Context) error {
					if err := w.svc.CheckVerifyToken(ctx, verify); err != nil {
						return err
					}
					return w.svc.CheckResetToken(ctx, reset)
				}); err != nil {
					t.Fatalf("checks in a committed transaction: %v", err)
				}
			}
			if _, err := w.svc.VerifyEmail(ctx, verify); err != nil {
				t.Fatalf("VerifyEmail after checks in a committed transaction: %v", err)
			}
			if _, err := w.svc.ResetPassword(ctx, reset, "a brand new passphrase"); err != nil {
				t.Fatalf("ResetPassword after checks in a committed transaction: %v", err)
			}
		})
	}
}

// TestCheckTokenAlongsideItsUse: checks running while the link is used
// never fail and never stop the use; once it is used they say so.
func TestCheckTokenAlongsideItsUse(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			w := newWorldOn(t, b.open(t))
			ctx := context.Background()
			w.mustCreate(accounts.NewUser{Username: "dora", Email: "dora@example.com", Password: "map and backpack"})
			if _, err := w.svc.SendPasswordReset(ctx, "dora"); err != nil {
				t.Fatal(err)
			}
			reset := w.linkToken("dora@example.com", "/reset-password")
			const checkers = 4
			var wg sync.WaitGroup
			errs := make(chan error, checkers*5)
			start := make(chan struct{})
			for range checkers {
				wg.Go(func() {
					<-start
					for range 5 {
						if err := w.svc.CheckResetToken(ctx, reset); err != nil && !errors.Is(err, accounts.ErrInvalidToken) {
							errs <- err
						}
					}
				})
			}
			close(start)
			_, resetErr := w.svc.ResetPassword(ctx, reset, "a brand new passphrase")
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("check alongside the reset: %v", err)
			}
			if resetErr != nil {
				t.Fatalf("ResetPassword alongside checks: %v", resetErr)
			}
			mustCheck(t, "used reset link", 1, func() error { return w.svc.CheckResetToken(ctx, reset) }, accounts.ErrInvalidToken)
		})
	}
}
