package memory

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// mfaRecords are one user's second factors.
type mfaRecords struct {
	totp     *storage.TOTPCredential
	passkeys []storage.Passkey    // oldest first
	codes    map[string]time.Time // recovery code hash → created
}

func (r *mfaRecords) clone() *mfaRecords {
	c := &mfaRecords{codes: maps.Clone(r.codes)}
	if r.totp != nil {
		t := copyTOTP(*r.totp)
		c.totp = &t
	}
	for _, p := range r.passkeys {
		c.passkeys = append(c.passkeys, copyPasskey(p))
	}
	return c
}

func copyTOTP(c storage.TOTPCredential) storage.TOTPCredential {
	c.Secret = bin(c.Secret)
	c.CreatedAt, c.ConfirmedAt, c.LastUsedAt = ts(c.CreatedAt), ts(c.ConfirmedAt), ts(c.LastUsedAt)
	return c
}

func copyPasskey(p storage.Passkey) storage.Passkey {
	p.Credential = bin(p.Credential)
	p.CreatedAt, p.LastUsedAt = ts(p.CreatedAt), ts(p.LastUsedAt)
	return p
}

// records returns the user's records, created when create is set and the
// user exists; nil otherwise.
func (d *state) records(userID string, create bool) *mfaRecords {
	r := d.mfa[userID]
	if r == nil && create {
		if _, ok := d.users[userID]; !ok {
			return nil
		}
		r = &mfaRecords{codes: map[string]time.Time{}}
		d.mfa[userID] = r
	}
	return r
}

// PutTOTP stores the user's authenticator app, replacing an unconfirmed one.
func (s *Store) PutTOTP(ctx context.Context, c storage.TOTPCredential) error {
	if err := checkText(c); err != nil {
		return fmt.Errorf("put authenticator app: %w", err)
	}
	return s.do(ctx, func(d *state) error {
		r := d.records(c.UserID, true)
		if r == nil {
			return fmt.Errorf("put authenticator app of user %q: %w", c.UserID, storage.ErrNotFound)
		}
		if r.totp != nil && r.totp.Confirmed() {
			return fmt.Errorf("put authenticator app of user %q: %w", c.UserID, storage.ErrAlreadyExists)
		}
		for uid, o := range d.mfa {
			if uid != c.UserID && o.totp != nil && o.totp.ID == c.ID {
				return fmt.Errorf("put authenticator app: id: %w", storage.ErrAlreadyExists)
			}
		}
		t := copyTOTP(c)
		r.totp = &t
		return nil
	})
}

// GetTOTP returns the user's authenticator app.
func (s *Store) GetTOTP(ctx context.Context, userID string) (storage.TOTPCredential, error) {
	var out storage.TOTPCredential
	err := s.do(ctx, func(d *state) error {
		r := d.records(userID, false)
		if r == nil || r.totp == nil {
			return fmt.Errorf("get authenticator app of user %q: %w", userID, storage.ErrNotFound)
		}
		out = copyTOTP(*r.totp)
		return nil
	})
	return out, err
}

// ConfirmTOTP marks the unconfirmed credential confirmed.
func (s *Store) ConfirmTOTP(ctx context.Context, userID, id string, step int64, at time.Time) error {
	return s.do(ctx, func(d *state) error {
		r := d.records(userID, false)
		if r == nil || r.totp == nil || r.totp.ID != id || r.totp.Confirmed() {
			return fmt.Errorf("confirm authenticator app of user %q: %w", userID, storage.ErrNotFound)
		}
		r.totp.ConfirmedAt, r.totp.LastUsedAt, r.totp.LastUsedStep = ts(at), ts(at), step
		return nil
	})
}

// UseTOTPStep moves the last used step forward.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64, at time.Time) error {
	return s.do(ctx, func(d *state) error {
		r := d.records(userID, false)
		if r == nil || r.totp == nil || !r.totp.Confirmed() {
			return fmt.Errorf("use authenticator code of user %q: %w", userID, storage.ErrNotFound)
		}
		if step <= r.totp.LastUsedStep {
			return fmt.Errorf("use authenticator code of user %q: code already used: %w", userID, storage.ErrConflict)
		}
		r.totp.LastUsedStep, r.totp.LastUsedAt = step, ts(at)
		return nil
	})
}

// DeleteTOTP removes the user's authenticator app.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	return s.do(ctx, func(d *state) error {
		r := d.records(userID, false)
		if r == nil || r.totp == nil {
			return fmt.Errorf("delete authenticator app of user %q: %w", userID, storage.ErrNotFound)
		}
		r.totp = nil
		return nil
	})
}

