// Package pgtest gives tests a fresh PostgreSQL database each, empty or as
// a migrated store. It is for tests only. Under CI (env CI set) an unreachable server fails the
// test; elsewhere the test is skipped with a clear message.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/lib/pq" // the driver the product uses

	"github.com/signet-idp/signet/internal/storage/postgres"
)

// DefaultServerURL is where the project's machines run PostgreSQL; override
// it with SIGNET_TEST_DATABASE_URL (any database on the server: tests
// create their own).
const DefaultServerURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ServerURL returns the admin connection URL of the test server.
func ServerURL() string {
	if u := os.Getenv("SIGNET_TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultServerURL
}

// NewDatabase creates an empty database, drops it when the test ends and
// returns its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	server := ServerURL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := sql.Open("postgres", server)
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is required under CI but not reachable at %s: %v", redact(server), err)
		}
		t.Skipf("PostgreSQL not reachable at %s (set SIGNET_TEST_DATABASE_URL): %v", redact(server), err)
	}
	defer db.Close()

	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := "signet_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("postgres", server)
		if err != nil {
			t.Logf("drop test database %s: %v", name, err)
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("parse %s: %v", redact(server), err)
	}
	u.Path = "/" + name
	return u.String()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// NewStore opens a migrated PostgreSQL store on a fresh database of its
// own (see NewDatabase), closed and dropped when the test ends.
func NewStore(t testing.TB) *postgres.Store {
	t.Helper()
	url := NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	// Registered after NewDatabase's clean-up, so it runs first: the
	// database can only be dropped once the pool is closed.
	t.Cleanup(func() { _ = s.Close() })
	if err := postgres.Migrate(ctx, s.DB()); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	return s
}
