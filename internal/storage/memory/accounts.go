package memory

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/signet-idp/signet/internal/storage"
)

// CreateClient stores a new client; ErrAlreadyExists when the id is taken.
func (s *Store) CreateClient(ctx context.Context, c storage.Client) error {
	if err := checkText(c); err != nil {
		return fmt.Errorf("create client %q: %w", c.ID, err)
	}
	return s.do(ctx, func(d *state) error {
		if _, ok := d.clients[c.ID]; ok {
			return fmt.Errorf("create client %q: %w", c.ID, storage.ErrAlreadyExists)
		}
		d.clients[c.ID] = copyClient(c)
		return nil
	})
}

// GetClient returns the client with that id.
func (s *Store) GetClient(ctx context.Context, id string) (storage.Client, error) {
	var out storage.Client
	err := s.do(ctx, func(d *state) error {
		c, ok := d.clients[id]
		if !ok {
			return fmt.Errorf("get client %q: %w", id, storage.ErrNotFound)
		}
		out = copyClient(c)
		return nil
	})
	return out, err
}

// ListClients returns every client, by id.
func (s *Store) ListClients(ctx context.Context) ([]storage.Client, error) {
	var out []storage.Client
	err := s.do(ctx, func(d *state) error {
		out = make([]storage.Client, 0, len(d.clients))
		for _, c := range d.clients {
			out = append(out, copyClient(c))
		}
		slices.SortFunc(out, func(a, b storage.Client) int { return cmp.Compare(a.ID, b.ID) })
		return nil
	})
	return out, err
}

// UpdateClient replaces every field but ID and CreatedAt.
func (s *Store) UpdateClient(ctx context.Context, c storage.Client) error {
	if err := checkText(c); err != nil {
		return fmt.Errorf("update client %q: %w", c.ID, err)
	}
	return s.do(ctx, func(d *state) error {
		old, ok := d.clients[c.ID]
		if !ok {
			return fmt.Errorf("update client %q: %w", c.ID, storage.ErrNotFound)
		}
		c.CreatedAt = old.CreatedAt
		d.clients[c.ID] = copyClient(c)
		return nil
	})
}

// DeleteClient removes the client and its consents.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return s.do(ctx, func(d *state) error {
		if _, ok := d.clients[id]; !ok {
			return fmt.Errorf("delete client %q: %w", id, storage.ErrNotFound)
		}
		delete(d.clients, id)
		for k := range d.consents {
			if k.clientID == id {
				delete(d.consents, k)
			}
		}
		for _, m := range d.sessionClients {
			delete(m, id)
		}
		delete(d.clientRegTokens, id)
		return nil
	})
}

// nameClash reports which unique field of u another user (not u.ID)
// already holds, compared case-insensitively; "" when none. An empty
// e-mail means "no e-mail" and never clashes.
func (d *state) nameClash(u storage.User) string {
	for _, o := range d.users {
		if o.ID == u.ID {
			continue
		}
		if strings.EqualFold(o.Username, u.Username) {
			return "user name"
		}
		if u.Email != "" && strings.EqualFold(o.Email, u.Email) {
			return "e-mail"
		}
	}
	return ""
}

// CreateUser stores a new user; ErrAlreadyExists when the id, user name or
// e-mail is taken.
func (s *Store) CreateUser(ctx context.Context, u storage.User) error {
	if err := checkText(u); err != nil {
		return fmt.Errorf("create user %q: %w", u.ID, err)
	}
	return s.do(ctx, func(d *state) error {
		if _, ok := d.users[u.ID]; ok {
			return fmt.Errorf("create user %q: id: %w", u.ID, storage.ErrAlreadyExists)
		}
		if field := d.nameClash(u); field != "" {
			return fmt.Errorf("create user %q: %s: %w", u.ID, field, storage.ErrAlreadyExists)
		}
		d.users[u.ID] = copyUser(u)
		return nil
	})
}

