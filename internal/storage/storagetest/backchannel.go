package storagetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// queued returns the queue as (client, subject, session) triples.
func queued(t *testing.T, s storage.Store) [][3]string {
	t.Helper()
	list, err := s.ListBackchannelDeliveries(t.Context())
	must(t, err, "ListBackchannelDeliveries")
	out := [][3]string{}
	for _, d := range list {
		out = append(out, [3]string{d.ClientID, d.Subject, d.SessionID})
	}
	return out
}

// sessionsWithClients creates alice with sessions s1 and s2 and clients
// c1, c2 (with logout URIs) and c3 (without); c1 and c3 received tokens in
// s1, c2 in s2.
func sessionsWithClients(t *testing.T, s storage.Store) {
	t.Helper()
	ctx := t.Context()
	createUsers(t, s, "alice")
	for _, id := range []string{"c1", "c2", "c3"} {
		c := sampleClient(id)
		if id == "c3" {
			c.BackchannelLogoutURI = ""
		}
		must(t, s.CreateClient(ctx, c), "CreateClient "+id)
	}
	must(t, s.CreateSession(ctx, sampleSession("s1", "u-alice")), "CreateSession s1")
	must(t, s.CreateSession(ctx, sampleSession("s2", "u-alice")), "CreateSession s2")
	must(t, s.RecordSessionClient(ctx, "s1", "c1", at(0)), "record c1")
	must(t, s.RecordSessionClient(ctx, "s1", "c1", at(time.Minute)), "record c1 again")
	must(t, s.RecordSessionClient(ctx, "s1", "c3", at(0)), "record c3")
	must(t, s.RecordSessionClient(ctx, "s2", "c2", at(0)), "record c2")
}

