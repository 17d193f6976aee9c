-- Signet's initial schema: every table of the storage contract
-- (internal/storage/storage.go).
--
-- Conventions:
--   * durations are bigint nanoseconds (Go's time.Duration), so they round
--     trip exactly;
--   * optional instants (a key's retired_at, a token row without expiry, …)
--     are NULL rather than Go's zero time;
--   * lists are text[] NOT NULL DEFAULT '{}';
--   * user names and e-mails are unique case-insensitively through unique
--     indexes on lower(…); an empty e-mail means "none" and is not unique.

-- +goose Up
CREATE TABLE clients (
    id                          text PRIMARY KEY,
    secret_hash                 bytea,
    name                        text NOT NULL DEFAULT '',
    redirect_uris               text[] NOT NULL DEFAULT '{}',
    post_logout_redirect_uris   text[] NOT NULL DEFAULT '{}',
    grant_types                 text[] NOT NULL DEFAULT '{}',
    response_types              text[] NOT NULL DEFAULT '{}',
    scopes                      text[] NOT NULL DEFAULT '{}',
    audience                    text[] NOT NULL DEFAULT '{}',
    token_endpoint_auth_method  text NOT NULL DEFAULT '',
    first_party                 boolean NOT NULL DEFAULT false,
    id_token_signed_response_alg text NOT NULL DEFAULT '',
    access_token_lifespan       bigint NOT NULL DEFAULT 0,
    id_token_lifespan           bigint NOT NULL DEFAULT 0,
    refresh_token_lifespan      bigint NOT NULL DEFAULT 0,
    auth_code_lifespan          bigint NOT NULL DEFAULT 0,
    created_at                  timestamptz NOT NULL,
    updated_at                  timestamptz NOT NULL
);

CREATE TABLE users (
    id              text PRIMARY KEY,
    username        text NOT NULL,
    email           text NOT NULL DEFAULT '',
    name            text NOT NULL DEFAULT '',
    password_hash   text NOT NULL DEFAULT '',
    email_verified  boolean NOT NULL DEFAULT false,
    disabled        boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email)) WHERE email <> '';

CREATE TABLE roles (
    name        text PRIMARY KEY,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO roles (name, description) VALUES
    ('admin', 'Administrator: may use the admin API and console'),
    ('user', 'Regular user');

CREATE TABLE user_roles (
    user_id   text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_name text NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_name)
);
-- ListUsersWithRole and the cascade from roles.
CREATE INDEX user_roles_role_name_idx ON user_roles (role_name);

-- No foreign key to clients: deleting a client leaves its token rows, which
-- stop working because the client no longer resolves (see ClientStore).
CREATE TABLE oauth2_requests (
    kind                text NOT NULL,
    signature           text NOT NULL,
    request_id          text NOT NULL,
    client_id           text NOT NULL,
    subject             text NOT NULL DEFAULT '',
    requested_at        timestamptz NOT NULL,
    expires_at          timestamptz,
    requested_scopes    text[] NOT NULL DEFAULT '{}',
    granted_scopes      text[] NOT NULL DEFAULT '{}',
    requested_audience  text[] NOT NULL DEFAULT '{}',
    granted_audience    text[] NOT NULL DEFAULT '{}',
    form                text NOT NULL DEFAULT '',
    session             bytea,
    active              boolean NOT NULL DEFAULT true,
    access_signature    text NOT NULL DEFAULT '',
    PRIMARY KEY (kind, signature)
);
CREATE INDEX oauth2_requests_request_id_idx ON oauth2_requests (request_id);
CREATE INDEX oauth2_requests_subject_idx ON oauth2_requests (subject, client_id);
CREATE INDEX oauth2_requests_expires_at_idx ON oauth2_requests (expires_at);

CREATE TABLE login_challenges (
    id                text PRIMARY KEY,
    client_id         text NOT NULL,
    form              text NOT NULL DEFAULT '',
    requested_scopes  text[] NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL,
    expires_at        timestamptz NOT NULL,
    subject           text NOT NULL DEFAULT '',
    auth_time         timestamptz,
    session_id        text NOT NULL DEFAULT '',
    consent_given     boolean NOT NULL DEFAULT false,
    granted_scopes    text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX login_challenges_expires_at_idx ON login_challenges (expires_at);

CREATE TABLE sessions (
    id            text PRIMARY KEY,
    token_hash    text NOT NULL UNIQUE,
    user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time     timestamptz NOT NULL,
    created_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    remember      boolean NOT NULL DEFAULT false,
    user_agent    text NOT NULL DEFAULT '',
    ip            text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id, created_at);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE consents (
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id   text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    scopes      text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, client_id)
);
-- The cascade from clients.
CREATE INDEX consents_client_id_idx ON consents (client_id);

CREATE TABLE signing_keys (
    id            text PRIMARY KEY,
    algorithm     text NOT NULL,
    state         text NOT NULL CHECK (state IN ('next', 'current', 'retired')),
    private_key   bytea NOT NULL,
    public_key    bytea NOT NULL,
    created_at    timestamptz NOT NULL,
    activate_at   timestamptz,
    retired_at    timestamptz,
    delete_after  timestamptz
);
CREATE INDEX signing_keys_created_at_idx ON signing_keys (created_at, id);

CREATE TABLE login_attempts (
    key           text PRIMARY KEY,
    failures      integer NOT NULL,
    last_failure  timestamptz NOT NULL
);

CREATE TABLE action_tokens (
    purpose     text NOT NULL,
    hash        text NOT NULL,
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (purpose, hash)
);
CREATE INDEX action_tokens_user_id_idx ON action_tokens (user_id, purpose);

CREATE TABLE audit_events (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL,
    actor    text NOT NULL DEFAULT '',
    action   text NOT NULL DEFAULT '',
    target   text NOT NULL DEFAULT '',
    ip       text NOT NULL DEFAULT '',
    details  jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_at_idx ON audit_events (at DESC, id DESC);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE action_tokens;
DROP TABLE login_attempts;
DROP TABLE signing_keys;
DROP TABLE consents;
DROP TABLE sessions;
DROP TABLE login_challenges;
DROP TABLE oauth2_requests;
DROP TABLE user_roles;
DROP TABLE roles;
DROP TABLE users;
DROP TABLE clients;
