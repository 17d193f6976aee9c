package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

const connectorColumns = `id, type, name, icon_url, enabled, client_id, client_secret, config,
	role_rules, default_role, created_at, updated_at`

type connectorRow struct {
	ID           string    `db:"id"`
	Type         string    `db:"type"`
	Name         string    `db:"name"`
	IconURL      string    `db:"icon_url"`
	Enabled      bool      `db:"enabled"`
	ClientID     string    `db:"client_id"`
	ClientSecret []byte    `db:"client_secret"`
	Config       string    `db:"config"`
	RoleRules    []byte    `db:"role_rules"`
	DefaultRole  string    `db:"default_role"`
	CreatedAt    time.Time `db:"created_at"`
	UpdatedAt    time.Time `db:"updated_at"`
}

func (r connectorRow) connector() (storage.Connector, error) {
	rules := []storage.RoleRule{}
	if err := json.Unmarshal(r.RoleRules, &rules); err != nil {
		return storage.Connector{}, fmt.Errorf("connector %q: role rules: %w", r.ID, err)
	}
	if rules == nil {
		rules = []storage.RoleRule{}
	}
	return storage.Connector{
		ID: r.ID, Type: r.Type, Name: r.Name, IconURL: r.IconURL, Enabled: r.Enabled,
		ClientID: r.ClientID, ClientSecret: binOut(r.ClientSecret), Config: []byte(r.Config),
		RoleRules: rules, DefaultRole: r.DefaultRole,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}, nil
}

func connectorConfig(b []byte) string {
	if len(b) == 0 {
		return "{}"
	}
	return string(b)
}

func roleRulesArg(rules []storage.RoleRule) (string, error) {
	if rules == nil {
		rules = []storage.RoleRule{}
	}
	b, err := json.Marshal(rules)
	return string(b), err
}

// CreateConnector stores a connector: ErrAlreadyExists when the id is taken.
func (s *Store) CreateConnector(ctx context.Context, c storage.Connector) error {
	rules, err := roleRulesArg(c.RoleRules)
	if err != nil {
		return fmt.Errorf("create connector %q: %w", c.ID, err)
	}
	_, err = s.write(ctx, `INSERT INTO connectors (`+connectorColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		c.ID, c.Type, c.Name, c.IconURL, c.Enabled, c.ClientID, bin(c.ClientSecret), connectorConfig(c.Config),
		rules, c.DefaultRole, c.CreatedAt, c.UpdatedAt)
	if err != nil {
		return fmt.Errorf("create connector %q: %w", c.ID, mapErr(err))
	}
	return nil
}

// GetConnector returns the connector with that id.
func (s *Store) GetConnector(ctx context.Context, id string) (storage.Connector, error) {
	var r connectorRow
	if err := s.get(ctx, &r, `SELECT `+connectorColumns+` FROM connectors WHERE id = $1`, id); err != nil {
		return storage.Connector{}, fmt.Errorf("get connector %q: %w", id, mapErr(err))
	}
	return r.connector()
}

