package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/signet-idp/signet/internal/adminclient"
	"github.com/signet-idp/signet/internal/keys"
	"github.com/signet-idp/signet/internal/storage"
)

func TestManageConnectors(t *testing.T) {
	store := startAdminAPI(t)
	ctx := context.Background()
	if err := store.CreateRole(ctx, storage.Role{Name: "ops"}); err != nil {
		t.Fatal(err)
	}

	var c adminclient.Connector
	mustJSON(t, mustRun(t, "the-upstream-secret\n", "connectors", "create", "--id", "corp", "--type", "oidc",
		"--name", "Corp SSO", "--issuer", "https://login.corp.example", "--client-id", "signet", "--client-secret-stdin",
		"--scope", "openid,email", "--scope", "groups", "--groups-claim", "memberOf", "--role-rule", "groups:sre=ops",
		"--default-role", "user", "-o", "json"), &c)
	if c.ID != "corp" || !c.HasClientSecret || c.RedirectURL == "" || len(c.RoleRules) != 1 || c.RoleRules[0].Role != "ops" {
		t.Fatalf("created connector %+v", c)
	}
	var cfg map[string]any
	if err := json.Unmarshal(c.Config, &cfg); err != nil || cfg["issuer"] != "https://login.corp.example" || cfg["groups_claim"] != "memberOf" {
		t.Fatalf("config %s (%v)", c.Config, err)
	}
	// Sealed at rest, bound to the connector's id, and never printed.
	row, err := store.GetConnector(ctx, "corp")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(row.ClientSecret), "the-upstream-secret") {
		t.Fatal("client secret stored in clear")
	}
	if plain, _, err := keys.OpenSealed(row.ClientSecret, []byte("corp"), [][]byte{[]byte(testSecret)}); err != nil || string(plain) != "the-upstream-secret" {
		t.Fatalf("sealed secret opens to %q, %v", plain, err)
	}
	if out := mustRun(t, "", "connectors", "get", "corp"); strings.Contains(out, "the-upstream-secret") || !strings.Contains(out, "(set, not shown)") {
		t.Fatalf("get shows:\n%s", out)
	}

	mustJSON(t, mustRun(t, "", "connectors", "update", "corp", "--disabled", "--name", "Corp", "--scope", "openid", "-o", "json"), &c)
	cfg = nil
	if err := json.Unmarshal(c.Config, &cfg); err != nil || c.Enabled || c.Name != "Corp" || cfg["groups_claim"] != "memberOf" ||
		len(cfg["scopes"].([]any)) != 1 {
		t.Fatalf("after update: %+v %s (%v)", c, c.Config, err)
	}
	if out := mustRun(t, "", "connectors", "list"); !strings.Contains(out, "corp") || !strings.Contains(out, "oidc") {
		t.Fatalf("list:\n%s", out)
	}

	for _, bad := range [][]string{
		{"connectors", "create", "--id", "Bad Id", "--type", "oidc", "--name", "X", "--client-id", "x", "--issuer", "https://x.example"},
		{"connectors", "create", "--id", "x", "--type", "saml", "--name", "X", "--client-id", "x"},
		{"connectors", "create", "--id", "x", "--type", "oidc", "--name", "X", "--client-id", "x", "--issuer", "ftp://x"},
		{"connectors", "create", "--id", "x", "--type", "github", "--name", "X", "--client-id", "x", "--role-rule", "teams:a/b=ghost"},
		{"connectors", "create", "--id", "x", "--type", "github", "--name", "X", "--client-id", "x", "--role-rule", "no-equals"},
		{"connectors", "update", "nobody", "--name", "X"},
	} {
		if _, err := runCLI(t, "", bad...); err == nil {
			t.Errorf("signet %s succeeded", strings.Join(bad, " "))
		}
	}
	mustRun(t, "", "connectors", "delete", "corp")
	if _, err := runCLI(t, "", "connectors", "get", "corp"); err == nil || !adminclient.IsNotFound(err) {
		t.Fatalf("get after delete: %v", err)
	}
}
