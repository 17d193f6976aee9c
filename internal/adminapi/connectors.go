package adminapi

import (
	"encoding/json"
	"time"
)

// RoleRule maps an upstream claim value to a Signet role: people whose
// Claim ("groups", GitHub's "teams" or "orgs", any ID token claim) holds
// Value get Role on each sign-in through the connector.
type RoleRule struct {
	Claim string `json:"claim"`
	Value string `json:"value"`
	Role  string `json:"role"`
}

// NewConnector is the body of POST /admin/connectors.
type NewConnector struct {
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	Name         string          `json:"name"`
	IconURL      string          `json:"icon_url,omitempty"`
	Enabled      *bool           `json:"enabled,omitempty"`
	ClientID     string          `json:"client_id"`
	ClientSecret string          `json:"client_secret,omitempty"`
	Config       json.RawMessage `json:"config,omitempty"`
	RoleRules    []RoleRule      `json:"role_rules,omitempty"`
	DefaultRole  string          `json:"default_role,omitempty"`
}

// ConnectorPatch is the body of PATCH /admin/connectors/{id}: absent
// fields stay as they are.
type ConnectorPatch struct {
	Name         *string         `json:"name,omitempty"`
	IconURL      *string         `json:"icon_url,omitempty"`
	Enabled      *bool           `json:"enabled,omitempty"`
	ClientID     *string         `json:"client_id,omitempty"`
	ClientSecret *string         `json:"client_secret,omitempty"`
	Config       json.RawMessage `json:"config,omitempty"`
	RoleRules    *[]RoleRule     `json:"role_rules,omitempty"`
	DefaultRole  *string         `json:"default_role,omitempty"`
}

// Connector is an upstream identity provider as the API shows it: its
// client secret is never shown, only whether it has one.
type Connector struct {
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Name            string          `json:"name"`
	IconURL         string          `json:"icon_url,omitempty"`
	Enabled         bool            `json:"enabled"`
	ClientID        string          `json:"client_id"`
	HasClientSecret bool            `json:"has_client_secret"`
	Config          json.RawMessage `json:"config"`
	RoleRules       []RoleRule      `json:"role_rules"`
	DefaultRole     string          `json:"default_role,omitempty"`
	// RedirectURL is the callback to register at the upstream.
	RedirectURL string    `json:"redirect_url"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}
