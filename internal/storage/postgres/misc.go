package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/signet-idp/signet/internal/storage"
)

// amrOut: a session without methods has a nil AMR, as it was created.
func amrOut(a pq.StringArray) []string {
	if len(a) == 0 {
		return nil
	}
	return []string(a)
}

const sessionColumns = `id, token_hash, user_id, auth_time, created_at, last_seen_at, expires_at,
	remember, user_agent, ip, amr, acr, idp`

type sessionRow struct {
	ID         string         `db:"id"`
	TokenHash  string         `db:"token_hash"`
	UserID     string         `db:"user_id"`
	AuthTime   time.Time      `db:"auth_time"`
	CreatedAt  time.Time      `db:"created_at"`
	LastSeenAt time.Time      `db:"last_seen_at"`
	ExpiresAt  time.Time      `db:"expires_at"`
	Remember   bool           `db:"remember"`
	UserAgent  string         `db:"user_agent"`
	IP         string         `db:"ip"`
	AMR        pq.StringArray `db:"amr"`
	ACR        string         `db:"acr"`
	IDP        string         `db:"idp"`
}

func (r sessionRow) session() storage.Session {
	return storage.Session{
		ID: r.ID, TokenHash: r.TokenHash, UserID: r.UserID,
		AuthTime: r.AuthTime.UTC(), CreatedAt: r.CreatedAt.UTC(),
		LastSeenAt: r.LastSeenAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
		Remember: r.Remember, UserAgent: r.UserAgent, IP: r.IP,
		AMR: amrOut(r.AMR), ACR: r.ACR, IDP: r.IDP,
	}
}

// CreateSession stores a browser session: ErrAlreadyExists when the id or
// token hash is taken, ErrNotFound when the user does not exist.
func (s *Store) CreateSession(ctx context.Context, sess storage.Session) error {
	_, err := s.write(ctx, `INSERT INTO sessions (`+sessionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		sess.ID, sess.TokenHash, sess.UserID, sess.AuthTime, sess.CreatedAt, sess.LastSeenAt, sess.ExpiresAt,
		sess.Remember, sess.UserAgent, sess.IP, strs(sess.AMR), sess.ACR, sess.IDP)
	if err != nil {
		return fmt.Errorf("create session for user %q: %w", sess.UserID, mapErr(err))
	}
	return nil
}

// GetSessionByTokenHash returns the session whose cookie hashes to
// tokenHash.
func (s *Store) GetSessionByTokenHash(ctx context.Context, tokenHash string) (storage.Session, error) {
	var r sessionRow
	if err := s.get(ctx, &r, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return storage.Session{}, fmt.Errorf("get session by token: %w", mapErr(err))
	}
	return r.session(), nil
}

// GetSession returns the session with that id.
func (s *Store) GetSession(ctx context.Context, id string) (storage.Session, error) {
	var r sessionRow
	if err := s.get(ctx, &r, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1`, id); err != nil {
		return storage.Session{}, fmt.Errorf("get session %q: %w", id, mapErr(err))
	}
	return r.session(), nil
}

// TouchSession updates LastSeenAt and ExpiresAt.
func (s *Store) TouchSession(ctx context.Context, id string, lastSeen, expiresAt time.Time) error {
	if err := s.matchOne(ctx, `UPDATE sessions SET last_seen_at = $2, expires_at = $3 WHERE id = $1`,
		id, lastSeen, expiresAt); err != nil {
		return fmt.Errorf("touch session %q: %w", id, err)
	}
	return nil
}

// queueLogoutsSQL starts the INSERT that queues one back-channel logout
// per ended session and recorded client with a logout URI; the caller
// adds FROM ... with the aliases s (session) and sc (session_clients).
const queueLogoutsSQL = `INSERT INTO backchannel_deliveries (client_id, subject, session_id)
	SELECT sc.client_id, s.user_id, s.id`

// endSessions deletes the sessions the WHERE clause (over sessions) picks
// and, in the same statement, queues their back-channel logouts. The
// session_clients rows go by cascade at the end of the statement; the
// queue reads them from the statement's snapshot.
func (s *Store) endSessions(ctx context.Context, where string, args ...any) (int, error) {
	var n int
	err := s.get(ctx, &n, `WITH gone AS (DELETE FROM sessions WHERE `+where+` RETURNING id, user_id),
		queued AS (`+queueLogoutsSQL+`
			FROM gone s JOIN session_clients sc ON sc.session_id = s.id
			JOIN clients c ON c.id = sc.client_id AND c.backchannel_logout_uri <> '')
		SELECT count(*) FROM gone`, args...)
	if errors.Is(err, sql.ErrNoRows) { // an unstorable key: no such session
		return 0, nil
	}
	return n, mapErr(err)
}

// DeleteSession ends the session and queues its back-channel logouts.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	n, err := s.endSessions(ctx, `id = $1`, id)
	if err == nil && n == 0 {
		err = storage.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete session %q: %w", id, err)
	}
	return nil
}

// DeleteUserSessions deletes the user's sessions but exceptID, queues
// their back-channel logouts and returns how many went.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, exceptID string) (int, error) {
	n, err := s.endSessions(ctx, `user_id = $1 AND id <> $2`, userID, exceptID)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user %q: %w", userID, err)
	}
	return n, nil
}

// ListUserSessions returns the user's sessions, newest (created_at) first.
func (s *Store) ListUserSessions(ctx context.Context, userID string) ([]storage.Session, error) {
	var rows []sessionRow
	err := s.selectAll(ctx, &rows, `SELECT `+sessionColumns+` FROM sessions
		WHERE user_id = $1 ORDER BY created_at DESC, id COLLATE "C" DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list sessions of user %q: %w", userID, mapErr(err))
	}
	out := make([]storage.Session, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.session())
	}
	return out, nil
}

