package memory

import (
	"context"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// UseClientAssertionJTI records key until expiresAt; ErrAlreadyExists
// while an unexpired record of it exists.
func (s *Store) UseClientAssertionJTI(ctx context.Context, key string, expiresAt, now time.Time) error {
	if err := checkText(key); err != nil {
		return err
	}
	return s.do(ctx, func(d *state) error {
		if exp, ok := d.jtis[key]; ok && exp.After(now) {
			return storage.ErrAlreadyExists
		}
		d.jtis[key] = ts(expiresAt)
		return nil
	})
}

// DeleteExpiredClientAssertionJTIs deletes up to limit records that
// expired before the given time.
func (s *Store) DeleteExpiredClientAssertionJTIs(ctx context.Context, before time.Time, limit int) (int, error) {
	return sweep(ctx, s, func(d *state) map[string]time.Time { return d.jtis }, before, limit, func(t time.Time) time.Time { return t })
}
