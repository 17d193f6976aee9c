package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// CreateSession stores a browser session: ErrAlreadyExists when the id or
// token hash is taken, ErrNotFound when the user does not exist.
func (s *Store) CreateSession(ctx context.Context, sess storage.Session) error {
	if err := checkText(sess); err != nil {
		return fmt.Errorf("create session for user %q: %w", sess.UserID, err)
	}
	return s.do(ctx, func(d *state) error {
		if _, ok := d.sessions[sess.ID]; ok {
			return fmt.Errorf("create session: id: %w", storage.ErrAlreadyExists)
		}
		for _, o := range d.sessions {
			if o.TokenHash == sess.TokenHash {
				return fmt.Errorf("create session: token hash: %w", storage.ErrAlreadyExists)
			}
		}
		if _, ok := d.users[sess.UserID]; !ok {
			return fmt.Errorf("create session for user %q: %w", sess.UserID, storage.ErrNotFound)
		}
		d.sessions[sess.ID] = copySession(sess)
		return nil
	})
}

// GetSessionByTokenHash returns the session whose cookie hashes to
// tokenHash. A linear scan: the memory store holds development data only.
func (s *Store) GetSessionByTokenHash(ctx context.Context, tokenHash string) (storage.Session, error) {
	var out storage.Session
	err := s.do(ctx, func(d *state) error {
		for _, sess := range d.sessions {
			if sess.TokenHash == tokenHash {
				out = copySession(sess)
				return nil
			}
		}
		return fmt.Errorf("get session by token: %w", storage.ErrNotFound)
	})
	return out, err
}

// GetSession returns the session with that id.
func (s *Store) GetSession(ctx context.Context, id string) (storage.Session, error) {
	var out storage.Session
	err := s.do(ctx, func(d *state) error {
		sess, ok := d.sessions[id]
		if !ok {
			return fmt.Errorf("get session %q: %w", id, storage.ErrNotFound)
		}
		out = copySession(sess)
		return nil
	})
	return out, err
}

// TouchSession updates LastSeenAt and ExpiresAt.
func (s *Store) TouchSession(ctx context.Context, id string, lastSeen, expiresAt time.Time) error {
	return s.do(ctx, func(d *state) error {
		sess, ok := d.sessions[id]
		if !ok {
			return fmt.Errorf("touch session %q: %w", id, storage.ErrNotFound)
		}
		sess.LastSeenAt, sess.ExpiresAt = ts(lastSeen), ts(expiresAt)
		d.sessions[id] = sess
		return nil
	})
}

// DeleteSession removes the session.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	return s.do(ctx, func(d *state) error {
		if _, ok := d.sessions[id]; !ok {
			return fmt.Errorf("delete session %q: %w", id, storage.ErrNotFound)
		}
		d.endSession(id)
		return nil
	})
}

// DeleteUserSessions deletes the user's sessions but exceptID and returns
// how many went.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, exceptID string) (int, error) {
	n := 0
	err := s.do(ctx, func(d *state) error {
		for id, sess := range d.sessions {
			if sess.UserID == userID && id != exceptID {
				d.endSession(id)
				n++
			}
		}
		return nil
	})
	return n, err
}

// ListUserSessions returns the user's sessions, newest (CreatedAt) first.
func (s *Store) ListUserSessions(ctx context.Context, userID string) ([]storage.Session, error) {
	var out []storage.Session
	err := s.do(ctx, func(d *state) error {
		out = []storage.Session{}
		for _, sess := range d.sessions {
			if sess.UserID == userID {
				out = append(out, copySession(sess))
			}
		}
		slices.SortFunc(out, func(a, b storage.Session) int {
			return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
		})
		return nil
	})
	return out, err
}

// DeleteExpiredSessions deletes up to limit sessions (no limit when limit
// <= 0) that expired before the given time.
func (s *Store) DeleteExpiredSessions(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := sweep(ctx, s, func(d *state) map[string]storage.Session { return d.sessions }, before, limit, func(v storage.Session) time.Time { return v.ExpiresAt })
	if err != nil || n == 0 {
		return n, err
	}
	// Their recorded clients go with them, and no logout is queued.
	return n, s.do(ctx, func(d *state) error {
		for id := range d.sessionClients {
			if _, ok := d.sessions[id]; !ok {
				delete(d.sessionClients, id)
			}
		}
		return nil
	})
}

