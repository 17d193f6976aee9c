-- Why a grant's tokens were revoked automatically: "code_replay" (its
-- authorization code was presented twice), "refresh_reuse" (a rotated
-- refresh token was presented after the grace window), "user_unavailable"
-- (its user was deleted or disabled). Set on the rows a revocation
-- deactivated; empty on rows used normally or revoked on request. A client
-- presenting such a token is told why. A constant default makes the new
-- column a catalog change only: no table rewrite.

-- +goose Up
ALTER TABLE oauth2_requests ADD COLUMN revoked_reason text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE oauth2_requests DROP COLUMN revoked_reason;
