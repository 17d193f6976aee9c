package admin_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/adminapi"
	"github.com/signet-idp/signet/internal/storage"
)

// createUser creates a user through the API and returns its id.
func (e *env) createUser(body string) string {
	e.t.Helper()
	r := e.call(http.MethodPost, "/admin/users", body)
	e.mustStatus(r, http.StatusCreated)
	var u adminapi.User
	r.decode(e.t, &u)
	return u.ID
}

func (e *env) lastAudit(action string) storage.AuditEvent {
	e.t.Helper()
	events, err := e.store.ListAudit(context.Background(), 0)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range events {
		if ev.Action == action {
			return ev
		}
	}
	e.t.Fatalf("no %s event in the audit log", action)
	return storage.AuditEvent{}
}

const (
	aliceJSON = `{"username":"alice","email":"alice@example.com","password":"alice's passphrase","roles":["admin"]}`
	bobJSON   = `{"username":"bob","email":"bob@example.com","password":"bob's passphrase","roles":["user"]}`
)

func TestVerifyEmailEndpoint(t *testing.T) {
	e := newEnv(t)
	id := e.createUser(bobJSON)
	r := e.send(http.MethodPost, "/admin/users/bob/verify-email", "", map[string]string{
		"Authorization": "Bearer " + token, "X-Forwarded-For": "203.0.113.66"})
	e.mustStatus(r, http.StatusOK)
	var u adminapi.User
	r.decode(t, &u)
	if u.ID != id || !u.EmailVerified {
		t.Fatalf("answer %s", r.body)
	}
	if rec, _ := e.store.GetUser(context.Background(), id); !rec.EmailVerified {
		t.Fatal("not verified in the store")
	}
	// The audit log names the API and the connection's address; a forged
	// X-Forwarded-For does not get in.
	if ev := e.lastAudit("email.verify"); ev.Actor != "admin-api" || ev.IP != "127.0.0.1" || ev.Target != id {
		t.Fatalf("audit %+v", ev)
	}
	e.mustStatus(e.call(http.MethodPost, "/admin/users/nobody/verify-email", ""), http.StatusNotFound)
}

func TestSendResetEndpoint(t *testing.T) {
	e := newEnv(t)
	e.createUser(aliceJSON)
	id := e.createUser(bobJSON)
	r := e.call(http.MethodPost, "/admin/users/"+id+"/send-reset", "")
	e.mustStatus(r, http.StatusOK)
	msgs := e.box.To("bob@example.com")
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "https://id.example.com/reset-password?token=") {
		t.Fatalf("mails to bob: %+v", msgs)
	}
	if strings.Contains(r.body, "token") {
		t.Fatalf("the answer shows the link: %s", r.body)
	}
	if ev := e.lastAudit("password.reset_request"); ev.Actor != "admin-api" || ev.Target != id {
		t.Fatalf("audit %+v", ev)
	}

	e.mustStatus(e.call(http.MethodPost, "/admin/users/ghost/send-reset", ""), http.StatusNotFound)

	e.box.Err = errors.New("dial tcp smtp.example.com:587: connection refused")
	r = e.call(http.MethodPost, "/admin/users/bob/send-reset", "")
	e.mustStatus(r, http.StatusBadGateway)
	if d := r.errorDescription(t); !strings.Contains(d, "could not be sent") {
		t.Fatalf("description %q", d)
	}
	e.box.Err = nil

	e.mustStatus(e.call(http.MethodPost, "/admin/users/bob/disable", ""), http.StatusOK)
	r = e.call(http.MethodPost, "/admin/users/bob/send-reset", "")
	e.mustStatus(r, http.StatusConflict)
	if d := r.errorDescription(t); !strings.Contains(d, "disabled") {
		t.Fatalf("description %q", d)
	}
}

