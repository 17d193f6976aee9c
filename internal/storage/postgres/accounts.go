package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lib/pq"

	"github.com/signet-idp/signet/internal/storage"
)

const clientColumns = `id, secret_hash, name, redirect_uris, post_logout_redirect_uris,
	grant_types, response_types, scopes, audience, token_endpoint_auth_method,
	first_party, id_token_signed_response_alg, access_token_lifespan,
	id_token_lifespan, refresh_token_lifespan, auth_code_lifespan, created_at, updated_at,
	require_mfa, jwks, jwks_uri, token_endpoint_auth_signing_alg,
	require_pushed_authorization_requests, access_token_format,
	backchannel_logout_uri, backchannel_logout_session_required`

type clientRow struct {
	ID                       string         `db:"id"`
	SecretHash               []byte         `db:"secret_hash"`
	Name                     string         `db:"name"`
	RedirectURIs             pq.StringArray `db:"redirect_uris"`
	PostLogoutRedirectURIs   pq.StringArray `db:"post_logout_redirect_uris"`
	GrantTypes               pq.StringArray `db:"grant_types"`
	ResponseTypes            pq.StringArray `db:"response_types"`
	Scopes                   pq.StringArray `db:"scopes"`
	Audience                 pq.StringArray `db:"audience"`
	TokenEndpointAuthMethod  string         `db:"token_endpoint_auth_method"`
	FirstParty               bool           `db:"first_party"`
	IDTokenSignedResponseAlg string         `db:"id_token_signed_response_alg"`
	// Lifespans are bigint nanoseconds: exact, and plain to read in SQL.
	AccessTokenLifespan  int64     `db:"access_token_lifespan"`
	IDTokenLifespan      int64     `db:"id_token_lifespan"`
	RefreshTokenLifespan int64     `db:"refresh_token_lifespan"`
	AuthCodeLifespan     int64     `db:"auth_code_lifespan"`
	CreatedAt            time.Time `db:"created_at"`
	UpdatedAt            time.Time `db:"updated_at"`
	RequireMFA           bool      `db:"require_mfa"`
	JWKS                 string    `db:"jwks"`
	JWKSURI              string    `db:"jwks_uri"`
	AuthSigningAlg       string    `db:"token_endpoint_auth_signing_alg"`
	RequirePAR           bool      `db:"require_pushed_authorization_requests"`
	AccessTokenFormat    string    `db:"access_token_format"`
	// Back-channel logout (migration 0008).
	BackchannelLogoutURI             string `db:"backchannel_logout_uri"`
	BackchannelLogoutSessionRequired bool   `db:"backchannel_logout_session_required"`
}

func (r clientRow) client() storage.Client {
	return storage.Client{
		ID:                                 r.ID,
		SecretHash:                         binOut(r.SecretHash),
		Name:                               r.Name,
		RedirectURIs:                       r.RedirectURIs,
		PostLogoutRedirectURIs:             r.PostLogoutRedirectURIs,
		GrantTypes:                         r.GrantTypes,
		ResponseTypes:                      r.ResponseTypes,
		Scopes:                             r.Scopes,
		Audience:                           r.Audience,
		TokenEndpointAuthMethod:            r.TokenEndpointAuthMethod,
		FirstParty:                         r.FirstParty,
		IDTokenSignedResponseAlg:           r.IDTokenSignedResponseAlg,
		AccessTokenLifespan:                time.Duration(r.AccessTokenLifespan),
		IDTokenLifespan:                    time.Duration(r.IDTokenLifespan),
		RefreshTokenLifespan:               time.Duration(r.RefreshTokenLifespan),
		AuthCodeLifespan:                   time.Duration(r.AuthCodeLifespan),
		CreatedAt:                          r.CreatedAt.UTC(),
		UpdatedAt:                          r.UpdatedAt.UTC(),
		JWKS:                               r.JWKS,
		JWKSURI:                            r.JWKSURI,
		TokenEndpointAuthSigningAlg:        r.AuthSigningAlg,
		RequirePushedAuthorizationRequests: r.RequirePAR,
		AccessTokenFormat:                  r.AccessTokenFormat,
		RequireMFA:                         r.RequireMFA,

		BackchannelLogoutURI:             r.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: r.BackchannelLogoutSessionRequired,
	}
}