// DeleteExpiredSessions deletes up to limit sessions (no limit when limit
// <= 0) that expired before the given time.
func (s *Store) DeleteExpiredSessions(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := s.deleteExpiredBatch(ctx, "sessions", before, limit)
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}

const keyColumns = `id, algorithm, state, private_key, public_key, created_at, activate_at, retired_at, delete_after`

type keyRow struct {
	ID          string       `db:"id"`
	Algorithm   string       `db:"algorithm"`
	State       string       `db:"state"`
	PrivateKey  []byte       `db:"private_key"`
	PublicKey   []byte       `db:"public_key"`
	CreatedAt   time.Time    `db:"created_at"`
	ActivateAt  sql.NullTime `db:"activate_at"`
	RetiredAt   sql.NullTime `db:"retired_at"`
	DeleteAfter sql.NullTime `db:"delete_after"`
}

func (r keyRow) key() storage.SigningKey {
	return storage.SigningKey{
		ID: r.ID, Algorithm: r.Algorithm, State: storage.KeyState(r.State),
		PrivateKey: binOut(r.PrivateKey), PublicKey: binOut(r.PublicKey),
		CreatedAt: r.CreatedAt.UTC(), ActivateAt: timeOut(r.ActivateAt),
		RetiredAt: timeOut(r.RetiredAt), DeleteAfter: timeOut(r.DeleteAfter),
	}
}

// notNullBin makes a bytea parameter for a NOT NULL column.
func notNullBin(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// CreateKey stores a signing key; ErrAlreadyExists when the id is taken.
func (s *Store) CreateKey(ctx context.Context, k storage.SigningKey) error {
	_, err := s.write(ctx, `INSERT INTO signing_keys (`+keyColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		k.ID, k.Algorithm, string(k.State), notNullBin(k.PrivateKey), notNullBin(k.PublicKey), k.CreatedAt,
		nullTime(k.ActivateAt), nullTime(k.RetiredAt), nullTime(k.DeleteAfter))
	if err != nil {
		return fmt.Errorf("create key %q: %w", k.ID, mapErr(err))
	}
	return nil
}

// GetKey returns the key with that id.
func (s *Store) GetKey(ctx context.Context, id string) (storage.SigningKey, error) {
	var r keyRow
	if err := s.get(ctx, &r, `SELECT `+keyColumns+` FROM signing_keys WHERE id = $1`, id); err != nil {
		return storage.SigningKey{}, fmt.Errorf("get key %q: %w", id, mapErr(err))
	}
	return r.key(), nil
}

// ListKeys returns every key, oldest first.
func (s *Store) ListKeys(ctx context.Context) ([]storage.SigningKey, error) {
	var rows []keyRow
	if err := s.selectAll(ctx, &rows, `SELECT `+keyColumns+` FROM signing_keys
		ORDER BY created_at, id COLLATE "C"`); err != nil {
		return nil, fmt.Errorf("list keys: %w", mapErr(err))
	}
	out := make([]storage.SigningKey, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.key())
	}
	return out, nil
}

