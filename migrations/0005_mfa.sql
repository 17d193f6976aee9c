-- Two-factor sign-in (issue 11): authenticator apps, passkeys, recovery
-- codes; the methods of each browser session (amr/acr in ID tokens); and
-- clients that require a second factor.

-- +goose Up
ALTER TABLE sessions ADD COLUMN amr text[] NOT NULL DEFAULT '{}';
ALTER TABLE sessions ADD COLUMN acr text NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN require_mfa boolean NOT NULL DEFAULT false;

-- One authenticator app per user. The secret is sealed (keys.Seal, the
-- row id as additional data); last_used_step refuses a code used before,
-- on every replica, by a conditional UPDATE.
CREATE TABLE mfa_totp (
    user_id         text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    id              text NOT NULL UNIQUE,
    secret          bytea NOT NULL,
    last_used_step  bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    confirmed_at    timestamptz,
    last_used_at    timestamptz
);

CREATE TABLE mfa_passkeys (
    id            text PRIMARY KEY,
    user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL DEFAULT '',
    credential    bytea NOT NULL,
    sign_count    bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz
);
CREATE INDEX mfa_passkeys_user_id_idx ON mfa_passkeys (user_id, created_at);

-- Only hashes of the codes, which are deleted when used.
CREATE TABLE mfa_recovery_codes (
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash        text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, hash)
);

-- WebAuthn ceremonies in progress, by the SHA-256 of their challenge,
-- consumed by DELETE … RETURNING (single use). user_id is empty for a
-- passwordless sign-in, hence no foreign key.
CREATE TABLE mfa_webauthn_challenges (
    id          text PRIMARY KEY,
    purpose     text NOT NULL,
    user_id     text NOT NULL DEFAULT '',
    data        bytea NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX mfa_webauthn_challenges_expires_at_idx ON mfa_webauthn_challenges (expires_at);

-- +goose Down
DROP TABLE mfa_webauthn_challenges;
DROP TABLE mfa_recovery_codes;
DROP TABLE mfa_passkeys;
DROP TABLE mfa_totp;
ALTER TABLE clients DROP COLUMN require_mfa;
ALTER TABLE sessions DROP COLUMN acr;
ALTER TABLE sessions DROP COLUMN amr;
