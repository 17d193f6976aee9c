package storagetest

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

func consentCases() []testCase {
	setup := func(t *testing.T, s storage.Store) {
		t.Helper()
		createUsers(t, s, "alice", "bob")
		for _, id := range []string{"web", "cli"} {
			must(t, s.CreateClient(t.Context(), sampleClient(id)), "CreateClient "+id)
		}
	}
	return []testCase{
		{"upsert creates, then replaces keeping creation time", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			setup(t, s)
			c := storage.Consent{UserID: "u-alice", ClientID: "web", Scopes: []string{"openid", "email"}, CreatedAt: at(0), UpdatedAt: at(0)}
			must(t, s.UpsertConsent(ctx, c), "first UpsertConsent")
			got, err := s.GetConsent(ctx, "u-alice", "web")
			must(t, err, "GetConsent")
			wantEqual(t, got, c, "created consent")

			again := storage.Consent{UserID: "u-alice", ClientID: "web", Scopes: []string{"openid"}, CreatedAt: at(time.Hour), UpdatedAt: at(time.Hour)}
			must(t, s.UpsertConsent(ctx, again), "second UpsertConsent")
			got, err = s.GetConsent(ctx, "u-alice", "web")
			must(t, err, "GetConsent")
			wantEqual(t, got, storage.Consent{UserID: "u-alice", ClientID: "web", Scopes: []string{"openid"}, CreatedAt: at(0), UpdatedAt: at(time.Hour)}, "replaced consent")
		}},
		{"list and delete", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			setup(t, s)
			for _, c := range []storage.Consent{
				{UserID: "u-alice", ClientID: "web", Scopes: []string{"openid"}, CreatedAt: at(0), UpdatedAt: at(0)},
				{UserID: "u-alice", ClientID: "cli", Scopes: []string{"openid", "offline_access"}, CreatedAt: at(0), UpdatedAt: at(0)},
				{UserID: "u-bob", ClientID: "web", Scopes: []string{"openid"}, CreatedAt: at(0), UpdatedAt: at(0)},
			} {
				must(t, s.UpsertConsent(ctx, c), "UpsertConsent")
			}
			list, err := s.ListConsents(ctx, "u-alice")
			must(t, err, "ListConsents")
			slices.SortFunc(list, func(a, b storage.Consent) int { return cmp.Compare(a.ClientID, b.ClientID) })
			wantEqual(t, list, []storage.Consent{
				{UserID: "u-alice", ClientID: "cli", Scopes: []string{"openid", "offline_access"}, CreatedAt: at(0), UpdatedAt: at(0)},
				{UserID: "u-alice", ClientID: "web", Scopes: []string{"openid"}, CreatedAt: at(0), UpdatedAt: at(0)},
			}, "alice's consents")

			must(t, s.DeleteConsent(ctx, "u-alice", "web"), "DeleteConsent")
			_, err = s.GetConsent(ctx, "u-alice", "web")
			wantErr(t, err, storage.ErrNotFound, "GetConsent after delete")
			_, err = s.GetConsent(ctx, "u-bob", "web")
			must(t, err, "bob's consent survives")
			wantErr(t, s.DeleteConsent(ctx, "u-alice", "web"), storage.ErrNotFound, "second DeleteConsent")
			none, err := s.ListConsents(ctx, "nobody")
			must(t, err, "ListConsents of unknown user")
			wantEqual(t, len(none), 0, "consents of unknown user")
		}},
		{"missing consent, user or client", func(t *testing.T, s storage.Store) {
			setup(t, s)
			for _, op := range []struct {
				name string
				call func(ctx context.Context) error
			}{
				{"GetConsent", func(ctx context.Context) error { _, err := s.GetConsent(ctx, "u-alice", "web"); return err }},
				{"DeleteConsent", func(ctx context.Context) error { return s.DeleteConsent(ctx, "u-alice", "web") }},
				{"UpsertConsent unknown user", func(ctx context.Context) error {
					return s.UpsertConsent(ctx, storage.Consent{UserID: "nobody", ClientID: "web", CreatedAt: at(0), UpdatedAt: at(0)})
				}},
				{"UpsertConsent unknown client", func(ctx context.Context) error {
					return s.UpsertConsent(ctx, storage.Consent{UserID: "u-alice", ClientID: "nope", CreatedAt: at(0), UpdatedAt: at(0)})
				}},
			} {
				wantErr(t, op.call(t.Context()), storage.ErrNotFound, op.name)
			}
		}},
	}
}
