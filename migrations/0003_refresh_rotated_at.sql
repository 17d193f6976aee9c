-- When a refresh token was exchanged for its successor: a repeat of it
-- within the grace window (--refresh-grace-period) is a client's race or
-- retry and is answered without revoking the grant.

-- +goose Up
ALTER TABLE oauth2_requests ADD COLUMN rotated_at timestamptz;

-- +goose Down
ALTER TABLE oauth2_requests DROP COLUMN rotated_at;
