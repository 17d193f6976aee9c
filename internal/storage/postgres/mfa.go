package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/signet-idp/signet/internal/storage"
)

const totpColumns = `user_id, id, secret, last_used_step, created_at, confirmed_at, last_used_at`

type totpRow struct {
	UserID       string       `db:"user_id"`
	ID           string       `db:"id"`
	Secret       []byte       `db:"secret"`
	LastUsedStep int64        `db:"last_used_step"`
	CreatedAt    time.Time    `db:"created_at"`
	ConfirmedAt  sql.NullTime `db:"confirmed_at"`
	LastUsedAt   sql.NullTime `db:"last_used_at"`
}

// PutTOTP stores the user's authenticator app, replacing an unconfirmed
// one: the conditional upsert touches no row when a confirmed one exists.
func (s *Store) PutTOTP(ctx context.Context, c storage.TOTPCredential) error {
	n, err := s.write(ctx, `INSERT INTO mfa_totp (`+totpColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (user_id) DO UPDATE SET id = EXCLUDED.id, secret = EXCLUDED.secret,
			last_used_step = EXCLUDED.last_used_step, created_at = EXCLUDED.created_at,
			confirmed_at = EXCLUDED.confirmed_at, last_used_at = EXCLUDED.last_used_at
		WHERE mfa_totp.confirmed_at IS NULL`,
		c.UserID, c.ID, c.Secret, c.LastUsedStep, c.CreatedAt, nullTime(c.ConfirmedAt), nullTime(c.LastUsedAt))
	if err != nil {
		return fmt.Errorf("put authenticator app of user %q: %w", c.UserID, mapErr(err))
	}
	if n == 0 {
		return fmt.Errorf("put authenticator app of user %q: %w", c.UserID, storage.ErrAlreadyExists)
	}
	return nil
}

// GetTOTP returns the user's authenticator app.
func (s *Store) GetTOTP(ctx context.Context, userID string) (storage.TOTPCredential, error) {
	var r totpRow
	if err := s.get(ctx, &r, `SELECT `+totpColumns+` FROM mfa_totp WHERE user_id = $1`, userID); err != nil {
		return storage.TOTPCredential{}, fmt.Errorf("get authenticator app of user %q: %w", userID, mapErr(err))
	}
	return storage.TOTPCredential{
		ID: r.ID, UserID: r.UserID, Secret: r.Secret, LastUsedStep: r.LastUsedStep,
		CreatedAt: r.CreatedAt.UTC(), ConfirmedAt: timeOut(r.ConfirmedAt), LastUsedAt: timeOut(r.LastUsedAt),
	}, nil
}

// ConfirmTOTP marks the unconfirmed credential confirmed.
func (s *Store) ConfirmTOTP(ctx context.Context, userID, id string, step int64, at time.Time) error {
	err := s.matchOne(ctx, `UPDATE mfa_totp SET confirmed_at = $3, last_used_step = $4, last_used_at = $3
		WHERE user_id = $1 AND id = $2 AND confirmed_at IS NULL`, userID, id, at, step)
	if err != nil {
		return fmt.Errorf("confirm authenticator app of user %q: %w", userID, err)
	}
	return nil
}

// UseTOTPStep moves the last used step forward in one conditional UPDATE,
// so of two replicas accepting the same code at once only one wins.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64, at time.Time) error {
	n, err := s.matchCount(ctx, `UPDATE mfa_totp SET last_used_step = $2, last_used_at = $3
		WHERE user_id = $1 AND confirmed_at IS NOT NULL AND last_used_step < $2`, userID, step, at)
	if err != nil {
		return fmt.Errorf("use authenticator code of user %q: %w", userID, err)
	}
	if n == 1 {
		return nil
	}
	var one int
	err = s.get(ctx, &one, `SELECT 1 FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL`, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("use authenticator code of user %q: %w", userID, storage.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("use authenticator code of user %q: %w", userID, mapErr(err))
	}
	return fmt.Errorf("use authenticator code of user %q: code already used: %w", userID, storage.ErrConflict)
}

// DeleteTOTP removes the user's authenticator app.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	if err := s.matchOne(ctx, `DELETE FROM mfa_totp WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete authenticator app of user %q: %w", userID, err)
	}
	return nil
}