// CreateKey stores a signing key; ErrAlreadyExists when the id is taken.
func (s *Store) CreateKey(ctx context.Context, k storage.SigningKey) error {
	if err := checkText(k); err != nil {
		return fmt.Errorf("create key %q: %w", k.ID, err)
	}
	return s.do(ctx, func(d *state) error {
		if _, ok := d.keys[k.ID]; ok {
			return fmt.Errorf("create key %q: %w", k.ID, storage.ErrAlreadyExists)
		}
		d.keys[k.ID] = copyKey(k)
		return nil
	})
}

// GetKey returns the key with that id.
func (s *Store) GetKey(ctx context.Context, id string) (storage.SigningKey, error) {
	var out storage.SigningKey
	err := s.do(ctx, func(d *state) error {
		k, ok := d.keys[id]
		if !ok {
			return fmt.Errorf("get key %q: %w", id, storage.ErrNotFound)
		}
		out = copyKey(k)
		return nil
	})
	return out, err
}

// ListKeys returns every key, oldest first.
func (s *Store) ListKeys(ctx context.Context) ([]storage.SigningKey, error) {
	var out []storage.SigningKey
	err := s.do(ctx, func(d *state) error {
		out = make([]storage.SigningKey, 0, len(d.keys))
		for _, k := range d.keys {
			out = append(out, copyKey(k))
		}
		slices.SortFunc(out, func(a, b storage.SigningKey) int {
			return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
		})
		return nil
	})
	return out, err
}

// UpdateKey replaces State, PrivateKey, ActivateAt, RetiredAt and
// DeleteAfter.
func (s *Store) UpdateKey(ctx context.Context, k storage.SigningKey) error {
	if err := checkText(k); err != nil {
		return fmt.Errorf("update key %q: %w", k.ID, err)
	}
	return s.do(ctx, func(d *state) error {
		old, ok := d.keys[k.ID]
		if !ok {
			return fmt.Errorf("update key %q: %w", k.ID, storage.ErrNotFound)
		}
		old.State, old.PrivateKey = k.State, k.PrivateKey
		old.ActivateAt, old.RetiredAt, old.DeleteAfter = k.ActivateAt, k.RetiredAt, k.DeleteAfter
		d.keys[k.ID] = copyKey(old)
		return nil
	})
}

// DeleteKey removes the key.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	return s.do(ctx, func(d *state) error {
		if _, ok := d.keys[id]; !ok {
			return fmt.Errorf("delete key %q: %w", id, storage.ErrNotFound)
		}
		delete(d.keys, id)
		return nil
	})
}

// LockKeys and LockAdmins need a transaction, which here already holds
// the whole store, so there is nothing more to lock. They fail outside a
// transaction, as the PostgreSQL store does, so misuse shows up in
// development too.
func (s *Store) LockKeys(ctx context.Context) error { return s.lockInTx(ctx, "keys") }

// LockAdmins: see LockKeys.
func (s *Store) LockAdmins(ctx context.Context) error { return s.lockInTx(ctx, "admins") }

// LockClients: see LockKeys.
func (s *Store) LockClients(ctx context.Context) error { return s.lockInTx(ctx, "clients") }

func (s *Store) lockInTx(ctx context.Context, what string) error {
	h := s.handle(ctx)
	if h == nil {
		return fmt.Errorf("memory: lock %s: must be called inside a transaction", what)
	}
	if err := h.tx.check(); err != nil {
		return fmt.Errorf("memory: lock %s: %w", what, err)
	}
	return nil
}

// RecordLoginFailure counts a failure at the given time, first forgetting
// the earlier ones when the last was more than window before it.
func (s *Store) RecordLoginFailure(ctx context.Context, key string, at time.Time, window time.Duration) (storage.LoginAttempts, error) {
	if err := checkText(key); err != nil {
		return storage.LoginAttempts{}, fmt.Errorf("record login failure: %w", err)
	}
	var out storage.LoginAttempts
	err := s.do(ctx, func(d *state) error {
		at = ts(at)
		a, ok := d.attempts[key]
		if !ok || a.LastFailure.Before(at.Add(-window)) {
			a = storage.LoginAttempts{Key: key}
		}
		a.Failures++
		// Replicas may report out of order: keep the latest instant.
		if at.After(a.LastFailure) {
			a.LastFailure = at
		}
		d.attempts[key] = a
		out = a
		return nil
	})
	return out, err
}

