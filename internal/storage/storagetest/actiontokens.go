package storagetest

import (
	"fmt"
	"time"

	"testing"

	"github.com/signet-idp/signet/internal/storage"
)

func actionTokenCases() []testCase {
	return []testCase{
		{"expired tokens are deleted in batches", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			for i, exp := range []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute, 2 * time.Hour} {
				tok := sampleActionToken(fmt.Sprint("h", i), storage.PurposeVerifyEmail, "u-alice")
				tok.ExpiresAt = at(exp)
				must(t, s.CreateActionToken(ctx, tok), "CreateActionToken")
			}
			n, err := s.DeleteExpiredActionTokens(ctx, at(time.Hour), 2)
			must(t, err, "DeleteExpiredActionTokens")
			wantEqual(t, n, 2, "first batch")
			n, err = s.DeleteExpiredActionTokens(ctx, at(time.Hour), 0)
			must(t, err, "DeleteExpiredActionTokens")
			wantEqual(t, n, 1, "the rest")
			_, err = s.GetActionToken(ctx, storage.PurposeVerifyEmail, "h3")
			must(t, err, "a live token stays")
		}},
		{"consume is single-use", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			tok := sampleActionToken("h1", storage.PurposeVerifyEmail, "u-alice")
			must(t, s.CreateActionToken(ctx, tok), "CreateActionToken")
			wantErr(t, s.CreateActionToken(ctx, tok), storage.ErrAlreadyExists, "duplicate token")
			_, err := s.ConsumeActionToken(ctx, storage.PurposeResetPassword, "h1")
			wantErr(t, err, storage.ErrNotFound, "consume with the wrong purpose")
			_, err = s.GetActionToken(ctx, storage.PurposeResetPassword, "h1")
			wantErr(t, err, storage.ErrNotFound, "get with the wrong purpose")
			for range 2 { // looking does not use it up
				got, err := s.GetActionToken(ctx, storage.PurposeVerifyEmail, "h1")
				must(t, err, "GetActionToken")
				wantEqual(t, got, tok, "token looked at")
			}
			got, err := s.ConsumeActionToken(ctx, storage.PurposeVerifyEmail, "h1")
			must(t, err, "first ConsumeActionToken")
			wantEqual(t, got, tok, "consumed token")
			_, err = s.ConsumeActionToken(ctx, storage.PurposeVerifyEmail, "h1")
			wantErr(t, err, storage.ErrNotFound, "second ConsumeActionToken")
			_, err = s.GetActionToken(ctx, storage.PurposeVerifyEmail, "h1")
			wantErr(t, err, storage.ErrNotFound, "GetActionToken after use")
		}},
		{"concurrent consume has exactly one winner", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			must(t, s.CreateActionToken(ctx, sampleActionToken("h1", storage.PurposeResetPassword, "u-alice")), "CreateActionToken")
			errs := race(16, func(int) error {
				_, err := s.ConsumeActionToken(ctx, storage.PurposeResetPassword, "h1")
				return err
			})
			wantOneWinner(t, errs, storage.ErrNotFound, "ConsumeActionToken")
		}},
		{"unknown user", func(t *testing.T, s storage.Store) {
			err := s.CreateActionToken(t.Context(), sampleActionToken("h1", storage.PurposeVerifyEmail, "nobody"))
			wantErr(t, err, storage.ErrNotFound, "CreateActionToken for unknown user")
		}},
		{"delete user tokens of one purpose", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice", "bob")
			for _, tok := range []storage.ActionToken{
				sampleActionToken("a1", storage.PurposeResetPassword, "u-alice"),
				sampleActionToken("a2", storage.PurposeResetPassword, "u-alice"),
				sampleActionToken("a3", storage.PurposeVerifyEmail, "u-alice"),
				sampleActionToken("b1", storage.PurposeResetPassword, "u-bob"),
			} {
				must(t, s.CreateActionToken(ctx, tok), "CreateActionToken "+tok.Hash)
			}
			must(t, s.DeleteUserActionTokens(ctx, "u-alice", storage.PurposeResetPassword), "DeleteUserActionTokens")
			for _, h := range []string{"a1", "a2"} {
				_, err := s.ConsumeActionToken(ctx, storage.PurposeResetPassword, h)
				wantErr(t, err, storage.ErrNotFound, "deleted token "+h)
			}
			_, err := s.ConsumeActionToken(ctx, storage.PurposeVerifyEmail, "a3")
			must(t, err, "token of other purpose survives")
			_, err = s.ConsumeActionToken(ctx, storage.PurposeResetPassword, "b1")
			must(t, err, "other user's token survives")
			must(t, s.DeleteUserActionTokens(ctx, "nobody", storage.PurposeResetPassword), "DeleteUserActionTokens with none")
		}},
	}
}
