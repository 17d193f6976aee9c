package admin_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/signet-idp/signet/internal/adminapi"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/storage"
)

// wikiClient registers the client the update tests change: every field
// an update could lose is set.
const wikiClient = `{"client_name":"Wiki","redirect_uris":["https://wiki.example.com/cb"],
	"post_logout_redirect_uris":["https://wiki.example.com/bye"],"scope":"openid profile",
	"first_party":true,"require_mfa":true,"audience":["https://api.example.com"],
	"backchannel_logout_uri":"https://wiki.example.com/logout","backchannel_logout_session_required":true}`

func (e *env) createClient(body string) adminapi.OAuthClient {
	e.t.Helper()
	r := e.call(http.MethodPost, "/admin/clients", body)
	e.mustStatus(r, http.StatusCreated)
	var c adminapi.OAuthClient
	r.decode(e.t, &c)
	return c
}

func (e *env) storedClient(id string) storage.Client {
	e.t.Helper()
	c, err := e.store.GetClient(e.t.Context(), id)
	if err != nil {
		e.t.Fatalf("stored client %s: %v", id, err)
	}
	return c
}

func TestUpdateClient(t *testing.T) {
	tests := []struct {
		name string
		body string
		// id "" is the wiki client's.
		id         string
		wantStatus int
		// wantError is in the error description of a refusal.
		wantError string
		check     func(t *testing.T, before, after adminapi.OAuthClient)
	}{
		{name: "partial update keeps the other fields", body: `{"redirect_uris":["https://wiki.example.com/new-cb"]}`,
			wantStatus: http.StatusOK, check: func(t *testing.T, before, after adminapi.OAuthClient) {
				if !slices.Equal(after.RedirectURIs, []string{"https://wiki.example.com/new-cb"}) {
					t.Errorf("redirect_uris = %v, want the new one only", after.RedirectURIs)
				}
				want := before
				want.RedirectURIs, want.ClientSecret = after.RedirectURIs, ""
				if !equalClients(after, want) {
					t.Errorf("after the update\n got %+v\nwant %+v", after, want)
				}
			}},
		{name: "several fields", body: `{"client_name":"Wiki 2","id_token_signed_response_alg":"ES256","require_mfa":false,"backchannel_logout_session_required":false,"backchannel_logout_uri":""}`,
			wantStatus: http.StatusOK, check: func(t *testing.T, before, after adminapi.OAuthClient) {
				if after.ClientName != "Wiki 2" || after.IDTokenSignedResponseAlg != "ES256" || after.RequireMFA ||
					after.BackchannelLogoutURI != "" || after.BackchannelLogoutSessionRequired {
					t.Errorf("fields not changed: %+v", after)
				}
				if !after.FirstParty || after.Scope != before.Scope || !slices.Equal(after.PostLogoutRedirectURIs, before.PostLogoutRedirectURIs) {
					t.Errorf("fields not named changed: %+v", after)
				}
			}},
		{name: "invalid redirect URI", body: `{"redirect_uris":["https://wiki.example.com/cb#fragment"]}`,
			wantStatus: http.StatusBadRequest, wantError: "redirect_uris"},
		{name: "no redirect URI left", body: `{"redirect_uris":[]}`,
			wantStatus: http.StatusBadRequest, wantError: "redirect_uris"},
		{name: "signing alg not offered", body: `{"id_token_signed_response_alg":"EdDSA"}`,
			wantStatus: http.StatusBadRequest, wantError: "id_token_signed_response_alg"},
		{name: "back-channel session without a URI", body: `{"backchannel_logout_uri":""}`,
			wantStatus: http.StatusBadRequest, wantError: "backchannel_logout_session_required"},
		{name: "unknown field", body: `{"client_secret":"chosen-by-me"}`,
			wantStatus: http.StatusBadRequest, wantError: "client_secret"},
		{name: "wrong type", body: `{"redirect_uris":"https://wiki.example.com/cb"}`,
			wantStatus: http.StatusBadRequest, wantError: "redirect_uris"},
		{name: "not an object", body: `[]`, wantStatus: http.StatusBadRequest},
		{name: "unknown client", id: "0123456789abcdef0123456789abcdef", body: `{"client_name":"X"}`,
			wantStatus: http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The server signs with RS256 and ES256, not EdDSA.
			e := newEnv(t, clients.WithSigningAlgorithms([]string{"ES256"}))
			before := e.createClient(wikiClient)
			storedBefore := e.storedClient(before.ClientID)
			id := tc.id
			if id == "" {
				id = before.ClientID
			}
			r := e.call(http.MethodPatch, "/admin/clients/"+id, tc.body)
			e.mustStatus(r, tc.wantStatus)
			stored := e.storedClient(before.ClientID)
			if !bytes.Equal(stored.SecretHash, storedBefore.SecretHash) {
				t.Error("the update changed the client's secret")
			}
			if tc.wantStatus != http.StatusOK {
				if d := r.errorDescription(t); !strings.Contains(d, tc.wantError) {
					t.Errorf("error description %q does not name %q", d, tc.wantError)
				}
				if !stored.UpdatedAt.Equal(storedBefore.UpdatedAt) || stored.Name != storedBefore.Name ||
					!slices.Equal(stored.RedirectURIs, storedBefore.RedirectURIs) {
					t.Errorf("a refused update changed the client: %+v", stored)
				}
				return
			}
			var after adminapi.OAuthClient
			r.decode(t, &after)
			if after.ClientSecret != "" {
				t.Error("the answer shows a secret for a client that had one already")
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			tc.check(t, before, after)
			// What the answer says is what GET (the store) says.
			var got adminapi.OAuthClient
			e.call(http.MethodGet, "/admin/clients/"+id, "").decode(t, &got)
			if !equalClients(got, after) {
				t.Errorf("GET after PATCH\n got %+v\nwant %+v", got, after)
			}
			ev := e.lastAudit(audit.ClientUpdate)
			if ev.Target != id || ev.Actor != audit.ActorAdminAPI || ev.Details["fields"] == "" {
				t.Errorf("audit event %+v, want client.update of %s by the admin API naming the fields", ev, id)
			}
		})
	}
}

