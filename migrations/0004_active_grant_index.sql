-- Rotating a refresh token deactivates the grant's active access tokens
-- (and revocation every active row of a grant). Inactive rows of a grant
-- pile up (one access and one refresh row per rotation, kept until they
-- expire), so the plain request_id index made each rotation scan every row
-- the grant ever had. This index holds only the active rows: a lookup
-- touches the one or two that matter. Built concurrently, so upgrading a
-- busy database does not block token writes.

-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS oauth2_requests_active_grant_idx
    ON oauth2_requests (request_id, kind) WHERE active;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS oauth2_requests_active_grant_idx;