// GetUser returns the user with that id.
func (s *Store) GetUser(ctx context.Context, id string) (storage.User, error) {
	var out storage.User
	err := s.do(ctx, func(d *state) error {
		u, ok := d.users[id]
		if !ok {
			return fmt.Errorf("get user %q: %w", id, storage.ErrNotFound)
		}
		out = u
		return nil
	})
	return out, err
}

// GetUserByLogin finds a user by user name or e-mail, case-insensitively.
// A user name match wins over another user's e-mail (a user name may look
// like an address).
func (s *Store) GetUserByLogin(ctx context.Context, login string) (storage.User, error) {
	var out storage.User
	err := s.do(ctx, func(d *state) error {
		// Unstorable text matches nothing, as in PostgreSQL (where
		// EqualFold would let invalid UTF-8 match U+FFFD).
		if login != "" && storable(login) {
			var byEmail *storage.User
			for _, u := range d.users {
				if strings.EqualFold(u.Username, login) {
					out = u
					return nil
				}
				if strings.EqualFold(u.Email, login) {
					byEmail = &u
				}
			}
			if byEmail != nil {
				out = *byEmail
				return nil
			}
		}
		return fmt.Errorf("get user by login %q: %w", login, storage.ErrNotFound)
	})
	return out, err
}

// ListUsers returns the users matching q, ordered by lower-cased user name
// (then id); Limit 0 means no limit.
func (s *Store) ListUsers(ctx context.Context, q storage.UserQuery) ([]storage.User, error) {
	if !storable(q.Search) {
		return []storage.User{}, nil // matches nothing, as in PostgreSQL
	}
	var out []storage.User
	err := s.do(ctx, func(d *state) error {
		search := strings.ToLower(q.Search)
		var all []storage.User
		for _, u := range d.users {
			if search == "" ||
				strings.Contains(strings.ToLower(u.Username), search) ||
				strings.Contains(strings.ToLower(u.Email), search) ||
				strings.Contains(strings.ToLower(u.Name), search) {
				all = append(all, u)
			}
		}
		slices.SortFunc(all, func(a, b storage.User) int {
			return cmp.Or(cmp.Compare(strings.ToLower(a.Username), strings.ToLower(b.Username)), cmp.Compare(a.ID, b.ID))
		})
		off := min(max(q.Offset, 0), len(all))
		all = all[off:]
		out = append([]storage.User{}, all[:limitOf(q.Limit, len(all))]...)
		return nil
	})
	return out, err
}

// UpdateUser replaces every field but ID and CreatedAt.
func (s *Store) UpdateUser(ctx context.Context, u storage.User) error {
	if err := checkText(u); err != nil {
		return fmt.Errorf("update user %q: %w", u.ID, err)
	}
	return s.do(ctx, func(d *state) error {
		old, ok := d.users[u.ID]
		if !ok {
			return fmt.Errorf("update user %q: %w", u.ID, storage.ErrNotFound)
		}
		if field := d.nameClash(u); field != "" {
			return fmt.Errorf("update user %q: %s: %w", u.ID, field, storage.ErrAlreadyExists)
		}
		u.CreatedAt = old.CreatedAt
		d.users[u.ID] = copyUser(u)
		return nil
	})
}

// DeleteUser removes the user with role links, sessions, consents and
// action tokens.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.do(ctx, func(d *state) error {
		if _, ok := d.users[id]; !ok {
			return fmt.Errorf("delete user %q: %w", id, storage.ErrNotFound)
		}
		delete(d.users, id)
		delete(d.userRoles, id)
		delete(d.mfa, id)
		for k, sess := range d.sessions {
			if sess.UserID == id {
				d.endSession(k)
			}
		}
		for k := range d.consents {
			if k.userID == id {
				delete(d.consents, k)
			}
		}
		for k, t := range d.actionTokens {
			if t.UserID == id {
				delete(d.actionTokens, k)
			}
		}
		for k, u := range d.upstream {
			if u.UserID == id {
				delete(d.upstream, k)
			}
		}
		return nil
	})
}

