package storagetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

func clientIDs(cs []storage.Client) []string {
	ids := make([]string, 0, len(cs))
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

func clientCases() []testCase {
	return []testCase{
		{"create and get round trip", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			c := sampleClient("web")
			must(t, s.CreateClient(ctx, c), "CreateClient")
			got, err := s.GetClient(ctx, "web")
			must(t, err, "GetClient")
			wantEqual(t, got, c, "GetClient")
			if got.Public() {
				t.Fatal("client with client_secret_basic reported as public")
			}
			list, err := s.ListClients(ctx)
			must(t, err, "ListClients")
			wantEqual(t, list, []storage.Client{c}, "ListClients")
		}},
		{"list holds every client", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			for _, id := range []string{"c", "a", "b"} {
				must(t, s.CreateClient(ctx, sampleClient(id)), "CreateClient "+id)
			}
			list, err := s.ListClients(ctx)
			must(t, err, "ListClients")
			wantEqual(t, clientIDs(list), []string{"a", "b", "c"}, "client ids")
		}},
		{"public client with empty lists", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			c := storage.Client{ID: "spa", TokenEndpointAuthMethod: storage.AuthMethodNone, CreatedAt: at(0), UpdatedAt: at(0)}
			must(t, s.CreateClient(ctx, c), "CreateClient")
			got, err := s.GetClient(ctx, "spa")
			must(t, err, "GetClient")
			if !got.Public() {
				t.Fatal("client with auth method none not public")
			}
			// nil and empty are both fine; contents are not.
			for name, n := range map[string]int{
				"SecretHash": len(got.SecretHash), "RedirectURIs": len(got.RedirectURIs),
				"PostLogoutRedirectURIs": len(got.PostLogoutRedirectURIs), "GrantTypes": len(got.GrantTypes),
				"ResponseTypes": len(got.ResponseTypes), "Scopes": len(got.Scopes), "Audience": len(got.Audience),
			} {
				if n != 0 {
					t.Errorf("%s has %d elements, want none", name, n)
				}
			}
			if got.AccessTokenLifespan != 0 || got.FirstParty || !got.CreatedAt.Equal(at(0)) {
				t.Errorf("got %+v", got)
			}
		}},
		{"duplicate id", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateClient(ctx, sampleClient("web")), "CreateClient")
			dup := sampleClient("web")
			dup.Name = "impostor"
			wantErr(t, s.CreateClient(ctx, dup), storage.ErrAlreadyExists, "second CreateClient")
			got, err := s.GetClient(ctx, "web")
			must(t, err, "GetClient")
			wantEqual(t, got.Name, "Client web", "name after failed duplicate")
		}},
		{"missing client", func(t *testing.T, s storage.Store) {
			for _, op := range []struct {
				name string
				call func(ctx context.Context) error
			}{
				{"GetClient", func(ctx context.Context) error { _, err := s.GetClient(ctx, "nope"); return err }},
				{"UpdateClient", func(ctx context.Context) error { return s.UpdateClient(ctx, sampleClient("nope")) }},
				{"DeleteClient", func(ctx context.Context) error { return s.DeleteClient(ctx, "nope") }},
			} {
				wantErr(t, op.call(t.Context()), storage.ErrNotFound, op.name)
			}
			list, err := s.ListClients(t.Context())
			must(t, err, "ListClients")
			wantEqual(t, len(list), 0, "clients in empty store")
		}},
		{"update replaces all but id and created_at", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateClient(ctx, sampleClient("web")), "CreateClient")
			u := storage.Client{
				ID:                                 "web",
				SecretHash:                         []byte{9, 9},
				Name:                               "Renamed",
				RedirectURIs:                       []string{"https://new.example/cb"},
				PostLogoutRedirectURIs:             []string{},
				GrantTypes:                         []string{"client_credentials"},
				ResponseTypes:                      []string{},
				Scopes:                             []string{"api"},
				Audience:                           []string{"https://other.example", "https://api.example"},
				TokenEndpointAuthMethod:            storage.AuthMethodClientSecretPost,
				FirstParty:                         false,
				IDTokenSignedResponseAlg:           "",
				AccessTokenLifespan:                time.Minute,
				IDTokenLifespan:                    2 * time.Minute,
				RefreshTokenLifespan:               3 * time.Minute,
				AuthCodeLifespan:                   4 * time.Minute,
				CreatedAt:                          at(99 * time.Hour), // must be ignored
				UpdatedAt:                          at(time.Hour),
				JWKSURI:                            "https://web.example/jwks.json",
				TokenEndpointAuthSigningAlg:        "ES256",
				RequirePushedAuthorizationRequests: false,
				AccessTokenFormat:                  storage.AccessTokenOpaque,
			}
			must(t, s.UpdateClient(ctx, u), "UpdateClient")
			got, err := s.GetClient(ctx, "web")
			must(t, err, "GetClient")
			want := u
			want.CreatedAt = at(0)
			// Empty lists may come back nil or empty: compare their lengths only.
			if len(got.PostLogoutRedirectURIs) != 0 || len(got.ResponseTypes) != 0 {
				t.Fatalf("emptied lists not empty: %+v", got)
			}
			got.PostLogoutRedirectURIs, got.ResponseTypes = want.PostLogoutRedirectURIs, want.ResponseTypes
			wantEqual(t, got, want, "client after update")
		}},
		{"delete removes the client and its consents", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateClient(ctx, sampleClient("web")), "CreateClient web")
			must(t, s.CreateClient(ctx, sampleClient("other")), "CreateClient other")
			createUsers(t, s, "alice")
			for _, cid := range []string{"web", "other"} {
				must(t, s.UpsertConsent(ctx, storage.Consent{UserID: "u-alice", ClientID: cid, Scopes: []string{"openid"}, CreatedAt: at(0), UpdatedAt: at(0)}), "UpsertConsent "+cid)
			}
			must(t, s.DeleteClient(ctx, "web"), "DeleteClient")
			_, err := s.GetClient(ctx, "web")
			wantErr(t, err, storage.ErrNotFound, "GetClient after delete")
			_, err = s.GetConsent(ctx, "u-alice", "web")
			wantErr(t, err, storage.ErrNotFound, "GetConsent of deleted client")
			cs, err := s.ListConsents(ctx, "u-alice")
			must(t, err, "ListConsents")
			if len(cs) != 1 || cs[0].ClientID != "other" {
				t.Fatalf("consents after deleting web: %+v, want only other's", cs)
			}
			wantErr(t, s.DeleteClient(ctx, "web"), storage.ErrNotFound, "second DeleteClient")
		}},
		{"lock clients serialises edits", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			c := sampleClient("web")
			c.RedirectURIs = []string{}
			must(t, s.CreateClient(ctx, c), "CreateClient")
			// Each edit reads the client and adds a redirect URI; without
			// the lock one would write back a list missing another's.
			const n = 6
			errs := race(n, func(i int) error {
				return s.InTx(ctx, func(ctx context.Context) error {
					if err := s.LockClients(ctx); err != nil {
						return err
					}
					cur, err := s.GetClient(ctx, "web")
					if err != nil {
						return err
					}
					time.Sleep(5 * time.Millisecond) // widen the window for a lost update
					cur.RedirectURIs = append(cur.RedirectURIs, fmt.Sprintf("https://web.example/cb%d", i))
					return s.UpdateClient(ctx, cur)
				})
			})
			for i, err := range errs {
				must(t, err, fmt.Sprintf("edit %d", i))
			}
			got, err := s.GetClient(ctx, "web")
			must(t, err, "GetClient")
			uris := slices.Sorted(slices.Values(got.RedirectURIs))
			want := make([]string, 0, n)
			for i := range n {
				want = append(want, fmt.Sprintf("https://web.example/cb%d", i))
			}
			wantEqual(t, uris, want, "redirect URIs after concurrent edits")
		}},
		{"values are copies", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			c := sampleClient("web")
			must(t, s.CreateClient(ctx, c), "CreateClient")
			// Mutating what was passed in or handed out must not reach the store.
			c.RedirectURIs[0] = "https://evil.example/cb"
			c.SecretHash[0] = 0
			got, err := s.GetClient(ctx, "web")
			must(t, err, "GetClient")
			got.Scopes[0] = "admin"
			got.SecretHash[1] = 0
			again, err := s.GetClient(ctx, "web")
			must(t, err, "GetClient again")
			wantEqual(t, again, sampleClient("web"), "client after outside mutation")
		}},
	}
}
