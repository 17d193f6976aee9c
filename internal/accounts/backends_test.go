package accounts_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/pgtest"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

func postgresStore(t *testing.T) storage.Store { return pgtest.NewStore(t) }

// TestSelfServiceOnBothBackends walks one account through its life on the
// memory store and on PostgreSQL: sign-up, verification, a forgotten
// password, an address change, the last-admin rule and deletion, checking
// the rows each step leaves (or does not leave: refused steps roll back).
func TestSelfServiceOnBothBackends(t *testing.T) {
	for _, b := range []struct {
		name string
		open func(t *testing.T) storage.Store
	}{{"memory", func(*testing.T) storage.Store { return memory.New() }}, {"postgres", postgresStore}} {
		t.Run(b.name, func(t *testing.T) {
			w := newWorldOn(t, b.open(t))
			ctx := context.Background()

			// Sign-up: a taken address answers like a new one and writes
			// nothing.
			admin := w.mustCreate(accounts.NewUser{Username: "root", Email: "root@example.com", Password: "root's passphrase",
				Roles: []string{"admin"}, EmailVerified: true})
			r := registration()
			r.Email = "ROOT@example.com"
			if u, err := w.svc.Register(ctx, r); err != nil || u.ID != "" {
				t.Fatalf("taken address: %+v, %v", u, err)
			}
			if users, _ := w.store.ListUsers(ctx, storage.UserQuery{}); len(users) != 1 {
				t.Fatalf("taken address created a user: %d users", len(users))
			}
			u, err := w.svc.Register(ctx, registration())
			if err != nil {
				t.Fatal(err)
			}

			// Verification, single use.
			tok := w.linkToken("dora@example.com", "/verify-email")
			if v, err := w.svc.VerifyEmail(ctx, tok); err != nil || !v.EmailVerified {
				t.Fatalf("VerifyEmail = %+v, %v", v, err)
			}
			if _, err := w.svc.VerifyEmail(ctx, tok); !errors.Is(err, accounts.ErrInvalidToken) {
				t.Fatalf("second use: %v", err)
			}

			// A forgotten password: a refused password keeps the link, the
			// reset ends sessions and revokes tokens.
			w.addClient("app")
			w.addSession(u.ID, "s1")
			w.addGrant(u.ID, "app", "g1")
			if err := w.svc.RequestPasswordReset(ctx, "Dora@Example.com"); err != nil {
				t.Fatal(err)
			}
			w.svc.Wait()
			reset := w.linkToken("dora@example.com", "/reset-password")
			if _, err := w.svc.ResetPassword(ctx, reset, "dora@example.com"); accounts.FieldErrors(err)["password"] == "" {
				t.Fatalf("personal password: %v", err)
			}
			if !w.sessionExists("s1") || !w.grantActive("g1") {
				t.Fatal("a refused reset changed something")
			}
			if _, err := w.svc.ResetPassword(ctx, reset, "a brand new passphrase"); err != nil {
				t.Fatal(err)
			}
			if w.sessionExists("s1") || w.grantActive("g1") {
				t.Fatal("the reset left a session or a token")
			}
			w.clock.Advance(2 * time.Hour)
			if err := w.svc.RequestPasswordReset(ctx, "dora@example.com"); err != nil {
				t.Fatal(err)
			}
			w.svc.Wait()
			late := w.linkToken("dora@example.com", "/reset-password")
			w.clock.Advance(time.Hour)
			if _, err := w.svc.ResetPassword(ctx, late, "another passphrase"); !errors.Is(err, accounts.ErrExpiredToken) {
				t.Fatalf("expired link: %v", err)
			}

			// A new address waits for its link; a taken one answers alike.
			c, err := w.svc.ChangeEmail(ctx, u.ID, "dora@new.example.com", "a brand new passphrase")
			if err != nil || c.Email != "dora@example.com" {
				t.Fatalf("ChangeEmail = %+v, %v", c, err)
			}
			change := w.linkToken("dora@new.example.com", "/verify-email")
			if c2, err := w.svc.ChangeEmail(ctx, u.ID, "root@example.com", "a brand new passphrase"); err != nil || c2.Email != c.Email {
				t.Fatalf("taken address: %+v, %v", c2, err)
			}
			if _, err := w.svc.VerifyEmail(ctx, change); !errors.Is(err, accounts.ErrInvalidToken) {
				t.Fatalf("a replaced change link: %v", err)
			}
			if _, err := w.svc.ChangeEmail(ctx, u.ID, "dora@new.example.com", "a brand new passphrase"); err != nil {
				t.Fatal(err)
			}
			if v, err := w.svc.VerifyEmail(ctx, w.linkToken("dora@new.example.com", "/verify-email")); err != nil ||
				v.Email != "dora@new.example.com" || !v.EmailVerified {
				t.Fatalf("confirm the change = %+v, %v", v, err)
			}

			// The last administrator stays.
			if _, err := w.svc.DisableUser(ctx, "root"); !errors.Is(err, accounts.ErrLastAdmin) {
				t.Fatalf("disable the last admin: %v", err)
			}
			if _, err := w.svc.SetRoles(ctx, "dora", []string{"admin", "user"}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.svc.DisableUser(audit.WithActor(ctx, audit.Actor{ID: admin.ID}), "root"); !errors.Is(err, accounts.ErrSelf) {
				t.Fatalf("disable oneself: %v", err)
			}
			if _, err := w.svc.DisableUser(ctx, "root"); err != nil {
				t.Fatalf("disable with another admin: %v", err)
			}
			if err := w.svc.DeleteAccount(ctx, u.ID, "a brand new passphrase"); !errors.Is(err, accounts.ErrLastAdmin) {
				t.Fatalf("delete the last enabled admin: %v", err)
			}
			if _, err := w.svc.EnableUser(ctx, "root"); err != nil {
				t.Fatal(err)
			}
			if err := w.svc.DeleteAccount(ctx, u.ID, "a brand new passphrase"); err != nil {
				t.Fatal(err)
			}
			if _, err := w.store.GetUser(ctx, u.ID); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("user after delete: %v", err)
			}
			events, err := w.store.ListAudit(ctx, 0)
			if err != nil || len(events) < 10 {
				t.Fatalf("audit log: %d events, %v", len(events), err)
			}
		})
	}
}

