-- Issue 13 (part A): client metadata for private_key_jwt (jwks, jwks_uri,
-- token_endpoint_auth_signing_alg), pushed authorization requests and JWT
-- access tokens; and the jti of every accepted client assertion, kept
-- until the assertion expires, so each is accepted once across replicas.
-- Pushed requests themselves are oauth2_requests rows of kind 'par'.

-- +goose Up
ALTER TABLE clients
    ADD COLUMN jwks text NOT NULL DEFAULT '',
    ADD COLUMN jwks_uri text NOT NULL DEFAULT '',
    ADD COLUMN token_endpoint_auth_signing_alg text NOT NULL DEFAULT '',
    ADD COLUMN require_pushed_authorization_requests boolean NOT NULL DEFAULT false,
    ADD COLUMN access_token_format text NOT NULL DEFAULT '';

CREATE TABLE client_assertion_jtis (
    key         text PRIMARY KEY,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX client_assertion_jtis_expires_at_idx ON client_assertion_jtis (expires_at);

-- +goose Down
DROP TABLE client_assertion_jtis;
ALTER TABLE clients
    DROP COLUMN jwks,
    DROP COLUMN jwks_uri,
    DROP COLUMN token_endpoint_auth_signing_alg,
    DROP COLUMN require_pushed_authorization_requests,
    DROP COLUMN access_token_format;
