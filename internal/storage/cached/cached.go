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
// the cache (a rollback would leave them there), so they bypass it. Its
// value, *txWrites, collects the clients the transaction writes.
type txKey struct{}

// txWrites are the ids of the clients a transaction wrote. Each is
// forgotten at the write and again once the transaction ends: a read
// from outside the transaction in between sees the row as it was and may
// have cached it, and this replica must see its own change at once (a
// rotated client secret must stop working at once).
type txWrites struct {
	mu  sync.Mutex
	ids []string
}

func (w *txWrites) add(id string) {
	w.mu.Lock()
	w.ids = append(w.ids, id)
	w.mu.Unlock()
}

// forgetWrites forgets what the transaction of ctx wrote.
func (s *Store) forgetWrites(ctx context.Context) {
	w, ok := ctx.Value(txKey{}).(*txWrites)
	if !ok {
		return
	}
	w.mu.Lock()
	ids := w.ids
	w.mu.Unlock()
	for _, id := range ids {
		s.forget(id)
	}
}

// InTx implements storage.Transactor.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*txWrites); ok {
		// Joined to an outer transaction, which forgets when it ends.
		return s.Store.InTx(ctx, fn)
	}
	w := &txWrites{}
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		return fn(context.WithValue(ctx, txKey{}, w))
	})
	s.forgetWrites(context.WithValue(ctx, txKey{}, w))
	return err
}

// BeginTx implements storage.Transactor.
func (s *Store) BeginTx(ctx context.Context) (context.Context, error) {
	w, ok := ctx.Value(txKey{}).(*txWrites)
	if !ok {
		w = &txWrites{}
	}
	ctx, err := s.Store.BeginTx(ctx)
	if err != nil {
		return ctx, err
	}
	return context.WithValue(ctx, txKey{}, w), nil
}

// Commit implements storage.Transactor.
func (s *Store) Commit(ctx context.Context) error {
	defer s.forgetWrites(ctx)
	return s.Store.Commit(ctx)
}

// Rollback implements storage.Transactor.
func (s *Store) Rollback(ctx context.Context) error {
	defer s.forgetWrites(ctx)
	return s.Store.Rollback(ctx)
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
	defer s.forgetLater(ctx, c.ID)
	return s.Store.UpdateClient(ctx, c)
}

// DeleteClient writes through and forgets the cached copy.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	defer s.forgetLater(ctx, id)
	return s.Store.DeleteClient(ctx, id)
}

// forgetLater forgets id now and, inside a transaction, again when it
// ends (see txWrites).
func (s *Store) forgetLater(ctx context.Context, id string) {
	if w, ok := ctx.Value(txKey{}).(*txWrites); ok {
		w.add(id)
	}
	s.forget(id)
}

// forget drops an entry once the write is done, and keeps reads that
// were under way from caching what they read before it.
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