// ListConnectors returns every connector ordered by id.
func (s *Store) ListConnectors(ctx context.Context) ([]storage.Connector, error) {
	var rows []connectorRow
	if err := s.selectAll(ctx, &rows, `SELECT `+connectorColumns+` FROM connectors ORDER BY id COLLATE "C"`); err != nil {
		return nil, fmt.Errorf("list connectors: %w", mapErr(err))
	}
	out := make([]storage.Connector, 0, len(rows))
	for _, r := range rows {
		c, err := r.connector()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// UpdateConnector replaces every field but ID, Type and CreatedAt.
func (s *Store) UpdateConnector(ctx context.Context, c storage.Connector) error {
	rules, err := roleRulesArg(c.RoleRules)
	if err != nil {
		return fmt.Errorf("update connector %q: %w", c.ID, err)
	}
	err = s.updateOne(ctx, `UPDATE connectors SET name = $2, icon_url = $3, enabled = $4, client_id = $5,
		client_secret = $6, config = $7, role_rules = $8, default_role = $9, updated_at = $10 WHERE id = $1`,
		c.ID, c.Name, c.IconURL, c.Enabled, c.ClientID, bin(c.ClientSecret), connectorConfig(c.Config),
		rules, c.DefaultRole, c.UpdatedAt)
	if err != nil {
		return fmt.Errorf("update connector %q: %w", c.ID, mapErr(err))
	}
	return nil
}

// DeleteConnector removes the connector; its identities go with it (ON
// DELETE CASCADE).
func (s *Store) DeleteConnector(ctx context.Context, id string) error {
	if err := s.matchOne(ctx, `DELETE FROM connectors WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete connector %q: %w", id, err)
	}
	return nil
}

const upstreamColumns = `connector_id, subject, user_id, email, created_at, last_login_at`

type upstreamRow struct {
	ConnectorID string       `db:"connector_id"`
	Subject     string       `db:"subject"`
	UserID      string       `db:"user_id"`
	Email       string       `db:"email"`
	CreatedAt   time.Time    `db:"created_at"`
	LastLoginAt sql.NullTime `db:"last_login_at"`
}

func (r upstreamRow) identity() storage.UpstreamIdentity {
	return storage.UpstreamIdentity{
		ConnectorID: r.ConnectorID, Subject: r.Subject, UserID: r.UserID, Email: r.Email,
		CreatedAt: r.CreatedAt.UTC(), LastLoginAt: timeOut(r.LastLoginAt),
	}
}

// CreateUpstreamIdentity links an upstream account to a user.
func (s *Store) CreateUpstreamIdentity(ctx context.Context, u storage.UpstreamIdentity) error {
	_, err := s.write(ctx, `INSERT INTO upstream_identities (`+upstreamColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		u.ConnectorID, u.Subject, u.UserID, u.Email, u.CreatedAt, nullTime(u.LastLoginAt))
	if err != nil {
		return fmt.Errorf("create upstream identity at %q: %w", u.ConnectorID, mapErr(err))
	}
	return nil
}

// GetUpstreamIdentity returns the link of (connector, subject).
func (s *Store) GetUpstreamIdentity(ctx context.Context, connectorID, subject string) (storage.UpstreamIdentity, error) {
	var r upstreamRow
	if err := s.get(ctx, &r, `SELECT `+upstreamColumns+` FROM upstream_identities
		WHERE connector_id = $1 AND subject = $2`, connectorID, subject); err != nil {
		return storage.UpstreamIdentity{}, fmt.Errorf("get upstream identity at %q: %w", connectorID, mapErr(err))
	}
	return r.identity(), nil
}

// ListUserUpstreamIdentities returns the user's identities by connector id.
func (s *Store) ListUserUpstreamIdentities(ctx context.Context, userID string) ([]storage.UpstreamIdentity, error) {
	var rows []upstreamRow
	if err := s.selectAll(ctx, &rows, `SELECT `+upstreamColumns+` FROM upstream_identities
		WHERE user_id = $1 ORDER BY connector_id COLLATE "C"`, userID); err != nil {
		return nil, fmt.Errorf("list upstream identities: %w", mapErr(err))
	}
	out := make([]storage.UpstreamIdentity, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.identity())
	}
	return out, nil
}

// TouchUpstreamIdentity sets LastLoginAt.
func (s *Store) TouchUpstreamIdentity(ctx context.Context, connectorID, subject string, at time.Time) error {
	if err := s.matchOne(ctx, `UPDATE upstream_identities SET last_login_at = $3
		WHERE connector_id = $1 AND subject = $2`, connectorID, subject, at); err != nil {
		return fmt.Errorf("touch upstream identity at %q: %w", connectorID, err)
	}
	return nil
}

// DeleteUpstreamIdentity removes the user's identity at the connector.
func (s *Store) DeleteUpstreamIdentity(ctx context.Context, userID, connectorID string) error {
	if err := s.matchOne(ctx, `DELETE FROM upstream_identities WHERE user_id = $1 AND connector_id = $2`,
		userID, connectorID); err != nil {
		return fmt.Errorf("delete upstream identity at %q: %w", connectorID, err)
	}
	return nil
}

// ResealConnectorSecret swaps the sealed client secret in one conditional
// UPDATE (updated_at stays: the secret itself did not change).
func (s *Store) ResealConnectorSecret(ctx context.Context, id string, old, sealed []byte) error {
	n, err := s.matchCount(ctx, `UPDATE connectors SET client_secret = $3
		WHERE id = $1 AND client_secret IS NOT DISTINCT FROM $2`, id, bin(old), bin(sealed))
	if err != nil {
		return fmt.Errorf("re-seal client secret of connector %q: %w", id, err)
	}
	if n == 1 {
		return nil
	}
	var one int
	err = s.get(ctx, &one, `SELECT 1 FROM connectors WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("re-seal client secret of connector %q: %w", id, storage.ErrNotFound)
	} else if err != nil {
		return fmt.Errorf("re-seal client secret of connector %q: %w", id, mapErr(err))
	}
	return fmt.Errorf("re-seal client secret of connector %q: the secret changed: %w", id, storage.ErrConflict)
}
