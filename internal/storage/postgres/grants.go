package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/signet-idp/signet/internal/storage"
)

const requestColumns = `kind, signature, request_id, client_id, subject, requested_at, expires_at,
	requested_scopes, granted_scopes, requested_audience, granted_audience, form, session,
	active, access_signature, rotated_at`

// requestSelectColumns are requestColumns and those only revocation
// writes (new rows take their defaults).
const requestSelectColumns = requestColumns + `, revoked_reason`

type requestRow struct {
	Kind              string         `db:"kind"`
	Signature         string         `db:"signature"`
	RequestID         string         `db:"request_id"`
	ClientID          string         `db:"client_id"`
	Subject           string         `db:"subject"`
	RequestedAt       time.Time      `db:"requested_at"`
	ExpiresAt         sql.NullTime   `db:"expires_at"`
	RequestedScopes   pq.StringArray `db:"requested_scopes"`
	GrantedScopes     pq.StringArray `db:"granted_scopes"`
	RequestedAudience pq.StringArray `db:"requested_audience"`
	GrantedAudience   pq.StringArray `db:"granted_audience"`
	Form              string         `db:"form"`
	Session           []byte         `db:"session"`
	Active            bool           `db:"active"`
	AccessSignature   string         `db:"access_signature"`
	RotatedAt         sql.NullTime   `db:"rotated_at"`
	RevokedReason     string         `db:"revoked_reason"`
}

func (r requestRow) request() storage.OAuthRequest {
	return storage.OAuthRequest{
		Kind: storage.RequestKind(r.Kind), Signature: r.Signature, RequestID: r.RequestID,
		ClientID: r.ClientID, Subject: r.Subject,
		RequestedAt: r.RequestedAt.UTC(), ExpiresAt: timeOut(r.ExpiresAt),
		RequestedScopes: r.RequestedScopes, GrantedScopes: r.GrantedScopes,
		RequestedAudience: r.RequestedAudience, GrantedAudience: r.GrantedAudience,
		Form: r.Form, Session: binOut(r.Session), Active: r.Active, AccessSignature: r.AccessSignature,
		RotatedAt: timeOut(r.RotatedAt), RevokedReason: r.RevokedReason,
	}
}

// CreateOAuthRequest stores a request row; ErrAlreadyExists for a
// duplicate (kind, signature). A zero ExpiresAt is stored as NULL: the row
// never expires. Outside a transaction the row is written together with
// the others waiting at the same moment (batch.go).
func (s *Store) CreateOAuthRequest(ctx context.Context, r storage.OAuthRequest) error {
	if s.handle(ctx) == nil && argsStorable(requestArgs(r)) {
		return s.batch.insert(ctx, r)
	}
	return s.insertOne(ctx, r)
}

