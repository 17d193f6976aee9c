package oauth

import (
	"context"
	"log/slog"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// JanitorStore is what the janitor needs from storage.
type JanitorStore interface {
	DeleteExpiredOAuthRequests(ctx context.Context, before time.Time, limit int) (int, error)
	DeleteExpiredLoginChallenges(ctx context.Context, before time.Time, limit int) (int, error)
	DeleteExpiredSessions(ctx context.Context, before time.Time, limit int) (int, error)
	DeleteExpiredActionTokens(ctx context.Context, before time.Time, limit int) (int, error)
	DeleteStaleLoginAttempts(ctx context.Context, before time.Time, limit int) (int, error)
	DeleteExpiredWebAuthnChallenges(ctx context.Context, before time.Time, limit int) (int, error)
	DeleteExpiredClientAssertionJTIs(ctx context.Context, before time.Time, limit int) (int, error)
}

// StaleLoginAttemptsAfter is how long a failed-login counter is kept after
// its last failure: far longer than any throttle window or back-off, so
// deleting it forgets nothing that still counts.
const StaleLoginAttemptsAfter = 24 * time.Hour

var _ JanitorStore = storage.Store(nil)

// Janitor deletes expired OAuth requests (codes, tokens, PKCE, OpenID
// Connect and pushed-request rows), login challenges, browser sessions,
// e-mail link tokens, WebAuthn challenges, stale failed-login counters and
// the ids of expired client assertions.
type Janitor struct {
	Store  JanitorStore
	Now    func() time.Time
	Logger *slog.Logger
	// Interval between sweeps (default 5 minutes); BatchSize rows per
	// delete statement (default 1000), so no sweep holds long locks.
	Interval  time.Duration
	BatchSize int
	// Pause after each full batch, as a multiple of the time the batch
	// took (default 2: the janitor works a third of the time while it has
	// a backlog), so a large backlog (a million expired rows after an
	// outage of the janitor) is worked off without taking the database
	// and CPU from the token endpoint. Negative: no pause.
	PauseFactor float64
}

// Run sweeps at once and then every Interval until ctx ends.
func (j *Janitor) Run(ctx context.Context) {
	interval := j.Interval
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		j.Sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Swept counts the rows one sweep deleted, by sort.
type Swept struct {
	Requests, Challenges, Sessions, ActionTokens, LoginAttempts, WebAuthnChallenges, ClientAssertions int
}

// Sweep deletes everything expired now, batch by batch, and returns how
// many rows of each sort went.
func (j *Janitor) Sweep(ctx context.Context) Swept {
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	logger := j.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	batch := j.BatchSize
	if batch <= 0 {
		batch = 1000
	}
	before := now()
	var n Swept
	for _, sweep := range []struct {
		what   string
		count  *int
		before time.Time
		del    func(ctx context.Context, before time.Time, limit int) (int, error)
	}{
		{"oauth requests", &n.Requests, before, j.Store.DeleteExpiredOAuthRequests},
		{"login challenges", &n.Challenges, before, j.Store.DeleteExpiredLoginChallenges},
		{"browser sessions", &n.Sessions, before, j.Store.DeleteExpiredSessions},
		{"e-mail link tokens", &n.ActionTokens, before, j.Store.DeleteExpiredActionTokens},
		{"failed-login counters", &n.LoginAttempts, before.Add(-StaleLoginAttemptsAfter), j.Store.DeleteStaleLoginAttempts},
		{"webauthn challenges", &n.WebAuthnChallenges, before, j.Store.DeleteExpiredWebAuthnChallenges},
		{"client assertion ids", &n.ClientAssertions, before, j.Store.DeleteExpiredClientAssertionJTIs},
	} {
		*sweep.count = j.drain(ctx, logger, sweep.what, func(ctx context.Context) (int, error) {
			return sweep.del(ctx, sweep.before, batch)
		}, batch)
	}
	if n != (Swept{}) {
		logger.Debug("janitor removed expired rows", "oauth_requests", n.Requests, "login_challenges", n.Challenges,
			"sessions", n.Sessions, "action_tokens", n.ActionTokens, "login_attempts", n.LoginAttempts,
			"webauthn_challenges", n.WebAuthnChallenges)
	}
	return n
}

func (j *Janitor) drain(ctx context.Context, logger *slog.Logger, what string, del func(context.Context) (int, error), batch int) int {
	pause := j.PauseFactor
	if pause == 0 {
		pause = 2
	}
	total := 0
	for ctx.Err() == nil {
		start := time.Now()
		n, err := del(ctx)
		if err != nil {
			if ctx.Err() == nil {
				logger.Warn("janitor could not delete expired "+what, "err", err)
			}
			return total
		}
		total += n
		if n < batch {
			return total
		}
		if pause > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(pause * float64(time.Since(start)))):
			}
		}
	}
	return total
}