// clientArgs lists c's columns in clientColumns order.
func clientArgs(c storage.Client) []any {
	return []any{
		c.ID, bin(c.SecretHash), c.Name, strs(c.RedirectURIs), strs(c.PostLogoutRedirectURIs),
		strs(c.GrantTypes), strs(c.ResponseTypes), strs(c.Scopes), strs(c.Audience), c.TokenEndpointAuthMethod,
		c.FirstParty, c.IDTokenSignedResponseAlg, int64(c.AccessTokenLifespan),
		int64(c.IDTokenLifespan), int64(c.RefreshTokenLifespan), int64(c.AuthCodeLifespan), c.CreatedAt, c.UpdatedAt,
		c.RequireMFA, c.JWKS, c.JWKSURI, c.TokenEndpointAuthSigningAlg, c.RequirePushedAuthorizationRequests,
		c.AccessTokenFormat,
		c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired,
	}
}

// CreateClient stores a new client; ErrAlreadyExists when the id is taken.
func (s *Store) CreateClient(ctx context.Context, c storage.Client) error {
	_, err := s.write(ctx, `INSERT INTO clients (`+clientColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
			$19, $20, $21, $22, $23, $24, $25, $26)`,
		clientArgs(c)...)
	if err != nil {
		return fmt.Errorf("create client %q: %w", c.ID, mapErr(err))
	}
	return nil
}

// GetClient returns the client with that id.
func (s *Store) GetClient(ctx context.Context, id string) (storage.Client, error) {
	var r clientRow
	if err := s.get(ctx, &r, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, id); err != nil {
		return storage.Client{}, fmt.Errorf("get client %q: %w", id, mapErr(err))
	}
	return r.client(), nil
}

// ListClients returns every client, by id.
func (s *Store) ListClients(ctx context.Context) ([]storage.Client, error) {
	var rows []clientRow
	if err := s.selectAll(ctx, &rows, `SELECT `+clientColumns+` FROM clients ORDER BY id COLLATE "C"`); err != nil {
		return nil, fmt.Errorf("list clients: %w", mapErr(err))
	}
	out := make([]storage.Client, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.client())
	}
	return out, nil
}

// UpdateClient replaces every field but ID and CreatedAt.
func (s *Store) UpdateClient(ctx context.Context, c storage.Client) error {
	err := s.updateOne(ctx, `UPDATE clients SET secret_hash = $2, name = $3, redirect_uris = $4,
		post_logout_redirect_uris = $5, grant_types = $6, response_types = $7, scopes = $8,
		audience = $9, token_endpoint_auth_method = $10, first_party = $11,
		id_token_signed_response_alg = $12, access_token_lifespan = $13, id_token_lifespan = $14,
		refresh_token_lifespan = $15, auth_code_lifespan = $16, updated_at = $17, require_mfa = $18,
		jwks = $19, jwks_uri = $20, token_endpoint_auth_signing_alg = $21,
		require_pushed_authorization_requests = $22, access_token_format = $23,
		backchannel_logout_uri = $24, backchannel_logout_session_required = $25
		WHERE id = $1`, slices.Delete(clientArgs(c), 16, 17)...) // all but created_at
	if err != nil {
		return fmt.Errorf("update client %q: %w", c.ID, err)
	}
	return nil
}

// DeleteClient removes the client; its consents go with it (ON DELETE
// CASCADE).
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	if err := s.matchOne(ctx, `DELETE FROM clients WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete client %q: %w", id, err)
	}
	return nil
}

const userColumns = `id, username, email, name, password_hash, email_verified, disabled, created_at, updated_at`

type userRow struct {
	ID            string    `db:"id"`
	Username      string    `db:"username"`
	Email         string    `db:"email"`
	Name          string    `db:"name"`
	PasswordHash  string    `db:"password_hash"`
	EmailVerified bool      `db:"email_verified"`
	Disabled      bool      `db:"disabled"`
	CreatedAt     time.Time `db:"created_at"`
	UpdatedAt     time.Time `db:"updated_at"`
}

func (r userRow) user() storage.User {
	return storage.User{
		ID: r.ID, Username: r.Username, Email: r.Email, Name: r.Name, PasswordHash: r.PasswordHash,
		EmailVerified: r.EmailVerified, Disabled: r.Disabled,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// CreateUser stores a new user; ErrAlreadyExists when the id, user name or
// e-mail is taken (the unique indexes on lower(…) make it case-insensitive).
func (s *Store) CreateUser(ctx context.Context, u storage.User) error {
	_, err := s.write(ctx, `INSERT INTO users (`+userColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		u.ID, u.Username, u.Email, u.Name, u.PasswordHash, u.EmailVerified, u.Disabled, u.CreatedAt, u.UpdatedAt)
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.ID, mapErr(err))
	}
	return nil
}

