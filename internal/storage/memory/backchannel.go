package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// delivery is a queued back-channel logout with its schedule.
type delivery struct {
	storage.BackchannelDelivery
	nextAt       time.Time // zero: due at once
	claimedUntil time.Time
}

// endSession deletes the session and queues a delivery for each recorded
// client that has a back-channel logout URI (as PostgreSQL's endSessions).
func (d *state) endSession(id string) {
	sess, ok := d.sessions[id]
	if !ok {
		return
	}
	delete(d.sessions, id)
	clients := d.sessionClients[id]
	delete(d.sessionClients, id)
	ids := make([]string, 0, len(clients))
	for c := range clients {
		ids = append(ids, c)
	}
	slices.Sort(ids)
	for _, c := range ids {
		if cl, ok := d.clients[c]; !ok || cl.BackchannelLogoutURI == "" {
			continue
		}
		d.lastDeliveryID++
		d.deliveries = append(d.deliveries, delivery{BackchannelDelivery: storage.BackchannelDelivery{
			ID: d.lastDeliveryID, ClientID: c, Subject: sess.UserID, SessionID: id}})
	}
}

// RecordSessionClient notes that the client received tokens in the session.
func (s *Store) RecordSessionClient(ctx context.Context, sessionID, clientID string, at time.Time) error {
	return s.do(ctx, func(d *state) error {
		if _, ok := d.sessions[sessionID]; !ok {
			return fmt.Errorf("record client of session %q: %w", sessionID, storage.ErrNotFound)
		}
		if _, ok := d.clients[clientID]; !ok {
			return fmt.Errorf("record client %q of session: %w", clientID, storage.ErrNotFound)
		}
		m := d.sessionClients[sessionID]
		if m == nil {
			m = map[string]time.Time{}
			d.sessionClients[sessionID] = m
		}
		if _, ok := m[clientID]; !ok {
			m[clientID] = ts(at)
		}
		return nil
	})
}

// ListSessionClients returns the session's recorded client ids, sorted.
func (s *Store) ListSessionClients(ctx context.Context, sessionID string) ([]string, error) {
	out := []string{}
	err := s.do(ctx, func(d *state) error {
		for c := range d.sessionClients[sessionID] {
			out = append(out, c)
		}
		slices.Sort(out)
		return nil
	})
	return out, err
}

// ClaimBackchannelDeliveries claims due deliveries, earliest due first.
func (s *Store) ClaimBackchannelDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]storage.BackchannelDelivery, error) {
	var out []storage.BackchannelDelivery
	err := s.do(ctx, func(d *state) error {
		out = []storage.BackchannelDelivery{}
		due := []int{}
		for i, dl := range d.deliveries {
			if !dl.nextAt.After(now) && !dl.claimedUntil.After(now) {
				due = append(due, i)
			}
		}
		slices.SortStableFunc(due, func(a, b int) int { return d.deliveries[a].nextAt.Compare(d.deliveries[b].nextAt) })
		for _, i := range due {
			if limit > 0 && len(out) >= limit {
				break
			}
			dl := &d.deliveries[i]
			dl.claimedUntil = now.Add(lease)
			dl.Attempts++
			out = append(out, dl.BackchannelDelivery)
		}
		return nil
	})
	return out, err
}

// ListBackchannelDeliveries returns the queue, oldest first.
func (s *Store) ListBackchannelDeliveries(ctx context.Context) ([]storage.BackchannelDelivery, error) {
	var out []storage.BackchannelDelivery
	err := s.do(ctx, func(d *state) error {
		out = make([]storage.BackchannelDelivery, 0, len(d.deliveries))
		for _, dl := range d.deliveries {
			out = append(out, dl.BackchannelDelivery)
		}
		return nil
	})
	return out, err
}

func (d *state) deliveryIndex(id int64) int {
	return slices.IndexFunc(d.deliveries, func(dl delivery) bool { return dl.ID == id })
}

// CompleteBackchannelDelivery removes a delivery.
func (s *Store) CompleteBackchannelDelivery(ctx context.Context, id int64) error {
	return s.do(ctx, func(d *state) error {
		i := d.deliveryIndex(id)
		if i < 0 {
			return fmt.Errorf("complete back-channel delivery %d: %w", id, storage.ErrNotFound)
		}
		d.deliveries = slices.Delete(d.deliveries, i, i+1)
		return nil
	})
}

