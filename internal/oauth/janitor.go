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
}

var _ JanitorStore = storage.Store(nil)

// Janitor deletes expired OAuth requests (codes, tokens, PKCE and OpenID
// Connect rows) and login challenges.
type Janitor struct {
	Store  JanitorStore
	Now    func() time.Time
	Logger *slog.Logger
	// Interval between sweeps (default 5 minutes); BatchSize rows per
	// delete statement (default 1000), so no sweep holds long locks.
	Interval  time.Duration
	BatchSize int
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

// Sweep deletes everything expired now, batch by batch, and returns how
// many rows of each sort went.
func (j *Janitor) Sweep(ctx context.Context) (requests, challenges int) {
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
	requests = j.drain(ctx, logger, "oauth requests", func(ctx context.Context) (int, error) {
		return j.Store.DeleteExpiredOAuthRequests(ctx, before, batch)
	}, batch)
	challenges = j.drain(ctx, logger, "login challenges", func(ctx context.Context) (int, error) {
		return j.Store.DeleteExpiredLoginChallenges(ctx, before, batch)
	}, batch)
	if requests+challenges > 0 {
		logger.Debug("janitor removed expired rows", "oauth_requests", requests, "login_challenges", challenges)
	}
	return requests, challenges
}

func (j *Janitor) drain(ctx context.Context, logger *slog.Logger, what string, del func(context.Context) (int, error), batch int) int {
	total := 0
	for ctx.Err() == nil {
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
	}
	return total
}