// UpdateKey replaces State, PrivateKey, ActivateAt, RetiredAt and
// DeleteAfter.
func (s *Store) UpdateKey(ctx context.Context, k storage.SigningKey) error {
	err := s.updateOne(ctx, `UPDATE signing_keys SET state = $2, private_key = $3, activate_at = $4,
		retired_at = $5, delete_after = $6 WHERE id = $1`,
		k.ID, string(k.State), notNullBin(k.PrivateKey), nullTime(k.ActivateAt), nullTime(k.RetiredAt), nullTime(k.DeleteAfter))
	if err != nil {
		return fmt.Errorf("update key %q: %w", k.ID, err)
	}
	return nil
}

// DeleteKey removes the key.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	if err := s.matchOne(ctx, `DELETE FROM signing_keys WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete key %q: %w", id, err)
	}
	return nil
}

type attemptsRow struct {
	Key         string    `db:"key"`
	Failures    int       `db:"failures"`
	LastFailure time.Time `db:"last_failure"`
}

func (r attemptsRow) attempts() storage.LoginAttempts {
	return storage.LoginAttempts{Key: r.Key, Failures: r.Failures, LastFailure: r.LastFailure.UTC()}
}

// RecordLoginFailure counts a failure at the given time in one upsert, so
// concurrent failures from several replicas all count. The count restarts
// when the last failure was more than window before this one; the latest
// instant is kept when replicas report out of order.
func (s *Store) RecordLoginFailure(ctx context.Context, key string, at time.Time, window time.Duration) (storage.LoginAttempts, error) {
	if !storable(key) {
		return storage.LoginAttempts{}, fmt.Errorf("record login failure: %w", errBadText())
	}
	var r attemptsRow
	err := s.get(ctx, &r, `INSERT INTO login_attempts AS a (key, failures, last_failure)
		VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN a.last_failure < $3 THEN 1 ELSE a.failures + 1 END,
			last_failure = GREATEST(a.last_failure, EXCLUDED.last_failure)
		RETURNING key, failures, last_failure`, key, at, at.Add(-window))
	if err != nil {
		return storage.LoginAttempts{}, fmt.Errorf("record login failure: %w", mapErr(err))
	}
	return r.attempts(), nil
}

// GetLoginAttempts returns the key's counter, the zero value when none.
func (s *Store) GetLoginAttempts(ctx context.Context, key string) (storage.LoginAttempts, error) {
	var r attemptsRow
	err := s.get(ctx, &r, `SELECT key, failures, last_failure FROM login_attempts WHERE key = $1`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.LoginAttempts{}, nil
	}
	if err != nil {
		return storage.LoginAttempts{}, fmt.Errorf("get login attempts: %w", mapErr(err))
	}
	return r.attempts(), nil
}

// ClearLoginAttempts forgets the key's failures.
func (s *Store) ClearLoginAttempts(ctx context.Context, key string) error {
	if _, err := s.matchCount(ctx, `DELETE FROM login_attempts WHERE key = $1`, key); err != nil {
		return fmt.Errorf("clear login attempts: %w", err)
	}
	return nil
}

// DeleteStaleLoginAttempts deletes up to limit counters whose last failure
// is before the given time.
func (s *Store) DeleteStaleLoginAttempts(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := s.deleteBatchWhereBefore(ctx, "login_attempts", "last_failure", before, limit)
	if err != nil {
		return 0, fmt.Errorf("delete stale login attempts: %w", err)
	}
	return n, nil
}

// DeleteExpiredActionTokens deletes up to limit tokens that expired before
// the given time.
func (s *Store) DeleteExpiredActionTokens(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := s.deleteExpiredBatch(ctx, "action_tokens", before, limit)
	if err != nil {
		return 0, fmt.Errorf("delete expired action tokens: %w", err)
	}
	return n, nil
}

const actionTokenColumns = `hash, purpose, user_id, email, created_at, expires_at`

type actionTokenRow struct {
	Hash      string    `db:"hash"`
	Purpose   string    `db:"purpose"`
	UserID    string    `db:"user_id"`
	Email     string    `db:"email"`
	CreatedAt time.Time `db:"created_at"`
	ExpiresAt time.Time `db:"expires_at"`
}

