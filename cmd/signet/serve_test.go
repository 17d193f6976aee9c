package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime"
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
	// Which version runs: in /health/alive and as a build-info metric.
	v := buildVersion()
	if _, alive := getStatus(t, ts.PublicURL+"/health/alive"); !strings.Contains(alive, `"version":"`+v+`"`) {
		t.Errorf("/health/alive = %s, want the version %q", alive, v)
	}
	if want := `signet_build_info{goversion="` + runtime.Version() + `",version="` + v + `"} 1`; !strings.Contains(body, want) {
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

// startRoleCreation posts the first half of a role creation to the admin
// API, so the request stays in flight until the rest is written to pw
// (the role's name and the closing brace) and pw closed; done receives
// the answer's status (-1 when the request failed).
func startRoleCreation(ts *testServer) (*io.PipeWriter, <-chan int) {
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
	return pw, done
}

// TestGracefulShutdown: a request in flight when the server is told to
// stop still gets its answer, and the write it asked for happens.
func TestGracefulShutdown(t *testing.T) {
	ts := startTestServer(t, withMemoryStore())
	// A body sent in two halves keeps the request in flight across the
	// shutdown signal.
	pw, done := startRoleCreation(ts)
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
	out.Reset()
	root = newRootCmd()
	root.SetOut(&out)
	root.SetArgs([]string{"--version"})
	if err := root.Execute(); err != nil || out.String() != "signet "+buildVersion()+"\n" {
		t.Fatalf("--version = %q, %v", out.String(), err)
	}
}

// TestSlowClientsAreCutOff: a client trickling its body, or idling on a
// keep-alive connection, loses the connection once the configured timeout
// passes, on both listeners. The trickle would last 50s; the bound of 10s
// is generous against timeouts of 300ms.
func TestSlowClientsAreCutOff(t *testing.T) {
	short := 300 * time.Millisecond
	trickle := func(path, contentType string) func(t *testing.T, conn net.Conn) {
		return func(t *testing.T, conn net.Conn) {
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: signet\r\nContent-Type: %s\r\nContent-Length: 1000\r\n\r\n", path, contentType)
			stop := make(chan struct{})
			t.Cleanup(func() { close(stop) })
			go func() {
				for range 1000 {
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
					}
					if _, err := conn.Write([]byte("a")); err != nil {
						return
					}
				}
			}()
		}
	}
	idle := func(t *testing.T, conn net.Conn) {
		fmt.Fprint(conn, "GET /health/alive HTTP/1.1\r\nHost: signet\r\n\r\n")
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("first request on the connection: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("first request = %d (close %v), want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
		}
	}
	tests := []struct {
		name   string
		admin  bool
		config func(*config.Config)
		client func(t *testing.T, conn net.Conn)
	}{
		{"body trickled to the token endpoint", false, func(c *config.Config) { c.HTTPReadTimeout = short },
			trickle("/oauth2/token", "application/x-www-form-urlencoded")},
		{"body trickled to the admin API", true, func(c *config.Config) { c.HTTPReadTimeout = short },
			trickle("/admin/roles", "application/json")},
		// The read timeout stays long here: net/http would otherwise use
		// it for idle connections too.
		{"idle keep-alive connection", false, func(c *config.Config) { c.HTTPIdleTimeout = short }, idle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startTestServer(t, withMemoryStore(), tt.config)
			base := ts.PublicURL
			if tt.admin {
				base = ts.AdminURL
			}
			conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			tt.client(t, conn)
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			// Whatever the server answers first, it must then close: EOF
			// or a reset both end the copy; only our deadline must not.
			_, err = io.Copy(io.Discard, conn)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("the server kept the connection open past 10s")
			}
		})
	}
}

