package cached_test

import (
	"context"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/pgtest"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/cached"
	"github.com/signet-idp/signet/internal/storage/memory"
	"github.com/signet-idp/signet/internal/storage/storagetest"
)

// The cached store keeps the storage contract on both backends.
func TestConformance(t *testing.T) {
	opts := cached.Options{TTL: time.Minute}
	t.Run("memory", func(t *testing.T) {
		storagetest.RunTests(t, func(t *testing.T) storage.Store { return cached.New(memory.New(), opts) })
	})
	t.Run("postgres", func(t *testing.T) {
		storagetest.RunTests(t, func(t *testing.T) storage.Store { return cached.New(pgtest.NewStore(t), opts) })
	})
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestClientCache(t *testing.T) {
	ctx := context.Background()
	ck := &clock{t: time.Now()}
	// Two views of one database: this replica (cached) and another one
	// (the raw store, whose writes this cache does not see).
	raw := memory.New()
	s := cached.New(raw, cached.Options{TTL: 5 * time.Second, MaxEntries: 2, Now: ck.now})
	c := storage.Client{ID: "app", Name: "App", RedirectURIs: []string{"https://app.example/cb"}, TokenEndpointAuthMethod: storage.AuthMethodNone}
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	get := func(want string) {
		t.Helper()
		got, err := s.GetClient(ctx, "app")
		if want == "" {
			if err == nil {
				t.Fatalf("GetClient = %+v, want not found", got)
			}
			return
		}
		if err != nil || got.Name != want {
			t.Fatalf("GetClient = %q, %v; want %q", got.Name, err, want)
		}
	}
	get("App")

	// Another replica renames it: unseen until the TTL passes.
	c.Name = "Renamed elsewhere"
	if err := raw.UpdateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	get("App")
	ck.t = ck.t.Add(5 * time.Second)
	get("Renamed elsewhere")

	// This replica's own writes are seen at once.
	c.Name = "Renamed here"
	if err := s.UpdateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	get("Renamed here")
	if err := s.DeleteClient(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	get("")

	// Callers cannot change the cached copy.
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetClient(ctx, "app")
	got.RedirectURIs[0] = "https://evil.example/cb"
	if again, _ := s.GetClient(ctx, "app"); again.RedirectURIs[0] != "https://app.example/cb" {
		t.Fatalf("the cached client was changed through a returned copy: %v", again.RedirectURIs)
	}

	// Unknown ids are never cached: a client created elsewhere is found
	// at once.
	if _, err := s.GetClient(ctx, "later"); err == nil {
		t.Fatal("unknown client found")
	}
	if err := raw.CreateClient(ctx, storage.Client{ID: "later", Name: "Later", TokenEndpointAuthMethod: storage.AuthMethodNone}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetClient(ctx, "later"); err != nil {
		t.Fatalf("a client created after a miss: %v", err)
	}

	// Zero TTL: no cache at all.
	if cached.New(raw, cached.Options{}) != storage.Store(raw) {
		t.Fatal("a zero TTL should return the store itself")
	}
}

// TestClientCacheWriteInTransaction: a read from outside a transaction,
// between a write to a client inside it and its commit, sees (and may
// cache) the old row; this replica must still see its own change at once
// after the commit (a rotated secret must stop working at once), through
// InTx as through BeginTx and Commit. PostgreSQL: there the outside read
// does not wait for the transaction.
func TestClientCacheWriteInTransaction(t *testing.T) {
	ctx := context.Background()
	s := cached.New(pgtest.NewStore(t), cached.Options{TTL: time.Hour})
	c := storage.Client{ID: "app", Name: "Before", SecretHash: []byte("old-hash"), TokenEndpointAuthMethod: storage.AuthMethodClientSecretBasic}
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	name := func() string {
		t.Helper()
		got, err := s.GetClient(ctx, "app")
		if err != nil {
			t.Fatal(err)
		}
		return got.Name
	}
	if got := name(); got != "Before" {
		t.Fatalf("name %q, want Before", got)
	}
	steps := map[string]func(write func(ctx context.Context) error) error{
		"InTx": func(write func(ctx context.Context) error) error { return s.InTx(ctx, write) },
		"BeginTx and Commit": func(write func(ctx context.Context) error) error {
			txCtx, err := s.BeginTx(ctx)
			if err != nil {
				return err
			}
			if err := write(txCtx); err != nil {
				_ = s.Rollback(txCtx)
				return err
			}
			return s.Commit(txCtx)
		},
	}
	for _, how := range []string{"InTx", "BeginTx and Commit"} {
		t.Run(how, func(t *testing.T) {
			want := "After " + how
			err := steps[how](func(txCtx context.Context) error {
				c.Name = want
				if err := s.UpdateClient(txCtx, c); err != nil {
					return err
				}
				if got := name(); got == want {
					t.Errorf("a read outside the transaction saw its uncommitted write")
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := name(); got != want {
				t.Errorf("after the commit this replica reads %q, want %q", got, want)
			}
		})
	}
}