// SetUserRoles replaces the user's roles, or changes nothing and returns
// ErrNotFound when the user or a role does not exist.
func (s *Store) SetUserRoles(ctx context.Context, userID string, roles []string) error {
	return s.do(ctx, func(d *state) error {
		if _, ok := d.users[userID]; !ok {
			return fmt.Errorf("set roles of user %q: %w", userID, storage.ErrNotFound)
		}
		set := make(map[string]struct{}, len(roles))
		for _, r := range roles {
			if _, ok := d.roles[r]; !ok {
				return fmt.Errorf("set roles of user %q: role %q: %w", userID, r, storage.ErrNotFound)
			}
			set[r] = struct{}{}
		}
		d.userRoles[userID] = set
		return nil
	})
}

// ListUserRoles returns the user's role names sorted; empty for a user
// without roles, or an unknown one.
func (s *Store) ListUserRoles(ctx context.Context, userID string) ([]string, error) {
	var out []string
	err := s.do(ctx, func(d *state) error {
		out = make([]string, 0, len(d.userRoles[userID]))
		for r := range d.userRoles[userID] {
			out = append(out, r)
		}
		slices.Sort(out)
		return nil
	})
	return out, err
}

// GetUserWithRoles reads the user and its sorted roles at once.
func (s *Store) GetUserWithRoles(ctx context.Context, id string) (storage.User, []string, error) {
	var u storage.User
	var roles []string
	err := s.do(ctx, func(d *state) error {
		var ok bool
		if u, ok = d.users[id]; !ok {
			return fmt.Errorf("get user %q with roles: %w", id, storage.ErrNotFound)
		}
		roles = make([]string, 0, len(d.userRoles[id]))
		for r := range d.userRoles[id] {
			roles = append(roles, r)
		}
		slices.Sort(roles)
		return nil
	})
	return u, roles, err
}

// ListUsersWithRole returns the sorted ids of the role's holders.
func (s *Store) ListUsersWithRole(ctx context.Context, role string) ([]string, error) {
	var out []string
	err := s.do(ctx, func(d *state) error {
		out = []string{}
		for uid, set := range d.userRoles {
			if _, ok := set[role]; ok {
				out = append(out, uid)
			}
		}
		slices.Sort(out)
		return nil
	})
	return out, err
}

// CreateRole stores a new role; ErrAlreadyExists when the name is taken.
func (s *Store) CreateRole(ctx context.Context, r storage.Role) error {
	if err := checkText(r); err != nil {
		return fmt.Errorf("create role %q: %w", r.Name, err)
	}
	return s.do(ctx, func(d *state) error {
		if _, ok := d.roles[r.Name]; ok {
			return fmt.Errorf("create role %q: %w", r.Name, storage.ErrAlreadyExists)
		}
		r.CreatedAt = ts(r.CreatedAt)
		d.roles[r.Name] = r
		return nil
	})
}

// GetRole returns the role with that name.
func (s *Store) GetRole(ctx context.Context, name string) (storage.Role, error) {
	var out storage.Role
	err := s.do(ctx, func(d *state) error {
		r, ok := d.roles[name]
		if !ok {
			return fmt.Errorf("get role %q: %w", name, storage.ErrNotFound)
		}
		out = r
		return nil
	})
	return out, err
}

// ListRoles returns every role, by name.
func (s *Store) ListRoles(ctx context.Context) ([]storage.Role, error) {
	var out []storage.Role
	err := s.do(ctx, func(d *state) error {
		out = slices.SortedFunc(maps.Values(d.roles), func(a, b storage.Role) int { return cmp.Compare(a.Name, b.Name) })
		return nil
	})
	return out, err
}

// DeleteRole removes the role, also from every user.
func (s *Store) DeleteRole(ctx context.Context, name string) error {
	return s.do(ctx, func(d *state) error {
		if _, ok := d.roles[name]; !ok {
			return fmt.Errorf("delete role %q: %w", name, storage.ErrNotFound)
		}
		delete(d.roles, name)
		for _, set := range d.userRoles {
			delete(set, name)
		}
		return nil
	})
}