func backchannelCases() []testCase {
	return []testCase{
		{"record and list session clients", func(t *testing.T, s storage.Store) {
			sessionsWithClients(t, s)
			got, err := s.ListSessionClients(t.Context(), "s1")
			must(t, err, "ListSessionClients")
			wantEqual(t, got, []string{"c1", "c3"}, "clients of s1")
			got, err = s.ListSessionClients(t.Context(), "nope")
			must(t, err, "ListSessionClients of unknown")
			wantEqual(t, got, []string{}, "clients of unknown session")
			wantErr(t, s.RecordSessionClient(t.Context(), "nope", "c1", at(0)), storage.ErrNotFound, "unknown session")
			wantErr(t, s.RecordSessionClient(t.Context(), "s1", "nope", at(0)), storage.ErrNotFound, "unknown client")
		}},
		{"ending a session queues one delivery per client with a logout URI", func(t *testing.T, s storage.Store) {
			sessionsWithClients(t, s)
			must(t, s.DeleteSession(t.Context(), "s1"), "DeleteSession")
			wantEqual(t, queued(t, s), [][3]string{{"c1", "u-alice", "s1"}}, "queue")
			got, err := s.ListSessionClients(t.Context(), "s1")
			must(t, err, "ListSessionClients")
			wantEqual(t, got, []string{}, "clients of the ended session")
		}},
		{"ending a user's sessions queues each", func(t *testing.T, s storage.Store) {
			sessionsWithClients(t, s)
			n, err := s.DeleteUserSessions(t.Context(), "u-alice", "s2")
			must(t, err, "DeleteUserSessions")
			wantEqual(t, n, 1, "sessions ended")
			wantEqual(t, queued(t, s), [][3]string{{"c1", "u-alice", "s1"}}, "queue, s2 kept")
			_, err = s.DeleteUserSessions(t.Context(), "u-alice", "")
			must(t, err, "DeleteUserSessions all")
			wantEqual(t, queued(t, s), [][3]string{{"c1", "u-alice", "s1"}, {"c2", "u-alice", "s2"}}, "queue")
		}},
		{"deleting the user queues its sessions' deliveries", func(t *testing.T, s storage.Store) {
			sessionsWithClients(t, s)
			must(t, s.DeleteUser(t.Context(), "u-alice"), "DeleteUser")
			wantEqual(t, len(queued(t, s)), 2, "deliveries queued")
		}},
		{"expired sessions queue nothing", func(t *testing.T, s storage.Store) {
			sessionsWithClients(t, s)
			_, err := s.DeleteExpiredSessions(t.Context(), at(1000*time.Hour), 0)
			must(t, err, "DeleteExpiredSessions")
			wantEqual(t, queued(t, s), [][3]string{}, "queue")
			got, err := s.ListSessionClients(t.Context(), "s1")
			must(t, err, "ListSessionClients")
			wantEqual(t, got, []string{}, "clients of the swept session")
		}},
		{"a rolled back logout queues nothing", func(t *testing.T, s storage.Store) {
			sessionsWithClients(t, s)
			err := s.InTx(t.Context(), func(ctx context.Context) error {
				must(t, s.DeleteSession(ctx, "s1"), "DeleteSession")
				return errBoom
			})
			wantErr(t, err, errBoom, "InTx")
			wantEqual(t, queued(t, s), [][3]string{}, "queue")
		}},
		{"claim, retry, complete", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			sessionsWithClients(t, s)
			_, err := s.DeleteUserSessions(ctx, "u-alice", "")
			must(t, err, "DeleteUserSessions")
			// New deliveries are due at once, whatever the clock.
			claimed, err := s.ClaimBackchannelDeliveries(ctx, at(0), time.Minute, 1)
			must(t, err, "claim")
			wantEqual(t, len(claimed), 1, "claimed with limit 1")
			first := claimed[0]
			wantEqual(t, first.Attempts, 1, "attempts")
			rest, err := s.ClaimBackchannelDeliveries(ctx, at(0), time.Minute, 10)
			must(t, err, "claim rest")
			wantEqual(t, len(rest), 1, "the other one only")
			again, err := s.ClaimBackchannelDeliveries(ctx, at(30*time.Second), time.Minute, 10)
			must(t, err, "claim while leased")
			wantEqual(t, len(again), 0, "nothing while claimed")
			// A lapsed claim (its replica died) is due again.
			lapsed, err := s.ClaimBackchannelDeliveries(ctx, at(2*time.Minute), time.Minute, 10)
			must(t, err, "claim after lapse")
			wantEqual(t, len(lapsed), 2, "both after the lease lapsed")

			must(t, s.RetryBackchannelDelivery(ctx, first.ID, at(10*time.Minute), "connection refused"), "retry")
			none, err := s.ClaimBackchannelDeliveries(ctx, at(5*time.Minute), time.Minute, 10)
			must(t, err, "claim before due")
			for _, d := range none {
				if d.ID == first.ID {
					t.Fatal("a delivery was claimed before it was due again")
				}
			}
			due, err := s.ClaimBackchannelDeliveries(ctx, at(10*time.Minute), time.Minute, 10)
			must(t, err, "claim when due")
			i := slices.IndexFunc(due, func(d storage.BackchannelDelivery) bool { return d.ID == first.ID })
			if i < 0 || due[i].Attempts != 3 || due[i].LastError != "connection refused" {
				t.Fatalf("claimed %+v, want delivery %d on its 3rd attempt with its last error", due, first.ID)
			}
			must(t, s.CompleteBackchannelDelivery(ctx, first.ID), "complete")
			wantErr(t, s.CompleteBackchannelDelivery(ctx, first.ID), storage.ErrNotFound, "complete twice")
			wantErr(t, s.RetryBackchannelDelivery(ctx, first.ID, at(0), ""), storage.ErrNotFound, "retry completed")
			wantEqual(t, len(queued(t, s)), 1, "one left")
		}},
		{"concurrent claims are disjoint", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			must(t, s.CreateClient(ctx, sampleClient("c1")), "CreateClient")
			for i := range 20 {
				id := "s" + string(rune('a'+i))
				must(t, s.CreateSession(ctx, sampleSession(id, "u-alice")), "CreateSession")
				must(t, s.RecordSessionClient(ctx, id, "c1", at(0)), "record")
			}
			_, err := s.DeleteUserSessions(ctx, "u-alice", "")
			must(t, err, "DeleteUserSessions")
			var got [4][]storage.BackchannelDelivery
			errs := race(4, func(i int) error {
				var err error
				got[i], err = s.ClaimBackchannelDeliveries(ctx, at(0), time.Minute, 8)
				return err
			})
			seen := map[int64]bool{}
			for i, err := range errs {
				must(t, err, "claim")
				for _, d := range got[i] {
					if seen[d.ID] {
						t.Fatalf("delivery %d claimed twice", d.ID)
					}
					seen[d.ID] = true
				}
			}
			wantEqual(t, len(seen), 20, "every delivery claimed once")
		}},
		{"deleting a client forgets it in sessions", func(t *testing.T, s storage.Store) {
			sessionsWithClients(t, s)
			must(t, s.DeleteClient(t.Context(), "c1"), "DeleteClient")
			got, err := s.ListSessionClients(t.Context(), "s1")
			must(t, err, "ListSessionClients")
			wantEqual(t, got, []string{"c3"}, "clients of s1")
		}},
	}
}

