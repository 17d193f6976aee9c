package storagetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

func sessionIDs(ss []storage.Session) []string {
	ids := make([]string, 0, len(ss))
	for _, s := range ss {
		ids = append(ids, s.ID)
	}
	return ids
}

func sessionCases() []testCase {
	return []testCase{
		{"create and get round trip", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			sess := sampleSession("s1", "u-alice")
			must(t, s.CreateSession(ctx, sess), "CreateSession")
			got, err := s.GetSession(ctx, "s1")
			must(t, err, "GetSession")
			wantEqual(t, got, sess, "GetSession")
			got, err = s.GetSessionByTokenHash(ctx, "hash-s1")
			must(t, err, "GetSessionByTokenHash")
			wantEqual(t, got, sess, "GetSessionByTokenHash")
		}},
		{"create rejects duplicates and unknown users", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			must(t, s.CreateSession(ctx, sampleSession("s1", "u-alice")), "CreateSession")
			sameID := sampleSession("s1", "u-alice")
			sameID.TokenHash = "other"
			wantErr(t, s.CreateSession(ctx, sameID), storage.ErrAlreadyExists, "same id")
			sameHash := sampleSession("s2", "u-alice")
			sameHash.TokenHash = "hash-s1"
			wantErr(t, s.CreateSession(ctx, sameHash), storage.ErrAlreadyExists, "same token hash")
			wantErr(t, s.CreateSession(ctx, sampleSession("s3", "nobody")), storage.ErrNotFound, "unknown user")
			list, err := s.ListUserSessions(ctx, "u-alice")
			must(t, err, "ListUserSessions")
			wantEqual(t, sessionIDs(list), []string{"s1"}, "sessions after rejected creates")
		}},
		{"missing session", func(t *testing.T, s storage.Store) {
			for _, op := range []struct {
				name string
				call func(ctx context.Context) error
			}{
				{"GetSession", func(ctx context.Context) error { _, err := s.GetSession(ctx, "nope"); return err }},
				{"GetSessionByTokenHash", func(ctx context.Context) error { _, err := s.GetSessionByTokenHash(ctx, "nope"); return err }},
				{"TouchSession", func(ctx context.Context) error { return s.TouchSession(ctx, "nope", at(0), at(time.Hour)) }},
				{"DeleteSession", func(ctx context.Context) error { return s.DeleteSession(ctx, "nope") }},
			} {
				wantErr(t, op.call(t.Context()), storage.ErrNotFound, op.name)
			}
		}},
		{"touch updates last seen and expiry only", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			must(t, s.CreateSession(ctx, sampleSession("s1", "u-alice")), "CreateSession")
			must(t, s.TouchSession(ctx, "s1", at(time.Hour), at(48*time.Hour)), "TouchSession")
			got, err := s.GetSession(ctx, "s1")
			must(t, err, "GetSession")
			want := sampleSession("s1", "u-alice")
			want.LastSeenAt, want.ExpiresAt = at(time.Hour), at(48*time.Hour)
			wantEqual(t, got, want, "session after touch")
		}},
		{"delete", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			must(t, s.CreateSession(ctx, sampleSession("s1", "u-alice")), "CreateSession")
			must(t, s.DeleteSession(ctx, "s1"), "DeleteSession")
			_, err := s.GetSessionByTokenHash(ctx, "hash-s1")
			wantErr(t, err, storage.ErrNotFound, "GetSessionByTokenHash after delete")
			wantErr(t, s.DeleteSession(ctx, "s1"), storage.ErrNotFound, "second DeleteSession")
		}},
		{"list newest first and delete all but one", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice", "bob")
			for _, id := range []string{"s0", "s2", "s1"} {
				sess := sampleSession(id, "u-alice")
				sess.CreatedAt = at(time.Duration(id[1]-'0') * time.Minute)
				must(t, s.CreateSession(ctx, sess), "CreateSession "+id)
			}
			must(t, s.CreateSession(ctx, sampleSession("b1", "u-bob")), "CreateSession bob")
			list, err := s.ListUserSessions(ctx, "u-alice")
			must(t, err, "ListUserSessions")
			wantEqual(t, sessionIDs(list), []string{"s2", "s1", "s0"}, "sessions newest first")
			empty, err := s.ListUserSessions(ctx, "nobody")
			must(t, err, "ListUserSessions of unknown user")
			wantEqual(t, len(empty), 0, "sessions of unknown user")

			n, err := s.DeleteUserSessions(ctx, "u-alice", "s1")
			must(t, err, "DeleteUserSessions except s1")
			wantEqual(t, n, 2, "sessions deleted")
			list, err = s.ListUserSessions(ctx, "u-alice")
			must(t, err, "ListUserSessions")
			wantEqual(t, sessionIDs(list), []string{"s1"}, "sessions left")

			n, err = s.DeleteUserSessions(ctx, "u-alice", "")
			must(t, err, "DeleteUserSessions all")
			wantEqual(t, n, 1, "sessions deleted")
			n, err = s.DeleteUserSessions(ctx, "u-alice", "")
			must(t, err, "DeleteUserSessions none left")
			wantEqual(t, n, 0, "sessions deleted")
			_, err = s.GetSession(ctx, "b1")
			must(t, err, "other user's session survives")
		}},
		{"delete expired with limit", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			for i := range 5 {
				sess := sampleSession(fmt.Sprintf("old%d", i), "u-alice")
				sess.ExpiresAt = at(-time.Duration(i+1) * time.Hour)
				must(t, s.CreateSession(ctx, sess), "CreateSession "+sess.ID)
			}
			must(t, s.CreateSession(ctx, sampleSession("live", "u-alice")), "CreateSession live")
			for i, want := range []int{2, 2, 1, 0} {
				n, err := s.DeleteExpiredSessions(ctx, at(0), 2)
				must(t, err, "DeleteExpiredSessions")
				wantEqual(t, n, want, fmt.Sprintf("rows deleted by call %d", i+1))
			}
			list, err := s.ListUserSessions(ctx, "u-alice")
			must(t, err, "ListUserSessions")
			ids := sessionIDs(list)
			slices.Sort(ids)
			wantEqual(t, ids, []string{"live"}, "sessions left")
		}},
	}
}
