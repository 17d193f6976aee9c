package adminclient

import (
	"context"
	"net/http"

	"github.com/signet-idp/signet/internal/adminapi"
)

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
	return out, c.do(ctx, http.MethodPost, "/keys/rotate", adminapi.RotateKeys{Algorithm: alg}, &out)
}
