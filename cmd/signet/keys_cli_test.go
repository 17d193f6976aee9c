package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/adminapi"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

// startKeysAdmin serves the key endpoints of the admin API, wired as serve
// wires them, over a fresh in-memory store, and points the management
// commands at them.
func startKeysAdmin(t *testing.T, algs ...string) storage.Store {
	t.Helper()
	store := memory.New()
	cfg := config.Default()
	cfg.AdminToken = manageTestToken
	cfg.Secret = testSecret
	if len(algs) > 0 {
		cfg.SigningAlgorithms = algs
	}
	d := serverDeps{cfg: cfg, store: store, logger: slog.New(slog.DiscardHandler), now: time.Now, secret: []byte(cfg.Secret)}
	km, err := openKeys(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	registerKeysAdmin(e, km, d)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	t.Setenv("SIGNET_ADMIN_URL", srv.URL)
	t.Setenv("SIGNET_ADMIN_TOKEN", manageTestToken)
	t.Setenv("SIGNET_OUTPUT", "")
	return store
}

func TestManageKeys(t *testing.T) {
	store := startKeysAdmin(t, "RS256", "ES256")

	var keys []adminapi.SigningKey
	mustJSON(t, mustRun(t, "", "keys", "list", "-o", "json"), &keys)
	if len(keys) != 2 || keys[0].State != "current" || keys[1].State != "current" || keys[0].ActivateAt == nil {
		t.Fatalf("keys list: %+v", keys)
	}
	table := mustRun(t, "", "keys", "list")
	for _, want := range []string{"KID", "ALG", "STATE", "CREATED_AT", "ACTIVATE_AT", "DELETE_AFTER", keys[0].KID, "RS256", "ES256", "current"} {
		if !strings.Contains(table, want) {
			t.Fatalf("keys list table lacks %q:\n%s", want, table)
		}
	}

	var next []adminapi.SigningKey
	mustJSON(t, mustRun(t, "", "keys", "rotate", "--alg", "ES256", "-o", "json"), &next)
	if len(next) != 1 || next[0].Algorithm != "ES256" || next[0].State != "next" ||
		next[0].ActivateAt.Sub(next[0].CreatedAt) < time.Hour {
		t.Fatalf("keys rotate --alg ES256: %+v", next)
	}
	out := mustRun(t, "", "keys", "rotate")
	if !strings.Contains(out, next[0].KID) || strings.Count(out, "next") != 2 {
		t.Fatalf("keys rotate (all): want the pending ES256 key and a new RS256 one:\n%s", out)
	}
	mustJSON(t, mustRun(t, "", "keys", "list", "-o", "json"), &keys)
	if len(keys) != 4 {
		t.Fatalf("%d keys after two rotations, want 4", len(keys))
	}

	if _, err := runCLI(t, "", "keys", "rotate", "--alg", "EdDSA"); err == nil || !strings.Contains(err.Error(), "EdDSA") {
		t.Fatalf("rotate of an unconfigured algorithm: %v", err)
	}
	if _, err := runCLI(t, "", "keys", "rotate", "--alg", "HS256"); err == nil || !strings.Contains(err.Error(), "HTTP 400") {
		t.Fatalf("rotate of an unknown algorithm: %v", err)
	}

	// Rotations are audited.
	events, err := store.ListAudit(context.Background(), 10)
	if err != nil || len(events) != 2 || events[0].Action != audit.KeyRotate || events[0].Actor != "admin-api" {
		t.Fatalf("audit: %+v, %v", events, err)
	}

	// The admin API rules hold: token, no browsers, JSON bodies.
	base := strings.TrimSuffix(mustEnv(t, "SIGNET_ADMIN_URL"), "/")
	for _, tc := range []struct {
		name, method, path, body, ctype, origin string
		auth                                    bool
		want                                    int
	}{
		{"no token", http.MethodGet, "/admin/keys", "", "", "", false, http.StatusUnauthorized},
		{"rotate, no token", http.MethodPost, "/admin/keys/rotate", "", "", "", false, http.StatusUnauthorized},
		{"from a web page", http.MethodPost, "/admin/keys/rotate", "", "", "https://evil.example", true, http.StatusForbidden},
		{"form body", http.MethodPost, "/admin/keys/rotate", "alg=RS256", "application/x-www-form-urlencoded", "", true, http.StatusUnsupportedMediaType},
		{"unknown field", http.MethodPost, "/admin/keys/rotate", `{"algo":"RS256"}`, "application/json", "", true, http.StatusBadRequest},
		{"empty body rotates all", http.MethodPost, "/admin/keys/rotate", "", "", "", true, http.StatusOK},
		{"JSON body", http.MethodPost, "/admin/keys/rotate", `{"alg":"RS256"}`, "application/json", "", true, http.StatusOK},
	} {
		req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		if tc.auth {
			req.Header.Set("Authorization", "Bearer "+manageTestToken)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
}

func mustEnv(t *testing.T, name string) string {
	t.Helper()
	v, ok := os.LookupEnv(name)
	if !ok {
		t.Fatalf("%s not set", name)
	}
	return v
}
