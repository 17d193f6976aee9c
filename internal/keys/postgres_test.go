package keys

import (
	"context"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/pgtest"
	"github.com/signet-idp/signet/internal/storage/postgres"
)

// Replicas starting together on one database create one key between them
// (LockKeys is a transaction advisory lock there).
func TestConcurrentOpenCreatesOneKeyOnPostgres(t *testing.T) {
	u := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := postgres.Migrate(ctx, s.DB()); err != nil {
		t.Fatal(err)
	}
	runConcurrentOpen(t, s)
}

// Replicas stepping together on one database agree (LockKeys serialises
// their changes).
func TestReplicasAgreeOnPostgres(t *testing.T) {
	u := pgtest.NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := postgres.Migrate(ctx, s.DB()); err != nil {
		t.Fatal(err)
	}
	runReplicasAgree(t, s)
}
