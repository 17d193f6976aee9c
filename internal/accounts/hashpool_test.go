package accounts_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/storage/memory"
)

// gate blocks password hashes until opened, and counts them.
type gate struct {
	started atomic.Int32
	running chan struct{} // receives once per hash as it starts
	open    chan struct{}
}

func newGate() *gate { return &gate{running: make(chan struct{}, 100), open: make(chan struct{})} }

func (g *gate) hook() {
	g.started.Add(1)
	g.running <- struct{}{}
	<-g.open
}

func gatedService(t *testing.T, g *gate, limits accounts.HashLimits) *accounts.Service {
	t.Helper()
	h := accounts.PasswordHasher{Memory: 64, Time: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	svc := accounts.NewService(memory.New(), accounts.Options{Hasher: &h, HashLimits: limits, OnPasswordHash: g.hook})
	close(g.open) // creating alice hashes once
	if _, err := svc.CreateUser(t.Context(), alice()); err != nil {
		t.Fatal(err)
	}
	<-g.running
	g.open = make(chan struct{})
	g.started.Store(0)
	return svc
}

// TestHashingIsBounded: with one hash running and the queue (of one)
// taken, logins are refused with ErrBusy at once, known name or not,
// without hashing; an administrator's call waits for its turn.
func TestHashingIsBounded(t *testing.T) {
	g := newGate()
	svc := gatedService(t, g, accounts.HashLimits{Concurrency: 1, Queue: 1, MaxWait: time.Hour})
	ctx := t.Context()
	var wg sync.WaitGroup
	results := make(chan error, 10)
	wg.Go(func() { _, err := svc.Authenticate(ctx, "alice", "wrong password"); results <- err })
	<-g.running // the first holds the only slot
	// Of five more logins one waits in the queue, four are busy.
	for i := range 5 {
		login := []string{"alice", "nobody"}[i%2]
		wg.Go(func() { _, err := svc.Authenticate(ctx, login, "wrong password"); results <- err })
	}
	// An administrator's call waits outside the queue.
	wg.Go(func() { results <- svc.SetPassword(ctx, "alice", "a new long password") })
	busy := 0
	for busy < 4 {
		if err := <-results; !errors.Is(err, accounts.ErrBusy) {
			t.Fatalf("login while busy: %v, want ErrBusy", err)
		}
		busy++
	}
	close(g.open)
	wg.Wait()
	close(results)
	var invalid, ok int
	for err := range results {
		switch {
		case errors.Is(err, accounts.ErrInvalidCredentials):
			invalid++
		case err == nil:
			ok++
		default:
			t.Errorf("unexpected %v", err)
		}
	}
	if invalid != 2 || ok != 1 || g.started.Load() != 3 {
		t.Errorf("%d refusals, %d password set, %d hashes; want 2, 1, 3", invalid, ok, g.started.Load())
	}
}

func TestHashingGivesUpAfterMaxWait(t *testing.T) {
	g := newGate()
	svc := gatedService(t, g, accounts.HashLimits{Concurrency: 1, MaxWait: time.Millisecond})
	ctx := t.Context()
	done := make(chan error, 1)
	go func() { _, err := svc.Authenticate(ctx, "alice", "wrong password"); done <- err }()
	<-g.running
	if _, err := svc.Authenticate(ctx, "alice", "wrong password"); !errors.Is(err, accounts.ErrBusy) {
		t.Errorf("login waiting past MaxWait: %v, want ErrBusy", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := svc.Authenticate(cctx, "alice", "wrong password"); !errors.Is(err, context.Canceled) && !errors.Is(err, accounts.ErrBusy) {
		t.Errorf("cancelled login: %v", err)
	}
	close(g.open)
	if err := <-done; !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Errorf("first login: %v", err)
	}
	if n := g.started.Load(); n != 1 {
		t.Errorf("%d hashes, want 1 (refused logins hash nothing)", n)
	}
}

// TestEveryLoginCostsOneHash: a known and an unknown login each cost one
// verification, the unknown one through the pool like the other.
func TestEveryLoginCostsOneHash(t *testing.T) {
	g := newGate()
	svc := gatedService(t, g, accounts.HashLimits{})
	close(g.open)
	for _, login := range []string{"alice", "nobody", "alice@example.com", ""} {
		before := g.started.Load()
		if _, err := svc.Authenticate(t.Context(), login, "wrong password"); !errors.Is(err, accounts.ErrInvalidCredentials) {
			t.Fatalf("%q: %v", login, err)
		}
		<-g.running
		if n := g.started.Load() - before; n != 1 {
			t.Errorf("login %q: %d hashes, want 1", login, n)
		}
	}
}
