package adminapi

import (
	"encoding/json"
	"testing"
	"time"
)

// TestWireShapes pins the JSON of every type, full and empty: these are
// what scripts and the CLI read, so a renamed tag must fail here.
func TestWireShapes(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	later := at.Add(time.Hour)
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"error", ErrorBody{Error: "not_found", Description: "user not found: ghost"},
			`{"error":"not_found","error_description":"user not found: ghost"}`},
		{"error, empty", ErrorBody{}, `{"error":"","error_description":""}`},

		{"client registration", ClientRegistration{ClientName: "App", RedirectURIs: []string{"https://a.example/cb"},
			PostLogoutRedirectURIs: []string{"https://a.example/bye"}, GrantTypes: []string{"authorization_code"},
			ResponseTypes: []string{"code"}, Scope: "openid email", TokenEndpointAuthMethod: "none", FirstParty: true,
			IDTokenSignedResponseAlg: "ES256"},
			`{"client_name":"App","redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["https://a.example/bye"],` +
				`"grant_types":["authorization_code"],"response_types":["code"],"scope":"openid email",` +
				`"token_endpoint_auth_method":"none","first_party":true,"id_token_signed_response_alg":"ES256"}`},
		{"client registration, defaults", ClientRegistration{ClientName: "App"}, `{"client_name":"App"}`},
		{"client patch", ClientPatch{RedirectURIs: &[]string{"https://a.example/cb"}, PostLogoutRedirectURIs: &[]string{},
			FirstParty: new(bool), IDTokenSignedResponseAlg: new("ES256")},
			`{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":[],"first_party":false,"id_token_signed_response_alg":"ES256"}`},
		{"client patch, empty", ClientPatch{}, `{}`},

		{"client", OAuthClient{ClientID: "c1", ClientSecret: "s", ClientName: "App", RedirectURIs: []string{"https://a.example/cb"},
			PostLogoutRedirectURIs: []string{}, GrantTypes: []string{"authorization_code"}, ResponseTypes: []string{"code"},
			Scope: "openid", TokenEndpointAuthMethod: "client_secret_basic", FirstParty: true,
			IDTokenSignedResponseAlg: "EdDSA", CreatedAt: at},
			`{"client_id":"c1","client_secret":"s","client_name":"App","redirect_uris":["https://a.example/cb"],` +
				`"post_logout_redirect_uris":[],"grant_types":["authorization_code"],"response_types":["code"],"scope":"openid",` +
				`"token_endpoint_auth_method":"client_secret_basic","first_party":true,"require_mfa":false,` +
				`"id_token_signed_response_alg":"EdDSA","require_pushed_authorization_requests":false,"access_token_format":"",` +
				`"audience":null,"backchannel_logout_session_required":false,"created_at":"2026-03-01T12:00:00Z"}`},
		{"client without secret", OAuthClient{ClientID: "c1"},
			`{"client_id":"c1","client_name":"","redirect_uris":null,"post_logout_redirect_uris":null,"grant_types":null,` +
				`"response_types":null,"scope":"","token_endpoint_auth_method":"","first_party":false,"require_mfa":false,` +
				`"id_token_signed_response_alg":"","require_pushed_authorization_requests":false,"access_token_format":"",` +
				`"audience":null,"backchannel_logout_session_required":false,"created_at":"0001-01-01T00:00:00Z"}`},

		{"new user", NewUser{Username: "alice", Email: "a@example.com", Name: "Alice", Password: "pw", EmailVerified: true,
			Roles: []string{"admin"}},
			`{"username":"alice","email":"a@example.com","name":"Alice","password":"pw","email_verified":true,"roles":["admin"]}`},
		{"new user, minimal", NewUser{Username: "alice", Email: "a@example.com", Password: "pw"},
			`{"username":"alice","email":"a@example.com","password":"pw"}`},
		{"user", User{ID: "u1", Username: "alice", Email: "a@example.com", Name: "Alice", EmailVerified: true, Disabled: true,
			Roles: []string{}, CreatedAt: at, UpdatedAt: later},
			`{"id":"u1","username":"alice","email":"a@example.com","name":"Alice","email_verified":true,"disabled":true,` +
				`"roles":[],"created_at":"2026-03-01T12:00:00Z","updated_at":"2026-03-01T13:00:00Z","mfa_enrolled":false}`},
		{"user roles", UserRoles{Roles: []string{}}, `{"roles":[]}`},
		{"logout", LogoutResult{SessionsEnded: 2}, `{"sessions_ended":2}`},
		{"logout, none", LogoutResult{}, `{"sessions_ended":0}`},

		{"new role", NewRole{Name: "editor", Description: "edits"}, `{"name":"editor","description":"edits"}`},
		{"new role, no description", NewRole{Name: "editor"}, `{"name":"editor"}`},
		{"role", Role{Name: "editor", CreatedAt: at}, `{"name":"editor","description":"","created_at":"2026-03-01T12:00:00Z"}`},

		{"audit event", AuditEvent{ID: 7, At: at, Actor: "admin-api", Action: "client.create", Target: "c1", IP: "127.0.0.1",
			Details: map[string]string{"name": "App"}},
			`{"id":7,"at":"2026-03-01T12:00:00Z","actor":"admin-api","action":"client.create","target":"c1","ip":"127.0.0.1",` +
				`"details":{"name":"App"}}`},

		{"key", SigningKey{KID: "k1", Algorithm: "ES256", State: "retired", CreatedAt: at, ActivateAt: &at, RetiredAt: &later,
			DeleteAfter: &later, Problem: "does not decrypt"},
			`{"kid":"k1","alg":"ES256","state":"retired","created_at":"2026-03-01T12:00:00Z",` +
				`"activate_at":"2026-03-01T12:00:00Z","retired_at":"2026-03-01T13:00:00Z","delete_after":"2026-03-01T13:00:00Z",` +
				`"problem":"does not decrypt"}`},
		{"key, next", SigningKey{KID: "k2", Algorithm: "RS256", State: "next", CreatedAt: at},
			`{"kid":"k2","alg":"RS256","state":"next","created_at":"2026-03-01T12:00:00Z"}`},
		{"rotate", RotateKeys{Algorithm: "EdDSA"}, `{"alg":"EdDSA"}`},
		{"rotate all", RotateKeys{}, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("JSON\n got %s\nwant %s", b, tt.want)
			}
		})
	}
}

// TestUserRolesRequired: the server tells a body without roles from one
// that removes them all by nil against empty.
func TestUserRolesRequired(t *testing.T) {
	for body, wantNil := range map[string]bool{`{}`: true, `{"roles":null}`: true, `{"roles":[]}`: false} {
		var r UserRoles
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatal(err)
		}
		if (r.Roles == nil) != wantNil || len(r.Roles) != 0 {
			t.Errorf("%s: roles %#v", body, r.Roles)
		}
	}
}
