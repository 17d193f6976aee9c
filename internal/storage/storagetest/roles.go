package storagetest

import (
	"testing"

	"github.com/signet-idp/signet/internal/storage"
)

func roleNames(rs []storage.Role) []string {
	names := make([]string, 0, len(rs))
	for _, r := range rs {
		names = append(names, r.Name)
	}
	return names
}

func roleCases() []testCase {
	return []testCase{
		{"built-in roles exist from the start", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			for _, name := range []string{storage.RoleAdmin, storage.RoleUser} {
				r, err := s.GetRole(ctx, name)
				must(t, err, "GetRole "+name)
				wantEqual(t, r.Name, name, "role name")
				if r.Description == "" || r.CreatedAt.IsZero() {
					t.Errorf("built-in role %q lacks description or creation time: %+v", name, r)
				}
			}
			list, err := s.ListRoles(ctx)
			must(t, err, "ListRoles")
			wantEqual(t, roleNames(list), []string{storage.RoleAdmin, storage.RoleUser}, "roles")
		}},
		{"create, get, list sorted, duplicate", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			r := storage.Role{Name: "auditor", Description: "Reads the audit log", CreatedAt: at(0)}
			must(t, s.CreateRole(ctx, r), "CreateRole")
			got, err := s.GetRole(ctx, "auditor")
			must(t, err, "GetRole")
			wantEqual(t, got, r, "GetRole")
			list, err := s.ListRoles(ctx)
			must(t, err, "ListRoles")
			wantEqual(t, roleNames(list), []string{"admin", "auditor", "user"}, "roles")
			wantErr(t, s.CreateRole(ctx, storage.Role{Name: "auditor", CreatedAt: at(0)}), storage.ErrAlreadyExists, "duplicate role")
			wantErr(t, s.CreateRole(ctx, storage.Role{Name: storage.RoleAdmin, CreatedAt: at(0)}), storage.ErrAlreadyExists, "duplicate built-in role")
			_, err = s.GetRole(ctx, "nope")
			wantErr(t, err, storage.ErrNotFound, "GetRole of missing role")
		}},
		{"set user roles replaces, sorts and deduplicates", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			for _, tc := range []struct {
				set  []string
				want []string
			}{
				{[]string{storage.RoleUser, storage.RoleAdmin}, []string{"admin", "user"}},
				{[]string{storage.RoleUser}, []string{"user"}},
				{[]string{storage.RoleAdmin, storage.RoleAdmin}, []string{"admin"}},
				{[]string{}, []string{}},
				{nil, []string{}},
			} {
				must(t, s.SetUserRoles(ctx, "u-alice", tc.set), "SetUserRoles")
				got, err := s.ListUserRoles(ctx, "u-alice")
				must(t, err, "ListUserRoles")
				if got == nil {
					t.Fatal("ListUserRoles returned nil, want a non-nil slice")
				}
				wantEqual(t, got, tc.want, "roles after SetUserRoles")
				u, withRoles, err := s.GetUserWithRoles(ctx, "u-alice")
				must(t, err, "GetUserWithRoles")
				if withRoles == nil || u.ID != "u-alice" || u.Username != "alice" {
					t.Fatalf("GetUserWithRoles = %+v, %v", u, withRoles)
				}
				wantEqual(t, withRoles, tc.want, "GetUserWithRoles roles")
			}
			plain, err := s.GetUser(ctx, "u-alice")
			must(t, err, "GetUser")
			u, _, err := s.GetUserWithRoles(ctx, "u-alice")
			must(t, err, "GetUserWithRoles")
			wantEqual(t, u, plain, "GetUserWithRoles user")
			_, _, err = s.GetUserWithRoles(ctx, "u-nobody")
			wantErr(t, err, storage.ErrNotFound, "GetUserWithRoles of a missing user")
		}},
		{"set user roles is all or nothing", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			must(t, s.SetUserRoles(ctx, "u-alice", []string{storage.RoleUser}), "SetUserRoles")
			wantErr(t, s.SetUserRoles(ctx, "u-alice", []string{storage.RoleAdmin, "nosuch"}), storage.ErrNotFound, "SetUserRoles with unknown role")
			got, err := s.ListUserRoles(ctx, "u-alice")
			must(t, err, "ListUserRoles")
			wantEqual(t, got, []string{"user"}, "roles after failed SetUserRoles")
			wantErr(t, s.SetUserRoles(ctx, "nope", []string{storage.RoleUser}), storage.ErrNotFound, "SetUserRoles of unknown user")
			ids, err := s.ListUsersWithRole(ctx, storage.RoleUser)
			must(t, err, "ListUsersWithRole")
			wantEqual(t, ids, []string{"u-alice"}, "holders after failed SetUserRoles")
		}},
		{"list user roles of a user without roles is empty", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			for _, id := range []string{"u-alice", "unknown"} {
				got, err := s.ListUserRoles(ctx, id)
				must(t, err, "ListUserRoles "+id)
				if got == nil || len(got) != 0 {
					t.Fatalf("ListUserRoles(%s) = %#v, want empty non-nil", id, got)
				}
			}
		}},
		{"list users with role", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "carol", "alice", "bob")
			must(t, s.SetUserRoles(ctx, "u-carol", []string{storage.RoleAdmin, storage.RoleUser}), "SetUserRoles carol")
			must(t, s.SetUserRoles(ctx, "u-alice", []string{storage.RoleAdmin}), "SetUserRoles alice")
			must(t, s.SetUserRoles(ctx, "u-bob", []string{storage.RoleUser}), "SetUserRoles bob")
			for _, tc := range []struct {
				role string
				want []string
			}{
				{storage.RoleAdmin, []string{"u-alice", "u-carol"}},
				{storage.RoleUser, []string{"u-bob", "u-carol"}},
				{"nosuch", []string{}},
			} {
				got, err := s.ListUsersWithRole(ctx, tc.role)
				must(t, err, "ListUsersWithRole "+tc.role)
				if got == nil {
					got = []string{}
				}
				wantEqual(t, got, tc.want, "holders of "+tc.role)
			}
		}},
		{"delete role removes it from users", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			must(t, s.CreateRole(ctx, storage.Role{Name: "auditor", CreatedAt: at(0)}), "CreateRole")
			must(t, s.SetUserRoles(ctx, "u-alice", []string{"auditor", storage.RoleUser}), "SetUserRoles")
			must(t, s.DeleteRole(ctx, "auditor"), "DeleteRole")
			_, err := s.GetRole(ctx, "auditor")
			wantErr(t, err, storage.ErrNotFound, "GetRole after delete")
			got, err := s.ListUserRoles(ctx, "u-alice")
			must(t, err, "ListUserRoles")
			wantEqual(t, got, []string{"user"}, "roles after DeleteRole")
			ids, err := s.ListUsersWithRole(ctx, "auditor")
			must(t, err, "ListUsersWithRole")
			wantEqual(t, len(ids), 0, "holders of deleted role")
			wantErr(t, s.DeleteRole(ctx, "auditor"), storage.ErrNotFound, "second DeleteRole")
			// A new role of the same name starts with no holders.
			must(t, s.CreateRole(ctx, storage.Role{Name: "auditor", CreatedAt: at(0)}), "CreateRole again")
			ids, err = s.ListUsersWithRole(ctx, "auditor")
			must(t, err, "ListUsersWithRole")
			wantEqual(t, len(ids), 0, "holders of re-created role")
		}},
	}
}