// TestLastAdminUnderConcurrency: two requests disabling the only two
// enabled administrators at once; exactly one may win, on both stores.
func TestLastAdminUnderConcurrency(t *testing.T) {
	for _, b := range []struct {
		name string
		open func(t *testing.T) storage.Store
	}{{"memory", func(*testing.T) storage.Store { return memory.New() }}, {"postgres", postgresStore}} {
		t.Run(b.name, func(t *testing.T) {
			w := newWorldOn(t, b.open(t))
			ctx := context.Background()
			a := w.mustCreate(accounts.NewUser{Username: "ada", Email: "ada@example.com", Password: "ada's long passphrase", Roles: []string{"admin"}})
			g := w.mustCreate(accounts.NewUser{Username: "grace", Email: "grace@example.com", Password: "grace's long passphrase", Roles: []string{"admin"}})
			for round := range 5 {
				errs := make(chan error, 2)
				start := make(chan struct{})
				for _, id := range []string{a.ID, g.ID} {
					go func() {
						<-start
						_, err := w.svc.DisableUser(ctx, id)
						errs <- err
					}()
				}
				close(start)
				var won, lost int
				for range 2 {
					switch err := <-errs; {
					case err == nil:
						won++
					case errors.Is(err, accounts.ErrLastAdmin):
						lost++
					default:
						t.Fatalf("round %d: DisableUser: %v", round, err)
					}
				}
				if won != 1 || lost != 1 {
					t.Fatalf("round %d: %d disables won, %d refused; want exactly one each", round, won, lost)
				}
				// Enable both again for the next round.
				for _, id := range []string{a.ID, g.ID} {
					if _, err := w.svc.EnableUser(ctx, id); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}
