package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// badTexts are strings PostgreSQL cannot keep in a text column. They reach
// the store from URLs and forms (a client_id, a user name), so every
// implementation must answer them like any unknown key.
func badTexts() []string {
	return []string{"a\x00b", "\xff", "caf\xc3"}
}

func textCases() []testCase {
	return []testCase{
		{"lookups by unstorable keys find nothing", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			must(t, s.CreateClient(ctx, sampleClient("web")), "CreateClient")
			for _, bad := range badTexts() {
				notFound := []struct {
					name string
					call func(ctx context.Context) error
				}{
					{"GetClient", func(ctx context.Context) error { _, err := s.GetClient(ctx, bad); return err }},
					{"DeleteClient", func(ctx context.Context) error { return s.DeleteClient(ctx, bad) }},
					{"GetUser", func(ctx context.Context) error { _, err := s.GetUser(ctx, bad); return err }},
					{"GetUserByLogin", func(ctx context.Context) error { _, err := s.GetUserByLogin(ctx, bad); return err }},
					{"DeleteUser", func(ctx context.Context) error { return s.DeleteUser(ctx, bad) }},
					{"SetUserRoles user", func(ctx context.Context) error { return s.SetUserRoles(ctx, bad, nil) }},
					{"SetUserRoles role", func(ctx context.Context) error { return s.SetUserRoles(ctx, "u-alice", []string{"user", bad}) }},
					{"GetRole", func(ctx context.Context) error { _, err := s.GetRole(ctx, bad); return err }},
					{"DeleteRole", func(ctx context.Context) error { return s.DeleteRole(ctx, bad) }},
					{"GetOAuthRequest", func(ctx context.Context) error {
						_, err := s.GetOAuthRequest(ctx, storage.KindAccessToken, bad)
						return err
					}},
					{"DeleteOAuthRequest", func(ctx context.Context) error { return s.DeleteOAuthRequest(ctx, storage.KindAccessToken, bad) }},
					{"DeactivateOAuthRequest", func(ctx context.Context) error {
						return s.DeactivateOAuthRequest(ctx, storage.RequestKind(bad), "sig")
					}},
					{"GetLoginChallenge", func(ctx context.Context) error { _, err := s.GetLoginChallenge(ctx, bad); return err }},
					{"ConsumeLoginChallenge", func(ctx context.Context) error { _, err := s.ConsumeLoginChallenge(ctx, bad); return err }},
					{"GetSession", func(ctx context.Context) error { _, err := s.GetSession(ctx, bad); return err }},
					{"GetSessionByTokenHash", func(ctx context.Context) error { _, err := s.GetSessionByTokenHash(ctx, bad); return err }},
					{"TouchSession", func(ctx context.Context) error { return s.TouchSession(ctx, bad, at(0), at(time.Hour)) }},
					{"DeleteSession", func(ctx context.Context) error { return s.DeleteSession(ctx, bad) }},
					{"GetConsent", func(ctx context.Context) error { _, err := s.GetConsent(ctx, "u-alice", bad); return err }},
					{"DeleteConsent", func(ctx context.Context) error { return s.DeleteConsent(ctx, bad, "web") }},
					{"GetKey", func(ctx context.Context) error { _, err := s.GetKey(ctx, bad); return err }},
					{"DeleteKey", func(ctx context.Context) error { return s.DeleteKey(ctx, bad) }},
					{"ConsumeActionToken", func(ctx context.Context) error {
						_, err := s.ConsumeActionToken(ctx, storage.PurposeVerifyEmail, bad)
						return err
					}},
				}
				for _, op := range notFound {
					wantErr(t, op.call(ctx), storage.ErrNotFound, fmt.Sprintf("%s(%q)", op.name, bad))
				}

				nothing := []struct {
					name string
					call func(ctx context.Context) (int, error)
				}{
					{"ListUsers", func(ctx context.Context) (int, error) {
						us, err := s.ListUsers(ctx, storage.UserQuery{Search: bad})
						return len(us), err
					}},
					{"ListUserRoles", func(ctx context.Context) (int, error) { rs, err := s.ListUserRoles(ctx, bad); return len(rs), err }},
					{"ListUsersWithRole", func(ctx context.Context) (int, error) {
						ids, err := s.ListUsersWithRole(ctx, bad)
						return len(ids), err
					}},
					{"ListConsents", func(ctx context.Context) (int, error) { cs, err := s.ListConsents(ctx, bad); return len(cs), err }},
					{"ListUserSessions", func(ctx context.Context) (int, error) { ss, err := s.ListUserSessions(ctx, bad); return len(ss), err }},
					{"DeleteUserSessions", func(ctx context.Context) (int, error) { return s.DeleteUserSessions(ctx, bad, "") }},
					{"GetLoginAttempts", func(ctx context.Context) (int, error) {
						a, err := s.GetLoginAttempts(ctx, bad)
						return a.Failures, err
					}},
					{"DeactivateOAuthRequestsByRequestID", func(ctx context.Context) (int, error) {
						return 0, s.DeactivateOAuthRequestsByRequestID(ctx, storage.KindAccessToken, bad, "")
					}},
					{"DeleteOAuthRequestsByRequestID", func(ctx context.Context) (int, error) {
						return 0, s.DeleteOAuthRequestsByRequestID(ctx, storage.KindAccessToken, bad)
					}},
					{"DeactivateOAuthRequestsBySubject", func(ctx context.Context) (int, error) {
						return 0, s.DeactivateOAuthRequestsBySubject(ctx, bad, bad)
					}},
					{"ClearLoginAttempts", func(ctx context.Context) (int, error) { return 0, s.ClearLoginAttempts(ctx, bad) }},
					{"RefundLoginAttempt", func(ctx context.Context) (int, error) { return 0, s.RefundLoginAttempt(ctx, bad, at(0), at(0)) }},
					{"DeleteUserActionTokens", func(ctx context.Context) (int, error) {
						return 0, s.DeleteUserActionTokens(ctx, bad, storage.PurposeVerifyEmail)
					}},
				}
				for _, op := range nothing {
					n, err := op.call(ctx)
					must(t, err, fmt.Sprintf("%s(%q)", op.name, bad))
					wantEqual(t, n, 0, fmt.Sprintf("%s(%q) result size", op.name, bad))
				}
			}
			roles, err := s.ListUserRoles(ctx, "u-alice")
			must(t, err, "ListUserRoles")
			wantEqual(t, len(roles), 0, "roles after refused SetUserRoles")
		}},
		{"writes of unstorable text fail and change nothing", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			must(t, s.CreateClient(ctx, sampleClient("web")), "CreateClient")
			for _, bad := range badTexts() {
				writes := []struct {
					name  string
					call  func(ctx context.Context) error
					check func(ctx context.Context) error // nil when nothing changed
				}{
					{"CreateClient", func(ctx context.Context) error {
						c := sampleClient("c2")
						c.RedirectURIs = []string{"https://x.example/" + bad}
						return s.CreateClient(ctx, c)
					}, func(ctx context.Context) error { return absent(s.GetClient(ctx, "c2")) }},
					{"UpdateClient", func(ctx context.Context) error {
						c := sampleClient("web")
						c.Name = bad
						return s.UpdateClient(ctx, c)
					}, func(ctx context.Context) error {
						c, err := s.GetClient(ctx, "web")
						return unchanged(c.Name, "Client web", err)
					}},
					{"CreateUser", func(ctx context.Context) error { return s.CreateUser(ctx, sampleUser("u2", bad, "")) },
						func(ctx context.Context) error { return absent(s.GetUser(ctx, "u2")) }},
					{"UpdateUser", func(ctx context.Context) error {
						u := sampleUser("u-alice", "alice", "alice@example.com")
						u.Name = bad
						return s.UpdateUser(ctx, u)
					}, func(ctx context.Context) error {
						u, err := s.GetUser(ctx, "u-alice")
						return unchanged(u.Name, "Name of alice", err)
					}},
					{"CreateOAuthRequest", func(ctx context.Context) error {
						r := sampleRequest(storage.KindAccessToken, "sig", "req", "u-alice", "web")
						r.Form = "state=" + bad
						return s.CreateOAuthRequest(ctx, r)
					}, func(ctx context.Context) error { return absent(s.GetOAuthRequest(ctx, storage.KindAccessToken, "sig")) }},
					{"CreateSession", func(ctx context.Context) error {
						sess := sampleSession("s1", "u-alice")
						sess.UserAgent = bad
						return s.CreateSession(ctx, sess)
					}, func(ctx context.Context) error { return absent(s.GetSession(ctx, "s1")) }},
					{"UpsertConsent", func(ctx context.Context) error {
						return s.UpsertConsent(ctx, storage.Consent{UserID: "u-alice", ClientID: "web", Scopes: []string{bad}, CreatedAt: at(0), UpdatedAt: at(0)})
					}, func(ctx context.Context) error { return absent(s.GetConsent(ctx, "u-alice", "web")) }},
					{"RecordLoginFailure", func(ctx context.Context) error {
						_, err := s.RecordLoginFailure(ctx, bad, at(0), time.Minute)
						return err
					}, nil},
					{"ReserveLoginAttempts", func(ctx context.Context) error {
						_, err := s.ReserveLoginAttempts(ctx, at(0), []storage.AttemptLimit{{Key: "ip:ok", Window: time.Minute}, {Key: bad, Window: time.Minute}})
						return err
					}, func(ctx context.Context) error {
						a, err := s.GetLoginAttempts(ctx, "ip:ok")
						return unchanged(a.Failures, 0, err)
					}},
					{"CreateActionToken", func(ctx context.Context) error {
						tok := sampleActionToken("h1", storage.PurposeVerifyEmail, "u-alice")
						tok.Email = bad
						return s.CreateActionToken(ctx, tok)
					}, func(ctx context.Context) error {
						return absent(s.ConsumeActionToken(ctx, storage.PurposeVerifyEmail, "h1"))
					}},
					{"AppendAudit", func(ctx context.Context) error {
						return s.AppendAudit(ctx, storage.AuditEvent{At: at(0), Action: "x", Details: map[string]string{"k": bad}})
					}, func(ctx context.Context) error {
						events, err := s.ListAudit(ctx, 10)
						return unchanged(len(events), 0, err)
					}},
				}
				for _, w := range writes {
					what := fmt.Sprintf("%s with %q", w.name, bad)
					if err := w.call(ctx); err == nil {
						t.Fatalf("%s succeeded, want an error", what)
					}
					if w.check != nil {
						if err := w.check(ctx); err != nil {
							t.Fatalf("after %s: %v", what, err)
						}
					}
				}
			}
		}},
		{"unstorable lookups leave the transaction usable", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			err := s.InTx(ctx, func(ctx context.Context) error {
				must(t, s.CreateClient(ctx, sampleClient("a")), "CreateClient a")
				_, err := s.GetClient(ctx, "a\x00")
				wantErr(t, err, storage.ErrNotFound, "GetClient with NUL")
				_, err = s.GetUserByLogin(ctx, "\xff")
				wantErr(t, err, storage.ErrNotFound, "GetUserByLogin with bad UTF-8")
				return s.CreateClient(ctx, sampleClient("b"))
			})
			must(t, err, "InTx")
			list, err := s.ListClients(ctx)
			must(t, err, "ListClients")
			wantEqual(t, clientIDs(list), []string{"a", "b"}, "clients committed")
		}},
	}
}

// absent turns a lookup's result into nil when it found nothing.
func absent[T any](_ T, err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return errors.New("the record was stored")
}

// unchanged is nil when got is still want.
func unchanged[T comparable](got, want T, err error) error {
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("changed to %v, want %v", got, want)
	}
	return nil
}