func (d *state) findPasskey(id string) (*mfaRecords, int) {
	for _, r := range d.mfa {
		for i, p := range r.passkeys {
			if p.ID == id {
				return r, i
			}
		}
	}
	return nil, -1
}

// CreatePasskey stores a new passkey.
func (s *Store) CreatePasskey(ctx context.Context, p storage.Passkey) error {
	if err := checkText(p); err != nil {
		return fmt.Errorf("create passkey: %w", err)
	}
	return s.do(ctx, func(d *state) error {
		if r, _ := d.findPasskey(p.ID); r != nil {
			return fmt.Errorf("create passkey: %w", storage.ErrAlreadyExists)
		}
		r := d.records(p.UserID, true)
		if r == nil {
			return fmt.Errorf("create passkey of user %q: %w", p.UserID, storage.ErrNotFound)
		}
		r.passkeys = append(r.passkeys, copyPasskey(p))
		slices.SortStableFunc(r.passkeys, func(a, b storage.Passkey) int {
			if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		return nil
	})
}

// GetPasskey returns the passkey with that credential id.
func (s *Store) GetPasskey(ctx context.Context, id string) (storage.Passkey, error) {
	var out storage.Passkey
	err := s.do(ctx, func(d *state) error {
		r, i := d.findPasskey(id)
		if r == nil {
			return fmt.Errorf("get passkey: %w", storage.ErrNotFound)
		}
		out = copyPasskey(r.passkeys[i])
		return nil
	})
	return out, err
}

// ListPasskeys returns the user's passkeys, oldest first.
func (s *Store) ListPasskeys(ctx context.Context, userID string) ([]storage.Passkey, error) {
	out := []storage.Passkey{}
	err := s.do(ctx, func(d *state) error {
		if r := d.records(userID, false); r != nil {
			for _, p := range r.passkeys {
				out = append(out, copyPasskey(p))
			}
		}
		return nil
	})
	return out, err
}

// UsePasskey moves the sign count forward.
func (s *Store) UsePasskey(ctx context.Context, id string, signCount int64, at time.Time) error {
	return s.do(ctx, func(d *state) error {
		r, i := d.findPasskey(id)
		if r == nil {
			return fmt.Errorf("use passkey: %w", storage.ErrNotFound)
		}
		p := &r.passkeys[i]
		if !(p.SignCount == 0 && signCount == 0) && signCount <= p.SignCount {
			return fmt.Errorf("use passkey: signature counter did not move forward: %w", storage.ErrConflict)
		}
		p.SignCount, p.LastUsedAt = signCount, ts(at)
		return nil
	})
}

// RenamePasskey renames the user's passkey.
func (s *Store) RenamePasskey(ctx context.Context, userID, id, name string) error {
	if err := checkText(name); err != nil {
		return fmt.Errorf("rename passkey: %w", err)
	}
	return s.do(ctx, func(d *state) error {
		r, i := d.findPasskey(id)
		if r == nil || r.passkeys[i].UserID != userID {
			return fmt.Errorf("rename passkey of user %q: %w", userID, storage.ErrNotFound)
		}
		r.passkeys[i].Name = name
		return nil
	})
}

// DeletePasskey removes the user's passkey.
func (s *Store) DeletePasskey(ctx context.Context, userID, id string) error {
	return s.do(ctx, func(d *state) error {
		r, i := d.findPasskey(id)
		if r == nil || r.passkeys[i].UserID != userID {
			return fmt.Errorf("delete passkey of user %q: %w", userID, storage.ErrNotFound)
		}
		r.passkeys = slices.Delete(r.passkeys, i, i+1)
		return nil
	})
}

// ReplaceRecoveryCodes makes hashes the user's only recovery codes.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string, at time.Time) error {
	if err := checkText(hashes); err != nil {
		return fmt.Errorf("replace recovery codes: %w", err)
	}
	return s.do(ctx, func(d *state) error {
		r := d.records(userID, true)
		if r == nil {
			return fmt.Errorf("replace recovery codes of user %q: %w", userID, storage.ErrNotFound)
		}
		codes := map[string]time.Time{}
		for _, h := range hashes {
			if _, dup := codes[h]; dup {
				return fmt.Errorf("replace recovery codes of user %q: %w", userID, storage.ErrAlreadyExists)
			}
			codes[h] = ts(at)
		}
		r.codes = codes
		return nil
	})
}

// ConsumeRecoveryCode deletes the code.
func (s *Store) ConsumeRecoveryCode(ctx context.Context, userID, hash string) error {
	return s.do(ctx, func(d *state) error {
		r := d.records(userID, false)
		if r == nil {
			return fmt.Errorf("use recovery code of user %q: %w", userID, storage.ErrNotFound)
		}
		if _, ok := r.codes[hash]; !ok {
			return fmt.Errorf("use recovery code of user %q: %w", userID, storage.ErrNotFound)
		}
		delete(r.codes, hash)
		return nil
	})
}

// MFAStatus summarises the users' factors.
func (s *Store) MFAStatus(ctx context.Context, userIDs []string) (map[string]storage.MFAStatus, error) {
	out := map[string]storage.MFAStatus{}
	err := s.do(ctx, func(d *state) error {
		for _, id := range userIDs {
			r := d.records(id, false)
			if r == nil {
				continue
			}
			st := storage.MFAStatus{Passkeys: len(r.passkeys), RecoveryCodes: len(r.codes)}
			if r.totp != nil && r.totp.Confirmed() {
				st.TOTP, st.Since = true, r.totp.ConfirmedAt
			}
			for _, p := range r.passkeys {
				if st.Since.IsZero() || p.CreatedAt.Before(st.Since) {
					st.Since = p.CreatedAt
				}
			}
			if st.TOTP || st.Passkeys > 0 || st.RecoveryCodes > 0 {
				out[id] = st
			}
		}
		return nil
	})
	return out, err
}

// DeleteUserMFA removes every factor of the user.
func (s *Store) DeleteUserMFA(ctx context.Context, userID string) error {
	return s.do(ctx, func(d *state) error {
		delete(d.mfa, userID)
		return nil
	})
}

// CreateWebAuthnChallenge stores a ceremony's challenge.
func (s *Store) CreateWebAuthnChallenge(ctx context.Context, c storage.WebAuthnChallenge) error {
	if err := checkText(c); err != nil {
		return fmt.Errorf("create webauthn challenge: %w", err)
	}
	return s.do(ctx, func(d *state) error {
		if _, ok := d.webauthn[c.ID]; ok {
			return fmt.Errorf("create webauthn challenge: %w", storage.ErrAlreadyExists)
		}
		c.Data = bin(c.Data)
		c.CreatedAt, c.ExpiresAt = ts(c.CreatedAt), ts(c.ExpiresAt)
		d.webauthn[c.ID] = c
		return nil
	})
}

// ConsumeWebAuthnChallenge deletes and returns the challenge.
func (s *Store) ConsumeWebAuthnChallenge(ctx context.Context, id string) (storage.WebAuthnChallenge, error) {
	var out storage.WebAuthnChallenge
	err := s.do(ctx, func(d *state) error {
		c, ok := d.webauthn[id]
		if !ok {
			return fmt.Errorf("consume webauthn challenge: %w", storage.ErrNotFound)
		}
		delete(d.webauthn, id)
		out = c
		out.Data = bin(c.Data)
		return nil
	})
	return out, err
}

// DeleteExpiredWebAuthnChallenges deletes up to limit expired challenges.
func (s *Store) DeleteExpiredWebAuthnChallenges(ctx context.Context, before time.Time, limit int) (int, error) {
	return sweep(ctx, s, func(d *state) map[string]storage.WebAuthnChallenge { return d.webauthn }, before, limit,
		func(v storage.WebAuthnChallenge) time.Time { return v.ExpiresAt })
}

// ListTOTPCredentials returns a page of authenticator apps ordered by id.
func (s *Store) ListTOTPCredentials(ctx context.Context, after string, limit int) ([]storage.TOTPCredential, error) {
	if !storable(after) {
		return []storage.TOTPCredential{}, nil // as PostgreSQL: text it cannot hold matches nothing
	}
	var out []storage.TOTPCredential
	err := s.do(ctx, func(d *state) error {
		for _, r := range d.mfa {
			if r.totp != nil && r.totp.ID > after {
				out = append(out, copyTOTP(*r.totp))
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b storage.TOTPCredential) int { return strings.Compare(a.ID, b.ID) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	if out == nil {
		out = []storage.TOTPCredential{}
	}
	return out, err
}

// ResealTOTP swaps the sealed secret while it is still old.
func (s *Store) ResealTOTP(ctx context.Context, id string, old, sealed []byte) error {
	return s.do(ctx, func(d *state) error {
		for _, r := range d.mfa {
			if r.totp == nil || r.totp.ID != id {
				continue
			}
			if !bytes.Equal(r.totp.Secret, old) {
				return fmt.Errorf("re-seal authenticator app %q: the secret changed: %w", id, storage.ErrConflict)
			}
			r.totp.Secret = bin(sealed)
			return nil
		}
		return fmt.Errorf("re-seal authenticator app %q: %w", id, storage.ErrNotFound)
	})
}
