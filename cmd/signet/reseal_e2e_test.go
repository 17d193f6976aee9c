package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/adminclient"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/connectors"
	"github.com/signet-idp/signet/internal/keys"
	"github.com/signet-idp/signet/internal/mfa"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

// TestSecretRotationResealsEverything: an authenticator app enrolled and a
// connector created under secret A are sealed again under B when serve
// starts with B and --old-secrets A (the rows change and open with B
// alone; a second such start changes nothing), and with B alone the
// authenticator's codes are accepted and the connector signs a person in
// through an upstream that checks its client secret.
func TestSecretRotationResealsEverything(t *testing.T) {
	const secretB = "second-secret-0123456789-abcdefghijklmno"
	ctx := context.Background()
	gh := newFakeGitHub(t)
	tsA := startTestServer(t)
	dbURL := tsA.Deps.cfg.DatabaseURL
	factors := func(ts *testServer) *mfa.Service {
		t.Helper()
		svc, err := newMFA(ts.Deps, audit.New(ts.Store, ts.Deps.now, ts.Deps.logger))
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}

	now := tsA.Clock.Now().UTC()
	if err := tsA.Store.CreateUser(ctx, storage.User{ID: "u-ada", Username: "ada", Email: "ada@example.com", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	enr, err := factors(tsA).StartTOTP(ctx, "u-ada")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := factors(tsA).ConfirmTOTP(ctx, "u-ada", totpCode(t, enr.Secret, tsA.Clock.Now())); err != nil {
		t.Fatal(err)
	}
	admin, err := adminclient.New(tsA.AdminURL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateConnector(ctx, adminclient.NewConnector{
		ID: "github", Type: "github", Name: "GitHub", ClientID: gh.clientID, ClientSecret: gh.clientSecret,
		Config: json.RawMessage(`{"base_url":"` + gh.srv.URL + `"}`), DefaultRole: "user",
	}); err != nil {
		t.Fatal(err)
	}
	rows := func(ts *testServer) (storage.TOTPCredential, storage.Connector) {
		t.Helper()
		c, err := ts.Store.GetTOTP(ctx, "u-ada")
		if err != nil {
			t.Fatal(err)
		}
		conn, err := ts.Store.GetConnector(ctx, "github")
		if err != nil {
			t.Fatal(err)
		}
		return c, conn
	}
	totpA, connA := rows(tsA)
	tsA.Stop()

	tsB := startTestServer(t, withDatabase(dbURL), withSecrets(secretB, testSecret))
	totpB, connB := rows(tsB)
	tsB.Stop()
	if bytes.Equal(totpB.Secret, totpA.Secret) || bytes.Equal(connB.ClientSecret, connA.ClientSecret) {
		t.Fatal("sealed values under the old secret were not re-sealed at start")
	}
	onlyB := [][]byte{[]byte(secretB)}
	if plain, _, err := keys.OpenSealed(totpB.Secret, []byte(totpB.ID), onlyB); err != nil || string(plain) != enr.Secret {
		t.Fatalf("authenticator secret does not open with B alone: %v", err)
	}
	if plain, _, err := keys.OpenSealed(connB.ClientSecret, []byte("github"), onlyB); err != nil || string(plain) != gh.clientSecret {
		t.Fatalf("connector secret does not open with B alone: %v", err)
	}
	if _, _, err := keys.OpenSealed(totpB.Secret, []byte(totpB.ID), [][]byte{[]byte(testSecret)}); err == nil {
		t.Fatal("the re-sealed authenticator secret still opens with A")
	}
	if !connB.UpdatedAt.Equal(connA.UpdatedAt) || totpB.LastUsedStep != totpA.LastUsedStep || !totpB.ConfirmedAt.Equal(totpA.ConfirmedAt) {
		t.Fatal("re-sealing changed more than the sealed values")
	}

	// Another replica starting with the same settings finds nothing to do.
	tsB2 := startTestServer(t, withDatabase(dbURL), withSecrets(secretB, testSecret))
	totpB2, connB2 := rows(tsB2)
	tsB2.Stop()
	if !bytes.Equal(totpB2.Secret, totpB.Secret) || !bytes.Equal(connB2.ClientSecret, connB.ClientSecret) {
		t.Fatal("values already under the current secret were sealed again")
	}

	// The old secret dropped: everything still works.
	ts := startTestServer(t, withDatabase(dbURL), withSecrets(secretB))
	svc := factors(ts)
	if err := svc.VerifyTOTP(ctx, "u-ada", totpCode(t, enr.Secret, ts.Clock.Now().Add(30*time.Second))); err != nil {
		t.Fatalf("authenticator code with the old secret dropped: %v", err)
	}
	app := newBrowserRP(t, ts, "App", true)
	gh.signInAs(&ghPerson{ID: 4711, Login: "octo-cat", Name: "Octo Cat",
		Emails: []map[string]any{{"email": "octo@example.com", "primary": true, "verified": true}}})
	b := newBrowser(t)
	b.open(app.authURL())
	b.submit(`a.connector`)
	settle(b)
	if c := claimsOf(t, app.expectSignedIn(b).IDToken); c.IDP != "github" || c.Email != "octo@example.com" {
		t.Fatalf("signed in through the connector with claims %+v, want idp github", c)
	}
}

// TestResealSecretsLogsCountsNotValues: the start-up re-seal logs how many
// values it re-sealed and how many no secret opens, and never a value.
func TestResealSecretsLogsCountsNotValues(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	secretA, secretB, secretC := []byte(strings.Repeat("a", 32)), []byte(strings.Repeat("b", 32)), []byte(strings.Repeat("c", 32))
	var logs bytes.Buffer
	deps := func(secret []byte, old ...[]byte) serverDeps {
		cfg := config.Default()
		return serverDeps{cfg: cfg, store: st, now: time.Now, secret: secret, oldSecrets: old,
			logger: slog.New(slog.NewTextHandler(&logs, nil))}
	}
	services := func(d serverDeps) accountServices {
		svc, err := newMFA(d, audit.New(st, d.now, d.logger))
		if err != nil {
			t.Fatal(err)
		}
		return accountServices{mfa: svc, connectors: connectors.New(st, connectors.Options{Secret: d.secret, OldSecrets: d.oldSecrets, Issuer: d.cfg.Issuer})}
	}
	var plain []string
	for i, secret := range [][]byte{secretA, secretA, secretC} {
		id := fmt.Sprintf("u%d", i)
		if err := st.CreateUser(ctx, storage.User{ID: id, Username: id, Email: id + "@example.com"}); err != nil {
			t.Fatal(err)
		}
		enr, err := services(deps(secret)).mfa.StartTOTP(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		plain = append(plain, enr.Secret)
	}
	if _, err := services(deps(secretA)).connectors.Create(ctx, connectors.Input{ID: "github", Type: "github", Name: "GitHub",
		ClientID: "x", ClientSecret: "gh-plain-secret-value"}); err != nil {
		t.Fatal(err)
	}
	plain = append(plain, "gh-plain-secret-value")

	d := deps(secretB, secretA)
	if job := resealSecrets(ctx, d, services(d)); job == nil {
		t.Fatal("no periodic re-seal job while old secrets are configured")
	}
	if job := resealSecrets(ctx, deps(secretB), services(deps(secretB))); job != nil {
		t.Error("a periodic re-seal job without old secrets")
	}
	out := logs.String()
	for _, want := range []string{"totp_secrets=2 connector_secrets=1", "open with neither", "totp_secrets=1 connector_secrets=0"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, p := range plain {
		if strings.Contains(out, p) {
			t.Errorf("log shows a secret value:\n%s", out)
		}
	}

	// A later pass finds what a replica without the new secret sealed
	// meanwhile, and says nothing when there is nothing to do.
	logs.Reset()
	resealOnce(ctx, d, services(d), false)
	if logs.Len() != 0 {
		t.Errorf("a pass with nothing to re-seal logged:\n%s", logs.String())
	}
	if err := st.CreateUser(ctx, storage.User{ID: "late", Username: "late", Email: "late@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := services(deps(secretA)).mfa.StartTOTP(ctx, "late"); err != nil {
		t.Fatal(err)
	}
	resealOnce(ctx, d, services(d), false)
	if out := logs.String(); !strings.Contains(out, "totp_secrets=1 connector_secrets=0") || strings.Contains(out, "open with neither") {
		t.Errorf("later pass log:\n%s", out)
	}
}