// equalClients compares the fields an update may change.
func equalClients(a, b adminapi.OAuthClient) bool {
	aj, bj := string(a.JWKS), string(b.JWKS)
	a.JWKS, b.JWKS = nil, nil
	return aj == bj && slices.Equal(a.RedirectURIs, b.RedirectURIs) &&
		slices.Equal(a.PostLogoutRedirectURIs, b.PostLogoutRedirectURIs) && slices.Equal(a.GrantTypes, b.GrantTypes) &&
		slices.Equal(a.ResponseTypes, b.ResponseTypes) && slices.Equal(a.Audience, b.Audience) &&
		a.ClientID == b.ClientID && a.ClientSecret == b.ClientSecret && a.ClientName == b.ClientName &&
		a.Scope == b.Scope && a.TokenEndpointAuthMethod == b.TokenEndpointAuthMethod && a.FirstParty == b.FirstParty &&
		a.RequireMFA == b.RequireMFA && a.IDTokenSignedResponseAlg == b.IDTokenSignedResponseAlg &&
		a.JWKSURI == b.JWKSURI && a.TokenEndpointAuthSigningAlg == b.TokenEndpointAuthSigningAlg &&
		a.RequirePushedAuthorizationRequests == b.RequirePushedAuthorizationRequests &&
		a.AccessTokenFormat == b.AccessTokenFormat && a.BackchannelLogoutURI == b.BackchannelLogoutURI &&
		a.BackchannelLogoutSessionRequired == b.BackchannelLogoutSessionRequired
}