// ReserveLoginAttempts counts an attempt against every limit, or none
// when one of them makes it wait; the store's lock makes it atomic.
func (s *Store) ReserveLoginAttempts(ctx context.Context, at time.Time, limits []storage.AttemptLimit) (storage.LoginReservation, error) {
	if s.handle(ctx) != nil {
		return storage.LoginReservation{}, errors.New("reserve login attempts: must not run inside a transaction")
	}
	seen := make(map[string]bool, len(limits))
	for _, l := range limits {
		if err := checkText(l.Key); err != nil {
			return storage.LoginReservation{}, fmt.Errorf("reserve login attempts: %w", err)
		}
		if seen[l.Key] {
			return storage.LoginReservation{}, fmt.Errorf("reserve login attempts: key %q given twice", l.Key)
		}
		seen[l.Key] = true
	}
	at = ts(at)
	var out storage.LoginReservation
	err := s.do(ctx, func(d *state) error {
		out = storage.LoginReservation{Admitted: true, Counters: make([]storage.LoginAttempts, len(limits))}
		for i, l := range limits {
			out.Counters[i] = d.attempts[l.Key]
			if w := l.Wait(d.attempts[l.Key], at); w > 0 {
				out.Admitted = false
				out.Wait = max(out.Wait, w, time.Second)
			}
		}
		if !out.Admitted {
			return nil
		}
		out.Previous = make([]time.Time, len(limits))
		for i, l := range limits {
			a, ok := d.attempts[l.Key]
			out.Previous[i] = a.LastFailure
			if !ok || !a.LastFailure.After(at.Add(-l.Window)) {
				a = storage.LoginAttempts{Key: l.Key, Failures: 0, LastFailure: a.LastFailure}
			}
			a.Failures++
			if at.After(a.LastFailure) {
				a.LastFailure = at
			}
			d.attempts[l.Key] = a
			out.Counters[i] = a
		}
		return nil
	})
	return out, err
}

// RefundLoginAttempt takes back one attempt counted at the given time.
func (s *Store) RefundLoginAttempt(ctx context.Context, key string, at, previous time.Time) error {
	return s.do(ctx, func(d *state) error {
		a, ok := d.attempts[key]
		if !ok {
			return nil
		}
		a.Failures = max(a.Failures-1, 0)
		if !previous.IsZero() && a.LastFailure.Equal(ts(at)) {
			a.LastFailure = ts(previous)
		}
		d.attempts[key] = a
		return nil
	})
}

// GetLoginAttempts returns the key's counter, the zero value when none.
func (s *Store) GetLoginAttempts(ctx context.Context, key string) (storage.LoginAttempts, error) {
	var out storage.LoginAttempts
	err := s.do(ctx, func(d *state) error {
		out = d.attempts[key]
		return nil
	})
	return out, err
}

// ClearLoginAttempts forgets the key's failures.
func (s *Store) ClearLoginAttempts(ctx context.Context, key string) error {
	return s.do(ctx, func(d *state) error {
		delete(d.attempts, key)
		return nil
	})
}

// CreateActionToken stores a link token: ErrAlreadyExists for a duplicate
// (purpose, hash), ErrNotFound when the user does not exist.
func (s *Store) CreateActionToken(ctx context.Context, t storage.ActionToken) error {
	if err := checkText(t); err != nil {
		return fmt.Errorf("create %s token for user %q: %w", t.Purpose, t.UserID, err)
	}
	return s.do(ctx, func(d *state) error {
		k := actionTokenKey{t.Purpose, t.Hash}
		if _, ok := d.actionTokens[k]; ok {
			return fmt.Errorf("create %s token: %w", t.Purpose, storage.ErrAlreadyExists)
		}
		if _, ok := d.users[t.UserID]; !ok {
			return fmt.Errorf("create %s token for user %q: %w", t.Purpose, t.UserID, storage.ErrNotFound)
		}
		d.actionTokens[k] = copyActionToken(t)
		return nil
	})
}