func registrationCases() []testCase {
	tok := func(id, hash string) storage.RegistrationToken {
		return storage.RegistrationToken{ID: id, Hash: hash, Description: "for " + id, CreatedAt: at(0)}
	}
	return []testCase{
		{"create, list, delete", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			a := tok("a", "ha")
			a.ExpiresAt, a.MaxUses = at(time.Hour), 3
			must(t, s.CreateRegistrationToken(ctx, a), "create a")
			b := tok("b", "hb")
			b.CreatedAt = at(time.Second)
			must(t, s.CreateRegistrationToken(ctx, b), "create b")
			wantErr(t, s.CreateRegistrationToken(ctx, tok("a", "hx")), storage.ErrAlreadyExists, "same id")
			wantErr(t, s.CreateRegistrationToken(ctx, tok("x", "ha")), storage.ErrAlreadyExists, "same hash")
			list, err := s.ListRegistrationTokens(ctx)
			must(t, err, "list")
			wantEqual(t, list, []storage.RegistrationToken{a, b}, "list")
			must(t, s.DeleteRegistrationToken(ctx, "a"), "delete")
			wantErr(t, s.DeleteRegistrationToken(ctx, "a"), storage.ErrNotFound, "delete twice")
			_, err = s.UseRegistrationToken(ctx, "ha", at(0))
			wantErr(t, err, storage.ErrNotFound, "use a revoked token")
		}},
		{"use counts, expires and runs out", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			a := tok("a", "ha")
			a.ExpiresAt, a.MaxUses = at(time.Hour), 2
			must(t, s.CreateRegistrationToken(ctx, a), "create")
			got, err := s.UseRegistrationToken(ctx, "ha", at(0))
			must(t, err, "use 1")
			wantEqual(t, got.Uses, 1, "uses")
			_, err = s.UseRegistrationToken(ctx, "ha", at(time.Hour))
			wantErr(t, err, storage.ErrNotFound, "use at expiry")
			_, err = s.UseRegistrationToken(ctx, "ha", at(time.Minute))
			must(t, err, "use 2")
			_, err = s.UseRegistrationToken(ctx, "ha", at(time.Minute))
			wantErr(t, err, storage.ErrNotFound, "use 3 of 2")
			_, err = s.UseRegistrationToken(ctx, "nope", at(0))
			wantErr(t, err, storage.ErrNotFound, "unknown token")
		}},
		{"the last use goes to one caller", func(t *testing.T, s storage.Store) {
			a := tok("a", "ha")
			a.MaxUses = 1
			must(t, s.CreateRegistrationToken(t.Context(), a), "create")
			errs := race(5, func(int) error { _, err := s.UseRegistrationToken(t.Context(), "ha", at(0)); return err })
			wantOneWinner(t, errs, storage.ErrNotFound, "concurrent uses")
		}},
		{"client registration access tokens", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateClient(ctx, sampleClient("c1")), "CreateClient")
			_, err := s.GetClientRegistrationToken(ctx, "c1")
			wantErr(t, err, storage.ErrNotFound, "none yet")
			must(t, s.SetClientRegistrationToken(ctx, "c1", "h1"), "set")
			must(t, s.SetClientRegistrationToken(ctx, "c1", "h2"), "replace")
			h, err := s.GetClientRegistrationToken(ctx, "c1")
			must(t, err, "get")
			wantEqual(t, h, "h2", "hash")
			wantErr(t, s.SetClientRegistrationToken(ctx, "nope", "h"), storage.ErrNotFound, "unknown client")
			must(t, s.DeleteClient(ctx, "c1"), "DeleteClient")
			_, err = s.GetClientRegistrationToken(ctx, "c1")
			wantErr(t, err, storage.ErrNotFound, "after the client went")
		}},
	}
}
