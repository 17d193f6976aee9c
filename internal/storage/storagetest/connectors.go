package storagetest

import (
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

func sampleConnector(id string) storage.Connector {
	return storage.Connector{
		ID:           id,
		Type:         storage.ConnectorOIDC,
		Name:         "Corp " + id,
		IconURL:      "https://corp.example/icon.png",
		Enabled:      true,
		ClientID:     "signet-at-" + id,
		ClientSecret: []byte{1, 2, 3, 4},
		Config:       []byte(`{"issuer":"https://corp.example",  "scopes":["openid","email"]}`),
		RoleRules:    []storage.RoleRule{{Claim: "groups", Value: "admins", Role: "admin"}},
		DefaultRole:  "user",
		CreatedAt:    at(0),
		UpdatedAt:    at(time.Second),
	}
}

func connectorCases() []testCase {
	return []testCase{
		{"create, get, list round trip", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			b, a := sampleConnector("b"), sampleConnector("a")
			a.ClientSecret, a.Config, a.RoleRules, a.Enabled = nil, nil, nil, false
			must(t, s.CreateConnector(ctx, b), "CreateConnector b")
			must(t, s.CreateConnector(ctx, a), "CreateConnector a")
			got, err := s.GetConnector(ctx, "b")
			must(t, err, "GetConnector")
			wantEqual(t, got, b, "GetConnector (config kept byte for byte)")
			wantA := a
			wantA.Config, wantA.RoleRules = []byte("{}"), []storage.RoleRule{}
			list, err := s.ListConnectors(ctx)
			must(t, err, "ListConnectors")
			wantEqual(t, list, []storage.Connector{wantA, b}, "ListConnectors")
			wantErr(t, s.CreateConnector(ctx, sampleConnector("a")), storage.ErrAlreadyExists, "duplicate id")
			_, err = s.GetConnector(ctx, "nope")
			wantErr(t, err, storage.ErrNotFound, "GetConnector unknown")
		}},
		{"update keeps id, type and creation time", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			c := sampleConnector("c")
			must(t, s.CreateConnector(ctx, c), "CreateConnector")
			u := c
			u.Type, u.CreatedAt = storage.ConnectorGitHub, at(time.Hour)
			u.Name, u.Enabled, u.ClientSecret, u.DefaultRole = "Renamed", false, []byte{9}, ""
			u.RoleRules = []storage.RoleRule{{Claim: "teams", Value: "org/ops", Role: "ops"}}
			u.UpdatedAt = at(2 * time.Hour)
			must(t, s.UpdateConnector(ctx, u), "UpdateConnector")
			got, err := s.GetConnector(ctx, "c")
			must(t, err, "GetConnector")
			want := u
			want.Type, want.CreatedAt = c.Type, c.CreatedAt
			wantEqual(t, got, want, "after update")
			missing := sampleConnector("nope")
			wantErr(t, s.UpdateConnector(ctx, missing), storage.ErrNotFound, "update unknown")
		}},
		{"identities link (connector, subject) to one user", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice", "bob")
			must(t, s.CreateConnector(ctx, sampleConnector("corp")), "CreateConnector")
			must(t, s.CreateConnector(ctx, sampleConnector("gh")), "CreateConnector")
			id := storage.UpstreamIdentity{ConnectorID: "corp", Subject: "sub-1", UserID: "u-alice", Email: "a@corp.example", CreatedAt: at(0)}
			must(t, s.CreateUpstreamIdentity(ctx, id), "CreateUpstreamIdentity")
			got, err := s.GetUpstreamIdentity(ctx, "corp", "sub-1")
			must(t, err, "GetUpstreamIdentity")
			wantEqual(t, got, id, "GetUpstreamIdentity")

			same := id
			same.UserID = "u-bob"
			wantErr(t, s.CreateUpstreamIdentity(ctx, same), storage.ErrAlreadyExists, "subject linked to another user")
			second := id
			second.Subject = "sub-2"
			wantErr(t, s.CreateUpstreamIdentity(ctx, second), storage.ErrAlreadyExists, "second identity at one connector")
			noUser := storage.UpstreamIdentity{ConnectorID: "corp", Subject: "sub-3", UserID: "nobody", CreatedAt: at(0)}
			wantErr(t, s.CreateUpstreamIdentity(ctx, noUser), storage.ErrNotFound, "unknown user")
			noConn := storage.UpstreamIdentity{ConnectorID: "nope", Subject: "sub-3", UserID: "u-bob", CreatedAt: at(0)}
			wantErr(t, s.CreateUpstreamIdentity(ctx, noConn), storage.ErrNotFound, "unknown connector")
			_, err = s.GetUpstreamIdentity(ctx, "corp", "sub-2")
			wantErr(t, err, storage.ErrNotFound, "GetUpstreamIdentity unknown")

			gh := storage.UpstreamIdentity{ConnectorID: "gh", Subject: "42", UserID: "u-alice", CreatedAt: at(time.Second)}
			must(t, s.CreateUpstreamIdentity(ctx, gh), "CreateUpstreamIdentity gh")
			must(t, s.TouchUpstreamIdentity(ctx, "gh", "42", at(time.Hour)), "TouchUpstreamIdentity")
			gh.LastLoginAt = at(time.Hour)
			wantErr(t, s.TouchUpstreamIdentity(ctx, "gh", "43", at(time.Hour)), storage.ErrNotFound, "touch unknown")
			list, err := s.ListUserUpstreamIdentities(ctx, "u-alice")
			must(t, err, "ListUserUpstreamIdentities")
			wantEqual(t, list, []storage.UpstreamIdentity{id, gh}, "identities of alice")
			list, err = s.ListUserUpstreamIdentities(ctx, "u-bob")
			must(t, err, "ListUserUpstreamIdentities bob")
			wantEqual(t, list, []storage.UpstreamIdentity{}, "identities of bob")

			must(t, s.DeleteUpstreamIdentity(ctx, "u-alice", "corp"), "DeleteUpstreamIdentity")
			wantErr(t, s.DeleteUpstreamIdentity(ctx, "u-alice", "corp"), storage.ErrNotFound, "delete twice")
			_, err = s.GetUpstreamIdentity(ctx, "corp", "sub-1")
			wantErr(t, err, storage.ErrNotFound, "deleted identity")
			// The subject is free again, for anyone.
			must(t, s.CreateUpstreamIdentity(ctx, same), "relink to bob")
		}},
		{"identities go with their connector and their user", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice", "bob")
			must(t, s.CreateConnector(ctx, sampleConnector("corp")), "CreateConnector")
			must(t, s.CreateConnector(ctx, sampleConnector("gh")), "CreateConnector")
			for _, id := range []storage.UpstreamIdentity{
				{ConnectorID: "corp", Subject: "a", UserID: "u-alice", CreatedAt: at(0)},
				{ConnectorID: "gh", Subject: "a", UserID: "u-alice", CreatedAt: at(0)},
				{ConnectorID: "gh", Subject: "b", UserID: "u-bob", CreatedAt: at(0)},
			} {
				must(t, s.CreateUpstreamIdentity(ctx, id), "CreateUpstreamIdentity")
			}
			must(t, s.DeleteConnector(ctx, "gh"), "DeleteConnector")
			wantErr(t, s.DeleteConnector(ctx, "gh"), storage.ErrNotFound, "delete twice")
			_, err := s.GetUpstreamIdentity(ctx, "gh", "b")
			wantErr(t, err, storage.ErrNotFound, "identity of deleted connector")
			must(t, s.DeleteUser(ctx, "u-alice"), "DeleteUser")
			_, err = s.GetUpstreamIdentity(ctx, "corp", "a")
			wantErr(t, err, storage.ErrNotFound, "identity of deleted user")
		}},
		{"sessions keep how they were signed in", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			sess := sampleSession("s1", "u-alice")
			sess.AMR, sess.IDP = []string{"fed"}, "corp"
			must(t, s.CreateSession(ctx, sess), "CreateSession")
			got, err := s.GetSession(ctx, "s1")
			must(t, err, "GetSession")
			wantEqual(t, got, sess, "GetSession")
			plain := sampleSession("s2", "u-alice")
			plain.AMR = []string{}
			must(t, s.CreateSession(ctx, plain), "CreateSession")
			got, err = s.GetSessionByTokenHash(ctx, "hash-s2")
			must(t, err, "GetSessionByTokenHash")
			plain.AMR = nil
			wantEqual(t, got, plain, "empty AMR comes back nil")
		}},
	}
}
