package sessions

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// Consents remembers what a person allowed a client, so they are asked
// again only when a client wants more than before.
type Consents struct {
	store storage.ConsentStore
	now   func() time.Time
}

// NewConsents returns Consents over store; a nil clock means time.Now.
func NewConsents(store storage.ConsentStore, now func() time.Time) *Consents {
	if now == nil {
		now = time.Now
	}
	return &Consents{store: store, now: now}
}

// Covers reports whether the person already allowed the client every one
// of scopes (the same or fewer than remembered).
func (c *Consents) Covers(ctx context.Context, userID, clientID string, scopes []string) (bool, error) {
	got, err := c.store.GetConsent(ctx, userID, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remembered consent: %w", err)
	}
	return Subset(scopes, got.Scopes), nil
}

// Remember records that the person allowed the client scopes, adding them
// to what they had allowed before.
func (c *Consents) Remember(ctx context.Context, userID, clientID string, scopes []string) error {
	all := slices.Clone(scopes)
	switch prev, err := c.store.GetConsent(ctx, userID, clientID); {
	case err == nil:
		all = append(all, prev.Scopes...)
	case errors.Is(err, storage.ErrNotFound):
	default:
		return fmt.Errorf("remember consent: %w", err)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	now := c.now().UTC()
	if err := c.store.UpsertConsent(ctx, storage.Consent{
		UserID: userID, ClientID: clientID, Scopes: all, CreatedAt: now, UpdatedAt: now,
	}); err != nil {
		return fmt.Errorf("remember consent: %w", err)
	}
	return nil
}

// Forget drops the remembered consent of the person for the client.
func (c *Consents) Forget(ctx context.Context, userID, clientID string) error {
	if err := c.store.DeleteConsent(ctx, userID, clientID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("forget consent: %w", err)
	}
	return nil
}

// Subset reports whether every element of want is in have.
func Subset(want, have []string) bool {
	for _, s := range want {
		if !slices.Contains(have, s) {
			return false
		}
	}
	return true
}
