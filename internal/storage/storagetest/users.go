package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

func userIDs(us []storage.User) []string {
	ids := make([]string, 0, len(us))
	for _, u := range us {
		ids = append(ids, u.ID)
	}
	return ids
}

func userCases() []testCase {
	return []testCase{
		{"create and get round trip", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			u := sampleUser("u1", "Alice", "Alice@Example.com")
			u.Disabled = true
			must(t, s.CreateUser(ctx, u), "CreateUser")
			got, err := s.GetUser(ctx, "u1")
			must(t, err, "GetUser")
			// Stored as given: case is kept, only comparisons ignore it.
			wantEqual(t, got, u, "GetUser")
			_, err = s.GetUser(ctx, "nope")
			wantErr(t, err, storage.ErrNotFound, "GetUser of missing user")
		}},
		{"get by login, any case", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateUser(ctx, sampleUser("u1", "Alice", "Alice@Example.com")), "CreateUser alice")
			must(t, s.CreateUser(ctx, sampleUser("u2", "bob", "bob@example.com")), "CreateUser bob")
			for _, tc := range []struct {
				login string
				id    string
				err   error
			}{
				{"Alice", "u1", nil},
				{"alice", "u1", nil},
				{"ALICE", "u1", nil},
				{"Alice@Example.com", "u1", nil},
				{"alice@example.COM", "u1", nil},
				{"BOB", "u2", nil},
				{"bob@example.com", "u2", nil},
				{"carol", "", storage.ErrNotFound},
				{"alice@example", "", storage.ErrNotFound},
				{"ali", "", storage.ErrNotFound},
				{"", "", storage.ErrNotFound},
			} {
				got, err := s.GetUserByLogin(ctx, tc.login)
				if tc.err != nil {
					wantErr(t, err, tc.err, "GetUserByLogin "+tc.login)
					continue
				}
				must(t, err, "GetUserByLogin "+tc.login)
				wantEqual(t, got.ID, tc.id, "user found by "+tc.login)
			}
		}},
		{"login prefers the user name over another user's e-mail", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateUser(ctx, sampleUser("u1", "x@example.com", "first@example.com")), "CreateUser 1")
			must(t, s.CreateUser(ctx, sampleUser("u2", "second", "X@example.com")), "CreateUser 2")
			got, err := s.GetUserByLogin(ctx, "x@EXAMPLE.com")
			must(t, err, "GetUserByLogin")
			wantEqual(t, got.ID, "u1", "user found")
		}},
		{"unique id, user name and e-mail, case-insensitive", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateUser(ctx, sampleUser("u1", "Alice", "alice@example.com")), "CreateUser")
			for _, tc := range []struct {
				name string
				user storage.User
			}{
				{"same id", sampleUser("u1", "other", "other@example.com")},
				{"same user name", sampleUser("u2", "Alice", "other@example.com")},
				{"user name in other case", sampleUser("u2", "aLICE", "other@example.com")},
				{"same e-mail", sampleUser("u2", "other", "alice@example.com")},
				{"e-mail in other case", sampleUser("u2", "other", "ALICE@example.COM")},
			} {
				wantErr(t, s.CreateUser(ctx, tc.user), storage.ErrAlreadyExists, tc.name)
			}
			list, err := s.ListUsers(ctx, storage.UserQuery{})
			must(t, err, "ListUsers")
			wantEqual(t, userIDs(list), []string{"u1"}, "users after rejected duplicates")
		}},
		{"empty e-mail is not unique", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateUser(ctx, sampleUser("u1", "one", "")), "CreateUser one")
			must(t, s.CreateUser(ctx, sampleUser("u2", "two", "")), "CreateUser two")
			got, err := s.GetUserByLogin(ctx, "two")
			must(t, err, "GetUserByLogin two")
			wantEqual(t, got.ID, "u2", "user found")
		}},
		{"update", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateUser(ctx, sampleUser("u1", "alice", "alice@example.com")), "CreateUser alice")
			must(t, s.CreateUser(ctx, sampleUser("u2", "bob", "bob@example.com")), "CreateUser bob")

			// Changing only the case of one's own name is not a clash.
			u := storage.User{
				ID: "u1", Username: "Alice", Email: "alice@new.example", Name: "Alice A.",
				PasswordHash: "", EmailVerified: false, Disabled: true,
				CreatedAt: at(50 * time.Hour), UpdatedAt: at(time.Hour),
			}
			must(t, s.UpdateUser(ctx, u), "UpdateUser")
			got, err := s.GetUser(ctx, "u1")
			must(t, err, "GetUser")
			want := u
			want.CreatedAt = at(0)
			wantEqual(t, got, want, "user after update")
			// The old e-mail is free again, the new one is taken.
			_, err = s.GetUserByLogin(ctx, "alice@example.com")
			wantErr(t, err, storage.ErrNotFound, "login by old e-mail")

			for _, tc := range []struct {
				name string
				user storage.User
				err  error
			}{
				{"taken user name", sampleUser("u2", "ALICE", "bob@example.com"), storage.ErrAlreadyExists},
				{"taken e-mail", sampleUser("u2", "bob", "Alice@New.Example"), storage.ErrAlreadyExists},
				{"missing user", sampleUser("u3", "carol", "carol@example.com"), storage.ErrNotFound},
			} {
				wantErr(t, s.UpdateUser(ctx, tc.user), tc.err, tc.name)
			}
			got, err = s.GetUser(ctx, "u2")
			must(t, err, "GetUser bob")
			wantEqual(t, got, sampleUser("u2", "bob", "bob@example.com"), "bob after rejected updates")
		}},
		{"list search, order, limit and offset", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			for _, u := range []storage.User{
				{ID: "c", Username: "carol", Email: "carol@example.org", Name: "Carol Jones"},
				{ID: "a", Username: "Alice", Email: "alice@example.org", Name: "Alice Smith"},
				{ID: "e", Username: "eve", Email: "eve@example.net", Name: "Eve 100%"},
				{ID: "b", Username: "bob", Email: "bob@example.com", Name: "Bob Smith"},
				{ID: "d", Username: "Dave", Email: "dave@example.com", Name: "Dave"},
			} {
				u.CreatedAt, u.UpdatedAt = at(0), at(0)
				must(t, s.CreateUser(ctx, u), "CreateUser "+u.ID)
			}
			for _, tc := range []struct {
				name string
				q    storage.UserQuery
				want []string
			}{
				{"all, by user name ignoring case", storage.UserQuery{}, []string{"a", "b", "c", "d", "e"}},
				{"search e-mail", storage.UserQuery{Search: "EXAMPLE.ORG"}, []string{"a", "c"}},
				{"search name", storage.UserQuery{Search: "smith"}, []string{"a", "b"}},
				{"search user name", storage.UserQuery{Search: "AV"}, []string{"d"}},
				{"percent is literal", storage.UserQuery{Search: "%"}, []string{"e"}},
				{"underscore is literal", storage.UserQuery{Search: "_"}, []string{}},
				{"no match", storage.UserQuery{Search: "zzz"}, []string{}},
				{"limit", storage.UserQuery{Limit: 2}, []string{"a", "b"}},
				{"limit and offset", storage.UserQuery{Limit: 2, Offset: 2}, []string{"c", "d"}},
				{"offset only", storage.UserQuery{Offset: 4}, []string{"e"}},
				{"offset past the end", storage.UserQuery{Offset: 10}, []string{}},
				{"search with limit and offset", storage.UserQuery{Search: "smith", Limit: 1, Offset: 1}, []string{"b"}},
			} {
				got, err := s.ListUsers(ctx, tc.q)
				must(t, err, "ListUsers "+tc.name)
				wantEqual(t, userIDs(got), tc.want, "ListUsers "+tc.name)
			}
		}},
		{"delete cascades", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice", "bob")
			must(t, s.CreateClient(ctx, sampleClient("web")), "CreateClient")
			for _, uid := range []string{"u-alice", "u-bob"} {
				must(t, s.SetUserRoles(ctx, uid, []string{storage.RoleUser}), "SetUserRoles "+uid)
				must(t, s.CreateSession(ctx, sampleSession("s-"+uid, uid)), "CreateSession "+uid)
				must(t, s.UpsertConsent(ctx, storage.Consent{UserID: uid, ClientID: "web", Scopes: []string{"openid"}, CreatedAt: at(0), UpdatedAt: at(0)}), "UpsertConsent "+uid)
				must(t, s.CreateActionToken(ctx, sampleActionToken("t-"+uid, storage.PurposeResetPassword, uid)), "CreateActionToken "+uid)
			}
			must(t, s.DeleteUser(ctx, "u-alice"), "DeleteUser")

			_, err := s.GetUser(ctx, "u-alice")
			wantErr(t, err, storage.ErrNotFound, "GetUser after delete")
			_, err = s.GetUserByLogin(ctx, "alice")
			wantErr(t, err, storage.ErrNotFound, "GetUserByLogin after delete")
			ids, err := s.ListUsersWithRole(ctx, storage.RoleUser)
			must(t, err, "ListUsersWithRole")
			wantEqual(t, ids, []string{"u-bob"}, "holders of role user")
			_, err = s.GetSession(ctx, "s-u-alice")
			wantErr(t, err, storage.ErrNotFound, "GetSession of deleted user")
			_, err = s.GetConsent(ctx, "u-alice", "web")
			wantErr(t, err, storage.ErrNotFound, "GetConsent of deleted user")
			_, err = s.ConsumeActionToken(ctx, storage.PurposeResetPassword, "t-u-alice")
			wantErr(t, err, storage.ErrNotFound, "ConsumeActionToken of deleted user")

			// Bob keeps everything.
			_, err = s.GetSession(ctx, "s-u-bob")
			must(t, err, "GetSession bob")
			_, err = s.GetConsent(ctx, "u-bob", "web")
			must(t, err, "GetConsent bob")
			_, err = s.ConsumeActionToken(ctx, storage.PurposeResetPassword, "t-u-bob")
			must(t, err, "ConsumeActionToken bob")

			// The name is free again.
			must(t, s.CreateUser(ctx, sampleUser("u-alice2", "alice", "alice@example.com")), "CreateUser reusing the name")
			wantErr(t, s.DeleteUser(ctx, "u-alice"), storage.ErrNotFound, "second DeleteUser")
		}},
		{"missing user", func(t *testing.T, s storage.Store) {
			for _, op := range []struct {
				name string
				call func(ctx context.Context) error
			}{
				{"GetUser", func(ctx context.Context) error { _, err := s.GetUser(ctx, "nope"); return err }},
				{"UpdateUser", func(ctx context.Context) error { return s.UpdateUser(ctx, sampleUser("nope", "n", "n@example.com")) }},
				{"DeleteUser", func(ctx context.Context) error { return s.DeleteUser(ctx, "nope") }},
				{"SetUserRoles", func(ctx context.Context) error { return s.SetUserRoles(ctx, "nope", []string{storage.RoleUser}) }},
			} {
				wantErr(t, op.call(t.Context()), storage.ErrNotFound, op.name)
			}
		}},
	}
}