// TestShutdownDrainsFirst: on shutdown readiness turns 503 while both
// listeners still serve for the drain delay; then the listeners close and
// a request in flight all along still completes.
func TestShutdownDrainsFirst(t *testing.T) {
	ts := startTestServer(t, withMemoryStore(), func(c *config.Config) { c.ShutdownDrainDelay = 3 * time.Second })
	if code, _ := getStatus(t, ts.PublicURL+"/health/ready"); code != http.StatusOK {
		t.Fatalf("ready before shutdown = %d, want 200", code)
	}
	pw, done := startRoleCreation(ts)

	stopped := make(chan struct{})
	go func() { ts.Stop(); close(stopped) }()

	// A 503 from readiness can only come from the drain: after it the
	// listeners refuse connections.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(ts.PublicURL + "/health/ready")
		if err != nil {
			t.Fatalf("readiness during the drain: %v (listeners closed before readiness turned 503)", err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readiness still %d 10s after the shutdown signal", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _ := getStatus(t, ts.AdminURL+"/health/ready"); code != http.StatusServiceUnavailable {
		t.Errorf("admin readiness during the drain = %d, want 503", code)
	}
	if code, _ := getStatus(t, ts.PublicURL+"/health/alive"); code != http.StatusOK {
		t.Errorf("liveness during the drain = %d, want 200 (the replica is draining, not dead)", code)
	}
	if code, _ := getStatus(t, ts.PublicURL+"/.well-known/openid-configuration"); code != http.StatusOK {
		t.Errorf("discovery during the drain = %d, want 200 (requests are still served)", code)
	}

	// After the drain the listeners close; the in-flight request goes on.
	for {
		resp, err := http.Get(ts.PublicURL + "/health/alive")
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("listeners still accept 10s after the shutdown signal")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-stopped:
		t.Fatal("shutdown finished before the in-flight request")
	default:
	}
	_, _ = pw.Write([]byte(`"draining"}`))
	pw.Close()
	if code := <-done; code != http.StatusCreated {
		t.Fatalf("in-flight request got %d, want 201", code)
	}
	<-stopped
	if _, err := ts.Store.GetRole(context.Background(), "draining"); err != nil {
		t.Errorf("role from the in-flight request: %v", err)
	}
}

// TestPprofOnAdminListenerOnly: the profiles are served on the admin
// listener, behind its token, never on the public one; the command line
// (which may hold secrets) is not served; a CPU profile longer than the
// write timeout still arrives whole; --profiling turns mutex sampling on
// for the server's lifetime only.
func TestPprofOnAdminListenerOnly(t *testing.T) {
	const token = "admin-token-0123456789"
	ts := startTestServer(t, withMemoryStore(), func(c *config.Config) {
		c.AdminToken = token
		c.Profiling = true
		c.HTTPWriteTimeout = 500 * time.Millisecond
	})
	if got := runtime.SetMutexProfileFraction(-1); got != mutexProfileFraction {
		t.Errorf("mutex profile fraction with --profiling = %d, want %d", got, mutexProfileFraction)
	}
	tests := []struct {
		name     string
		url      string
		token    string
		want     int
		wantBody string
	}{
		{"index on admin", ts.AdminURL + "/debug/pprof/", token, http.StatusOK, "goroutine"},
		{"heap on admin", ts.AdminURL + "/debug/pprof/heap?debug=1", token, http.StatusOK, "heap profile"},
		{"CPU profile longer than the write timeout", ts.AdminURL + "/debug/pprof/profile?seconds=1", token, http.StatusOK, "\x1f\x8b"},
		{"admin without the token", ts.AdminURL + "/debug/pprof/", "", http.StatusUnauthorized, ""},
		{"command line is not served", ts.AdminURL + "/debug/pprof/cmdline", token, http.StatusNotFound, ""},
		{"index on public", ts.PublicURL + "/debug/pprof/", token, http.StatusNotFound, ""},
		{"heap on public", ts.PublicURL + "/debug/pprof/heap", "", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("reading the answer: %v", err)
			}
			if resp.StatusCode != tt.want || !strings.Contains(string(body), tt.wantBody) {
				t.Fatalf("GET %s = %d (%d bytes), want %d containing %q", tt.url, resp.StatusCode, len(body), tt.want, tt.wantBody)
			}
		})
	}
	ts.Stop()
	if got := runtime.SetMutexProfileFraction(-1); got != 0 {
		t.Errorf("mutex profile fraction after the server stopped = %d, want 0", got)
	}
}

// TestVersionFromBuild: the version set at build time (-ldflags -X
// main.version, as the Dockerfile does) is what --version and the version
// command print.
func TestVersionFromBuild(t *testing.T) {
	bin := buildSignet(t, "-ldflags", "-X main.version=v9.8.7-test")
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out := runSignet(t, context.Background(), bin, nil, args...)
		if out != "signet v9.8.7-test\n" {
			t.Errorf("signet %s = %q, want %q", args[0], out, "signet v9.8.7-test\n")
		}
	}
}

// TestHEADAnsweredWhereGETIs: HEAD gets GET's status and headers, without
// a body, on discovery, the JWKS, pages, health and metrics; routes without
// GET still answer 405.
func TestHEADAnsweredWhereGETIs(t *testing.T) {
	ts := startTestServer(t, withMemoryStore())
	for _, u := range []string{
		ts.PublicURL + "/.well-known/openid-configuration",
		ts.PublicURL + "/.well-known/jwks.json",
		ts.PublicURL + "/login",
		ts.PublicURL + "/register",
		ts.PublicURL + "/",
		ts.PublicURL + "/health/alive",
		ts.PublicURL + "/health/ready",
		ts.AdminURL + "/health/ready",
		ts.AdminURL + "/metrics",
		ts.PublicURL + "/oauth2/token",
	} {
		get, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		get.Body.Close()
		head, err := http.Head(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(head.Body)
		head.Body.Close()
		sameType := head.Header.Get("Content-Type") == get.Header.Get("Content-Type") || head.StatusCode >= 400
		if head.StatusCode != get.StatusCode || len(b) != 0 || !sameType {
			t.Errorf("HEAD %s = %d %q with %d body bytes; GET = %d %q", u, head.StatusCode,
				head.Header.Get("Content-Type"), len(b), get.StatusCode, get.Header.Get("Content-Type"))
		}
		if strings.HasSuffix(u, "/oauth2/token") {
			if head.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("HEAD %s = %d, want 405 (no GET there)", u, head.StatusCode)
			}
		} else if head.StatusCode >= 400 {
			t.Errorf("HEAD %s = %d, want a success", u, head.StatusCode)
		}
	}
}
