package oauth

import (
	"context"
	"errors"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/storage"
)

// Client adapts a storage.Client to fosite: the plain client, the OpenID
// Connect view (so fosite enforces the registered token endpoint
// authentication method), per-client token lifespans and response modes.
type Client struct {
	storage.Client
}

var (
	_ fosite.Client                         = (*Client)(nil)
	_ fosite.OpenIDConnectClient            = (*Client)(nil)
	_ fosite.ClientWithCustomTokenLifespans = (*Client)(nil)
	_ fosite.ResponseModeClient             = (*Client)(nil)
)

// GetID implements fosite.Client.
func (c *Client) GetID() string { return c.ID }

// GetHashedSecret returns the SHA-256 of the secret (see secretHasher).
func (c *Client) GetHashedSecret() []byte { return c.SecretHash }

// GetRedirectURIs implements fosite.Client.
func (c *Client) GetRedirectURIs() []string { return c.RedirectURIs }

// GetGrantTypes implements fosite.Client.
func (c *Client) GetGrantTypes() fosite.Arguments { return fosite.Arguments(c.GrantTypes) }

// GetResponseTypes implements fosite.Client.
func (c *Client) GetResponseTypes() fosite.Arguments { return fosite.Arguments(c.ResponseTypes) }

// GetScopes implements fosite.Client.
func (c *Client) GetScopes() fosite.Arguments { return fosite.Arguments(c.Scopes) }

// IsPublic implements fosite.Client.
func (c *Client) IsPublic() bool { return c.Client.Public() }

// GetAudience implements fosite.Client.
func (c *Client) GetAudience() fosite.Arguments { return fosite.Arguments(c.Audience) }

// GetRequestURIs: request_uri is not supported.
func (c *Client) GetRequestURIs() []string { return nil }

// GetJSONWebKeys: nil; private_key_jwt assertions are checked by
// assertionAuth (go-jose v4), never by fosite.
func (c *Client) GetJSONWebKeys() *jose.JSONWebKeySet { return nil }

// GetJSONWebKeysURI returns the client's jwks_uri.
func (c *Client) GetJSONWebKeysURI() string { return c.JWKSURI }

// GetRequestObjectSigningAlgorithm: request objects are not supported.
func (c *Client) GetRequestObjectSigningAlgorithm() string { return "" }

// GetTokenEndpointAuthMethod implements fosite.OpenIDConnectClient.
func (c *Client) GetTokenEndpointAuthMethod() string {
	if c.TokenEndpointAuthMethod == "" {
		return storage.AuthMethodClientSecretBasic
	}
	return c.TokenEndpointAuthMethod
}

// GetTokenEndpointAuthSigningAlgorithm returns the registered assertion
// algorithm ("" for any supported one).
func (c *Client) GetTokenEndpointAuthSigningAlgorithm() string { return c.TokenEndpointAuthSigningAlg }

// GetResponseModes: query (the default for code) and form_post.
func (c *Client) GetResponseModes() []fosite.ResponseModeType {
	return []fosite.ResponseModeType{fosite.ResponseModeDefault, fosite.ResponseModeQuery, fosite.ResponseModeFormPost}
}

// GetEffectiveLifespan applies the client's lifespans (zero: the provider
// default) to every grant that issues that kind of token.
func (c *Client) GetEffectiveLifespan(_ fosite.GrantType, tt fosite.TokenType, fallback time.Duration) time.Duration {
	var d time.Duration
	switch tt {
	case fosite.AccessToken:
		d = c.AccessTokenLifespan
	case fosite.RefreshToken:
		d = c.RefreshTokenLifespan
	case fosite.IDToken:
		d = c.IDTokenLifespan
	case fosite.AuthorizeCode:
		d = c.AuthCodeLifespan
	}
	if d > 0 {
		return d
	}
	return fallback
}

// secretHasher lets fosite's client authentication check storage's SHA-256
// secret hashes in constant time (fosite's default is bcrypt).
type secretHasher struct{}

var errSecretMismatch = errors.New("client secret does not match")

func (secretHasher) Compare(_ context.Context, hash, data []byte) error {
	if clients.SecretMatches(hash, string(data)) {
		return nil
	}
	return errSecretMismatch
}

func (secretHasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	return clients.HashSecret(string(data)), nil
}
