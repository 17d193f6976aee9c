package jwksfetch_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-idp/signet/internal/jwksfetch"
	"github.com/signet-idp/signet/internal/outbound"
)

// keyServer publishes a key set and counts the requests.
type keyServer struct {
	*httptest.Server
	hits atomic.Int32
	mu   sync.Mutex
	body []byte
	fail bool
}

func newKeyServer(t *testing.T, kids ...string) *keyServer {
	ks := &keyServer{}
	ks.publish(t, kids...)
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.hits.Add(1)
		ks.mu.Lock()
		defer ks.mu.Unlock()
		if ks.fail {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(ks.body)
	}))
	t.Cleanup(ks.Close)
	return ks
}

func (ks *keyServer) publish(t *testing.T, kids ...string) {
	var set jose.JSONWebKeySet
	for _, kid := range kids {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: "EdDSA", Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	ks.mu.Lock()
	ks.body, ks.fail = b, false
	ks.mu.Unlock()
}

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func loopback() *outbound.Client {
	return outbound.New(outbound.Options{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, Timeout: 2 * time.Second})
}

func kids(set *jose.JSONWebKeySet) []string {
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

func TestFetcherCachesAndRefetches(t *testing.T) {
	ks := newKeyServer(t, "k1")
	ck := &clock{now: time.Now()}
	f := jwksfetch.New(loopback(), jwksfetch.Options{TTL: time.Minute, MinRefetch: 10 * time.Second, Now: ck.Now})
	ctx := context.Background()

	for range 3 {
		set, err := f.Keys(ctx, ks.URL, false)
		if err != nil || len(set.Keys) != 1 || set.Keys[0].KeyID != "k1" {
			t.Fatalf("keys %v, %v", set, err)
		}
	}
	if ks.hits.Load() != 1 {
		t.Fatalf("%d fetches, want 1 (cached)", ks.hits.Load())
	}
	// The client rotates: a forced refetch right away is held back (at
	// most one per MinRefetch), one after it is made.
	ks.publish(t, "k2")
	if set, _ := f.Keys(ctx, ks.URL, true); kids(set)[0] != "k1" || ks.hits.Load() != 1 {
		t.Fatalf("forced refetch within MinRefetch: %v, %d fetches", kids(set), ks.hits.Load())
	}
	ck.now = ck.now.Add(11 * time.Second)
	if set, err := f.Keys(ctx, ks.URL, true); err != nil || kids(set)[0] != "k2" || ks.hits.Load() != 2 {
		t.Fatalf("forced refetch: %v %v, %d fetches", kids(set), err, ks.hits.Load())
	}
	// The server fails: the keys fetched before stay in use.
	ks.mu.Lock()
	ks.fail = true
	ks.mu.Unlock()
	ck.now = ck.now.Add(2 * time.Minute)
	if set, err := f.Keys(ctx, ks.URL, false); err != nil || kids(set)[0] != "k2" {
		t.Fatalf("while the server fails: %v, %v", set, err)
	}
}

func TestFetcherRefusesWhatThePolicyRefuses(t *testing.T) {
	ks := newKeyServer(t, "k1")
	f := jwksfetch.New(outbound.New(outbound.Options{Timeout: 2 * time.Second}), jwksfetch.Options{})
	if _, err := f.Keys(context.Background(), ks.URL, false); !errors.Is(err, outbound.ErrRefused) {
		t.Fatalf("loopback jwks_uri without an allowlist: %v, want outbound.ErrRefused", err)
	}
	if ks.hits.Load() != 0 {
		t.Fatal("the refused target was reached")
	}
}

func TestFetcherRefusesPrivateKeysAndJunk(t *testing.T) {
	for name, body := range map[string]string{
		"not JSON":    "<html>",
		"no keys":     `{"keys":[]}`,
		"private key": `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(body)) }))
		f := jwksfetch.New(loopback(), jwksfetch.Options{})
		if _, err := f.Keys(context.Background(), srv.URL, false); err == nil {
			t.Errorf("%s: accepted", name)
		}
		srv.Close()
	}
}
