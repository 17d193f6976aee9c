package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lib/pq"

	"github.com/signet-idp/signet/internal/storage"
)

// reserveAttemptSQL counts one attempt against a key unless its back-off
// makes the attempt wait, in which case no row comes back. The admission
// rule is storage.AttemptLimit.Wait in SQL: $1 key, $2 the attempt's
// instant, $3 the start of the window, $4 the waits in microseconds. The
// CTE locks the existing row first (waiting for, then reading, the latest
// version), so "previous" is the version the update starts from. The
// INSERT's source joins the CTE so that it runs before the update: run
// later (only for RETURNING) it would skip the row the update just
// changed.
const reserveAttemptSQL = `WITH old AS MATERIALIZED (
	SELECT last_failure FROM login_attempts WHERE key = $1 FOR UPDATE)
INSERT INTO login_attempts AS a (key, failures, last_failure)
SELECT $1::text, 1, $2::timestamptz FROM (VALUES (1)) AS one LEFT JOIN old ON true
ON CONFLICT (key) DO UPDATE SET
	failures = CASE WHEN a.last_failure <= $3 THEN 1 ELSE a.failures + 1 END,
	last_failure = GREATEST(a.last_failure, EXCLUDED.last_failure)
WHERE a.failures <= 0 OR a.last_failure <= $3
	OR ($4::bigint[])[LEAST(a.failures, cardinality($4::bigint[]) - 1) + 1] <= 0
	OR a.last_failure + ($4::bigint[])[LEAST(a.failures, cardinality($4::bigint[]) - 1) + 1] * interval '1 microsecond' <= $2
RETURNING a.key, a.failures, a.last_failure, (SELECT last_failure FROM old) AS previous`

type reservedRow struct {
	attemptsRow
	Previous sql.NullTime `db:"previous"`
}

// errRefused rolls back a reservation one of whose keys must wait.
var errRefused = errors.New("login attempt refused")

// ReserveLoginAttempts counts an attempt against every limit, one upsert
// per key in one transaction (a single key needs none), or against none
// when one key makes it wait. Keys are locked in sorted order, so two
// reservations sharing keys cannot deadlock.
func (s *Store) ReserveLoginAttempts(ctx context.Context, at time.Time, limits []storage.AttemptLimit) (storage.LoginReservation, error) {
	if s.handle(ctx) != nil {
		return storage.LoginReservation{}, errors.New("reserve login attempts: must not run inside a transaction")
	}
	order := make([]int, len(limits))
	keys := make([]string, len(limits))
	for i, l := range limits {
		if !storable(l.Key) {
			return storage.LoginReservation{}, fmt.Errorf("reserve login attempts: %w", errBadText())
		}
		order[i], keys[i] = i, l.Key
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(keys[a], keys[b]) })
	for i := 1; i < len(order); i++ {
		if keys[order[i]] == keys[order[i-1]] {
			return storage.LoginReservation{}, fmt.Errorf("reserve login attempts: key %q given twice", keys[order[i]])
		}
	}
	out := storage.LoginReservation{Admitted: true, Counters: make([]storage.LoginAttempts, len(limits)), Previous: make([]time.Time, len(limits))}
	reserve := func(ctx context.Context) error {
		for _, i := range order {
			l := limits[i]
			waits := make([]int64, max(len(l.Waits), 1))
			for j, w := range l.Waits {
				waits[j] = w.Microseconds()
			}
			var r reservedRow
			err := s.get(ctx, &r, reserveAttemptSQL, l.Key, at, at.Add(-l.Window), pq.Array(waits))
			if errors.Is(err, sql.ErrNoRows) {
				return errRefused
			}
			if err != nil {
				return fmt.Errorf("reserve login attempt: %w", mapErr(err))
			}
			out.Counters[i], out.Previous[i] = r.attempts(), timeOut(r.Previous)
		}
		return nil
	}
	var err error
	if len(limits) == 1 {
		err = reserve(ctx)
	} else {
		err = s.InTx(ctx, reserve)
	}
	if !errors.Is(err, errRefused) {
		if err != nil {
			return storage.LoginReservation{}, err
		}
		return out, nil
	}
	// Refused: nothing was counted. Read the counters as they stand to
	// say how long to wait.
	var rows []attemptsRow
	if err := s.selectAll(ctx, &rows, `SELECT key, failures, last_failure FROM login_attempts WHERE key = ANY($1)`, pq.StringArray(keys)); err != nil {
		return storage.LoginReservation{}, fmt.Errorf("reserve login attempts: %w", mapErr(err))
	}
	refused := storage.LoginReservation{Wait: time.Second, Counters: make([]storage.LoginAttempts, len(limits))}
	for i, l := range limits {
		for _, r := range rows {
			if r.Key == l.Key {
				refused.Counters[i] = r.attempts()
			}
		}
		refused.Wait = max(refused.Wait, l.Wait(refused.Counters[i], at))
	}
	return refused, nil
}

// RefundLoginAttempt takes back one attempt counted at the given time.
func (s *Store) RefundLoginAttempt(ctx context.Context, key string, at, previous time.Time) error {
	_, err := s.matchCount(ctx, `UPDATE login_attempts SET failures = GREATEST(failures - 1, 0),
		last_failure = CASE WHEN last_failure = $2 AND $3::timestamptz IS NOT NULL THEN $3 ELSE last_failure END
		WHERE key = $1`, key, at, nullTime(previous))
	if err != nil {
		return fmt.Errorf("refund login attempt: %w", err)
	}
	return nil
}
