package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// RecordSessionClient notes that the client received tokens in the
// session. It checks that both exist rather than letting the foreign keys
// refuse the row: inside the caller's transaction (the authorization
// endpoint's) a refused INSERT would abort it, and a session that ended
// meanwhile is an expected race.
func (s *Store) RecordSessionClient(ctx context.Context, sessionID, clientID string, at time.Time) error {
	n, err := s.write(ctx, `INSERT INTO session_clients (session_id, client_id, created_at)
		SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM sessions WHERE id = $1)
			AND EXISTS (SELECT 1 FROM clients WHERE id = $2)
		ON CONFLICT DO NOTHING`, sessionID, clientID, at)
	if err == nil && n == 0 {
		var both bool
		err = s.get(ctx, &both, `SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1)
			AND EXISTS (SELECT 1 FROM clients WHERE id = $2)`, sessionID, clientID)
		if err == nil && !both {
			err = storage.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("record client %q of session %q: %w", clientID, sessionID, mapErr(err))
	}
	return nil
}

// ListSessionClients returns the session's recorded client ids, sorted.
func (s *Store) ListSessionClients(ctx context.Context, sessionID string) ([]string, error) {
	out := []string{}
	if err := s.selectAll(ctx, &out, `SELECT client_id FROM session_clients WHERE session_id = $1
		ORDER BY client_id COLLATE "C"`, sessionID); err != nil {
		return nil, fmt.Errorf("list clients of session %q: %w", sessionID, mapErr(err))
	}
	return out, nil
}

type deliveryRow struct {
	ID        int64  `db:"id"`
	ClientID  string `db:"client_id"`
	Subject   string `db:"subject"`
	SessionID string `db:"session_id"`
	Attempts  int    `db:"attempts"`
	LastError string `db:"last_error"`
}

func (r deliveryRow) delivery() storage.BackchannelDelivery {
	return storage.BackchannelDelivery{ID: r.ID, ClientID: r.ClientID, Subject: r.Subject,
		SessionID: r.SessionID, Attempts: r.Attempts, LastError: r.LastError}
}

const deliveryColumns = `id, client_id, subject, session_id, attempts, last_error`

// ClaimBackchannelDeliveries claims due deliveries in one statement. SKIP
// LOCKED lets replicas claim at once without waiting on each other's rows;
// the lease (claimed_until) keeps a claimed row from being claimed again
// after this statement commits, until it lapses.
func (s *Store) ClaimBackchannelDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]storage.BackchannelDelivery, error) {
	var rows []deliveryRow
	err := s.selectAll(ctx, &rows, `UPDATE backchannel_deliveries SET claimed_until = $2, attempts = attempts + 1
		WHERE id IN (SELECT id FROM backchannel_deliveries
			WHERE next_attempt_at <= $1 AND claimed_until <= $1
			ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+deliveryColumns, now, now.Add(lease), limit)
	if err != nil {
		return nil, fmt.Errorf("claim back-channel deliveries: %w", mapErr(err))
	}
	out := make([]storage.BackchannelDelivery, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.delivery())
	}
	return out, nil
}

// ListBackchannelDeliveries returns the queue, oldest first.
func (s *Store) ListBackchannelDeliveries(ctx context.Context) ([]storage.BackchannelDelivery, error) {
	var rows []deliveryRow
	if err := s.selectAll(ctx, &rows, `SELECT `+deliveryColumns+` FROM backchannel_deliveries ORDER BY id`); err != nil {
		return nil, fmt.Errorf("list back-channel deliveries: %w", mapErr(err))
	}
	out := make([]storage.BackchannelDelivery, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.delivery())
	}
	return out, nil
}

// CompleteBackchannelDelivery removes a delivery.
func (s *Store) CompleteBackchannelDelivery(ctx context.Context, id int64) error {
	if err := s.matchOne(ctx, `DELETE FROM backchannel_deliveries WHERE id = $1`, id); err != nil {
		return fmt.Errorf("complete back-channel delivery %d: %w", id, err)
	}
	return nil
}

// RetryBackchannelDelivery releases the claim and schedules the next try.
func (s *Store) RetryBackchannelDelivery(ctx context.Context, id int64, next time.Time, lastError string) error {
	if err := s.updateOne(ctx, `UPDATE backchannel_deliveries SET next_attempt_at = $2,
		claimed_until = '-infinity', last_error = $3 WHERE id = $1`, id, next, lastError); err != nil {
		return fmt.Errorf("retry back-channel delivery %d: %w", id, err)
	}
	return nil
}

const registrationTokenColumns = `id, token_hash, description, created_at, expires_at, max_uses, uses`

type registrationTokenRow struct {
	ID          string       `db:"id"`
	Hash        string       `db:"token_hash"`
	Description string       `db:"description"`
	CreatedAt   time.Time    `db:"created_at"`
	ExpiresAt   sql.NullTime `db:"expires_at"`
	MaxUses     int          `db:"max_uses"`
	Uses        int          `db:"uses"`
}

func (r registrationTokenRow) token() storage.RegistrationToken {
	return storage.RegistrationToken{ID: r.ID, Hash: r.Hash, Description: r.Description,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: timeOut(r.ExpiresAt), MaxUses: r.MaxUses, Uses: r.Uses}
}

// CreateRegistrationToken stores an initial access token (its hash).
func (s *Store) CreateRegistrationToken(ctx context.Context, t storage.RegistrationToken) error {
	_, err := s.write(ctx, `INSERT INTO registration_tokens (`+registrationTokenColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.ID, t.Hash, t.Description, t.CreatedAt, nullTime(t.ExpiresAt), t.MaxUses, t.Uses)
	if err != nil {
		return fmt.Errorf("create registration token %q: %w", t.ID, mapErr(err))
	}
	return nil
}

// ListRegistrationTokens returns every token, oldest first.
func (s *Store) ListRegistrationTokens(ctx context.Context) ([]storage.RegistrationToken, error) {
	var rows []registrationTokenRow
	if err := s.selectAll(ctx, &rows, `SELECT `+registrationTokenColumns+` FROM registration_tokens
		ORDER BY created_at, id COLLATE "C"`); err != nil {
		return nil, fmt.Errorf("list registration tokens: %w", mapErr(err))
	}
	out := make([]storage.RegistrationToken, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.token())
	}
	return out, nil
}

// DeleteRegistrationToken revokes a token.
func (s *Store) DeleteRegistrationToken(ctx context.Context, id string) error {
	if err := s.matchOne(ctx, `DELETE FROM registration_tokens WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete registration token %q: %w", id, err)
	}
	return nil
}

// UseRegistrationToken counts a use in one conditional UPDATE, so two
// registrations cannot both spend a token's last use.
func (s *Store) UseRegistrationToken(ctx context.Context, hash string, now time.Time) (storage.RegistrationToken, error) {
	var r registrationTokenRow
	err := s.get(ctx, &r, `UPDATE registration_tokens SET uses = uses + 1
		WHERE token_hash = $1 AND (expires_at IS NULL OR expires_at > $2) AND (max_uses = 0 OR uses < max_uses)
		RETURNING `+registrationTokenColumns, hash, now)
	if err != nil {
		return storage.RegistrationToken{}, fmt.Errorf("use registration token: %w", mapErr(err))
	}
	return r.token(), nil
}

// SetClientRegistrationToken stores the hash of a client's registration
// access token.
func (s *Store) SetClientRegistrationToken(ctx context.Context, clientID, hash string) error {
	_, err := s.write(ctx, `INSERT INTO client_registration_tokens (client_id, token_hash) VALUES ($1, $2)
		ON CONFLICT (client_id) DO UPDATE SET token_hash = EXCLUDED.token_hash`, clientID, hash)
	if err != nil {
		return fmt.Errorf("set registration access token of client %q: %w", clientID, mapErr(err))
	}
	return nil
}

// GetClientRegistrationToken returns the hash of the client's registration
// access token.
func (s *Store) GetClientRegistrationToken(ctx context.Context, clientID string) (string, error) {
	var h string
	if err := s.get(ctx, &h, `SELECT token_hash FROM client_registration_tokens WHERE client_id = $1`, clientID); err != nil {
		return "", fmt.Errorf("get registration access token of client %q: %w", clientID, mapErr(err))
	}
	return h, nil
}