const passkeyColumns = `id, user_id, name, credential, sign_count, created_at, last_used_at`

type passkeyRow struct {
	ID         string       `db:"id"`
	UserID     string       `db:"user_id"`
	Name       string       `db:"name"`
	Credential []byte       `db:"credential"`
	SignCount  int64        `db:"sign_count"`
	CreatedAt  time.Time    `db:"created_at"`
	LastUsedAt sql.NullTime `db:"last_used_at"`
}

func (r passkeyRow) passkey() storage.Passkey {
	return storage.Passkey{
		ID: r.ID, UserID: r.UserID, Name: r.Name, Credential: r.Credential, SignCount: r.SignCount,
		CreatedAt: r.CreatedAt.UTC(), LastUsedAt: timeOut(r.LastUsedAt),
	}
}

// CreatePasskey stores a new passkey.
func (s *Store) CreatePasskey(ctx context.Context, p storage.Passkey) error {
	_, err := s.write(ctx, `INSERT INTO mfa_passkeys (`+passkeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		p.ID, p.UserID, p.Name, p.Credential, p.SignCount, p.CreatedAt, nullTime(p.LastUsedAt))
	if err != nil {
		return fmt.Errorf("create passkey of user %q: %w", p.UserID, mapErr(err))
	}
	return nil
}

// GetPasskey returns the passkey with that credential id.
func (s *Store) GetPasskey(ctx context.Context, id string) (storage.Passkey, error) {
	var r passkeyRow
	if err := s.get(ctx, &r, `SELECT `+passkeyColumns+` FROM mfa_passkeys WHERE id = $1`, id); err != nil {
		return storage.Passkey{}, fmt.Errorf("get passkey: %w", mapErr(err))
	}
	return r.passkey(), nil
}

// ListPasskeys returns the user's passkeys, oldest first.
func (s *Store) ListPasskeys(ctx context.Context, userID string) ([]storage.Passkey, error) {
	var rows []passkeyRow
	err := s.selectAll(ctx, &rows, `SELECT `+passkeyColumns+` FROM mfa_passkeys
		WHERE user_id = $1 ORDER BY created_at, id COLLATE "C"`, userID)
	if err != nil {
		return nil, fmt.Errorf("list passkeys of user %q: %w", userID, mapErr(err))
	}
	out := make([]storage.Passkey, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.passkey())
	}
	return out, nil
}

// UsePasskey moves the sign count forward in one conditional UPDATE.
func (s *Store) UsePasskey(ctx context.Context, id string, signCount int64, at time.Time) error {
	n, err := s.matchCount(ctx, `UPDATE mfa_passkeys SET sign_count = $2, last_used_at = $3
		WHERE id = $1 AND ((sign_count = 0 AND $2 = 0) OR sign_count < $2)`, id, signCount, at)
	if err != nil {
		return fmt.Errorf("use passkey: %w", err)
	}
	if n == 1 {
		return nil
	}
	if _, err := s.GetPasskey(ctx, id); err != nil {
		return fmt.Errorf("use passkey: %w", err)
	}
	return fmt.Errorf("use passkey: signature counter did not move forward: %w", storage.ErrConflict)
}

// RenamePasskey renames the user's passkey.
func (s *Store) RenamePasskey(ctx context.Context, userID, id, name string) error {
	if err := s.updateOne(ctx, `UPDATE mfa_passkeys SET name = $3 WHERE user_id = $1 AND id = $2`, userID, id, name); err != nil {
		return fmt.Errorf("rename passkey of user %q: %w", userID, err)
	}
	return nil
}

