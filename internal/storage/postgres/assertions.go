package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// UseClientAssertionJTI records key until expiresAt in one statement: a
// new key is inserted, an expired one replaced, an unexpired one left as
// it is (no row touched: ErrAlreadyExists). The primary key makes exactly
// one of concurrent callers win, on any replica.
func (s *Store) UseClientAssertionJTI(ctx context.Context, key string, expiresAt, now time.Time) error {
	n, err := s.write(ctx, `INSERT INTO client_assertion_jtis (key, expires_at) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at
		WHERE client_assertion_jtis.expires_at <= $3`, key, expiresAt.UTC(), now.UTC())
	if err != nil {
		return fmt.Errorf("record client assertion: %w", mapErr(err))
	}
	if n == 0 {
		return fmt.Errorf("record client assertion: %w", storage.ErrAlreadyExists)
	}
	return nil
}

// DeleteExpiredClientAssertionJTIs deletes up to limit expired records.
func (s *Store) DeleteExpiredClientAssertionJTIs(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := s.deleteExpiredBatch(ctx, "client_assertion_jtis", before, limit)
	if err != nil {
		return 0, fmt.Errorf("delete expired client assertions: %w", err)
	}
	return n, nil
}