// GetUser returns the user with that id.
func (s *Store) GetUser(ctx context.Context, id string) (storage.User, error) {
	var r userRow
	if err := s.get(ctx, &r, `SELECT `+userColumns+` FROM users WHERE id = $1`, id); err != nil {
		return storage.User{}, fmt.Errorf("get user %q: %w", id, mapErr(err))
	}
	return r.user(), nil
}

// GetUserByLogin finds a user by user name or e-mail, case-insensitively.
// A user name match wins over another user's e-mail (a user name may look
// like an address). The conditions mirror the unique indexes so both are
// used.
func (s *Store) GetUserByLogin(ctx context.Context, login string) (storage.User, error) {
	var r userRow
	err := s.get(ctx, &r, `SELECT `+userColumns+` FROM users
		WHERE $1 <> '' AND (lower(username) = lower($1) OR (email <> '' AND lower(email) = lower($1)))
		ORDER BY lower(username) = lower($1) DESC
		LIMIT 1`, login)
	if err != nil {
		return storage.User{}, fmt.Errorf("get user by login %q: %w", login, mapErr(err))
	}
	return r.user(), nil
}

// ListUsers returns the users matching q, ordered by lower-cased user name
// (byte order, like the memory store), then id; Limit 0 means no limit.
// strpos rather than LIKE so % and _ in the search are literal.
func (s *Store) ListUsers(ctx context.Context, q storage.UserQuery) ([]storage.User, error) {
	var rows []userRow
	err := s.selectAll(ctx, &rows, `SELECT `+userColumns+` FROM users
		WHERE $1 = ''
		   OR strpos(lower(username), lower($1)) > 0
		   OR strpos(lower(email), lower($1)) > 0
		   OR strpos(lower(name), lower($1)) > 0
		ORDER BY lower(username) COLLATE "C", id COLLATE "C"
		LIMIT $2 OFFSET $3`, q.Search, limitArg(q.Limit), max(q.Offset, 0))
	if err != nil {
		return nil, fmt.Errorf("list users: %w", mapErr(err))
	}
	out := make([]storage.User, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.user())
	}
	return out, nil
}

// UpdateUser replaces every field but ID and CreatedAt.
func (s *Store) UpdateUser(ctx context.Context, u storage.User) error {
	err := s.updateOne(ctx, `UPDATE users SET username = $2, email = $3, name = $4, password_hash = $5,
		email_verified = $6, disabled = $7, updated_at = $8 WHERE id = $1`,
		u.ID, u.Username, u.Email, u.Name, u.PasswordHash, u.EmailVerified, u.Disabled, u.UpdatedAt)
	if err != nil {
		return fmt.Errorf("update user %q: %w", u.ID, err)
	}
	return nil
}

