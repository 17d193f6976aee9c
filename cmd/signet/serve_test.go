package main

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/pgtest"
)

func getStatus(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHealthAndMetrics(t *testing.T) {
	ts := startTestServer(t)
	for _, u := range []string{ts.PublicURL + "/health/alive", ts.PublicURL + "/health/ready", ts.AdminURL + "/health/ready"} {
		if code, body := getStatus(t, u); code != http.StatusOK || !strings.Contains(body, `"status":"ok"`) {
			t.Errorf("GET %s = %d %s, want 200 ok", u, code, body)
		}
	}
	code, body := getStatus(t, ts.AdminURL+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", code)
	}
	want := `signet_http_requests_total{code="200",listener="public",method="GET",route="/health/alive"} 1`
	if !strings.Contains(body, want) {
		t.Errorf("metrics lack %q", want)
	}
	if code, _ := getStatus(t, ts.PublicURL+"/metrics"); code != http.StatusNotFound {
		t.Errorf("public /metrics = %d, want 404 (metrics live on the admin listener)", code)
	}
}

// TestReadinessFollowsDatabase cuts the server's database off and brings it
// back: readiness turns 503 and recovers without a restart.
func TestReadinessFollowsDatabase(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	ts := startTestServer(t, withDatabase(dbURL))
	u, _ := url.Parse(dbURL)
	name := strings.TrimPrefix(u.Path, "/")

	admin, err := sql.Open("postgres", pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ctx := context.Background()
	exec := func(q string) {
		t.Helper()
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false")
	exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'")
	t.Cleanup(func() { _, _ = admin.ExecContext(ctx, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true") })

	code, body := getStatus(t, ts.PublicURL+"/health/ready")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "database") {
		t.Fatalf("ready with database down = %d %s, want 503 naming the database", code, body)
	}
	if code, _ := getStatus(t, ts.PublicURL+"/health/alive"); code != http.StatusOK {
		t.Errorf("alive with database down = %d, want 200", code)
	}

	exec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true")
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _ = getStatus(t, ts.PublicURL+"/health/ready")
		if code == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code != http.StatusOK {
		t.Fatalf("ready after the database came back = %d, want 200", code)
	}
}

// TestServeRefusesBadConfiguration: serve exits with one clear error and
// starts nothing.
func TestServeRefusesBadConfiguration(t *testing.T) {
	base := config.Default()
	base.Listen = "127.0.0.1:0"
	base.AdminListen = "127.0.0.1:0"
	base.Secret = testSecret
	tests := []struct {
		name   string
		mutate func(*config.Config)
		want   string
	}{
		{"short secret", func(c *config.Config) { c.DatabaseURL = "postgres://x@127.0.0.1/x"; c.Secret = "short" }, "at least 32 bytes"},
		{"no database", func(c *config.Config) {}, "database URL"},
		{"unreachable database", func(c *config.Config) {
			c.DatabaseURL = "postgres://postgres@127.0.0.1:1/nope?sslmode=disable&connect_timeout=2"
		}, "database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mutate(&cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := serve(ctx, cfg, slog.New(slog.DiscardHandler), serveHooks{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("serve() = %v, want an error mentioning %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
		})
	}
}

// TestGracefulShutdown: a request in flight when the server is told to
// stop still gets its answer, and the write it asked for happens.
func TestGracefulShutdown(t *testing.T) {
	ts := startTestServer(t, withMemoryStore())
	// A body sent in two halves keeps the request in flight across the
	// shutdown signal.
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		resp, err := http.Post(ts.AdminURL+"/admin/roles", "application/json", pr)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	_, _ = pw.Write([]byte(`{"name":`))
	time.Sleep(300 * time.Millisecond)
	stopped := make(chan struct{})
	go func() { ts.Stop(); close(stopped) }()
	time.Sleep(300 * time.Millisecond)
	_, _ = pw.Write([]byte(`"inflight"}`))
	pw.Close()
	if code := <-done; code != http.StatusCreated {
		t.Fatalf("in-flight request got %d, want 201", code)
	}
	<-stopped
	if _, err := ts.Store.GetRole(context.Background(), "inflight"); err != nil {
		t.Errorf("role from the in-flight request: %v", err)
	}
	if _, err := http.Get(ts.PublicURL + "/health/alive"); err == nil {
		t.Fatal("server still answers after shutdown")
	}
}

func TestEnvTwins(t *testing.T) {
	cmd := newServeCmd()
	env := map[string]string{
		"SIGNET_ISSUER":      "https://id.example.com",
		"SIGNET_OLD_SECRETS": "a, b",
		"SIGNET_LISTEN":      ":9999",
	}
	if err := cmd.Flags().Parse([]string{"--listen", ":7777"}); err != nil {
		t.Fatal(err)
	}
	if err := applyEnv(cmd.Flags(), func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string]string{"issuer": "https://id.example.com", "old-secrets": "[a,b]", "listen": ":7777"} {
		if got := cmd.Flags().Lookup(flag).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", flag, got, want)
		}
	}
	var out bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetArgs([]string{"version"})
	if err := root.Execute(); err != nil || !strings.HasPrefix(out.String(), "signet ") {
		t.Fatalf("version = %q, %v", out.String(), err)
	}
}
