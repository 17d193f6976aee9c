package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/pgtest"
	"github.com/signet-idp/signet/internal/storage"
)

// testServer is a real `signet serve` running in this process on random
// loopback ports, by default on a fresh PostgreSQL database.
type testServer struct {
	PublicURL string
	AdminURL  string
	Store     storage.Store
	Deps      serverDeps
	// Public and Admin are the listeners' handlers, every route registered.
	Public, Admin *echo.Echo
	// Clock is the server's clock; tests move it with Advance.
	Clock *testClock
	// Stop shuts the server down and waits for it (also run at cleanup).
	Stop func()
}

// testServerOption adjusts the configuration before start.
type testServerOption func(*config.Config)

// withMemoryStore runs on the in-memory store (as `serve --dev` does).
func withMemoryStore() testServerOption {
	return func(c *config.Config) { c.DatabaseURL = ""; c.Dev = true }
}

// withDatabase runs on the given database instead of a fresh one.
func withDatabase(url string) testServerOption {
	return func(c *config.Config) { c.DatabaseURL = url }
}

// testSecret is the global secret of test servers.
const testSecret = "test-secret-0123456789-abcdefghijklmnop"

func startTestServer(t testing.TB, opts ...testServerOption) *testServer {
	t.Helper()
	publicLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adminLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Issuer = "http://" + publicLn.Addr().String()
	cfg.Listen = publicLn.Addr().String()
	cfg.AdminListen = adminLn.Addr().String()
	cfg.Secret = testSecret
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.DatabaseURL = "pending"
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.DatabaseURL == "pending" {
		cfg.DatabaseURL = pgtest.NewDatabase(t)
	}

	var logOut io.Writer = io.Discard
	if os.Getenv("SIGNET_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clock := &testClock{}

	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan serverDeps, 1)
	var publicEcho, adminEcho *echo.Echo
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, logger, serveHooks{
			now:            clock.Now,
			console:        logOut,
			publicListener: publicLn,
			adminListener:  adminLn,
			started:        func(_, _ string, d serverDeps) { ready <- d },
			routes:         func(public, admin *echo.Echo) { publicEcho, adminEcho = public, admin },
		})
	}()
	ts := &testServer{
		PublicURL: cfg.Issuer,
		AdminURL:  "http://" + adminLn.Addr().String(),
		Clock:     clock,
	}
	select {
	case d := <-ready:
		ts.Deps = d
		ts.Public, ts.Admin = publicEcho, adminEcho
		ts.Store = d.store
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("server did not start within 60s")
	}
	var once sync.Once
	ts.Stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server stopped with error: %v", err)
			}
		})
	}
	t.Cleanup(ts.Stop)
	return ts
}

// testClock is a clock tests can move forward.
type testClock struct {
	mu sync.Mutex
	// offset is added to the real time so time still passes.
	offset time.Duration
}

// Now returns the real time plus the offset set by Advance.
func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// noRedirectClient does not follow redirects, so tests can inspect them.
func noRedirectClient() *http.Client {
	return &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