// DeleteUser removes the user; role links, sessions, consents and action
// tokens go with it (ON DELETE CASCADE).
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	// Sessions go by cascade, at the end of the statement: the queue reads
	// their clients from the statement's snapshot, before they go.
	if err := s.matchOne(ctx, `WITH queued AS (`+queueLogoutsSQL+`
		FROM sessions s JOIN session_clients sc ON sc.session_id = s.id
		JOIN clients c ON c.id = sc.client_id AND c.backchannel_logout_uri <> ''
		WHERE s.user_id = $1)
		DELETE FROM users WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete user %q: %w", id, err)
	}
	return nil
}

// SetUserRoles replaces the user's roles in one transaction. Existence is
// checked before anything changes, so inside a caller's transaction a
// missing role does not abort it.
func (s *Store) SetUserRoles(ctx context.Context, userID string, roles []string) error {
	for _, r := range roles {
		if !storable(r) { // no such role can exist
			return fmt.Errorf("set roles of user %q: role %q: %w", userID, r, storage.ErrNotFound)
		}
	}
	err := s.InTx(ctx, func(ctx context.Context) error {
		// FOR KEY SHARE keeps the user from being deleted until we commit.
		var one int
		if err := s.get(ctx, &one, `SELECT 1 FROM users WHERE id = $1 FOR KEY SHARE`, userID); err != nil {
			return mapErr(err)
		}
		var missing []string
		if err := s.selectAll(ctx, &missing, `SELECT r FROM unnest($1::text[]) AS r
			WHERE NOT EXISTS (SELECT 1 FROM roles WHERE name = r)`, strs(roles)); err != nil {
			return mapErr(err)
		}
		if len(missing) > 0 {
			return fmt.Errorf("role %q: %w", missing[0], storage.ErrNotFound)
		}
		if _, err := s.write(ctx, `DELETE FROM user_roles WHERE user_id = $1`, userID); err != nil {
			return mapErr(err)
		}
		// A role deleted since the check fails the foreign key: ErrNotFound.
		if _, err := s.write(ctx, `INSERT INTO user_roles (user_id, role_name)
			SELECT DISTINCT $1::text, r FROM unnest($2::text[]) AS r`, userID, strs(roles)); err != nil {
			return mapErr(err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set roles of user %q: %w", userID, err)
	}
	return nil
}

// ListUserRoles returns the user's role names sorted; empty for a user
// without roles, or an unknown one.
func (s *Store) ListUserRoles(ctx context.Context, userID string) ([]string, error) {
	out := []string{}
	if err := s.selectAll(ctx, &out, `SELECT role_name FROM user_roles
		WHERE user_id = $1 ORDER BY role_name COLLATE "C"`, userID); err != nil {
		return nil, fmt.Errorf("list roles of user %q: %w", userID, mapErr(err))
	}
	return out, nil
}

// GetUserWithRoles reads the user and its sorted roles in one statement.
func (s *Store) GetUserWithRoles(ctx context.Context, id string) (storage.User, []string, error) {
	var r struct {
		userRow
		Roles pq.StringArray `db:"roles"`
	}
	if err := s.get(ctx, &r, `SELECT `+userColumns+`, ARRAY(SELECT role_name FROM user_roles
		WHERE user_id = users.id ORDER BY role_name COLLATE "C") AS roles FROM users WHERE id = $1`, id); err != nil {
		return storage.User{}, nil, fmt.Errorf("get user %q with roles: %w", id, mapErr(err))
	}
	roles := []string(r.Roles)
	if roles == nil {
		roles = []string{}
	}
	return r.user(), roles, nil
}

// ListUsersWithRole returns the sorted ids of the role's holders.
func (s *Store) ListUsersWithRole(ctx context.Context, role string) ([]string, error) {
	out := []string{}
	if err := s.selectAll(ctx, &out, `SELECT user_id FROM user_roles
		WHERE role_name = $1 ORDER BY user_id COLLATE "C"`, role); err != nil {
		return nil, fmt.Errorf("list users with role %q: %w", role, mapErr(err))
	}
	return out, nil
}

type roleRow struct {
	Name        string    `db:"name"`
	Description string    `db:"description"`
	CreatedAt   time.Time `db:"created_at"`
}

func (r roleRow) role() storage.Role {
	return storage.Role{Name: r.Name, Description: r.Description, CreatedAt: r.CreatedAt.UTC()}
}

// CreateRole stores a new role; ErrAlreadyExists when the name is taken.
func (s *Store) CreateRole(ctx context.Context, r storage.Role) error {
	_, err := s.write(ctx, `INSERT INTO roles (name, description, created_at) VALUES ($1, $2, $3)`,
		r.Name, r.Description, r.CreatedAt)
	if err != nil {
		return fmt.Errorf("create role %q: %w", r.Name, mapErr(err))
	}
	return nil
}

// GetRole returns the role with that name.
func (s *Store) GetRole(ctx context.Context, name string) (storage.Role, error) {
	var r roleRow
	if err := s.get(ctx, &r, `SELECT name, description, created_at FROM roles WHERE name = $1`, name); err != nil {
		return storage.Role{}, fmt.Errorf("get role %q: %w", name, mapErr(err))
	}
	return r.role(), nil
}

// ListRoles returns every role, by name.
func (s *Store) ListRoles(ctx context.Context) ([]storage.Role, error) {
	var rows []roleRow
	if err := s.selectAll(ctx, &rows, `SELECT name, description, created_at FROM roles ORDER BY name COLLATE "C"`); err != nil {
		return nil, fmt.Errorf("list roles: %w", mapErr(err))
	}
	out := make([]storage.Role, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.role())
	}
	return out, nil
}

// DeleteRole removes the role; user links go with it (ON DELETE CASCADE).
func (s *Store) DeleteRole(ctx context.Context, name string) error {
	if err := s.matchOne(ctx, `DELETE FROM roles WHERE name = $1`, name); err != nil {
		return fmt.Errorf("delete role %q: %w", name, err)
	}
	return nil
}