// DeletePasskey removes the user's passkey.
func (s *Store) DeletePasskey(ctx context.Context, userID, id string) error {
	if err := s.matchOne(ctx, `DELETE FROM mfa_passkeys WHERE user_id = $1 AND id = $2`, userID, id); err != nil {
		return fmt.Errorf("delete passkey of user %q: %w", userID, err)
	}
	return nil
}

// ReplaceRecoveryCodes deletes the user's codes and stores the new ones,
// in one transaction.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes []string, at time.Time) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.matchCount(ctx, `DELETE FROM mfa_recovery_codes WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("replace recovery codes of user %q: %w", userID, err)
		}
		if len(hashes) == 0 {
			return nil
		}
		_, err := s.write(ctx, `INSERT INTO mfa_recovery_codes (user_id, hash, created_at)
			SELECT $1, h, $3 FROM unnest($2::text[]) AS h`, userID, strs(hashes), at)
		if err != nil {
			return fmt.Errorf("replace recovery codes of user %q: %w", userID, mapErr(err))
		}
		return nil
	})
}

// ConsumeRecoveryCode deletes the code; of concurrent callers one wins.
func (s *Store) ConsumeRecoveryCode(ctx context.Context, userID, hash string) error {
	if err := s.matchOne(ctx, `DELETE FROM mfa_recovery_codes WHERE user_id = $1 AND hash = $2`, userID, hash); err != nil {
		return fmt.Errorf("use recovery code of user %q: %w", userID, err)
	}
	return nil
}

// MFAStatus summarises the users' factors in one query.
func (s *Store) MFAStatus(ctx context.Context, userIDs []string) (map[string]storage.MFAStatus, error) {
	out := make(map[string]storage.MFAStatus, len(userIDs))
	if len(userIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		UserID   string       `db:"user_id"`
		TOTP     sql.NullTime `db:"totp"`
		Passkeys int          `db:"passkeys"`
		PKSince  sql.NullTime `db:"pk_since"`
		Codes    int          `db:"codes"`
	}
	err := s.selectAll(ctx, &rows, `SELECT u AS user_id,
			(SELECT confirmed_at FROM mfa_totp WHERE user_id = u) AS totp,
			(SELECT count(*) FROM mfa_passkeys WHERE user_id = u) AS passkeys,
			(SELECT min(created_at) FROM mfa_passkeys WHERE user_id = u) AS pk_since,
			(SELECT count(*) FROM mfa_recovery_codes WHERE user_id = u) AS codes
		FROM unnest($1::text[]) AS u`, pq.StringArray(userIDs))
	if err != nil {
		return nil, fmt.Errorf("second factors of users: %w", mapErr(err))
	}
	for _, r := range rows {
		st := storage.MFAStatus{TOTP: r.TOTP.Valid, Passkeys: r.Passkeys, RecoveryCodes: r.Codes}
		for _, t := range []sql.NullTime{r.TOTP, r.PKSince} {
			if t.Valid && (st.Since.IsZero() || t.Time.Before(st.Since)) {
				st.Since = t.Time.UTC()
			}
		}
		if st.TOTP || st.Passkeys > 0 || st.RecoveryCodes > 0 {
			out[r.UserID] = st
		}
	}
	return out, nil
}

// DeleteUserMFA removes every factor of the user in one transaction.
func (s *Store) DeleteUserMFA(ctx context.Context, userID string) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		for _, table := range []string{"mfa_totp", "mfa_passkeys", "mfa_recovery_codes"} {
			if _, err := s.matchCount(ctx, `DELETE FROM `+table+` WHERE user_id = $1`, userID); err != nil {
				return fmt.Errorf("reset second factors of user %q: %w", userID, err)
			}
		}
		return nil
	})
}

const webauthnChallengeColumns = `id, purpose, user_id, data, created_at, expires_at`

