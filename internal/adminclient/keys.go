package adminclient

import (
	"context"
	"net/http"
	"time"
)

// SigningKey is a signing key as the admin API shows it (never key
// material).
type SigningKey struct {
	KID         string     `json:"kid"`
	Algorithm   string     `json:"alg"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	ActivateAt  *time.Time `json:"activate_at,omitempty"`
	RetiredAt   *time.Time `json:"retired_at,omitempty"`
	DeleteAfter *time.Time `json:"delete_after,omitempty"`
	// Problem says why the server cannot sign with the key.
	Problem string `json:"problem,omitempty"`
}

// ListKeys returns every signing key, oldest first.
func (c *Client) ListKeys(ctx context.Context) ([]SigningKey, error) {
	var out []SigningKey
	return out, c.do(ctx, http.MethodGet, "/keys", nil, &out)
}

// RotateKeys starts a rotation: a next key is published now and signs
// once the JWKS cache lifetime has passed. alg limits it to one algorithm
// ("" rotates every configured one). The answer is the next keys (an
// algorithm already rotating keeps its next key).
func (c *Client) RotateKeys(ctx context.Context, alg string) ([]SigningKey, error) {
	var out []SigningKey
	body := struct {
		Algorithm string `json:"alg,omitempty"`
	}{alg}
	return out, c.do(ctx, http.MethodPost, "/keys/rotate", body, &out)
}