// insertOne writes one row with its own INSERT.
func (s *Store) insertOne(ctx context.Context, r storage.OAuthRequest) error {
	_, err := s.write(ctx, `INSERT INTO oauth2_requests (`+requestColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`, requestArgs(r)...)
	if err != nil {
		return fmt.Errorf("create %s request: %w", r.Kind, mapErr(err))
	}
	return nil
}

// ListOAuthRequestsBySignature returns the rows of those kinds with that
// signature: kind = ANY probes the primary key (kind, signature) once per
// kind, so no index of its own is needed.
func (s *Store) ListOAuthRequestsBySignature(ctx context.Context, signature string, kinds []storage.RequestKind) ([]storage.OAuthRequest, error) {
	ks := make([]string, len(kinds))
	for i, k := range kinds {
		ks[i] = string(k)
	}
	var rows []requestRow
	if err := s.selectAll(ctx, &rows, `SELECT `+requestSelectColumns+` FROM oauth2_requests
		WHERE kind = ANY($1) AND signature = $2 ORDER BY kind`, strs(ks), signature); err != nil {
		return nil, fmt.Errorf("list requests by signature: %w", mapErr(err))
	}
	out := make([]storage.OAuthRequest, len(rows))
	for i, r := range rows {
		out[i] = r.request()
	}
	return out, nil
}

// CreateOAuthRequests stores the rows with one multi-row INSERT: one
// statement, so all or none.
func (s *Store) CreateOAuthRequests(ctx context.Context, rows []storage.OAuthRequest) error {
	if len(rows) == 0 {
		return nil
	}
	const cols = 16
	var b strings.Builder
	b.WriteString(`INSERT INTO oauth2_requests (` + requestColumns + `) VALUES `)
	args := make([]any, 0, cols*len(rows))
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range cols {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", i*cols+j+1)
		}
		b.WriteByte(')')
		args = append(args, requestArgs(r)...)
	}
	if _, err := s.write(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("create %d requests: %w", len(rows), mapErr(err))
	}
	return nil
}

// requestArgs are a row's INSERT arguments, in requestColumns order.
func requestArgs(r storage.OAuthRequest) []any {
	return []any{string(r.Kind), r.Signature, r.RequestID, r.ClientID, r.Subject, r.RequestedAt, nullTime(r.ExpiresAt),
		strs(r.RequestedScopes), strs(r.GrantedScopes), strs(r.RequestedAudience), strs(r.GrantedAudience),
		r.Form, bin(r.Session), r.Active, r.AccessSignature, nullTime(r.RotatedAt)}
}

// GetOAuthRequest returns the row, active or not.
func (s *Store) GetOAuthRequest(ctx context.Context, kind storage.RequestKind, signature string) (storage.OAuthRequest, error) {
	var r requestRow
	err := s.get(ctx, &r, `SELECT `+requestSelectColumns+` FROM oauth2_requests
		WHERE kind = $1 AND signature = $2`, string(kind), signature)
	if err != nil {
		return storage.OAuthRequest{}, fmt.Errorf("get %s request: %w", kind, mapErr(err))
	}
	return r.request(), nil
}

// DeleteOAuthRequest removes the row.
func (s *Store) DeleteOAuthRequest(ctx context.Context, kind storage.RequestKind, signature string) error {
	if err := s.matchOne(ctx, `DELETE FROM oauth2_requests WHERE kind = $1 AND signature = $2`, string(kind), signature); err != nil {
		return fmt.Errorf("delete %s request: %w", kind, err)
	}
	return nil
}

// DeactivateOAuthRequest marks an active row inactive. The UPDATE is
// conditional on the row being active, so of concurrent callers exactly one
// changes it (the others wait on the row lock, then find it inactive); a
// miss is then told apart: no row is ErrNotFound, an inactive one
// ErrConflict.
func (s *Store) DeactivateOAuthRequest(ctx context.Context, kind storage.RequestKind, signature string) error {
	n, err := s.matchCount(ctx, `UPDATE oauth2_requests SET active = false
		WHERE kind = $1 AND signature = $2 AND active`, string(kind), signature)
	if err != nil {
		return fmt.Errorf("deactivate %s request: %w", kind, err)
	}
	return s.explainMiss(ctx, n, kind, signature)
}

// explainMiss tells apart why a conditional deactivation touched no row:
// none exists (ErrNotFound) or it was already inactive (ErrConflict).
func (s *Store) explainMiss(ctx context.Context, n int, kind storage.RequestKind, signature string) error {
	if n > 0 {
		return nil
	}
	var exists bool
	if err := s.get(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM oauth2_requests
		WHERE kind = $1 AND signature = $2)`, string(kind), signature); err != nil {
		return fmt.Errorf("deactivate %s request: %w", kind, mapErr(err))
	}
	if !exists {
		return fmt.Errorf("deactivate %s request: %w", kind, storage.ErrNotFound)
	}
	return fmt.Errorf("deactivate %s request: already inactive: %w", kind, storage.ErrConflict)
}

