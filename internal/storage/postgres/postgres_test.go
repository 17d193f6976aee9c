package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/signet-idp/signet/internal/pgtest"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/postgres"
	"github.com/signet-idp/signet/internal/storage/storagetest"
	"github.com/signet-idp/signet/migrations"
)

// newStore opens a migrated store on a fresh database of its own. pgtest
// skips the test when PostgreSQL is unreachable, or fails it under CI.
func newStore(t *testing.T) storage.Store { return pgtest.NewStore(t) }

func TestConformance(t *testing.T) {
	storagetest.RunTests(t, newStore)
}

func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// Port 1 on loopback: nothing listens, the connection is refused at once.
	_, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:1/signet?sslmode=disable&connect_timeout=5")
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Open of an unreachable server: got %v, want ErrUnavailable", err)
	}
}

func TestPing(t *testing.T) {
	s := newStore(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	_ = s.Close()
	if err := s.Ping(t.Context()); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Ping after Close: got %v, want ErrUnavailable", err)
	}
}

// openDB opens a plain pool on url, closed when the test ends.
func openDB(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

var tables = []string{
	"clients", "users", "roles", "user_roles", "oauth2_requests", "login_challenges", "sessions",
	"consents", "signing_keys", "login_attempts", "action_tokens", "audit_events",
}

// schemaState reports the applied migration versions and which tables
// exist.
func schemaState(t *testing.T, db *sql.DB) (versions []int64, present []string) {
	t.Helper()
	ctx := t.Context()
	rows, err := db.QueryContext(ctx, `SELECT version_id FROM goose_db_version WHERE is_applied ORDER BY id`)
	if err != nil {
		t.Fatalf("read goose_db_version: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		var exists bool
		if err := db.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if exists {
			present = append(present, table)
		}
	}
	return versions, present
}

func TestMigrate(t *testing.T) {
	db := openDB(t, pgtest.NewDatabase(t))
	ctx := t.Context()

	if err := postgres.Migrate(ctx, db); err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	versions, present := schemaState(t, db)
	if len(present) != len(tables) {
		t.Fatalf("tables after migrating: %v, want %v", present, tables)
	}
	if want := wantVersions(t); !slices.Equal(versions, want) {
		t.Fatalf("applied versions %v, want %v", versions, want)
	}
	var roles int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM roles WHERE name IN ('admin', 'user')`).Scan(&roles); err != nil {
		t.Fatal(err)
	}
	if roles != 2 {
		t.Fatalf("built-in roles: %d, want 2", roles)
	}

	// Running again changes nothing.
	if err := postgres.Migrate(ctx, db); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	again, _ := schemaState(t, db)
	if len(again) != len(versions) {
		t.Fatalf("versions after second Migrate %v, want %v unchanged", again, versions)
	}

	// The Down sections undo everything, and Up works again after them.
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.DownTo(ctx, 0); err != nil {
		t.Fatalf("migrate down: %v", err)
	}
	if _, present := schemaState(t, db); len(present) != 0 {
		t.Fatalf("tables left after migrating down: %v", present)
	}
	if err := postgres.Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate after down: %v", err)
	}
	if _, present := schemaState(t, db); len(present) != len(tables) {
		t.Fatalf("tables after migrating up again: %v", present)
	}
}

func TestMigrateConcurrently(t *testing.T) {
	url := pgtest.NewDatabase(t)
	// Separate pools, as two replicas would have.
	dbs := []*sql.DB{openDB(t, url), openDB(t, url), openDB(t, url)}
	errs := make(chan error, len(dbs))
	start := make(chan struct{})
	for _, db := range dbs {
		go func() {
			<-start
			errs <- postgres.Migrate(t.Context(), db)
		}()
	}
	close(start)
	for range dbs {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
	versions, present := schemaState(t, dbs[0])
	if len(present) != len(tables) {
		t.Fatalf("tables after migrating: %v, want %v", present, tables)
	}
	if want := wantVersions(t); !slices.Equal(versions, want) {
		t.Fatalf("applied versions %v, want %v: each migration exactly once", versions, want)
	}
}

// wantVersions is goose's version 0 followed by the version of every
// embedded migration, in order.
func wantVersions(t *testing.T) []int64 {
	t.Helper()
	names, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{0}
	for _, name := range names {
		v, err := strconv.ParseInt(strings.SplitN(name, "_", 2)[0], 10, 64)
		if err != nil {
			t.Fatalf("migration %s: %v", name, err)
		}
		want = append(want, v)
	}
	return want
}
