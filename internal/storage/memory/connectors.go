package memory

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

func copyConnector(c storage.Connector) storage.Connector {
	c.ClientSecret = bin(c.ClientSecret)
	c.Config = configOf(c.Config)
	if c.RoleRules == nil {
		c.RoleRules = []storage.RoleRule{}
	} else {
		c.RoleRules = slices.Clone(c.RoleRules)
	}
	c.CreatedAt, c.UpdatedAt = ts(c.CreatedAt), ts(c.UpdatedAt)
	return c
}

// configOf copies a connector's settings; empty is the empty object, like
// the column's default.
func configOf(b []byte) []byte {
	if len(b) == 0 {
		return []byte("{}")
	}
	return slices.Clone(b)
}

func copyUpstream(u storage.UpstreamIdentity) storage.UpstreamIdentity {
	u.CreatedAt, u.LastLoginAt = ts(u.CreatedAt), ts(u.LastLoginAt)
	return u
}

// CreateConnector stores a connector: ErrAlreadyExists when the id is taken.
func (s *Store) CreateConnector(ctx context.Context, c storage.Connector) error {
	if err := checkText(c); err != nil {
		return fmt.Errorf("create connector %q: %w", c.ID, err)
	}
	return s.do(ctx, func(d *state) error {
		if _, ok := d.connectors[c.ID]; ok {
			return fmt.Errorf("create connector %q: %w", c.ID, storage.ErrAlreadyExists)
		}
		d.connectors[c.ID] = copyConnector(c)
		return nil
	})
}

// GetConnector returns the connector with that id.
func (s *Store) GetConnector(ctx context.Context, id string) (storage.Connector, error) {
	var out storage.Connector
	err := s.do(ctx, func(d *state) error {
		c, ok := d.connectors[id]
		if !ok {
			return fmt.Errorf("get connector %q: %w", id, storage.ErrNotFound)
		}
		out = copyConnector(c)
		return nil
	})
	return out, err
}

// ListConnectors returns every connector ordered by id.
func (s *Store) ListConnectors(ctx context.Context) ([]storage.Connector, error) {
	var out []storage.Connector
	err := s.do(ctx, func(d *state) error {
		out = make([]storage.Connector, 0, len(d.connectors))
		for _, c := range d.connectors {
			out = append(out, copyConnector(c))
		}
		slices.SortFunc(out, func(a, b storage.Connector) int { return cmp.Compare(a.ID, b.ID) })
		return nil
	})
	return out, err
}

// UpdateConnector replaces every field but ID, Type and CreatedAt.
func (s *Store) UpdateConnector(ctx context.Context, c storage.Connector) error {
	if err := checkText(c); err != nil {
		return fmt.Errorf("update connector %q: %w", c.ID, err)
	}
	return s.do(ctx, func(d *state) error {
		old, ok := d.connectors[c.ID]
		if !ok {
			return fmt.Errorf("update connector %q: %w", c.ID, storage.ErrNotFound)
		}
		c.Type, c.CreatedAt = old.Type, old.CreatedAt
		d.connectors[c.ID] = copyConnector(c)
		return nil
	})
}

// DeleteConnector removes the connector and the identities linked through it.
func (s *Store) DeleteConnector(ctx context.Context, id string) error {
	return s.do(ctx, func(d *state) error {
		if _, ok := d.connectors[id]; !ok {
			return fmt.Errorf("delete connector %q: %w", id, storage.ErrNotFound)
		}
		delete(d.connectors, id)
		for k := range d.upstream {
			if k.connectorID == id {
				delete(d.upstream, k)
			}
		}
		return nil
	})
}

// CreateUpstreamIdentity links an upstream account to a user.
func (s *Store) CreateUpstreamIdentity(ctx context.Context, u storage.UpstreamIdentity) error {
	if err := checkText(u); err != nil {
		return fmt.Errorf("create upstream identity: %w", err)
	}
	return s.do(ctx, func(d *state) error {
		key := upstreamKey{u.ConnectorID, u.Subject}
		if _, ok := d.upstream[key]; ok {
			return fmt.Errorf("create upstream identity: %w", storage.ErrAlreadyExists)
		}
		for _, o := range d.upstream {
			if o.UserID == u.UserID && o.ConnectorID == u.ConnectorID {
				return fmt.Errorf("create upstream identity: user already linked: %w", storage.ErrAlreadyExists)
			}
		}
		if _, ok := d.connectors[u.ConnectorID]; !ok {
			return fmt.Errorf("create upstream identity: connector %q: %w", u.ConnectorID, storage.ErrNotFound)
		}
		if _, ok := d.users[u.UserID]; !ok {
			return fmt.Errorf("create upstream identity: user %q: %w", u.UserID, storage.ErrNotFound)
		}
		d.upstream[key] = copyUpstream(u)
		return nil
	})
}

// GetUpstreamIdentity returns the link of (connector, subject).
func (s *Store) GetUpstreamIdentity(ctx context.Context, connectorID, subject string) (storage.UpstreamIdentity, error) {
	var out storage.UpstreamIdentity
	err := s.do(ctx, func(d *state) error {
		u, ok := d.upstream[upstreamKey{connectorID, subject}]
		if !ok {
			return fmt.Errorf("get upstream identity: %w", storage.ErrNotFound)
		}
		out = u
		return nil
	})
	return out, err
}

// ListUserUpstreamIdentities returns the user's identities by connector id.
func (s *Store) ListUserUpstreamIdentities(ctx context.Context, userID string) ([]storage.UpstreamIdentity, error) {
	var out []storage.UpstreamIdentity
	err := s.do(ctx, func(d *state) error {
		out = []storage.UpstreamIdentity{}
		for _, u := range d.upstream {
			if u.UserID == userID {
				out = append(out, u)
			}
		}
		slices.SortFunc(out, func(a, b storage.UpstreamIdentity) int { return cmp.Compare(a.ConnectorID, b.ConnectorID) })
		return nil
	})
	return out, err
}

// TouchUpstreamIdentity sets LastLoginAt.
func (s *Store) TouchUpstreamIdentity(ctx context.Context, connectorID, subject string, at time.Time) error {
	return s.do(ctx, func(d *state) error {
		key := upstreamKey{connectorID, subject}
		u, ok := d.upstream[key]
		if !ok {
			return fmt.Errorf("touch upstream identity: %w", storage.ErrNotFound)
		}
		u.LastLoginAt = ts(at)
		d.upstream[key] = u
		return nil
	})
}

// DeleteUpstreamIdentity removes the user's identity at the connector.
func (s *Store) DeleteUpstreamIdentity(ctx context.Context, userID, connectorID string) error {
	return s.do(ctx, func(d *state) error {
		for k, u := range d.upstream {
			if u.UserID == userID && k.connectorID == connectorID {
				delete(d.upstream, k)
				return nil
			}
		}
		return fmt.Errorf("delete upstream identity: %w", storage.ErrNotFound)
	})
}

// ResealConnectorSecret swaps the sealed client secret while it is still
// old.
func (s *Store) ResealConnectorSecret(ctx context.Context, id string, old, sealed []byte) error {
	return s.do(ctx, func(d *state) error {
		c, ok := d.connectors[id]
		if !ok {
			return fmt.Errorf("re-seal client secret of connector %q: %w", id, storage.ErrNotFound)
		}
		if !bytes.Equal(c.ClientSecret, old) {
			return fmt.Errorf("re-seal client secret of connector %q: the secret changed: %w", id, storage.ErrConflict)
		}
		c.ClientSecret = bin(sealed)
		d.connectors[id] = c
		return nil
	})
}
