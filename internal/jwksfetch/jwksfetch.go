package jwksfetch

import (
	"context"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-idp/signet/internal/clients"
)

// Getter fetches a URL's body up to maxBytes (internal/outbound's Client:
// the SSRF policy, its timeout, no redirects).
type Getter interface {
	Get(ctx context.Context, url string, maxBytes int64) ([]byte, error)
}

// Defaults of Options.
const (
	DefaultTTL          = 5 * time.Minute
	DefaultMinRefetch   = 10 * time.Second
	DefaultMaxEntries   = 10000
	maxJWKSBytes        = 64 << 10
	failedEntryLifetime = DefaultMinRefetch
)

// Options tunes New.
type Options struct {
	// TTL is how long fetched keys are used before they are fetched again.
	TTL time.Duration
	// MinRefetch bounds forced refetches (a kid not found: the client
	// rotated its keys) to one per URL in this long, so assertions naming
	// unknown keys cannot make Signet hammer a client's server.
	MinRefetch time.Duration
	// MaxEntries bounds the cache; when full, it starts over.
	MaxEntries int
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Fetcher is the cache. Safe for concurrent use.
type Fetcher struct {
	get Getter
	o   Options

	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	// once guards the fetch in flight: concurrent callers wait for it.
	done    chan struct{}
	keys    *jose.JSONWebKeySet
	err     error
	fetched time.Time
}

// New returns a Fetcher that fetches with get.
func New(get Getter, o Options) *Fetcher {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.MinRefetch <= 0 {
		o.MinRefetch = DefaultMinRefetch
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Fetcher{get: get, o: o, entries: map[string]*entry{}}
}

// Keys returns the key set published at url: cached while younger than
// the TTL (a failure is remembered briefly, so a dead jwks_uri is not
// asked on every request), fetched otherwise. force asks for a fresh copy
// (the cached one lacks the key an assertion names), honoured at most once
// per MinRefetch. When a refetch fails, the keys fetched before stay in
// use.
func (f *Fetcher) Keys(ctx context.Context, url string, force bool) (*jose.JSONWebKeySet, error) {
	now := f.o.Now()
	f.mu.Lock()
	e := f.entries[url]
	if e != nil {
		select {
		case <-e.done:
			age := now.Sub(e.fetched)
			fresh := (e.err == nil && age < f.o.TTL) || (e.err != nil && age < failedEntryLifetime)
			if fresh && (!force || age < f.o.MinRefetch) {
				f.mu.Unlock()
				return e.keys, e.err
			}
		default:
			// A fetch is in flight: wait for it.
			f.mu.Unlock()
			return wait(ctx, e)
		}
	}
	if len(f.entries) >= f.o.MaxEntries {
		f.entries = map[string]*entry{}
	}
	next := &entry{done: make(chan struct{})}
	f.entries[url] = next
	f.mu.Unlock()

	keys, err := f.fetch(ctx, url)
	next.fetched = f.o.Now()
	if err != nil && e != nil && e.keys != nil {
		// Keep serving the keys we had, and try again MinRefetch later
		// (the entry is dated so that it stays fresh that long).
		keys, err = e.keys, nil
		next.fetched = now.Add(-f.o.TTL + f.o.MinRefetch)
	}
	next.keys, next.err = keys, err
	close(next.done)
	return keys, err
}

func wait(ctx context.Context, e *entry) (*jose.JSONWebKeySet, error) {
	select {
	case <-e.done:
		return e.keys, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fetch gets and checks the key set: the same rules as a jwks registered
// inline (public signing keys of supported types only).
func (f *Fetcher) fetch(ctx context.Context, url string) (*jose.JSONWebKeySet, error) {
	// The fetch serves every waiting caller: it must not end with the
	// first one's request (the outbound client bounds it).
	body, err := f.get.Get(context.WithoutCancel(ctx), url, maxJWKSBytes)
	if err != nil {
		return nil, fmt.Errorf("fetch jwks_uri: %w", err)
	}
	set, err := clients.ParseJWKSBytes(body)
	if err != nil {
		return nil, fmt.Errorf("jwks_uri %s: %w", url, err)
	}
	return set, nil
}
