package connectors

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

var testSecret = []byte("connectors-test-secret-0123456789abcdef")

func newService(t *testing.T, now func() time.Time) (*Service, *memory.Store) {
	t.Helper()
	st := memory.New()
	for _, r := range []string{"ops", "staff"} {
		if err := st.CreateRole(context.Background(), storage.Role{Name: r}); err != nil {
			t.Fatal(err)
		}
	}
	return New(st, Options{Secret: testSecret, Issuer: "https://id.example.com", Now: now}), st
}

func TestValidate(t *testing.T) {
	svc, _ := newService(t, nil)
	ctx := context.Background()
	tests := []struct {
		name string
		in   Input
		want string // substring of the error; "" for success
	}{
		{"oidc", Input{ID: "corp", Type: "oidc", Name: "Corp", ClientID: "c", Config: json.RawMessage(`{"issuer":"https://login.corp.example"}`)}, ""},
		{"oidc on localhost over http", Input{ID: "dev", Type: "oidc", Name: "Dev", ClientID: "c", Config: json.RawMessage(`{"issuer":"http://localhost:9000"}`)}, ""},
		{"oidc over http elsewhere", Input{ID: "x", Type: "oidc", Name: "X", ClientID: "c", Config: json.RawMessage(`{"issuer":"http://login.corp.example"}`)}, "config.issuer"},
		{"oidc without issuer", Input{ID: "x", Type: "oidc", Name: "X", ClientID: "c"}, "config.issuer"},
		{"google preset", Input{ID: "google", Type: "google", Name: "Google", ClientID: "c", Config: json.RawMessage(`{"hosted_domains":["example.com"]}`)}, ""},
		{"google with another issuer", Input{ID: "g", Type: "google", Name: "G", ClientID: "c", Config: json.RawMessage(`{"issuer":"https://evil.example"}`)}, "fixed for google"},
		{"github", Input{ID: "github", Type: "github", Name: "GitHub", ClientID: "c", Config: json.RawMessage(`{"orgs":["acme"],"load_teams":true}`)}, ""},
		{"github with an issuer", Input{ID: "gh", Type: "github", Name: "GH", ClientID: "c", Config: json.RawMessage(`{"issuer":"https://x.example"}`)}, "take no issuer"},
		{"orgs on oidc", Input{ID: "x", Type: "oidc", Name: "X", ClientID: "c", Config: json.RawMessage(`{"issuer":"https://x.example","orgs":["a"]}`)}, "for github"},
		{"unknown config key", Input{ID: "x", Type: "oidc", Name: "X", ClientID: "c", Config: json.RawMessage(`{"issuer":"https://x.example","colour":"red"}`)}, "unknown field"},
		{"bad id", Input{ID: "Corp SSO", Type: "oidc", Name: "X", ClientID: "c", Config: json.RawMessage(`{"issuer":"https://x.example"}`)}, "id must be"},
		{"unknown type", Input{ID: "x", Type: "saml", Name: "X", ClientID: "c"}, "type must be"},
		{"no name, no client id", Input{ID: "x", Type: "github"}, "name is required"},
		{"icon elsewhere than https", Input{ID: "x", Type: "github", Name: "X", ClientID: "c", IconURL: "javascript:alert(1)"}, "icon_url"},
		{"role that does not exist", Input{ID: "x", Type: "github", Name: "X", ClientID: "c",
			RoleRules: []storage.RoleRule{{Claim: "teams", Value: "a/b", Role: "ghost"}}}, "role ghost does not exist"},
		{"default role that does not exist", Input{ID: "x", Type: "github", Name: "X", ClientID: "c", DefaultRole: "ghost"}, "role ghost"},
		{"incomplete rule", Input{ID: "x", Type: "github", Name: "X", ClientID: "c", RoleRules: []storage.RoleRule{{Claim: "teams", Role: "ops"}}}, "role rule"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Create(ctx, tc.in)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Create: %v", err)
			case tc.want != "" && (err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Create: %v, want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := svc.Create(ctx, Input{ID: "corp", Type: "github", Name: "Again", ClientID: "c"}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate id: %v, want ErrExists", err)
	}
}

func TestRolesAndSignIn(t *testing.T) {
	svc, st := newService(t, nil)
	ctx := context.Background()
	if _, err := svc.Create(ctx, Input{ID: "gh", Type: "github", Name: "GitHub", ClientID: "c",
		RoleRules:   []storage.RoleRule{{Claim: "teams", Value: "acme/sre", Role: "ops"}, {Claim: "orgs", Value: "acme", Role: "staff"}},
		DefaultRole: "user"}); err != nil {
		t.Fatal(err)
	}
	id := Identity{Subject: "42", Email: "octo@example.com", EmailVerified: true, Username: "Octo Cat!",
		Claims: map[string][]string{"teams": {"acme/sre"}, "orgs": {"acme"}}}
	out, err := svc.SignIn(ctx, "gh", id)
	if err != nil || !out.Created || out.UserID == "" {
		t.Fatalf("first sign-in: %+v, %v", out, err)
	}
	u, roles, err := st.GetUserWithRoles(ctx, out.UserID)
	if err != nil || u.Username != "Octo-Cat" || !slices.Equal(roles, []string{"ops", "staff", "user"}) {
		t.Fatalf("JIT user %+v roles %v (%v)", u, roles, err)
	}
	// An administrator adds admin; the upstream drops the team. The mapped
	// subset (ops, staff) follows the upstream; admin and user stay.
	if err := st.SetUserRoles(ctx, u.ID, append(roles, "admin")); err != nil {
		t.Fatal(err)
	}
	id.Claims = map[string][]string{"orgs": {"acme"}}
	if out, err := svc.SignIn(ctx, "gh", id); err != nil || out.UserID != u.ID || out.Created {
		t.Fatalf("second sign-in: %+v, %v", out, err)
	}
	if roles, _ := st.ListUserRoles(ctx, u.ID); !slices.Equal(roles, []string{"admin", "staff", "user"}) {
		t.Fatalf("roles after the team went: %v", roles)
	}

	// A rule that names admin never takes it from the last administrator.
	if _, err := svc.Update(ctx, "gh", Patch{RoleRules: &[]storage.RoleRule{{Claim: "teams", Value: "acme/root", Role: "admin"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SignIn(ctx, "gh", id); err != nil {
		t.Fatal(err)
	}
	if roles, _ := st.ListUserRoles(ctx, u.ID); !slices.Contains(roles, "admin") {
		t.Fatalf("the last administrator lost admin through a role rule: %v", roles)
	}
	if _, err := svc.Update(ctx, "gh", Patch{RoleRules: &[]storage.RoleRule{{Claim: "teams", Value: "acme/sre", Role: "ops"}, {Claim: "orgs", Value: "acme", Role: "staff"}}}); err != nil {
		t.Fatal(err)
	}

	// Another upstream account with the same e-mail: never linked silently.
	other := Identity{Subject: "43", Email: "OCTO@example.com", EmailVerified: true}
	if out, err := svc.SignIn(ctx, "gh", other); err != nil || out.LinkTo != u.ID || out.UserID != "" {
		t.Fatalf("same e-mail, other subject: %+v, %v; want LinkTo %s", out, err, u.ID)
	}
	// Unverified: refused outright.
	other.EmailVerified = false
	if _, err := svc.SignIn(ctx, "gh", other); KindOf(err) != KindUnverifiedEmail {
		t.Fatalf("unverified e-mail: %v", err)
	}
	// A user name taken already gets a suffix.
	third := Identity{Subject: "44", Email: "someone@example.com", EmailVerified: true, Username: "octo-cat"}
	out, err = svc.SignIn(ctx, "gh", third)
	if err != nil {
		t.Fatal(err)
	}
	if u3, _ := st.GetUser(ctx, out.UserID); !strings.HasPrefix(u3.Username, "octo-cat-") {
		t.Fatalf("second octo-cat is %q", u3.Username)
	}
	// Disabled accounts cannot sign in through the connector either.
	u.Disabled = true
	if err := st.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SignIn(ctx, "gh", id); KindOf(err) != KindDisabled {
		t.Fatalf("disabled user: %v", err)
	}

	// Unlink: the JIT user has no password, so its only identity stays.
	if err := svc.Unlink(ctx, out.UserID, "gh"); !errors.Is(err, ErrLastWayIn) {
		t.Fatalf("unlink the last way in: %v", err)
	}
	if err := svc.Link(ctx, out.UserID, "gh", Identity{Subject: "45"}); KindOf(err) != KindAlreadyLinked {
		t.Fatalf("a second identity at one connector: %v", err)
	}
}

func TestFlowChecks(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	svc, _ := newService(t, func() time.Time { return now })
	ctx := context.Background()
	if _, err := svc.Create(ctx, Input{ID: "gh", Type: "github", Name: "GitHub", ClientID: "c", ClientSecret: "s"}); err != nil {
		t.Fatal(err)
	}
	authURL, sealed, err := svc.Begin(ctx, "gh", Flow{Challenge: "ch"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" ||
		q.Get("redirect_uri") != "https://id.example.com/connectors/gh/callback" {
		t.Fatalf("authorization URL %s", authURL)
	}
	if strings.Contains(sealed, q.Get("state")) {
		t.Fatal("the flow cookie shows the state in clear")
	}
	state := q.Get("state")
	tests := []struct {
		name   string
		id     string
		sealed string
		query  url.Values
		later  time.Duration
		want   Kind
	}{
		{"no cookie", "gh", "", url.Values{"state": {state}, "code": {"x"}}, 0, KindState},
		{"forged cookie", "gh", sealed[:len(sealed)-4] + "AAAA", url.Values{"state": {state}, "code": {"x"}}, 0, KindState},
		{"other state", "gh", sealed, url.Values{"state": {"forged"}, "code": {"x"}}, 0, KindState},
		{"other connector", "corp", sealed, url.Values{"state": {state}, "code": {"x"}}, 0, KindState},
		{"expired", "gh", sealed, url.Values{"state": {state}, "code": {"x"}}, FlowLifespan + time.Second, KindState},
		{"cancelled", "gh", sealed, url.Values{"state": {state}, "error": {"access_denied"}}, 0, KindCancelled},
		{"refused", "gh", sealed, url.Values{"state": {state}, "error": {"server_error"}}, 0, KindRefused},
		{"no code", "gh", sealed, url.Values{"state": {state}}, 0, KindInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc.o.Now = func() time.Time { return now.Add(tc.later) }
			defer func() { svc.o.Now = func() time.Time { return now } }()
			f, _, err := svc.Complete(ctx, tc.id, tc.sealed, tc.query)
			if KindOf(err) != tc.want {
				t.Fatalf("Complete: %v, want %s", err, tc.want)
			}
			if tc.want != KindState && f.Challenge != "ch" {
				t.Fatalf("flow %+v lost its challenge", f)
			}
		})
	}
	// A pending link is not a flow, and vice versa.
	p, err := svc.SealPending(PendingLink{Connector: "gh", UserID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Complete(ctx, "gh", p, url.Values{"state": {state}}); KindOf(err) != KindState {
		t.Fatalf("a pending link used as a flow: %v", err)
	}
	if _, err := svc.OpenPending(sealed); err == nil {
		t.Fatal("a flow opened as a pending link")
	}
	if got, err := svc.OpenPending(p); err != nil || got.UserID != "u1" {
		t.Fatalf("OpenPending: %+v, %v", got, err)
	}
	// Disabled connectors start nothing.
	off := false
	if _, err := svc.Update(ctx, "gh", Patch{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Begin(ctx, "gh", Flow{}); KindOf(err) != KindUnavailable {
		t.Fatalf("Begin on a disabled connector: %v", err)
	}
}

func TestClaimMapping(t *testing.T) {
	u := &oidcUpstream{s: Settings{EmailClaim: "mail", GroupsClaim: "memberOf", UsernameClaim: "upn"}}
	id := u.mapClaims("sub-1", map[string]any{
		"mail": "a@corp.example", "email_verified": "true", "name": "Ann", "upn": "ann",
		"memberOf": []any{"sre", "dev"}, "level": float64(3), "admin": true,
	})
	if id.Email != "a@corp.example" || !id.EmailVerified || id.Username != "ann" || id.Name != "Ann" ||
		!slices.Equal(id.Claims["groups"], []string{"sre", "dev"}) || !slices.Equal(id.Claims["level"], []string{"3"}) ||
		!slices.Equal(id.Claims["admin"], []string{"true"}) {
		t.Fatalf("mapped %+v", id)
	}
	trusted := &oidcUpstream{s: Settings{TrustEmail: true}}
	if id := trusted.mapClaims("s", map[string]any{"email": "b@corp.example"}); !id.EmailVerified {
		t.Fatal("trust_email did not mark the e-mail verified")
	}
	if id := (&oidcUpstream{}).mapClaims("s", map[string]any{"email": "b@corp.example"}); id.EmailVerified {
		t.Fatal("an e-mail without email_verified counted as verified")
	}
}
