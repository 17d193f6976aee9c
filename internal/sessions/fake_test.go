package sessions

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// fakeStore keeps sessions, consents and throttle counters in maps, with
// the semantics storage.Store documents.
type fakeStore struct {
	mu       sync.Mutex
	sessions map[string]storage.Session
	consents map[[2]string]storage.Consent
	attempts map[string]storage.LoginAttempts
}

func newFakeStore() *fakeStore {
	return &fakeStore{
		sessions: map[string]storage.Session{},
		consents: map[[2]string]storage.Consent{},
		attempts: map[string]storage.LoginAttempts{},
	}
}

func (f *fakeStore) CreateSession(_ context.Context, s storage.Session) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, o := range f.sessions {
		if o.ID == s.ID || o.TokenHash == s.TokenHash {
			return storage.ErrAlreadyExists
		}
	}
	f.sessions[s.ID] = s
	return nil
}

func (f *fakeStore) GetSessionByTokenHash(_ context.Context, h string) (storage.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.sessions {
		if s.TokenHash == h {
			return s, nil
		}
	}
	return storage.Session{}, storage.ErrNotFound
}

func (f *fakeStore) GetSession(_ context.Context, id string) (storage.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[id]
	if !ok {
		return storage.Session{}, storage.ErrNotFound
	}
	return s, nil
}

func (f *fakeStore) TouchSession(_ context.Context, id string, seen, exp time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[id]
	if !ok {
		return storage.ErrNotFound
	}
	s.LastSeenAt, s.ExpiresAt = seen, exp
	f.sessions[id] = s
	return nil
}

func (f *fakeStore) DeleteSession(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.sessions[id]; !ok {
		return storage.ErrNotFound
	}
	delete(f.sessions, id)
	return nil
}

func (f *fakeStore) DeleteUserSessions(_ context.Context, userID, except string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for id, s := range f.sessions {
		if s.UserID == userID && id != except {
			delete(f.sessions, id)
			n++
		}
	}
	return n, nil
}

func (f *fakeStore) ListUserSessions(_ context.Context, userID string) ([]storage.Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []storage.Session
	for _, s := range f.sessions {
		if s.UserID == userID {
			out = append(out, s)
		}
	}
	return out, nil
}

func (f *fakeStore) DeleteExpiredSessions(context.Context, time.Time, int) (int, error) { return 0, nil }

func (f *fakeStore) UpsertConsent(_ context.Context, c storage.Consent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := [2]string{c.UserID, c.ClientID}
	if old, ok := f.consents[k]; ok {
		c.CreatedAt = old.CreatedAt
	}
	c.Scopes = slices.Clone(c.Scopes)
	f.consents[k] = c
	return nil
}

func (f *fakeStore) GetConsent(_ context.Context, userID, clientID string) (storage.Consent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.consents[[2]string{userID, clientID}]
	if !ok {
		return storage.Consent{}, storage.ErrNotFound
	}
	return c, nil
}

func (f *fakeStore) ListConsents(context.Context, string) ([]storage.Consent, error) { return nil, nil }

func (f *fakeStore) DeleteConsent(_ context.Context, userID, clientID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := [2]string{userID, clientID}
	if _, ok := f.consents[k]; !ok {
		return storage.ErrNotFound
	}
	delete(f.consents, k)
	return nil
}

func (f *fakeStore) RecordLoginFailure(_ context.Context, key string, at time.Time, window time.Duration) (storage.LoginAttempts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.attempts[key]
	if a.Failures > 0 && at.Sub(a.LastFailure) >= window {
		a.Failures = 0
	}
	a.Key = key
	a.Failures++
	a.LastFailure = at
	f.attempts[key] = a
	return a, nil
}

func (f *fakeStore) GetLoginAttempts(_ context.Context, key string) (storage.LoginAttempts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts[key], nil
}

func (f *fakeStore) ClearLoginAttempts(_ context.Context, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.attempts, key)
	return nil
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