// RetryBackchannelDelivery releases the claim and schedules the next try.
func (s *Store) RetryBackchannelDelivery(ctx context.Context, id int64, next time.Time, lastError string) error {
	if !storable(lastError) {
		return fmt.Errorf("retry back-channel delivery %d: %w", id, checkText(lastError))
	}
	return s.do(ctx, func(d *state) error {
		i := d.deliveryIndex(id)
		if i < 0 {
			return fmt.Errorf("retry back-channel delivery %d: %w", id, storage.ErrNotFound)
		}
		dl := &d.deliveries[i]
		dl.nextAt, dl.claimedUntil, dl.LastError = ts(next), time.Time{}, lastError
		return nil
	})
}

// CreateRegistrationToken stores an initial access token (its hash).
func (s *Store) CreateRegistrationToken(ctx context.Context, t storage.RegistrationToken) error {
	if err := checkText(t); err != nil {
		return fmt.Errorf("create registration token %q: %w", t.ID, err)
	}
	return s.do(ctx, func(d *state) error {
		if _, ok := d.registrationTokens[t.ID]; ok {
			return fmt.Errorf("create registration token %q: %w", t.ID, storage.ErrAlreadyExists)
		}
		for _, o := range d.registrationTokens {
			if o.Hash == t.Hash {
				return fmt.Errorf("create registration token: hash: %w", storage.ErrAlreadyExists)
			}
		}
		t.CreatedAt, t.ExpiresAt = ts(t.CreatedAt), tsOrZero(t.ExpiresAt)
		d.registrationTokens[t.ID] = t
		return nil
	})
}

func tsOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return ts(t)
}

// ListRegistrationTokens returns every token, oldest first.
func (s *Store) ListRegistrationTokens(ctx context.Context) ([]storage.RegistrationToken, error) {
	var out []storage.RegistrationToken
	err := s.do(ctx, func(d *state) error {
		out = make([]storage.RegistrationToken, 0, len(d.registrationTokens))
		for _, t := range d.registrationTokens {
			out = append(out, t)
		}
		slices.SortFunc(out, func(a, b storage.RegistrationToken) int {
			if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
				return c
			}
			return compareStrings(a.ID, b.ID)
		})
		return nil
	})
	return out, err
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// DeleteRegistrationToken revokes a token.
func (s *Store) DeleteRegistrationToken(ctx context.Context, id string) error {
	return s.do(ctx, func(d *state) error {
		if _, ok := d.registrationTokens[id]; !ok {
			return fmt.Errorf("delete registration token %q: %w", id, storage.ErrNotFound)
		}
		delete(d.registrationTokens, id)
		return nil
	})
}

// UseRegistrationToken counts a use of a valid token.
func (s *Store) UseRegistrationToken(ctx context.Context, hash string, now time.Time) (storage.RegistrationToken, error) {
	var out storage.RegistrationToken
	err := s.do(ctx, func(d *state) error {
		for id, t := range d.registrationTokens {
			if t.Hash != hash {
				continue
			}
			if (!t.ExpiresAt.IsZero() && !t.ExpiresAt.After(now)) || (t.MaxUses > 0 && t.Uses >= t.MaxUses) {
				break
			}
			t.Uses++
			d.registrationTokens[id] = t
			out = t
			return nil
		}
		return fmt.Errorf("use registration token: %w", storage.ErrNotFound)
	})
	return out, err
}

// SetClientRegistrationToken stores the hash of a client's registration
// access token.
func (s *Store) SetClientRegistrationToken(ctx context.Context, clientID, hash string) error {
	if !storable(clientID) || !storable(hash) {
		return fmt.Errorf("set registration access token: %w", checkText(clientID+hash))
	}
	return s.do(ctx, func(d *state) error {
		if _, ok := d.clients[clientID]; !ok {
			return fmt.Errorf("set registration access token of client %q: %w", clientID, storage.ErrNotFound)
		}
		d.clientRegTokens[clientID] = hash
		return nil
	})
}

// GetClientRegistrationToken returns the hash of the client's registration
// access token.
func (s *Store) GetClientRegistrationToken(ctx context.Context, clientID string) (string, error) {
	var h string
	err := s.do(ctx, func(d *state) error {
		v, ok := d.clientRegTokens[clientID]
		if !ok {
			return fmt.Errorf("get registration access token of client %q: %w", clientID, storage.ErrNotFound)
		}
		h = v
		return nil
	})
	return h, err
}