func TestLogoutEndpoint(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.createUser(bobJSON)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{"s1", "s2"} {
		if err := e.store.CreateSession(ctx, storage.Session{ID: s, TokenHash: "h" + s, UserID: id, AuthTime: now,
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.store.CreateClient(ctx, storage.Client{ID: "app", Name: "App", RedirectURIs: []string{"https://a.example/cb"},
		TokenEndpointAuthMethod: storage.AuthMethodNone, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateOAuthRequest(ctx, storage.OAuthRequest{Kind: storage.KindRefreshToken, Signature: "rt",
		RequestID: "g1", ClientID: "app", Subject: id, RequestedAt: now, ExpiresAt: now.Add(time.Hour), Active: true,
		Session: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	r := e.call(http.MethodPost, "/admin/users/bob/logout", "")
	e.mustStatus(r, http.StatusOK)
	var out adminapi.LogoutResult
	r.decode(t, &out)
	if out.SessionsEnded != 2 {
		t.Fatalf("answer %s", r.body)
	}
	if sessions, _ := e.store.ListUserSessions(ctx, id); len(sessions) != 0 {
		t.Fatalf("%d sessions left", len(sessions))
	}
	if rt, _ := e.store.GetOAuthRequest(ctx, storage.KindRefreshToken, "rt"); rt.Active {
		t.Fatal("the refresh token is still active")
	}
	if ev := e.lastAudit("session.revoke_all"); ev.Actor != "admin-api" || ev.Target != id || ev.Details["sessions_ended"] != "2" {
		t.Fatalf("audit %+v", ev)
	}
	e.mustStatus(e.call(http.MethodPost, "/admin/users/ghost/logout", ""), http.StatusNotFound)
}

func TestLastAdminEndpoints(t *testing.T) {
	tests := []struct {
		name, method, path, body string
	}{
		{"disable", http.MethodPost, "/admin/users/alice/disable", ""},
		{"delete", http.MethodDelete, "/admin/users/alice", ""},
		{"strip admin", http.MethodPut, "/admin/users/alice/roles", `{"roles":["user"]}`},
		{"strip every role", http.MethodPut, "/admin/users/alice/roles", `{"roles":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			id := e.createUser(aliceJSON)
			e.createUser(bobJSON)
			r := e.call(tt.method, tt.path, tt.body)
			e.mustStatus(r, http.StatusConflict)
			if d := r.errorDescription(t); !strings.Contains(d, "administrator") {
				t.Fatalf("description %q does not explain", d)
			}
			rec, err := e.store.GetUser(context.Background(), id)
			roles, _ := e.store.ListUserRoles(context.Background(), id)
			if err != nil || rec.Disabled || !slices.Equal(roles, []string{"admin"}) {
				t.Fatalf("alice changed: %+v roles %v err %v", rec, roles, err)
			}
			// With a second administrator the same request goes through.
			e.mustStatus(e.call(http.MethodPut, "/admin/users/bob/roles", `{"roles":["admin"]}`), http.StatusOK)
			if r := e.call(tt.method, tt.path, tt.body); r.status >= 300 {
				t.Fatalf("with two admins: %d %s", r.status, r.body)
			}
		})
	}
}

func TestAuditEndpoint(t *testing.T) {
	e := newEnv(t)
	e.createUser(aliceJSON)
	r := e.call(http.MethodPost, "/admin/clients", `{"client_name":"App","redirect_uris":["https://app.example.com/cb"]}`)
	e.mustStatus(r, http.StatusCreated)
	var cl adminapi.OAuthClient
	r.decode(t, &cl)
	e.mustStatus(e.call(http.MethodDelete, "/admin/clients/"+cl.ClientID, ""), http.StatusNoContent)
	e.mustStatus(e.call(http.MethodPost, "/admin/roles", `{"name":"editor"}`), http.StatusCreated)

	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r = e.call(http.MethodGet, "/admin/audit", "")
	e.mustStatus(r, http.StatusOK)
	var all []adminapi.AuditEvent
	r.decode(t, &all)
	if n := strings.Count(r.body, `"at":"2026-03-01T12:00:00Z"`); n != len(all) {
		t.Errorf("%d of %d events show the time in RFC 3339 UTC: %s", n, len(all), r.body)
	}
	var actions []string
	for _, ev := range all {
		actions = append(actions, ev.Action)
		if ev.Actor != "admin-api" || ev.IP != "127.0.0.1" || !ev.At.Equal(at) || ev.Details == nil {
			t.Errorf("event %+v", ev)
		}
	}
	if want := []string{"role.create", "client.delete", "client.create", "user.create"}; !slices.Equal(actions, want) {
		t.Fatalf("actions %v; want %v (newest first)", actions, want)
	}
	if all[2].Target != cl.ClientID || all[2].Details["name"] != "App" {
		t.Fatalf("client.create event %+v", all[2])
	}
	if strings.Contains(r.body, cl.ClientSecret) || strings.Contains(r.body, "passphrase") {
		t.Fatalf("the audit log shows a secret: %s", r.body)
	}

	r = e.call(http.MethodGet, "/admin/audit?limit=2", "")
	e.mustStatus(r, http.StatusOK)
	var two []adminapi.AuditEvent
	r.decode(t, &two)
	if len(two) != 2 || two[0].Action != "role.create" {
		t.Fatalf("limit=2: %s", r.body)
	}
	for _, bad := range []string{"0", "-1", "1001", "ten"} {
		r := e.call(http.MethodGet, "/admin/audit?limit="+bad, "")
		e.mustStatus(r, http.StatusBadRequest)
		r.errorDescription(t)
	}
	if r := e.send(http.MethodGet, "/admin/audit", "", nil); r.status != http.StatusUnauthorized {
		t.Fatalf("audit without the token: %d", r.status)
	}
}
