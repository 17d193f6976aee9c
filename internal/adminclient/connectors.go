package adminclient

import (
	"context"
	"net/http"
	"net/url"

	"github.com/signet-idp/signet/internal/adminapi"
)

// The connector bodies; see internal/adminapi.
type (
	NewConnector   = adminapi.NewConnector
	ConnectorPatch = adminapi.ConnectorPatch
	Connector      = adminapi.Connector
	RoleRule       = adminapi.RoleRule
)

// CreateConnector adds an upstream identity provider.
func (c *Client) CreateConnector(ctx context.Context, n NewConnector) (Connector, error) {
	var out Connector
	return out, c.do(ctx, http.MethodPost, "/connectors", n, &out)
}

// ListConnectors returns every connector.
func (c *Client) ListConnectors(ctx context.Context) ([]Connector, error) {
	var out []Connector
	return out, c.do(ctx, http.MethodGet, "/connectors", nil, &out)
}

// GetConnector returns one connector.
func (c *Client) GetConnector(ctx context.Context, id string) (Connector, error) {
	var out Connector
	return out, c.do(ctx, http.MethodGet, "/connectors/"+url.PathEscape(id), nil, &out)
}

// UpdateConnector changes the fields p sets.
func (c *Client) UpdateConnector(ctx context.Context, id string, p ConnectorPatch) (Connector, error) {
	var out Connector
	return out, c.do(ctx, http.MethodPatch, "/connectors/"+url.PathEscape(id), p, &out)
}

// DeleteConnector removes a connector and the identities linked through it.
func (c *Client) DeleteConnector(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/connectors/"+url.PathEscape(id), nil, nil)
}
