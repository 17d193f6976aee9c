-- Upstream identity providers (connectors), the upstream identities linked
-- to users, and what a browser session was signed in with.

-- +goose Up
CREATE TABLE connectors (
    id             text PRIMARY KEY,
    type           text NOT NULL,
    name           text NOT NULL,
    icon_url       text NOT NULL DEFAULT '',
    enabled        boolean NOT NULL DEFAULT true,
    client_id      text NOT NULL,
    -- keys.Seal of the client secret with the row id as associated data:
    -- never plain.
    client_secret  bytea,
    -- text, not jsonb: kept byte for byte as the operator's tools wrote it.
    config         text NOT NULL DEFAULT '{}',
    role_rules     jsonb NOT NULL DEFAULT '[]',
    default_role   text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

-- Keyed by the upstream's subject, never by e-mail: an e-mail address
-- proves nothing about who controls an upstream account.
CREATE TABLE upstream_identities (
    connector_id   text NOT NULL REFERENCES connectors (id) ON DELETE CASCADE,
    subject        text NOT NULL,
    user_id        text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email          text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    last_login_at  timestamptz,
    PRIMARY KEY (connector_id, subject)
);
-- One identity per user and connector; also the lookup by user.
CREATE UNIQUE INDEX upstream_identities_user_key ON upstream_identities (user_id, connector_id);

-- IF NOT EXISTS: the second-factor migration may add amr too.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS amr text[] NOT NULL DEFAULT '{}';
ALTER TABLE sessions ADD COLUMN idp text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE sessions DROP COLUMN idp;
DROP TABLE upstream_identities;
DROP TABLE connectors;
