package console

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/storage"
)

func (e *env) client(id string) storage.Client {
	e.t.Helper()
	c, err := e.store.GetClient(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// clientEditForm is the edit page's form as a browser sends it after the
// operator changed the redirect URIs and the name and cleared first party.
func clientEditForm() url.Values {
	return url.Values{"client_name": {"Photo App 2"}, "redirect_uris": {"https://photo.example/cb2\r\nhttps://photo.example/cb3"},
		"post_logout_redirect_uris": {"https://photo.example/bye"}, "token_endpoint_auth_method": {"client_secret_basic"},
		"require_mfa": {"1"}, "id_token_signed_response_alg": {""}, "access_token_format": {""},
		"backchannel_logout_uri": {"https://photo.example/logout"}, "backchannel_logout_session_required": {"1"}}
}

// TestConsoleClientEdit: a client's edit page, linked from the list, is
// pre-filled with its settings; saving changes what the form shows and
// keeps the rest (scopes, audience, the secret); refusals are shown per
// field and change nothing; the secret can be replaced, shown once, and
// the old one stops matching; everything is audited.
func TestConsoleClientEdit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	svc := clients.NewService(e.store, nil)
	cl, oldSecret, err := svc.Create(ctx, clients.Registration{Name: "Photo App", RedirectURIs: []string{"https://photo.example/cb"},
		PostLogoutRedirectURIs: []string{"https://photo.example/bye"}, Scopes: []string{"openid", "profile"},
		Audience: []string{"https://api.photo.example"}, FirstParty: true, AccessTokenFormat: "jwt"})
	if err != nil {
		t.Fatal(err)
	}
	edit := ClientsPath + "/" + cl.ID + "/edit"
	b := e.browser()
	b.signIn("root")
	wantBody(t, b.get(ClientsPath), `href="/admin/clients/`+cl.ID+`/edit"`)
	page := b.get(edit)
	wantStatus(t, page, http.StatusOK)
	wantBody(t, page, `value="Photo App"`, ">https://photo.example/cb</textarea>", ">https://photo.example/bye</textarea>",
		`id="client-first-party" name="first_party" type="checkbox" value="1" checked`, `<option value="jwt" selected>`,
		`value="client_secret_basic" checked`, `action="/admin/clients/`+cl.ID+`/edit"`, `action="/admin/clients/`+cl.ID+`/rotate-secret"`)

	// Saved: the form's fields change, the others stay.
	p := b.send(edit, edit, clientEditForm())
	wantRedirect(t, p, edit)
	wantBody(t, b.get(edit), "The client&#39;s changes are saved", `value="Photo App 2"`, "https://photo.example/cb3",
		`id="client-require-mfa" name="require_mfa" type="checkbox" value="1" checked`)
	got := e.client(cl.ID)
	if got.Name != "Photo App 2" || !slices.Equal(got.RedirectURIs, []string{"https://photo.example/cb2", "https://photo.example/cb3"}) ||
		got.FirstParty || !got.RequireMFA || got.BackchannelLogoutURI != "https://photo.example/logout" || !got.BackchannelLogoutSessionRequired {
		t.Errorf("stored after the edit: %+v", got)
	}
	if !slices.Equal(got.Scopes, []string{"openid", "profile"}) || !slices.Equal(got.Audience, []string{"https://api.photo.example"}) ||
		!bytes.Equal(got.SecretHash, cl.SecretHash) || got.TokenEndpointAuthMethod != "client_secret_basic" {
		t.Errorf("the edit changed what the form does not show: %+v", got)
	}
	if ev := lastEvent(t, e, audit.ClientUpdate); ev.Target != cl.ID || ev.Actor != e.root.ID ||
		ev.Details["fields"] != "client_name,redirect_uris,first_party,require_mfa,access_token_format,backchannel_logout_uri,backchannel_logout_session_required" {
		t.Errorf("audit event %+v", ev)
	}
	saved := got

	// Refusals: on the page, per field, the form keeps what was typed.
	for name, tc := range map[string]struct {
		change func(url.Values)
		want   []string
	}{
		"fragment":        {func(v url.Values) { v.Set("redirect_uris", "https://photo.example/cb#x") }, []string{`class="field-error" id="client-redirects-error"`, "fragment", "https://photo.example/cb#x"}},
		"no redirect":     {func(v url.Values) { v.Set("redirect_uris", " ") }, []string{`id="client-redirects-error"`, "at least one redirect URI"}},
		"no name":         {func(v url.Values) { v.Set("client_name", "") }, []string{`id="client-name-error"`, "Name is required"}},
		"alg not offered": {func(v url.Values) { v.Set("id_token_signed_response_alg", "ES256") }, []string{"--signing-algorithms", `<option value="ES256" selected>`}},
		"http back-channel": {func(v url.Values) { v.Set("backchannel_logout_uri", "http://photo.example/logout") },
			[]string{`id="client-backchannel-error"`, "The back-channel logout URL"}},
	} {
		t.Run(name, func(t *testing.T) {
			v := clientEditForm()
			tc.change(v)
			p := b.send(edit, edit, v)
			wantStatus(t, p, http.StatusUnprocessableEntity)
			wantBody(t, p, tc.want...)
			if now := e.client(cl.ID); now.Name != saved.Name || !now.UpdatedAt.Equal(saved.UpdatedAt) || !slices.Equal(now.RedirectURIs, saved.RedirectURIs) {
				t.Errorf("a refused form changed the client: %+v", now)
			}
		})
	}
	wantStatus(t, b.get(ClientsPath+"/0123456789abcdef0123456789abcdef/edit"), http.StatusNotFound)
	wantStatus(t, b.send(edit, ClientsPath+"/0123456789abcdef0123456789abcdef/edit", clientEditForm()), http.StatusNotFound)
	// Without the CSRF token nothing changes.
	if p := b.post(edit, url.Values{"client_name": {"Evil"}, "redirect_uris": {"https://evil.example/cb"}}); p.status != http.StatusForbidden {
		t.Errorf("edit without CSRF = %d, want 403", p.status)
	}
	if p := b.post(ClientsPath+"/"+cl.ID+"/rotate-secret", nil); p.status != http.StatusForbidden {
		t.Errorf("rotate without CSRF = %d, want 403", p.status)
	}
	if now := e.client(cl.ID); now.Name != saved.Name || !bytes.Equal(now.SecretHash, saved.SecretHash) {
		t.Errorf("a form without CSRF changed the client: %+v", now)
	}

	// A new secret, shown once; the old one no longer matches.
	p = b.send(edit, ClientsPath+"/"+cl.ID+"/rotate-secret", nil)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Photo App 2 has a new secret", "Copy the client secret now")
	m := regexp.MustCompile(`<code class="copy secret">([^<]+)</code>`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no secret on the page:\n%s", p.body)
	}
	h := e.client(cl.ID).SecretHash
	if !clients.SecretMatches(h, m[1]) || clients.SecretMatches(h, oldSecret) {
		t.Error("after the rotation the stored hash is not the new secret's alone")
	}
	if strings.Contains(b.get(edit).body, m[1]) {
		t.Error("the edit page shows the secret again")
	}
	if ev := lastEvent(t, e, audit.ClientRotateSecret); ev.Target != cl.ID || ev.Actor != e.root.ID {
		t.Errorf("audit event %+v", ev)
	}
}

// TestConsoleClientEditPublic: a public client's page offers no rotation
// and refuses one; made confidential, it gets a secret shown once.
func TestConsoleClientEditPublic(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cl, _, err := clients.NewService(e.store, nil).Create(ctx, clients.Registration{Name: "SPA", RedirectURIs: []string{"https://spa.example/cb"},
		TokenEndpointAuthMethod: storage.AuthMethodNone})
	if err != nil {
		t.Fatal(err)
	}
	edit := ClientsPath + "/" + cl.ID + "/edit"
	b := e.browser()
	b.signIn("root")
	page := b.get(edit)
	wantBody(t, page, "SPA has no secret", `value="none" checked`)
	if strings.Contains(page.body, "/rotate-secret") {
		t.Error("a public client's page offers a new secret")
	}
	p := b.send(edit, ClientsPath+"/"+cl.ID+"/rotate-secret", nil)
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "has no secret to replace")
	if len(e.client(cl.ID).SecretHash) != 0 {
		t.Fatal("a refused rotation gave a public client a secret")
	}

	p = b.send(edit, edit, url.Values{"client_name": {"SPA"}, "redirect_uris": {"https://spa.example/cb"},
		"token_endpoint_auth_method": {"client_secret_post"}})
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "SPA has a new secret")
	m := regexp.MustCompile(`<code class="copy secret">([^<]+)</code>`).FindStringSubmatch(p.body)
	if got := e.client(cl.ID); m == nil || got.TokenEndpointAuthMethod != "client_secret_post" || !clients.SecretMatches(got.SecretHash, m[1]) {
		t.Fatalf("made confidential: stored %+v, page:\n%s", got, p.body)
	}
}

func lastEvent(t *testing.T, e *env, action string) storage.AuditEvent {
	t.Helper()
	events, err := e.store.ListAudit(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Action == action {
			return ev
		}
	}
	t.Fatalf("no %s event in %+v", action, events)
	return storage.AuditEvent{}
}
