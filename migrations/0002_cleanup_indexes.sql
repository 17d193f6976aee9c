-- Indexes for the janitor's sweeps of stale login-throttle counters and
-- expired e-mail verification / password reset tokens.

-- +goose Up
CREATE INDEX login_attempts_last_failure_idx ON login_attempts (last_failure);
CREATE INDEX action_tokens_expires_at_idx ON action_tokens (expires_at);

-- +goose Down
DROP INDEX action_tokens_expires_at_idx;
DROP INDEX login_attempts_last_failure_idx;