type webauthnChallengeRow struct {
	ID        string    `db:"id"`
	Purpose   string    `db:"purpose"`
	UserID    string    `db:"user_id"`
	Data      []byte    `db:"data"`
	CreatedAt time.Time `db:"created_at"`
	ExpiresAt time.Time `db:"expires_at"`
}

// CreateWebAuthnChallenge stores a ceremony's challenge.
func (s *Store) CreateWebAuthnChallenge(ctx context.Context, c storage.WebAuthnChallenge) error {
	_, err := s.write(ctx, `INSERT INTO mfa_webauthn_challenges (`+webauthnChallengeColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6)`, c.ID, c.Purpose, c.UserID, c.Data, c.CreatedAt, c.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create webauthn challenge: %w", mapErr(err))
	}
	return nil
}

// ConsumeWebAuthnChallenge deletes and returns the challenge in one
// statement.
func (s *Store) ConsumeWebAuthnChallenge(ctx context.Context, id string) (storage.WebAuthnChallenge, error) {
	var r webauthnChallengeRow
	err := s.get(ctx, &r, `DELETE FROM mfa_webauthn_challenges WHERE id = $1 RETURNING `+webauthnChallengeColumns, id)
	if err != nil {
		return storage.WebAuthnChallenge{}, fmt.Errorf("consume webauthn challenge: %w", mapErr(err))
	}
	return storage.WebAuthnChallenge{
		ID: r.ID, Purpose: r.Purpose, UserID: r.UserID, Data: r.Data,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
	}, nil
}

// DeleteExpiredWebAuthnChallenges deletes up to limit expired challenges.
func (s *Store) DeleteExpiredWebAuthnChallenges(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := s.deleteExpiredBatch(ctx, "mfa_webauthn_challenges", before, limit)
	if err != nil {
		return 0, fmt.Errorf("delete expired webauthn challenges: %w", err)
	}
	return n, nil
}

// ListTOTPCredentials returns a page of authenticator apps ordered by id
// (bytewise, as the memory store orders them), through the unique index.
func (s *Store) ListTOTPCredentials(ctx context.Context, after string, limit int) ([]storage.TOTPCredential, error) {
	var rows []totpRow
	if err := s.selectAll(ctx, &rows, `SELECT `+totpColumns+` FROM mfa_totp WHERE id > $1 COLLATE "C"
		ORDER BY id COLLATE "C" LIMIT $2`, after, limitArg(limit)); err != nil {
		return nil, fmt.Errorf("list authenticator apps: %w", mapErr(err))
	}
	out := make([]storage.TOTPCredential, 0, len(rows))
	for _, r := range rows {
		out = append(out, storage.TOTPCredential{
			ID: r.ID, UserID: r.UserID, Secret: r.Secret, LastUsedStep: r.LastUsedStep,
			CreatedAt: r.CreatedAt.UTC(), ConfirmedAt: timeOut(r.ConfirmedAt), LastUsedAt: timeOut(r.LastUsedAt),
		})
	}
	return out, nil
}

// ResealTOTP swaps the sealed secret in one conditional UPDATE; when it
// touches nothing, a second read tells a changed secret from a missing
// credential.
func (s *Store) ResealTOTP(ctx context.Context, id string, old, sealed []byte) error {
	n, err := s.matchCount(ctx, `UPDATE mfa_totp SET secret = $3 WHERE id = $1 AND secret = $2`, id, old, sealed)
	if err != nil {
		return fmt.Errorf("re-seal authenticator app %q: %w", id, err)
	}
	if n == 1 {
		return nil
	}
	var one int
	err = s.get(ctx, &one, `SELECT 1 FROM mfa_totp WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("re-seal authenticator app %q: %w", id, storage.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("re-seal authenticator app %q: %w", id, mapErr(err))
	}
	return fmt.Errorf("re-seal authenticator app %q: the secret changed: %w", id, storage.ErrConflict)
}