// RotateRefreshToken deactivates the refresh token (stamping RotatedAt)
// and its grant's access tokens in one statement: one round trip, and
// atomic without a transaction. PostgreSQL runs every data-modifying CTE
// once whether or not the query reads it; the access tokens are only
// touched when the refresh row was (EXISTS over r), so a loser of a race
// changes nothing.
func (s *Store) RotateRefreshToken(ctx context.Context, signature, requestID string, at time.Time) error {
	if !argsStorable([]any{signature, requestID}) {
		return fmt.Errorf("rotate refresh token: %w", storage.ErrNotFound)
	}
	var n int
	err := sqlx.GetContext(ctx, s.q(ctx), &n, `WITH r AS (
			UPDATE oauth2_requests SET active = false, rotated_at = $3
			WHERE kind = 'refresh_token' AND signature = $1 AND active
			RETURNING 1
		), a AS (
			UPDATE oauth2_requests SET active = false
			WHERE kind = 'access_token' AND request_id = $2 AND active AND EXISTS (SELECT 1 FROM r)
			RETURNING 1
		)
		SELECT count(*) FROM r`, signature, requestID, at)
	if err != nil {
		return fmt.Errorf("rotate refresh token: %w", mapErr(err))
	}
	if err := s.explainMiss(ctx, n, storage.KindRefreshToken, signature); err != nil {
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	return nil
}

// DeactivateOAuthRequestsByRequestID marks every active row of that kind
// and grant inactive, with the reason.
func (s *Store) DeactivateOAuthRequestsByRequestID(ctx context.Context, kind storage.RequestKind, requestID, reason string) error {
	if _, err := s.matchCount(ctx, `UPDATE oauth2_requests SET active = false, revoked_reason = $3
		WHERE kind = $1 AND request_id = $2 AND active`, string(kind), requestID, reason); err != nil {
		return fmt.Errorf("deactivate %s requests of grant: %w", kind, err)
	}
	return nil
}

// DeleteOAuthRequestsByRequestID deletes every row of that kind and grant.
func (s *Store) DeleteOAuthRequestsByRequestID(ctx context.Context, kind storage.RequestKind, requestID string) error {
	if _, err := s.matchCount(ctx, `DELETE FROM oauth2_requests WHERE kind = $1 AND request_id = $2`,
		string(kind), requestID); err != nil {
		return fmt.Errorf("delete %s requests of grant: %w", kind, err)
	}
	return nil
}

// DeactivateOAuthRequestsBySubject marks inactive every row of the subject,
// only those of clientID when it is not empty.
func (s *Store) DeactivateOAuthRequestsBySubject(ctx context.Context, subject, clientID string) error {
	if _, err := s.matchCount(ctx, `UPDATE oauth2_requests SET active = false
		WHERE subject = $1 AND ($2 = '' OR client_id = $2) AND active`, subject, clientID); err != nil {
		return fmt.Errorf("deactivate requests of subject %q: %w", subject, err)
	}
	return nil
}

// deleteExpiredBatch deletes up to limit rows of table (no limit when limit
// <= 0) whose expires_at is before the given time. DELETE has no LIMIT, so
// the batch is chosen by physical row id; the planner answers with TID
// scans. Batches keep each janitor statement short, so it neither holds
// many row locks nor bloats one transaction. table is a constant from this
// package, never input.
func (s *Store) deleteExpiredBatch(ctx context.Context, table string, before time.Time, limit int) (int, error) {
	return s.deleteBatchWhereBefore(ctx, table, "expires_at", before, limit)
}

// deleteBatchWhereBefore deletes up to limit rows of table whose column
// (a timestamp) is before the given time. table and column are constants
// of this package, never input.
func (s *Store) deleteBatchWhereBefore(ctx context.Context, table, column string, before time.Time, limit int) (int, error) {
	return s.matchCount(ctx, `DELETE FROM `+table+` WHERE ctid IN (
		SELECT ctid FROM `+table+` WHERE `+column+` < $1 LIMIT $2)`, before, limitArg(limit))
}

// DeleteExpiredOAuthRequests deletes up to limit rows (no limit when limit
// <= 0) that expired before the given time. Rows without expiry stay.
func (s *Store) DeleteExpiredOAuthRequests(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := s.deleteExpiredBatch(ctx, "oauth2_requests", before, limit)
	if err != nil {
		return 0, fmt.Errorf("delete expired requests: %w", err)
	}
	return n, nil
}

const challengeColumns = `id, client_id, form, requested_scopes, created_at, expires_at,
	subject, auth_time, session_id, consent_given, granted_scopes`

type challengeRow struct {
	ID              string         `db:"id"`
	ClientID        string         `db:"client_id"`
	Form            string         `db:"form"`
	RequestedScopes pq.StringArray `db:"requested_scopes"`
	CreatedAt       time.Time      `db:"created_at"`
	ExpiresAt       time.Time      `db:"expires_at"`
	Subject         string         `db:"subject"`
	AuthTime        sql.NullTime   `db:"auth_time"`
	SessionID       string         `db:"session_id"`
	ConsentGiven    bool           `db:"consent_given"`
	GrantedScopes   pq.StringArray `db:"granted_scopes"`
}

func (r challengeRow) challenge() storage.LoginChallenge {
	return storage.LoginChallenge{
		ID: r.ID, ClientID: r.ClientID, Form: r.Form, RequestedScopes: r.RequestedScopes,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
		Subject: r.Subject, AuthTime: timeOut(r.AuthTime), SessionID: r.SessionID,
		ConsentGiven: r.ConsentGiven, GrantedScopes: r.GrantedScopes,
	}
}

// CreateLoginChallenge stores a parked authorization request.
func (s *Store) CreateLoginChallenge(ctx context.Context, c storage.LoginChallenge) error {
	_, err := s.write(ctx, `INSERT INTO login_challenges (`+challengeColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		c.ID, c.ClientID, c.Form, strs(c.RequestedScopes), c.CreatedAt, c.ExpiresAt,
		c.Subject, nullTime(c.AuthTime), c.SessionID, c.ConsentGiven, strs(c.GrantedScopes))
	if err != nil {
		return fmt.Errorf("create login challenge: %w", mapErr(err))
	}
	return nil
}

// GetLoginChallenge returns the challenge with that id.
func (s *Store) GetLoginChallenge(ctx context.Context, id string) (storage.LoginChallenge, error) {
	var r challengeRow
	if err := s.get(ctx, &r, `SELECT `+challengeColumns+` FROM login_challenges WHERE id = $1`, id); err != nil {
		return storage.LoginChallenge{}, fmt.Errorf("get login challenge: %w", mapErr(err))
	}
	return r.challenge(), nil
}

// UpdateLoginChallenge replaces Subject, AuthTime, SessionID, ConsentGiven
// and GrantedScopes.
func (s *Store) UpdateLoginChallenge(ctx context.Context, c storage.LoginChallenge) error {
	err := s.updateOne(ctx, `UPDATE login_challenges SET subject = $2, auth_time = $3, session_id = $4,
		consent_given = $5, granted_scopes = $6 WHERE id = $1`,
		c.ID, c.Subject, nullTime(c.AuthTime), c.SessionID, c.ConsentGiven, strs(c.GrantedScopes))
	if err != nil {
		return fmt.Errorf("update login challenge: %w", err)
	}
	return nil
}

// ConsumeLoginChallenge deletes and returns the challenge in one statement;
// of concurrent callers only the one whose DELETE removed the row gets it,
// the rest ErrNotFound.
func (s *Store) ConsumeLoginChallenge(ctx context.Context, id string) (storage.LoginChallenge, error) {
	var r challengeRow
	if err := s.get(ctx, &r, `DELETE FROM login_challenges WHERE id = $1
		RETURNING `+challengeColumns, id); err != nil {
		return storage.LoginChallenge{}, fmt.Errorf("consume login challenge: %w", mapErr(err))
	}
	return r.challenge(), nil
}

// DeleteExpiredLoginChallenges deletes up to limit challenges (no limit
// when limit <= 0) that expired before the given time.
func (s *Store) DeleteExpiredLoginChallenges(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := s.deleteExpiredBatch(ctx, "login_challenges", before, limit)
	if err != nil {
		return 0, fmt.Errorf("delete expired login challenges: %w", err)
	}
	return n, nil
}

type consentRow struct {
	UserID    string         `db:"user_id"`
	ClientID  string         `db:"client_id"`
	Scopes    pq.StringArray `db:"scopes"`
	CreatedAt time.Time      `db:"created_at"`
	UpdatedAt time.Time      `db:"updated_at"`
}

func (r consentRow) consent() storage.Consent {
	return storage.Consent{UserID: r.UserID, ClientID: r.ClientID, Scopes: r.Scopes,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// UpsertConsent creates or replaces the consent of (UserID, ClientID); a
// replaced consent keeps its CreatedAt. ErrNotFound when the user or client
// does not exist (foreign keys).
func (s *Store) UpsertConsent(ctx context.Context, c storage.Consent) error {
	_, err := s.write(ctx, `INSERT INTO consents (user_id, client_id, scopes, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = EXCLUDED.scopes, updated_at = EXCLUDED.updated_at`,
		c.UserID, c.ClientID, strs(c.Scopes), c.CreatedAt, c.UpdatedAt)
	if err != nil {
		return fmt.Errorf("upsert consent of user %q for client %q: %w", c.UserID, c.ClientID, mapErr(err))
	}
	return nil
}

// GetConsent returns the user's consent for the client.
func (s *Store) GetConsent(ctx context.Context, userID, clientID string) (storage.Consent, error) {
	var r consentRow
	err := s.get(ctx, &r, `SELECT user_id, client_id, scopes, created_at, updated_at
		FROM consents WHERE user_id = $1 AND client_id = $2`, userID, clientID)
	if err != nil {
		return storage.Consent{}, fmt.Errorf("get consent of user %q for client %q: %w", userID, clientID, mapErr(err))
	}
	return r.consent(), nil
}

// ListConsents returns the user's consents, by client id.
func (s *Store) ListConsents(ctx context.Context, userID string) ([]storage.Consent, error) {
	var rows []consentRow
	err := s.selectAll(ctx, &rows, `SELECT user_id, client_id, scopes, created_at, updated_at
		FROM consents WHERE user_id = $1 ORDER BY client_id COLLATE "C"`, userID)
	if err != nil {
		return nil, fmt.Errorf("list consents of user %q: %w", userID, mapErr(err))
	}
	out := make([]storage.Consent, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.consent())
	}
	return out, nil
}

// DeleteConsent removes the user's consent for the client.
func (s *Store) DeleteConsent(ctx context.Context, userID, clientID string) error {
	if err := s.matchOne(ctx, `DELETE FROM consents WHERE user_id = $1 AND client_id = $2`, userID, clientID); err != nil {
		return fmt.Errorf("delete consent of user %q for client %q: %w", userID, clientID, err)
	}
	return nil
}
