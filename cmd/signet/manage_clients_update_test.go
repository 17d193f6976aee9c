package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/signet-idp/signet/internal/adminapi"
	"github.com/signet-idp/signet/internal/clients"
)

// TestManageClientsUpdate: clients update sends only the flags given, so
// the others keep the client's settings; a list flag replaces the list;
// refusals come back as the server's 400/404 and change nothing.
func TestManageClientsUpdate(t *testing.T) {
	store := startAdminAPI(t)
	ctx := context.Background()
	var c adminapi.OAuthClient
	mustJSON(t, mustRun(t, "", "clients", "create", "--name", "Wiki", "--redirect-uri", "https://wiki.example.com/cb",
		"--post-logout-redirect-uri", "https://wiki.example.com/bye", "--scope", "openid,profile", "--first-party",
		"--require-mfa", "--backchannel-logout-uri", "https://wiki.example.com/logout", "-o", "json"), &c)
	before, err := store.GetClient(ctx, c.ClientID)
	if err != nil {
		t.Fatal(err)
	}

	var got adminapi.OAuthClient
	mustJSON(t, mustRun(t, "", "clients", "update", c.ClientID, "--redirect-uri", "https://wiki.example.com/cb2",
		"--redirect-uri", "https://wiki.example.com/cb3", "-o", "json"), &got)
	if !slices.Equal(got.RedirectURIs, []string{"https://wiki.example.com/cb2", "https://wiki.example.com/cb3"}) {
		t.Errorf("redirect_uris after update: %v", got.RedirectURIs)
	}
	if got.ClientName != "Wiki" || !got.FirstParty || !got.RequireMFA || got.Scope != "openid profile" ||
		!slices.Equal(got.PostLogoutRedirectURIs, []string{"https://wiki.example.com/bye"}) ||
		got.BackchannelLogoutURI != "https://wiki.example.com/logout" || got.ClientSecret != "" {
		t.Errorf("an update of the redirect URIs changed other fields (or showed a secret): %+v", got)
	}

	out := mustRun(t, "", "clients", "update", c.ClientID, "--name", "Wiki 2", "--first-party=false",
		"--post-logout-redirect-uri", "", "--backchannel-logout-uri", "")
	if !strings.Contains(out, "Wiki 2") || strings.Contains(out, "shown only now") {
		t.Errorf("clients update (table):\n%s", out)
	}
	stored, err := store.GetClient(ctx, c.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Name != "Wiki 2" || stored.FirstParty || !stored.RequireMFA || len(stored.PostLogoutRedirectURIs) != 0 ||
		stored.BackchannelLogoutURI != "" || len(stored.RedirectURIs) != 2 {
		t.Errorf("stored after the second update: %+v", stored)
	}
	if !bytes.Equal(stored.SecretHash, before.SecretHash) {
		t.Error("an update changed the secret")
	}

	for _, tt := range []struct {
		name    string
		args    []string
		wantErr []string
	}{
		{"fragment", []string{"--redirect-uri", "https://wiki.example.com/cb#x"}, []string{"HTTP 400", "fragment"}},
		{"no redirect URI left", []string{"--redirect-uri", ""}, []string{"HTTP 400", "redirect_uris"}},
		{"alg not offered", []string{"--id-token-signed-response-alg", "ES256"}, []string{"HTTP 400", "--signing-algorithms"}},
		{"public and a secret method", []string{"--public", "--token-endpoint-auth-method", "client_secret_post"}, []string{"--public"}},
		{"public off without a method", []string{"--public=false"}, []string{"--token-endpoint-auth-method"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runCLI(t, "", append([]string{"clients", "update", c.ClientID}, tt.args...)...)
			for _, want := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("error %v; want one mentioning %q", err, want)
				}
			}
			after, _ := store.GetClient(ctx, c.ClientID)
			if !after.UpdatedAt.Equal(stored.UpdatedAt) || after.IDTokenSignedResponseAlg != "" {
				t.Errorf("a refused update changed the client: %+v", after)
			}
		})
	}
	if _, err := runCLI(t, "", "clients", "update", "0123456789abcdef0123456789abcdef", "--name", "X"); err == nil ||
		!strings.Contains(err.Error(), "not found") {
		t.Errorf("update of an unknown client: %v; want not found", err)
	}

	// Public to confidential: a secret, printed once.
	var pub adminapi.OAuthClient
	mustJSON(t, mustRun(t, "", "clients", "create", "--name", "SPA", "--public", "--redirect-uri", "https://spa.example.com/cb",
		"-o", "json"), &pub)
	var conf adminapi.OAuthClient
	mustJSON(t, mustRun(t, "", "clients", "update", pub.ClientID, "--token-endpoint-auth-method", "client_secret_post", "-o", "json"), &conf)
	if s, _ := store.GetClient(ctx, pub.ClientID); conf.ClientSecret == "" || !clients.SecretMatches(s.SecretHash, conf.ClientSecret) {
		t.Errorf("a public client made confidential printed secret %q, not the stored one", conf.ClientSecret)
	}
}

// TestManageClientsRotateSecret: rotate-secret prints a new secret, which
// alone matches the stored hash; a public client has none to rotate.
func TestManageClientsRotateSecret(t *testing.T) {
	store := startAdminAPI(t)
	ctx := context.Background()
	var c adminapi.OAuthClient
	mustJSON(t, mustRun(t, "", "clients", "create", "--name", "Wiki", "--redirect-uri", "https://wiki.example.com/cb", "-o", "json"), &c)

	var rotated adminapi.OAuthClient
	mustJSON(t, mustRun(t, "", "clients", "rotate-secret", c.ClientID, "-o", "json"), &rotated)
	stored, err := store.GetClient(ctx, c.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rotated.ClientSecret) != 43 || !clients.SecretMatches(stored.SecretHash, rotated.ClientSecret) ||
		clients.SecretMatches(stored.SecretHash, c.ClientSecret) {
		t.Fatalf("after rotate-secret the stored hash is not the printed secret's alone (printed %q)", rotated.ClientSecret)
	}
	if rotated.ClientID != c.ClientID || rotated.ClientName != "Wiki" {
		t.Errorf("rotate-secret printed %+v", rotated)
	}
	if out := mustRun(t, "", "clients", "rotate-secret", c.ClientID); !strings.Contains(out, "client_secret") ||
		!strings.Contains(out, "shown only now") {
		t.Errorf("clients rotate-secret (table):\n%s", out)
	}

	var pub adminapi.OAuthClient
	mustJSON(t, mustRun(t, "", "clients", "create", "--name", "SPA", "--public", "--redirect-uri", "https://spa.example.com/cb",
		"-o", "json"), &pub)
	if _, err := runCLI(t, "", "clients", "rotate-secret", pub.ClientID); err == nil || !strings.Contains(err.Error(), "HTTP 400") ||
		!strings.Contains(err.Error(), "without a secret") {
		t.Errorf("rotate-secret of a public client: %v; want a 400 saying it has no secret", err)
	}
	if _, err := runCLI(t, "", "clients", "rotate-secret", "0123456789abcdef0123456789abcdef"); err == nil ||
		!strings.Contains(err.Error(), "not found") {
		t.Errorf("rotate-secret of an unknown client: %v; want not found", err)
	}
}
