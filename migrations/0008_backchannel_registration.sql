-- Back-channel logout (OpenID Connect Back-Channel Logout 1.0) and dynamic
-- client registration (RFC 7591/7592).

-- +goose Up
ALTER TABLE clients
    ADD COLUMN backchannel_logout_uri text NOT NULL DEFAULT '',
    ADD COLUMN backchannel_logout_session_required boolean NOT NULL DEFAULT false;

-- Which clients received tokens in which browser session: who gets a
-- logout token when the session ends. Expired sessions take their rows
-- with them.
CREATE TABLE session_clients (
    session_id  text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    client_id   text NOT NULL REFERENCES clients (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (session_id, client_id)
);
CREATE INDEX session_clients_client_idx ON session_clients (client_id);

-- The delivery queue, shared by the replicas (claimed with FOR UPDATE SKIP
-- LOCKED and a lease, so a replica that dies mid-delivery leaves it to the
-- others). New rows are due at once whatever a replica's clock says.
CREATE TABLE backchannel_deliveries (
    id               bigserial PRIMARY KEY,
    client_id        text NOT NULL,
    subject          text NOT NULL,
    session_id       text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    next_attempt_at  timestamptz NOT NULL DEFAULT '-infinity',
    claimed_until    timestamptz NOT NULL DEFAULT '-infinity',
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text NOT NULL DEFAULT ''
);
CREATE INDEX backchannel_deliveries_due_idx ON backchannel_deliveries (next_attempt_at);

-- Initial access tokens for dynamic registration (hashes only).
CREATE TABLE registration_tokens (
    id           text PRIMARY KEY,
    token_hash   text NOT NULL UNIQUE,
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    max_uses     integer NOT NULL DEFAULT 0,
    uses         integer NOT NULL DEFAULT 0
);

-- Registration access tokens (RFC 7592) of dynamically registered clients.
CREATE TABLE client_registration_tokens (
    client_id   text PRIMARY KEY REFERENCES clients (id) ON DELETE CASCADE,
    token_hash  text NOT NULL
);

-- +goose Down
DROP TABLE client_registration_tokens;
DROP TABLE registration_tokens;
DROP TABLE backchannel_deliveries;
DROP TABLE session_clients;
ALTER TABLE clients
    DROP COLUMN backchannel_logout_session_required,
    DROP COLUMN backchannel_logout_uri;
