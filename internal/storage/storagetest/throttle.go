package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

func throttleCases() []testCase {
	const window = 15 * time.Minute
	return append(reservationCases(), []testCase{
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
	}...)
}

// backoff lets three attempts through, then waits 30 s, then 60 s.
func backoff(key string) storage.AttemptLimit {
	return storage.AttemptLimit{Key: key, Window: time.Hour, Waits: []time.Duration{0, 0, 0, 30 * time.Second, time.Minute}}
}

func reserve(t *testing.T, s storage.Store, when time.Time, limits ...storage.AttemptLimit) storage.LoginReservation {
	t.Helper()
	r, err := s.ReserveLoginAttempts(t.Context(), when, limits)
	must(t, err, "ReserveLoginAttempts")
	return r
}

func reservationCases() []testCase {
	return []testCase{
		{"reservations count and back off", func(t *testing.T, s storage.Store) {
			const key = "user:alice|ip:192.0.2.1"
			l := backoff(key)
			for i, tc := range []struct {
				when     time.Time
				admitted bool
				wait     time.Duration
				failures int
			}{
				{at(0), true, 0, 1},
				{at(0), true, 0, 2},
				{at(time.Second), true, 0, 3},
				{at(2 * time.Second), false, 29 * time.Second, 3}, // 30 s after the third
				{at(31 * time.Second), true, 0, 4},
				{at(80 * time.Second), false, 11 * time.Second, 4}, // now 60 s after the fourth
				{at(91 * time.Second), true, 0, 5},
				{at(91*time.Second + time.Hour), true, 0, 1}, // an hour later it starts over
			} {
				r := reserve(t, s, tc.when, l)
				wantEqual(t, r.Admitted, tc.admitted, fmt.Sprintf("attempt %d admitted", i))
				wantEqual(t, r.Wait, tc.wait, fmt.Sprintf("attempt %d wait", i))
				wantEqual(t, r.Counters[0].Failures, tc.failures, fmt.Sprintf("attempt %d counter", i))
				got, err := s.GetLoginAttempts(t.Context(), key)
				must(t, err, "GetLoginAttempts")
				wantEqual(t, got.Failures, tc.failures, fmt.Sprintf("stored counter after attempt %d", i))
				if tc.admitted {
					wantEqual(t, got.LastFailure, tc.when, fmt.Sprintf("last attempt after attempt %d", i))
				}
			}
		}},
		{"a refused reservation counts on no key", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			busy := storage.AttemptLimit{Key: "ip:198.51.100.9", Window: time.Hour, Waits: []time.Duration{0, time.Minute}}
			free := backoff("user:bob|ip:198.51.100.9")
			r := reserve(t, s, at(0), busy)
			wantEqual(t, r.Admitted, true, "first attempt on the address")
			wantEqual(t, r.Previous, []time.Time{{}}, "previous of a new counter")
			r = reserve(t, s, at(time.Second), free, busy)
			wantEqual(t, r.Admitted, false, "second attempt while the address waits")
			wantEqual(t, r.Wait, 59*time.Second, "wait")
			wantEqual(t, r.Counters, []storage.LoginAttempts{{}, {Key: busy.Key, Failures: 1, LastFailure: at(0)}}, "counters as they stand")
			got, err := s.GetLoginAttempts(ctx, free.Key)
			must(t, err, "GetLoginAttempts")
			wantEqual(t, got, storage.LoginAttempts{}, "the other key after a refusal")
			r = reserve(t, s, at(time.Minute), free, busy)
			wantEqual(t, r.Admitted, true, "after the wait")
			wantEqual(t, r.Counters, []storage.LoginAttempts{
				{Key: free.Key, Failures: 1, LastFailure: at(time.Minute)},
				{Key: busy.Key, Failures: 2, LastFailure: at(time.Minute)},
			}, "counters after")
			wantEqual(t, r.Previous, []time.Time{{}, at(0)}, "previous attempts")
		}},
		{"a refund takes the attempt back", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			l := backoff("ip:203.0.113.5")
			for i := range 3 {
				reserve(t, s, at(time.Duration(i)*time.Second), l)
			}
			// The fourth attempt turns out right: refunding it leaves the
			// key as the three failures left it.
			r := reserve(t, s, at(time.Minute), l)
			wantEqual(t, r.Previous, []time.Time{at(2 * time.Second)}, "previous")
			must(t, s.RefundLoginAttempt(ctx, l.Key, at(time.Minute), r.Previous[0]), "RefundLoginAttempt")
			got, err := s.GetLoginAttempts(ctx, l.Key)
			must(t, err, "GetLoginAttempts")
			wantEqual(t, got, storage.LoginAttempts{Key: l.Key, Failures: 3, LastFailure: at(2 * time.Second)}, "after refund")
			// A later attempt keeps its instant when an earlier one is
			// refunded.
			r = reserve(t, s, at(2*time.Minute), l)
			reserve(t, s, at(3*time.Minute), l)
			must(t, s.RefundLoginAttempt(ctx, l.Key, at(2*time.Minute), r.Previous[0]), "RefundLoginAttempt")
			got, err = s.GetLoginAttempts(ctx, l.Key)
			must(t, err, "GetLoginAttempts")
			wantEqual(t, got, storage.LoginAttempts{Key: l.Key, Failures: 4, LastFailure: at(3 * time.Minute)}, "after refund of an earlier attempt")
			must(t, s.RefundLoginAttempt(ctx, "ip:unknown", at(0), at(0)), "RefundLoginAttempt of an unknown key")
		}},
		{"concurrent reservations admit exactly the limit", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			const n, limit = 25, 5
			waits := make([]time.Duration, limit+1)
			waits[limit] = time.Hour
			acct := storage.AttemptLimit{Key: "user:carol|ip:192.0.2.9", Window: time.Hour, Waits: waits}
			for _, tc := range []struct {
				name   string
				limits func(i int) []storage.AttemptLimit
			}{
				{"one key", func(int) []storage.AttemptLimit { return []storage.AttemptLimit{acct} }},
				{"with a second key each", func(i int) []storage.AttemptLimit {
					other := storage.AttemptLimit{Key: fmt.Sprint("ip:other-", i), Window: time.Hour, Waits: waits}
					if i%2 == 0 {
						return []storage.AttemptLimit{other, acct}
					}
					return []storage.AttemptLimit{acct, other}
				}},
			} {
				must(t, s.ClearLoginAttempts(ctx, acct.Key), "ClearLoginAttempts")
				admitted := make([]bool, n)
				errs := race(n, func(i int) error {
					r, err := s.ReserveLoginAttempts(ctx, at(time.Duration(i)*time.Microsecond), tc.limits(i))
					admitted[i] = r.Admitted
					return err
				})
				count := 0
				for i, err := range errs {
					must(t, err, fmt.Sprintf("%s: ReserveLoginAttempts %d", tc.name, i))
					if admitted[i] {
						count++
					}
				}
				wantEqual(t, count, limit, tc.name+": admitted")
				got, err := s.GetLoginAttempts(ctx, acct.Key)
				must(t, err, "GetLoginAttempts")
				wantEqual(t, got.Failures, limit, tc.name+": counted")
			}
		}},
		{"reservations refuse a transaction and repeated keys", func(t *testing.T, s storage.Store) {
			err := s.InTx(t.Context(), func(ctx context.Context) error {
				_, err := s.ReserveLoginAttempts(ctx, at(0), []storage.AttemptLimit{backoff("ip:a")})
				if err == nil {
					t.Error("ReserveLoginAttempts inside a transaction succeeded")
				}
				return nil
			})
			must(t, err, "InTx")
			if _, err := s.ReserveLoginAttempts(t.Context(), at(0), []storage.AttemptLimit{backoff("ip:a"), backoff("ip:a")}); err == nil {
				t.Error("ReserveLoginAttempts with a key given twice succeeded")
			}
			got, err := s.GetLoginAttempts(t.Context(), "ip:a")
			must(t, err, "GetLoginAttempts")
			wantEqual(t, got, storage.LoginAttempts{}, "counter after refused calls")
		}},
	}
}
