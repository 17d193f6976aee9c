package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

func throttleCases() []testCase {
	const window = 15 * time.Minute
	return []testCase{
		{"stale counters are deleted in batches", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			for i := range 5 {
				_, err := s.RecordLoginFailure(ctx, fmt.Sprint("ip:old-", i), at(0), window)
				must(t, err, "RecordLoginFailure old")
			}
			_, err := s.RecordLoginFailure(ctx, "ip:recent", at(time.Hour), window)
			must(t, err, "RecordLoginFailure recent")
			n, err := s.DeleteStaleLoginAttempts(ctx, at(time.Minute), 3)
			must(t, err, "DeleteStaleLoginAttempts")
			wantEqual(t, n, 3, "first batch")
			n, err = s.DeleteStaleLoginAttempts(ctx, at(time.Minute), 0)
			must(t, err, "DeleteStaleLoginAttempts")
			wantEqual(t, n, 2, "the rest")
			got, err := s.GetLoginAttempts(ctx, "ip:recent")
			must(t, err, "GetLoginAttempts recent")
			wantEqual(t, got.Failures, 1, "a recent counter stays")
		}},
		{"unknown key is the zero value", func(t *testing.T, s storage.Store) {
			got, err := s.GetLoginAttempts(t.Context(), "ip:192.0.2.1")
			must(t, err, "GetLoginAttempts")
			wantEqual(t, got, storage.LoginAttempts{}, "attempts of unknown key")
			must(t, s.ClearLoginAttempts(t.Context(), "ip:192.0.2.1"), "ClearLoginAttempts of unknown key")
		}},
		{"failures count within the window and reset after it", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			const key = "user:alice"
			for i, tc := range []struct {
				at       time.Time
				failures int
			}{
				{at(0), 1},
				{at(time.Minute), 2},
				{at(10 * time.Minute), 3},
				{at(20 * time.Minute), 4},                      // 10 min after the last failure: still counted
				{at(20*time.Minute + window + time.Second), 1}, // longer than the window since the last one
				{at(36 * time.Minute), 2},
			} {
				got, err := s.RecordLoginFailure(ctx, key, tc.at, window)
				must(t, err, fmt.Sprintf("RecordLoginFailure %d", i))
				want := storage.LoginAttempts{Key: key, Failures: tc.failures, LastFailure: tc.at}
				wantEqual(t, got, want, fmt.Sprintf("state after failure %d", i))
				stored, err := s.GetLoginAttempts(ctx, key)
				must(t, err, "GetLoginAttempts")
				wantEqual(t, stored, want, fmt.Sprintf("stored state after failure %d", i))
			}
			_, err := s.RecordLoginFailure(ctx, "user:bob", at(0), window)
			must(t, err, "RecordLoginFailure bob")
			must(t, s.ClearLoginAttempts(ctx, key), "ClearLoginAttempts")
			got, err := s.GetLoginAttempts(ctx, key)
			must(t, err, "GetLoginAttempts after clear")
			wantEqual(t, got, storage.LoginAttempts{}, "attempts after clear")
			got, err = s.GetLoginAttempts(ctx, "user:bob")
			must(t, err, "GetLoginAttempts bob")
			wantEqual(t, got.Failures, 1, "bob's failures are separate")
		}},
		{"concurrent failures are all counted", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			const n = 12
			errs := race(n, func(i int) error {
				_, err := s.RecordLoginFailure(ctx, "ip:198.51.100.7", at(time.Duration(i)*time.Millisecond), window)
				return err
			})
			for i, err := range errs {
				must(t, err, fmt.Sprintf("RecordLoginFailure %d", i))
			}
			got, err := s.GetLoginAttempts(ctx, "ip:198.51.100.7")
			must(t, err, "GetLoginAttempts")
			wantEqual(t, got.Failures, n, "failures")
		}},
	}
}