// GetActionToken returns the token without consuming it.
func (s *Store) GetActionToken(ctx context.Context, purpose, hash string) (storage.ActionToken, error) {
	var out storage.ActionToken
	err := s.do(ctx, func(d *state) error {
		t, ok := d.actionTokens[actionTokenKey{purpose, hash}]
		if !ok {
			return fmt.Errorf("get %s token: %w", purpose, storage.ErrNotFound)
		}
		out = t
		return nil
	})
	return out, err
}

// ConsumeActionToken deletes and returns the token; ErrNotFound when absent
// or already used.
func (s *Store) ConsumeActionToken(ctx context.Context, purpose, hash string) (storage.ActionToken, error) {
	var out storage.ActionToken
	err := s.do(ctx, func(d *state) error {
		k := actionTokenKey{purpose, hash}
		t, ok := d.actionTokens[k]
		if !ok {
			return fmt.Errorf("consume %s token: %w", purpose, storage.ErrNotFound)
		}
		delete(d.actionTokens, k)
		out = t
		return nil
	})
	return out, err
}

// DeleteUserActionTokens removes the user's tokens of that purpose.
func (s *Store) DeleteUserActionTokens(ctx context.Context, userID, purpose string) error {
	return s.do(ctx, func(d *state) error {
		for k, t := range d.actionTokens {
			if t.UserID == userID && t.Purpose == purpose {
				delete(d.actionTokens, k)
			}
		}
		return nil
	})
}

// AppendAudit stores the event under the next id (e.ID is ignored).
func (s *Store) AppendAudit(ctx context.Context, e storage.AuditEvent) error {
	if err := checkText(e); err != nil {
		return fmt.Errorf("append audit %s: %w", e.Action, err)
	}
	return s.do(ctx, func(d *state) error {
		d.lastAuditID++
		e.ID = d.lastAuditID
		d.audit = append(d.audit, copyAudit(e))
		return nil
	})
}

// ListAudit returns at most limit events (all when limit <= 0), newest
// (At, then id) first.
func (s *Store) ListAudit(ctx context.Context, limit int) ([]storage.AuditEvent, error) {
	var out []storage.AuditEvent
	err := s.do(ctx, func(d *state) error {
		all := slices.Clone(d.audit)
		slices.SortFunc(all, func(a, b storage.AuditEvent) int {
			return cmp.Or(b.At.Compare(a.At), cmp.Compare(b.ID, a.ID))
		})
		out = make([]storage.AuditEvent, 0, limitOf(limit, len(all)))
		for _, e := range all[:limitOf(limit, len(all))] {
			out = append(out, copyAudit(e))
		}
		return nil
	})
	return out, err
}

// DeleteStaleLoginAttempts deletes up to limit counters (no limit when
// limit <= 0) whose last failure is before the given time.
func (s *Store) DeleteStaleLoginAttempts(ctx context.Context, before time.Time, limit int) (int, error) {
	return sweep(ctx, s, func(d *state) map[string]storage.LoginAttempts { return d.attempts }, before, limit, func(a storage.LoginAttempts) time.Time { return a.LastFailure })
}

// DeleteExpiredActionTokens deletes up to limit tokens (no limit when
// limit <= 0) that expired before the given time.
func (s *Store) DeleteExpiredActionTokens(ctx context.Context, before time.Time, limit int) (int, error) {
	return sweep(ctx, s, func(d *state) map[actionTokenKey]storage.ActionToken { return d.actionTokens }, before, limit, func(t storage.ActionToken) time.Time { return t.ExpiresAt })
}

// sweep deletes from the map pick chooses up to limit entries (no limit
// when limit <= 0) whose expiry is set and before the given time, and
// returns how many it deleted.
func sweep[K comparable, V any](ctx context.Context, s *Store, pick func(*state) map[K]V, before time.Time, limit int, expiresAt func(V) time.Time) (int, error) {
	n := 0
	err := s.do(ctx, func(d *state) error {
		m := pick(d)
		for k, v := range m {
			if limit > 0 && n >= limit {
				break
			}
			if exp := expiresAt(v); !exp.IsZero() && exp.Before(before) {
				delete(m, k)
				n++
			}
		}
		return nil
	})
	return n, err
}