func TestUpdateClientAuthMethod(t *testing.T) {
	e := newEnv(t)
	spa := e.createClient(`{"client_name":"SPA","token_endpoint_auth_method":"none","redirect_uris":["https://spa.example.com/cb"]}`)

	// A public client that becomes confidential gets a secret, shown once.
	r := e.call(http.MethodPatch, "/admin/clients/"+spa.ClientID, `{"token_endpoint_auth_method":"client_secret_post"}`)
	e.mustStatus(r, http.StatusOK)
	var conf adminapi.OAuthClient
	r.decode(t, &conf)
	if conf.ClientSecret == "" || conf.TokenEndpointAuthMethod != "client_secret_post" {
		t.Fatalf("public client made confidential: %+v, want client_secret_post with a secret", conf)
	}
	if !clients.SecretMatches(e.storedClient(spa.ClientID).SecretHash, conf.ClientSecret) {
		t.Error("the secret shown is not the one stored")
	}
	if ev := e.lastAudit(audit.ClientUpdate); ev.Details["became_confidential"] != "true" || ev.Details["fields"] != "token_endpoint_auth_method" {
		t.Errorf("audit details %v, want fields token_endpoint_auth_method and became_confidential", ev.Details)
	}
	var got adminapi.OAuthClient
	e.call(http.MethodGet, "/admin/clients/"+spa.ClientID, "").decode(t, &got)
	if got.ClientSecret != "" {
		t.Error("GET shows the secret")
	}

	// And back: it loses the secret.
	r = e.call(http.MethodPatch, "/admin/clients/"+spa.ClientID, `{"token_endpoint_auth_method":"none"}`)
	e.mustStatus(r, http.StatusOK)
	if h := e.storedClient(spa.ClientID).SecretHash; len(h) != 0 {
		t.Error("a client made public kept its secret")
	}
}

func TestRotateClientSecret(t *testing.T) {
	e := newEnv(t)
	wiki := e.createClient(wikiClient)
	spa := e.createClient(`{"client_name":"SPA","token_endpoint_auth_method":"none","redirect_uris":["https://spa.example.com/cb"]}`)
	keyed := e.createClient(`{"client_name":"Keyed","token_endpoint_auth_method":"private_key_jwt","redirect_uris":["https://k.example.com/cb"],
		"jwks":{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}}`)

	r := e.call(http.MethodPost, "/admin/clients/"+wiki.ClientID+"/rotate-secret", "")
	e.mustStatus(r, http.StatusOK)
	var rotated adminapi.OAuthClient
	r.decode(t, &rotated)
	if rotated.ClientSecret == "" || rotated.ClientSecret == wiki.ClientSecret {
		t.Fatalf("rotate-secret answered secret %q, want a new one", rotated.ClientSecret)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	stored := e.storedClient(wiki.ClientID)
	if !clients.SecretMatches(stored.SecretHash, rotated.ClientSecret) || clients.SecretMatches(stored.SecretHash, wiki.ClientSecret) {
		t.Error("the stored hash is not the new secret's (or still the old one's)")
	}
	want := wiki
	want.ClientSecret = rotated.ClientSecret
	if !equalClients(rotated, want) {
		t.Errorf("rotation changed more than the secret\n got %+v\nwant %+v", rotated, want)
	}
	if ev := e.lastAudit(audit.ClientRotateSecret); ev.Target != wiki.ClientID || strings.Contains(ev.Details["name"]+ev.Target, rotated.ClientSecret) {
		t.Errorf("audit event %+v, want client.rotate_secret of %s (without the secret)", ev, wiki.ClientID)
	}

	for _, tc := range []struct {
		name, id string
		want     int
	}{
		{"public client", spa.ClientID, http.StatusBadRequest},
		{"private_key_jwt client", keyed.ClientID, http.StatusBadRequest},
		{"unknown client", "0123456789abcdef0123456789abcdef", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.call(http.MethodPost, "/admin/clients/"+tc.id+"/rotate-secret", "")
			e.mustStatus(r, tc.want)
			if d := r.errorDescription(t); tc.want == http.StatusBadRequest && !strings.Contains(d, "without a secret") {
				t.Errorf("error description %q does not say the client has no secret", d)
			}
		})
	}
	if h := e.storedClient(spa.ClientID).SecretHash; len(h) != 0 {
		t.Error("a refused rotation gave a public client a secret")
	}
}