// CreateActionToken stores a link token: ErrAlreadyExists for a duplicate
// (purpose, hash), ErrNotFound when the user does not exist.
func (s *Store) CreateActionToken(ctx context.Context, t storage.ActionToken) error {
	_, err := s.write(ctx, `INSERT INTO action_tokens (`+actionTokenColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6)`, t.Hash, t.Purpose, t.UserID, t.Email, t.CreatedAt, t.ExpiresAt)
	if err != nil {
		return fmt.Errorf("create %s token for user %q: %w", t.Purpose, t.UserID, mapErr(err))
	}
	return nil
}

// GetActionToken returns the token without consuming it.
func (s *Store) GetActionToken(ctx context.Context, purpose, hash string) (storage.ActionToken, error) {
	var r actionTokenRow
	err := s.get(ctx, &r, `SELECT `+actionTokenColumns+` FROM action_tokens WHERE purpose = $1 AND hash = $2`, purpose, hash)
	if err != nil {
		return storage.ActionToken{}, fmt.Errorf("get %s token: %w", purpose, mapErr(err))
	}
	return r.token(), nil
}

// ConsumeActionToken deletes and returns the token in one statement;
// ErrNotFound when absent or already used.
func (s *Store) ConsumeActionToken(ctx context.Context, purpose, hash string) (storage.ActionToken, error) {
	var r actionTokenRow
	err := s.get(ctx, &r, `DELETE FROM action_tokens WHERE purpose = $1 AND hash = $2
		RETURNING `+actionTokenColumns, purpose, hash)
	if err != nil {
		return storage.ActionToken{}, fmt.Errorf("consume %s token: %w", purpose, mapErr(err))
	}
	return r.token(), nil
}

func (r actionTokenRow) token() storage.ActionToken {
	return storage.ActionToken{
		Hash: r.Hash, Purpose: r.Purpose, UserID: r.UserID, Email: r.Email,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
	}
}

// DeleteUserActionTokens removes the user's tokens of that purpose.
func (s *Store) DeleteUserActionTokens(ctx context.Context, userID, purpose string) error {
	if _, err := s.matchCount(ctx, `DELETE FROM action_tokens WHERE user_id = $1 AND purpose = $2`, userID, purpose); err != nil {
		return fmt.Errorf("delete %s tokens of user %q: %w", purpose, userID, err)
	}
	return nil
}

// AppendAudit stores the event; the id comes from the table's sequence (so
// ids of rolled-back events are skipped, never reused).
func (s *Store) AppendAudit(ctx context.Context, e storage.AuditEvent) error {
	details := e.Details
	if details == nil {
		details = map[string]string{}
	}
	// Checked here because JSON encoding would hide bad text: invalid
	// UTF-8 becomes U+FFFD and NUL becomes \u0000, which jsonb refuses.
	for k, v := range details {
		if !storable(k) || !storable(v) {
			return fmt.Errorf("append audit %s: details: %w", e.Action, errBadText())
		}
	}
	js, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("append audit %s: encode details: %w", e.Action, err)
	}
	_, err = s.write(ctx, `INSERT INTO audit_events (at, actor, action, target, ip, details)
		VALUES ($1, $2, $3, $4, $5, $6::jsonb)`, e.At, e.Actor, e.Action, e.Target, e.IP, string(js))
	if err != nil {
		return fmt.Errorf("append audit %s: %w", e.Action, mapErr(err))
	}
	return nil
}

type auditRow struct {
	ID      int64     `db:"id"`
	At      time.Time `db:"at"`
	Actor   string    `db:"actor"`
	Action  string    `db:"action"`
	Target  string    `db:"target"`
	IP      string    `db:"ip"`
	Details []byte    `db:"details"`
}

// ListAudit returns at most limit events (all when limit <= 0), newest
// (at, then id) first.
func (s *Store) ListAudit(ctx context.Context, limit int) ([]storage.AuditEvent, error) {
	var rows []auditRow
	err := s.selectAll(ctx, &rows, `SELECT id, at, actor, action, target, ip, details
		FROM audit_events ORDER BY at DESC, id DESC LIMIT $1`, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", mapErr(err))
	}
	out := make([]storage.AuditEvent, 0, len(rows))
	for _, r := range rows {
		details := map[string]string{}
		if err := json.Unmarshal(r.Details, &details); err != nil {
			return nil, fmt.Errorf("list audit events: decode details of event %d: %w", r.ID, err)
		}
		out = append(out, storage.AuditEvent{
			ID: r.ID, At: r.At.UTC(), Actor: r.Actor, Action: r.Action, Target: r.Target, IP: r.IP, Details: details,
		})
	}
	return out, nil
}
