package cached

import (
	"context"
	"sync"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// Store is a storage.Store whose client reads are cached.
type Store struct {
	storage.Store
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	clients map[string]clientEntry
	// gen counts writes: a read that began before a write must not cache
	// what it read.
	gen uint64
}

type clientEntry struct {
	c       storage.Client
	expires time.Time
}

// Options tune New.
type Options struct {
	// TTL bounds how long another replica's change to a client may go
	// unseen here. 0 disables the cache.
	TTL time.Duration
	// MaxEntries bounds memory (default 10,000); when full, the cache
	// starts over.
	MaxEntries int
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// New wraps s. With a zero TTL it returns s itself.
func New(s storage.Store, o Options) storage.Store {
	if o.TTL <= 0 {
		return s
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = 10000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Store{Store: s, ttl: o.TTL, max: o.MaxEntries, now: o.Now, clients: map[string]clientEntry{}}
}

// txKey marks a context inside a transaction of this store: reads there
// may see the transaction's own uncommitted writes, which must never reach
// the cache (a rollback would leave them there), so they bypass it.
type txKey struct{}

// InTx implements storage.Transactor.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.Store.InTx(ctx, func(ctx context.Context) error {
		return fn(context.WithValue(ctx, txKey{}, true))
	})
}

// BeginTx implements storage.Transactor.
func (s *Store) BeginTx(ctx context.Context) (context.Context, error) {
	ctx, err := s.Store.BeginTx(ctx)
	if err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, txKey{}, true), nil
}

// GetClient answers from the cache while the entry is fresh.
func (s *Store) GetClient(ctx context.Context, id string) (storage.Client, error) {
	if ctx.Value(txKey{}) != nil {
		return s.Store.GetClient(ctx, id)
	}
	now := s.now()
	s.mu.Lock()
	e, ok := s.clients[id]
	gen := s.gen
	s.mu.Unlock()
	if ok && now.Before(e.expires) {
		return copyClient(e.c), nil
	}
	c, err := s.Store.GetClient(ctx, id)
	if err != nil {
		return c, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		return c, nil
	}
	if len(s.clients) >= s.max {
		clear(s.clients)
	}
	s.clients[id] = clientEntry{c: copyClient(c), expires: now.Add(s.ttl)}
	return c, nil
}

// UpdateClient writes through and forgets the cached copy.
func (s *Store) UpdateClient(ctx context.Context, c storage.Client) error {
	defer s.forget(c.ID)
	return s.Store.UpdateClient(ctx, c)
}

// DeleteClient writes through and forgets the cached copy.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	defer s.forget(id)
	return s.Store.DeleteClient(ctx, id)
}

// forget drops an entry once the write is done, and keeps reads that
// were under way from caching what they read before it. (A write inside a
// transaction is forgotten before its commit: a read in between caches
// the old row for at most the TTL, as for another replica's change.)
func (s *Store) forget(id string) {
	s.mu.Lock()
	delete(s.clients, id)
	s.gen++
	s.mu.Unlock()
}

// copyClient keeps callers from changing the cached slices.
func copyClient(c storage.Client) storage.Client {
	c.SecretHash = append([]byte(nil), c.SecretHash...)
	for _, p := range []*[]string{&c.RedirectURIs, &c.PostLogoutRedirectURIs, &c.GrantTypes, &c.ResponseTypes, &c.Scopes, &c.Audience} {
		if *p != nil {
			*p = append([]string(nil), (*p)...)
		}
	}
	return c
}
