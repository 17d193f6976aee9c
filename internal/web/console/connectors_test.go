package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/connectors"
	"github.com/signet-idp/signet/internal/keys"
	"github.com/signet-idp/signet/internal/storage"
)

// secretOf opens the connector's stored client secret.
func (e *env) secretOf(c storage.Connector) string {
	e.t.Helper()
	plain, _, err := keys.OpenSealed(c.ClientSecret, []byte(c.ID), [][]byte{[]byte("console-test-secret-0123456789abcdef")})
	if err != nil {
		e.t.Fatalf("open the client secret of %s: %v", c.ID, err)
	}
	return string(plain)
}

func (e *env) connector(id string) storage.Connector {
	e.t.Helper()
	c, err := e.store.GetConnector(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// editForm is the edit page's form for corp with two rules and a blank
// row, as a browser sends it.
func editForm(secret string) url.Values {
	return url.Values{
		"name": {"Corp SSO"}, "icon_url": {"/static/corp.svg"}, "client_id": {"signet-2"}, "client_secret": {secret},
		"issuer": {"https://login.corp.example"}, "scopes": {"openid email groups"},
		"email_claim": {"mail"}, "groups_claim": {"roles"}, "trust_email": {"1"},
		"rule_claim": {"groups", "groups", ""}, "rule_value": {"engineering", "Site Reliability", ""}, "rule_role": {"developer", "ops", ""},
		"default_role": {"developer"},
	}
}

// TestConsoleConnectorEdit: the edit page shows a connector's settings
// (never its secret), saves changed settings and role rules, keeps the
// secret when the field is left empty and replaces it when it is not,
// shows refusals on the page without changing anything, and is audited.
func TestConsoleConnectorEdit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, r := range []string{"developer", "ops"} {
		if err := e.store.CreateRole(ctx, storage.Role{Name: r}); err != nil {
			t.Fatal(err)
		}
	}
	edit := ConnectorsPath + "/corp/edit"
	b := e.browser()
	b.signIn("root")
	wantBody(t, b.get(ConnectorsPath), `href="/admin/connectors/corp/edit"`)
	page := b.get(edit)
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, `value="Corp"`, `value="signet"`, `value="https://login.corp.example"`, "A client secret is set",
		`action="/admin/connectors/corp/edit"`, `name="rule_claim"`, "https://id.example/connectors/corp/callback")
	if strings.Contains(page.body, "first-secret") || strings.Contains(page.body, `name="orgs"`) {
		t.Fatalf("the edit page shows the secret or a github field:\n%s", page.body)
	}
	before := e.connector("corp")

	// Saved with the secret field empty: everything changes but the secret.
	wantRedirect(t, b.send(edit, edit, editForm("")), ConnectorsPath)
	wantBody(t, b.get(ConnectorsPath), "The sign-in provider&#39;s changes are saved", "Corp SSO",
		"<code>groups:engineering=developer</code>", "<code>groups:Site Reliability=ops</code>")
	c := e.connector("corp")
	var st connectors.Settings
	if err := json.Unmarshal(c.Config, &st); err != nil {
		t.Fatal(err)
	}
	wantRules := []storage.RoleRule{{Claim: "groups", Value: "engineering", Role: "developer"}, {Claim: "groups", Value: "Site Reliability", Role: "ops"}}
	if c.Name != "Corp SSO" || c.IconURL != "/static/corp.svg" || c.ClientID != "signet-2" || c.DefaultRole != "developer" ||
		!slices.Equal(c.RoleRules, wantRules) || !slices.Equal(st.Scopes, []string{"openid", "email", "groups"}) ||
		st.EmailClaim != "mail" || st.GroupsClaim != "roles" || st.NameClaim != "" || !st.TrustEmail || st.Issuer != "https://login.corp.example" {
		t.Fatalf("stored connector after the edit: %+v, settings %+v", c, st)
	}
	if !bytes.Equal(c.ClientSecret, before.ClientSecret) || e.secretOf(c) != "first-secret" {
		t.Fatalf("an empty secret field changed the secret (now %q)", e.secretOf(c))
	}
	// The page shows what was saved.
	wantBody(t, b.get(edit), `value="Corp SSO"`, `value="mail"`, `value="Site Reliability"`, `value="ops"`, `id="connector-trust-email" name="trust_email" type="checkbox" value="1" checked`)

	// A new secret replaces the old one; a row emptied removes its rule.
	f := editForm("second-secret")
	f["rule_claim"], f["rule_value"], f["rule_role"] = []string{"", "groups"}, []string{"", "sre"}, []string{"", "ops"}
	f.Del("trust_email")
	wantRedirect(t, b.send(edit, edit, f), ConnectorsPath)
	c = e.connector("corp")
	if got := e.secretOf(c); got != "second-secret" {
		t.Fatalf("secret after setting a new one: %q", got)
	}
	if !slices.Equal(c.RoleRules, []storage.RoleRule{{Claim: "groups", Value: "sre", Role: "ops"}}) || strings.Contains(string(c.Config), "trust_email") {
		t.Fatalf("rules or settings after the second edit: %+v, %s", c.RoleRules, c.Config)
	}
	saved := c

	// Refusals: shown on the page, nothing stored, the secret not echoed.
	for name, tc := range map[string]struct {
		change func(url.Values)
		want   string
	}{
		"half a rule":     {func(v url.Values) { v["rule_role"] = []string{"developer", "", ""} }, "Role rule 2 needs a claim, a value and a role."},
		"unknown role":    {func(v url.Values) { v["rule_role"] = []string{"developer", "ghost", ""} }, "Role ghost does not exist"},
		"bad claim name":  {func(v url.Values) { v["rule_claim"] = []string{"groups", "has space", ""} }, "needs a claim name"},
		"no name":         {func(v url.Values) { v.Set("name", " ") }, "Name is required"},
		"http issuer":     {func(v url.Values) { v.Set("issuer", "http://login.corp.example") }, "The issuer URL must be the upstream"},
		"script icon":     {func(v url.Values) { v.Set("icon_url", "javascript:alert(1)") }, "The icon URL must be an https URL"},
		"bad scope":       {func(v url.Values) { v.Set("scopes", `openid "x"`) }, "scope"},
		"too many rules":  {func(v url.Values) { v["rule_claim"] = make([]string, maxRuleRows+1) }, "At most 200 role rules."},
		"over-long value": {func(v url.Values) { v.Set("scopes", "openid "+strings.Repeat("x", maxConnectorField)) }, "The field scopes is too long"},
	} {
		t.Run(name, func(t *testing.T) {
			v := editForm("third-secret")
			tc.change(v)
			p := b.send(edit, edit, v)
			wantStatus(t, p, http.StatusUnprocessableEntity)
			wantBody(t, p, tc.want, `role="alert"`)
			if strings.Contains(p.body, "third-secret") {
				t.Error("the refused form shows the secret")
			}
			if c := e.connector("corp"); c.Name != saved.Name || !bytes.Equal(c.ClientSecret, saved.ClientSecret) || !slices.Equal(c.RoleRules, saved.RoleRules) {
				t.Errorf("a refused form changed the connector: %+v", c)
			}
		})
	}
	// The refused form keeps what was typed.
	v := editForm("")
	v["rule_role"] = []string{"developer", "ghost", ""}
	wantBody(t, b.send(edit, edit, v), `value="Site Reliability"`, `value="ghost"`, `value="Corp SSO"`)

	// A long value is stored whole, never cut (the page once clipped the
	// scopes, organisations and hosted domains at 1000 bytes, which could
	// leave a prefix naming someone else's organisation or domain).
	scopes := []string{"openid", "email", "groups"}
	for i := range 150 {
		scopes = append(scopes, fmt.Sprintf("api.scope-%03d", i))
	}
	v = editForm("")
	v.Set("scopes", strings.Join(scopes, " "))
	wantRedirect(t, b.send(edit, edit, v), ConnectorsPath)
	var long connectors.Settings
	if err := json.Unmarshal(e.connector("corp").Config, &long); err != nil || !slices.Equal(long.Scopes, scopes) {
		t.Fatalf("%d scopes sent, stored %d (%v)", len(scopes), len(long.Scopes), err)
	}

	// Unknown connectors are not found.
	wantStatus(t, b.get(ConnectorsPath+"/nope/edit"), http.StatusNotFound)
	wantStatus(t, b.send(edit, ConnectorsPath+"/nope/edit", editForm("")), http.StatusNotFound)

	// Each save is audited as root's, and no audit line holds a secret.
	events, err := e.store.ListAudit(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	updates := 0
	for _, ev := range events {
		if ev.Action == audit.ConnectorUpdate && ev.Target == "corp" && ev.Actor == e.root.ID {
			updates++
		}
		for _, d := range ev.Details {
			if strings.Contains(d, "secret") {
				t.Errorf("audit details hold a secret: %+v", ev)
			}
		}
	}
	if updates != 3 {
		t.Errorf("%d connector.update events by root for corp, want 3 (one per save): %+v", updates, events)
	}
}
