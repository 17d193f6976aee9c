package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

func loginChallengeCases() []testCase {
	return []testCase{
		{"create and get round trip", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			c := sampleChallenge("ch1")
			must(t, s.CreateLoginChallenge(ctx, c), "CreateLoginChallenge")
			got, err := s.GetLoginChallenge(ctx, "ch1")
			must(t, err, "GetLoginChallenge")
			if len(got.GrantedScopes) != 0 {
				t.Fatalf("fresh challenge has granted scopes %v", got.GrantedScopes)
			}
			got.GrantedScopes = nil
			wantEqual(t, got, c, "GetLoginChallenge")
			wantErr(t, s.CreateLoginChallenge(ctx, sampleChallenge("ch1")), storage.ErrAlreadyExists, "duplicate challenge")
		}},
		{"missing challenge", func(t *testing.T, s storage.Store) {
			for _, op := range []struct {
				name string
				call func(ctx context.Context) error
			}{
				{"GetLoginChallenge", func(ctx context.Context) error { _, err := s.GetLoginChallenge(ctx, "nope"); return err }},
				{"UpdateLoginChallenge", func(ctx context.Context) error { return s.UpdateLoginChallenge(ctx, sampleChallenge("nope")) }},
				{"ConsumeLoginChallenge", func(ctx context.Context) error { _, err := s.ConsumeLoginChallenge(ctx, "nope"); return err }},
			} {
				wantErr(t, op.call(t.Context()), storage.ErrNotFound, op.name)
			}
		}},
		{"update sets only login and consent fields", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateLoginChallenge(ctx, sampleChallenge("ch1")), "CreateLoginChallenge")
			u := sampleChallenge("ch1")
			u.ClientID, u.Form, u.RequestedScopes = "evil", "changed", []string{"admin"} // must be ignored
			u.CreatedAt, u.ExpiresAt = at(time.Hour), at(2*time.Hour)                    // must be ignored
			u.Subject, u.AuthTime, u.SessionID = "alice", at(time.Minute), "sess1"
			u.ConsentGiven, u.GrantedScopes = true, []string{"openid"}
			must(t, s.UpdateLoginChallenge(ctx, u), "UpdateLoginChallenge")
			got, err := s.GetLoginChallenge(ctx, "ch1")
			must(t, err, "GetLoginChallenge")
			want := sampleChallenge("ch1")
			want.Subject, want.AuthTime, want.SessionID = "alice", at(time.Minute), "sess1"
			want.ConsentGiven, want.GrantedScopes = true, []string{"openid"}
			wantEqual(t, got, want, "challenge after update")
		}},
		{"consume is single-use", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			c := sampleChallenge("ch1")
			c.Subject, c.AuthTime, c.SessionID, c.ConsentGiven, c.GrantedScopes = "alice", at(time.Minute), "sess1", true, []string{"openid"}
			must(t, s.CreateLoginChallenge(ctx, c), "CreateLoginChallenge")
			got, err := s.ConsumeLoginChallenge(ctx, "ch1")
			must(t, err, "first ConsumeLoginChallenge")
			wantEqual(t, got, c, "consumed challenge")
			_, err = s.ConsumeLoginChallenge(ctx, "ch1")
			wantErr(t, err, storage.ErrNotFound, "second ConsumeLoginChallenge")
			_, err = s.GetLoginChallenge(ctx, "ch1")
			wantErr(t, err, storage.ErrNotFound, "GetLoginChallenge after consume")
		}},
		{"concurrent consume has exactly one winner", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateLoginChallenge(ctx, sampleChallenge("ch1")), "CreateLoginChallenge")
			errs := race(16, func(int) error { _, err := s.ConsumeLoginChallenge(ctx, "ch1"); return err })
			wantOneWinner(t, errs, storage.ErrNotFound, "ConsumeLoginChallenge")
		}},
		{"delete expired with limit", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			for i := range 4 {
				c := sampleChallenge(fmt.Sprintf("old%d", i))
				c.ExpiresAt = at(-time.Duration(i+1) * time.Second)
				must(t, s.CreateLoginChallenge(ctx, c), "CreateLoginChallenge "+c.ID)
			}
			must(t, s.CreateLoginChallenge(ctx, sampleChallenge("live")), "CreateLoginChallenge live")
			for i, want := range []int{3, 1, 0} {
				n, err := s.DeleteExpiredLoginChallenges(ctx, at(0), 3)
				must(t, err, "DeleteExpiredLoginChallenges")
				wantEqual(t, n, want, fmt.Sprintf("rows deleted by call %d", i+1))
			}
			_, err := s.GetLoginChallenge(ctx, "live")
			must(t, err, "live challenge survives")
			_, err = s.GetLoginChallenge(ctx, "old0")
			wantErr(t, err, storage.ErrNotFound, "expired challenge")
		}},
	}
}
