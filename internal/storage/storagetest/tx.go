package storagetest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

func wantNoClient(t *testing.T, s storage.Store, id, what string) {
	t.Helper()
	_, err := s.GetClient(t.Context(), id)
	wantErr(t, err, storage.ErrNotFound, what)
}

func txCases() []testCase {
	return []testCase{
		{"InTx commits on nil", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			err := s.InTx(ctx, func(ctx context.Context) error {
				must(t, s.CreateClient(ctx, sampleClient("web")), "CreateClient in tx")
				// The transaction reads its own writes.
				_, err := s.GetClient(ctx, "web")
				must(t, err, "GetClient in tx")
				must(t, s.CreateUser(ctx, sampleUser("u-alice", "alice", "alice@example.com")), "CreateUser in tx")
				return s.SetUserRoles(ctx, "u-alice", []string{storage.RoleAdmin})
			})
			must(t, err, "InTx")
			got, err := s.GetClient(ctx, "web")
			must(t, err, "GetClient after commit")
			wantEqual(t, got, sampleClient("web"), "committed client")
			roles, err := s.ListUserRoles(ctx, "u-alice")
			must(t, err, "ListUserRoles")
			wantEqual(t, roles, []string{"admin"}, "committed roles")
		}},
		{"InTx rolls back every write on error", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			// State before: one client, one user with a role, an active token row.
			must(t, s.CreateClient(ctx, sampleClient("keep")), "CreateClient")
			createUsers(t, s, "alice")
			must(t, s.SetUserRoles(ctx, "u-alice", []string{storage.RoleUser}), "SetUserRoles")
			must(t, s.CreateSession(ctx, sampleSession("s1", "u-alice")), "CreateSession")
			must(t, s.CreateOAuthRequest(ctx, sampleRequest(storage.KindRefreshToken, "r1", "req1", "u-alice", "keep")), "CreateOAuthRequest")

			err := s.InTx(ctx, func(ctx context.Context) error {
				must(t, s.CreateClient(ctx, sampleClient("new")), "CreateClient in tx")
				changed := sampleClient("keep")
				changed.Name = "changed"
				must(t, s.UpdateClient(ctx, changed), "UpdateClient in tx")
				must(t, s.SetUserRoles(ctx, "u-alice", []string{storage.RoleAdmin}), "SetUserRoles in tx")
				must(t, s.DeactivateOAuthRequest(ctx, storage.KindRefreshToken, "r1"), "DeactivateOAuthRequest in tx")
				must(t, s.DeleteUser(ctx, "u-alice"), "DeleteUser in tx")
				must(t, s.AppendAudit(ctx, storage.AuditEvent{At: at(0), Action: "x"}), "AppendAudit in tx")
				_, err := s.RecordLoginFailure(ctx, "k", at(0), time.Minute)
				must(t, err, "RecordLoginFailure in tx")
				return errBoom
			})
			wantErr(t, err, errBoom, "InTx")

			wantNoClient(t, s, "new", "client created in rolled-back tx")
			got, err := s.GetClient(ctx, "keep")
			must(t, err, "GetClient keep")
			wantEqual(t, got, sampleClient("keep"), "client updated in rolled-back tx")
			_, err = s.GetUser(ctx, "u-alice")
			must(t, err, "user deleted in rolled-back tx")
			roles, err := s.ListUserRoles(ctx, "u-alice")
			must(t, err, "ListUserRoles")
			wantEqual(t, roles, []string{"user"}, "roles after rollback")
			_, err = s.GetSession(ctx, "s1")
			must(t, err, "session cascaded in rolled-back tx")
			wantActive(t, s, map[[2]string]bool{{string(storage.KindRefreshToken), "r1"}: true})
			events, err := s.ListAudit(ctx, 10)
			must(t, err, "ListAudit")
			wantEqual(t, len(events), 0, "audit events after rollback")
			attempts, err := s.GetLoginAttempts(ctx, "k")
			must(t, err, "GetLoginAttempts")
			wantEqual(t, attempts, storage.LoginAttempts{}, "attempts after rollback")
		}},
		{"InTx rolls back on a store error and the store stays usable", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateClient(ctx, sampleClient("web")), "CreateClient")
			err := s.InTx(ctx, func(ctx context.Context) error {
				must(t, s.CreateClient(ctx, sampleClient("new")), "CreateClient in tx")
				return s.CreateClient(ctx, sampleClient("web"))
			})
			wantErr(t, err, storage.ErrAlreadyExists, "InTx")
			wantNoClient(t, s, "new", "client created before the failing call")
			must(t, s.CreateClient(ctx, sampleClient("after")), "CreateClient after the failed tx")
		}},
		{"InTx rolls back on panic and re-raises it", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			func() {
				defer func() {
					if r := recover(); r != "kaboom" {
						t.Fatalf("recovered %v, want the callback's panic", r)
					}
				}()
				_ = s.InTx(ctx, func(ctx context.Context) error {
					must(t, s.CreateClient(ctx, sampleClient("web")), "CreateClient in tx")
					panic("kaboom")
				})
				t.Fatal("InTx returned instead of panicking")
			}()
			wantNoClient(t, s, "web", "client created before the panic")
			must(t, s.CreateClient(ctx, sampleClient("after")), "CreateClient after the panic")
		}},
		{"nested InTx joins the outer transaction", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			err := s.InTx(ctx, func(ctx context.Context) error {
				must(t, s.CreateClient(ctx, sampleClient("outer")), "CreateClient outer")
				must(t, s.InTx(ctx, func(ctx context.Context) error {
					_, err := s.GetClient(ctx, "outer")
					must(t, err, "inner sees outer's write")
					return s.CreateClient(ctx, sampleClient("inner"))
				}), "inner InTx")
				_, err := s.GetClient(ctx, "inner")
				must(t, err, "outer sees inner's write")
				return errBoom
			})
			wantErr(t, err, errBoom, "outer InTx")
			// The inner "commit" was only a join: the outer rollback undoes it.
			wantNoClient(t, s, "outer", "outer's write after rollback")
			wantNoClient(t, s, "inner", "inner's write after outer rollback")

			must(t, s.InTx(ctx, func(ctx context.Context) error {
				return s.InTx(ctx, func(ctx context.Context) error { return s.CreateClient(ctx, sampleClient("inner")) })
			}), "nested InTx committing")
			_, err = s.GetClient(ctx, "inner")
			must(t, err, "inner's write after outer commit")
		}},
		{"BeginTx and Commit", func(t *testing.T, s storage.Store) {
			txCtx, err := s.BeginTx(t.Context())
			must(t, err, "BeginTx")
			must(t, s.CreateClient(txCtx, sampleClient("web")), "CreateClient in tx")
			_, err = s.GetClient(txCtx, "web")
			must(t, err, "GetClient in tx")
			must(t, s.Commit(txCtx), "Commit")
			got, err := s.GetClient(t.Context(), "web")
			must(t, err, "GetClient after commit")
			wantEqual(t, got, sampleClient("web"), "committed client")
			// A finished transaction cannot be used or finished again.
			wantErr(t, s.Commit(txCtx), sql.ErrTxDone, "second Commit")
			wantErr(t, s.Rollback(txCtx), sql.ErrTxDone, "Rollback after Commit")
			wantErr(t, s.CreateClient(txCtx, sampleClient("late")), sql.ErrTxDone, "write with a committed tx")
			wantNoClient(t, s, "late", "late write")
			_, err = s.GetClient(t.Context(), "web")
			must(t, err, "Rollback after Commit undid nothing")
		}},
		{"BeginTx and Rollback", func(t *testing.T, s storage.Store) {
			must(t, s.CreateClient(t.Context(), sampleClient("keep")), "CreateClient")
			txCtx, err := s.BeginTx(t.Context())
			must(t, err, "BeginTx")
			must(t, s.CreateClient(txCtx, sampleClient("web")), "CreateClient in tx")
			must(t, s.DeleteClient(txCtx, "keep"), "DeleteClient in tx")
			must(t, s.Rollback(txCtx), "Rollback")
			wantNoClient(t, s, "web", "client created in rolled-back tx")
			_, err = s.GetClient(t.Context(), "keep")
			must(t, err, "client deleted in rolled-back tx")
			wantErr(t, s.Commit(txCtx), sql.ErrTxDone, "Commit after Rollback")
		}},
		{"Commit and Rollback need a transaction", func(t *testing.T, s storage.Store) {
			if err := s.Commit(t.Context()); err == nil {
				t.Fatal("Commit without a transaction succeeded")
			}
			if err := s.Rollback(t.Context()); err == nil {
				t.Fatal("Rollback without a transaction succeeded")
			}
		}},
		{"BeginTx inside a transaction joins it", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			err := s.InTx(ctx, func(ctx context.Context) error {
				inner, err := s.BeginTx(ctx)
				must(t, err, "inner BeginTx")
				must(t, s.CreateClient(inner, sampleClient("web")), "CreateClient in joined tx")
				must(t, s.Commit(inner), "inner Commit")
				return errBoom
			})
			wantErr(t, err, errBoom, "InTx")
			wantNoClient(t, s, "web", "write committed only by the joined handle")
		}},
		{"cancelling the context abandons the transaction", func(t *testing.T, s storage.Store) {
			ctx, cancel := context.WithCancel(t.Context())
			txCtx, err := s.BeginTx(ctx)
			must(t, err, "BeginTx")
			must(t, s.CreateClient(txCtx, sampleClient("web")), "CreateClient in tx")
			cancel()
			// The transaction rolls back by itself and frees the store.
			wantNoClient(t, s, "web", "write of the abandoned tx")
			must(t, s.CreateClient(t.Context(), sampleClient("after")), "CreateClient after the abandoned tx")
			if err := s.Commit(txCtx); err == nil {
				t.Fatal("Commit of the abandoned tx succeeded")
			}
		}},
	}
}
