package keys

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	testPeriod   = 30 * 24 * time.Hour
	testWindow   = time.Hour
	testRefresh  = 15 * time.Second
	testLifetime = time.Hour
)

func testOptions(ck *fakeClock, algs ...string) Options {
	return Options{
		Secret:           secret1,
		Algorithms:       algs,
		RotationPeriod:   testPeriod,
		PrepublishWindow: testWindow,
		RefreshInterval:  testRefresh,
		MaxTokenLifetime: func(context.Context) (time.Duration, error) { return testLifetime, nil },
		Now:              ck.Now,
	}
}

func mustOpen(t *testing.T, s Store, o Options) *Manager {
	t.Helper()
	m, err := Open(t.Context(), s, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return m
}

func mustStep(t *testing.T, m *Manager) {
	t.Helper()
	if err := m.Step(t.Context()); err != nil {
		t.Fatalf("Step: %v", err)
	}
}

func currentID(t *testing.T, m *Manager, alg string) string {
	t.Helper()
	k, err := m.Current(t.Context(), alg)
	if err != nil {
		t.Fatalf("Current(%s): %v", alg, err)
	}
	return k.ID
}

func published(t *testing.T, m *Manager) []string {
	t.Helper()
	pub, err := m.PublicKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range pub {
		if !k.IsPublic() || k.Use != "sig" || k.Algorithm == "" || k.KeyID == "" {
			t.Fatalf("published key %+v lacks kid, alg or use, or is not public", k)
		}
		ids = append(ids, k.KeyID)
	}
	return ids
}

func stored(t *testing.T, s Store) map[string]storage.SigningKey {
	t.Helper()
	all, err := s.ListKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]storage.SigningKey{}
	for _, k := range all {
		out[k.ID] = k
	}
	return out
}

// settled checks the step has nothing left to do on the stored keys.
func settled(t *testing.T, m *Manager, s Store) {
	t.Helper()
	all, err := s.ListKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	m.stepMu.Lock()
	es := m.classify(all, false)
	m.stepMu.Unlock()
	if acts := plan(es, m.params(time.Hour)); len(acts) != 0 {
		t.Fatalf("the step left work undone: %+v", acts)
	}
}

// One key goes next → current → retired → deleted on the schedule, and
// every step in between is idempotent.
func TestScheduledRotationLifecycle(t *testing.T) {
	ck := newFakeClock()
	s := memory.New()
	m := mustOpen(t, s, testOptions(ck))
	k1 := currentID(t, m, AlgRS256)
	start := ck.Now()
	lead := testWindow + testRefresh

	// Just before the next key is due: nothing happens.
	ck.Advance(testPeriod - lead - time.Second)
	mustStep(t, m)
	if got := stored(t, s); len(got) != 1 {
		t.Fatalf("%d keys before the schedule, want 1", len(got))
	}

	// Due: a next key is published, activating exactly one period after
	// the first; the first still signs.
	ck.Advance(time.Second)
	mustStep(t, m)
	mustStep(t, m) // idempotent
	keys := stored(t, s)
	if len(keys) != 2 {
		t.Fatalf("%d keys after the schedule, want 2", len(keys))
	}
	var k2 string
	for id, k := range keys {
		if id != k1 {
			k2 = id
			if k.State != storage.KeyNext || !k.ActivateAt.Equal(start.Add(testPeriod)) {
				t.Fatalf("new key %s: state %s activate %v, want next at %v", id, k.State, k.ActivateAt, start.Add(testPeriod))
			}
		}
	}
	if currentID(t, m, AlgRS256) != k1 || !slices.Contains(published(t, m), k2) {
		t.Fatal("the next key must be published while the old one still signs")
	}
	settled(t, m, s)

	// Activation: the next key signs, the old one retires but stays
	// published until every token it signed has expired.
	ck.Advance(lead)
	mustStep(t, m)
	mustStep(t, m)
	if currentID(t, m, AlgRS256) != k2 {
		t.Fatal("the next key did not take over")
	}
	keys = stored(t, s)
	old := keys[k1]
	wantDelete := ck.Now().Add(testLifetime + testRefresh + RetirementMargin)
	if old.State != storage.KeyRetired || !old.DeleteAfter.Equal(wantDelete) {
		t.Fatalf("old key: %s, delete after %v; want retired until %v", old.State, old.DeleteAfter, wantDelete)
	}
	if !slices.Contains(published(t, m), k1) {
		t.Fatal("a retired key left the JWKS before its tokens expired")
	}
	settled(t, m, s)

	// Just before DeleteAfter it stays; at DeleteAfter it goes.
	ck.Advance(old.DeleteAfter.Sub(ck.Now()) - time.Second)
	mustStep(t, m)
	if !slices.Contains(published(t, m), k1) {
		t.Fatal("retired key deleted early")
	}
	ck.Advance(time.Second)
	mustStep(t, m)
	if slices.Contains(published(t, m), k1) || len(stored(t, s)) != 1 {
		t.Fatal("retired key not deleted after every token it signed expired")
	}
	settled(t, m, s)
}

// Rotate publishes a next key now that activates after the window plus a
// refresh interval; asking again while it is pending changes nothing.
func TestRotateNow(t *testing.T) {
	ck := newFakeClock()
	s := memory.New()
	m := mustOpen(t, s, testOptions(ck, AlgES256))
	first := currentID(t, m, AlgRS256)
	ctx := t.Context()
	got, err := m.Rotate(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("Rotate made %d next keys, want one per configured algorithm (2)", len(got))
	}
	for _, k := range got {
		if k.State != storage.KeyNext || !k.ActivateAt.Equal(ck.Now().Add(testWindow+testRefresh)) {
			t.Fatalf("rotated key %+v: want next, activating after window + refresh", k)
		}
		if !slices.Contains(published(t, m), k.ID) {
			t.Fatal("the replica that rotated does not publish the next key at once")
		}
	}
	again, err := m.Rotate(ctx, AlgRS256)
	if err != nil || len(again) != 1 || !slices.ContainsFunc(got, func(i Info) bool { return i.ID == again[0].ID }) {
		t.Fatalf("second Rotate: %+v, %v; want the pending next key", again, err)
	}
	if _, err := m.Rotate(ctx, AlgEdDSA); !errors.Is(err, ErrAlgorithm) {
		t.Fatalf("Rotate of an unconfigured algorithm: %v", err)
	}
	ck.Advance(testWindow)
	mustStep(t, m)
	if currentID(t, m, AlgRS256) != first {
		t.Fatal("the next key signed before the window had passed")
	}
	ck.Advance(testRefresh)
	mustStep(t, m)
	if currentID(t, m, AlgRS256) == first {
		t.Fatal("the next key did not take over after the window")
	}
	list, err := m.List(ctx)
	if err != nil || len(list) != 4 {
		t.Fatalf("List: %d keys, %v", len(list), err)
	}
}

// Each algorithm has its own key and lifecycle, with the right key type.
func TestAlgorithmsHaveTheirOwnKeys(t *testing.T) {
	ck := newFakeClock()
	s := memory.New()
	m := mustOpen(t, s, testOptions(ck, AlgEdDSA, AlgES256))
	if got := m.Algorithms(t.Context()); !slices.Equal(got, []string{AlgRS256, AlgES256, AlgEdDSA}) {
		t.Fatalf("Algorithms = %v", got)
	}
	for alg, check := range map[string]func(any) bool{
		AlgRS256: func(k any) bool { _, ok := k.(*rsa.PrivateKey); return ok },
		AlgES256: func(k any) bool { _, ok := k.(*ecdsa.PrivateKey); return ok },
		AlgEdDSA: func(k any) bool { _, ok := k.(ed25519.PrivateKey); return ok },
	} {
		k, err := m.Current(t.Context(), alg)
		if err != nil || k.Algorithm != alg || !check(k.Private) {
			t.Fatalf("Current(%s) = %s %T, %v", alg, k.Algorithm, k.Private, err)
		}
	}
	if _, err := m.Rotate(t.Context(), AlgES256); err != nil {
		t.Fatal(err)
	}
	ck.Advance(testWindow + testRefresh)
	mustStep(t, m)
	byState := map[storage.KeyState][]string{}
	for _, k := range stored(t, s) {
		byState[k.State] = append(byState[k.State], k.Algorithm)
	}
	slices.Sort(byState[storage.KeyCurrent])
	if !slices.Equal(byState[storage.KeyCurrent], []string{AlgES256, AlgEdDSA, AlgRS256}) ||
		!slices.Equal(byState[storage.KeyRetired], []string{AlgES256}) {
		t.Fatalf("states after rotating ES256 only: %v", byState)
	}

	// A replica configured with RS256 only signs with what is current
	// but does not rotate the others: ES256 retires at its rotation time.
	m2 := mustOpen(t, s, testOptions(ck))
	if got := m2.Algorithms(t.Context()); len(got) != 3 {
		t.Fatalf("replica without ES256/EdDSA configured sees %v current", got)
	}
	ck.Advance(testPeriod)
	mustStep(t, m2)
	mustStep(t, m2)
	if got := m2.Algorithms(t.Context()); !slices.Equal(got, []string{AlgRS256}) {
		t.Fatalf("after a period, unconfigured algorithms still current: %v", got)
	}
}

// Secret rotation: keys under the old secret are re-encrypted under the
// new one at start, so the old one can then be dropped.
func TestSecretRotationReencrypts(t *testing.T) {
	ck := newFakeClock()
	s := memory.New()
	o := testOptions(ck, AlgES256)
	m1 := mustOpen(t, s, o)
	if _, err := m1.Rotate(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	before := stored(t, s)

	o.Secret, o.OldSecrets = secret2, [][]byte{secret1}
	m2 := mustOpen(t, s, o)
	for id, k := range stored(t, s) {
		if _, err := openPrivate(k.PrivateKey, id, secret2); err != nil {
			t.Fatalf("key %s not re-encrypted under the new secret: %v", id, err)
		}
		if _, err := openPrivate(k.PrivateKey, id, secret1); err == nil {
			t.Fatalf("key %s still opens with the old secret", id)
		}
		if bytes.Equal(k.PrivateKey, before[id].PrivateKey) {
			t.Fatalf("key %s unchanged", id)
		}
	}
	if currentID(t, m2, AlgRS256) != currentID(t, m1, AlgRS256) {
		t.Fatal("the secret rotation changed the signing key")
	}

	// The replica still on the old secret keeps signing with the keys it
	// holds (they did not change, only their encryption).
	mustStep(t, m1)
	if currentID(t, m1, AlgES256) != currentID(t, m2, AlgES256) {
		t.Fatal("old-secret replica lost its key after another re-encrypted it")
	}

	o.OldSecrets = nil
	m3 := mustOpen(t, s, o)
	if currentID(t, m3, AlgRS256) != currentID(t, m1, AlgRS256) || len(stored(t, s)) != len(before) {
		t.Fatal("new secret alone: other keys")
	}
}

// A wrong secret against existing keys: refused, nothing written.
func TestWrongSecretWritesNothing(t *testing.T) {
	ck := newFakeClock()
	s := memory.New()
	o := testOptions(ck, AlgES256, AlgEdDSA)
	mustOpen(t, s, o)
	before := stored(t, s)
	o.Secret = secret2
	ck.Advance(2 * testPeriod) // everything would be due
	_, err := Open(t.Context(), s, o)
	if !errors.Is(err, ErrNoUsableKey) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Open with a wrong secret: %v; want ErrNoUsableKey on one line", err)
	}
	after := stored(t, s)
	if len(after) != len(before) {
		t.Fatalf("keys %d → %d with a wrong secret", len(before), len(after))
	}
	for id, k := range before {
		if !bytes.Equal(after[id].PrivateKey, k.PrivateKey) || after[id].State != k.State {
			t.Fatalf("key %s changed under a wrong secret", id)
		}
	}
}

// logBuffer is a concurrency-safe log destination.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func corrupt(t *testing.T, s Store, id string, edit func(*storage.SigningKey)) {
	t.Helper()
	k, err := s.GetKey(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	edit(&k)
	// UpdateKey does not replace the public key: write the row anew.
	if err := s.DeleteKey(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateKey(t.Context(), k); err != nil {
		t.Fatal(err)
	}
}

// A corrupted current key is skipped with an error log; its pending next
// key takes over at once.
func TestCorruptedCurrentKeyPromotesNext(t *testing.T) {
	ck := newFakeClock()
	s := memory.New()
	o := testOptions(ck, AlgES256)
	m := mustOpen(t, s, o)
	k1 := currentID(t, m, AlgRS256)
	es1 := currentID(t, m, AlgES256)
	next, err := m.Rotate(t.Context(), AlgRS256)
	if err != nil {
		t.Fatal(err)
	}
	corrupt(t, s, k1, func(k *storage.SigningKey) { k.PrivateKey[len(k.PrivateKey)-1] ^= 0xff })

	var logs logBuffer
	o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	m2 := mustOpen(t, s, o)
	if got := currentID(t, m2, AlgRS256); got != next[0].ID {
		t.Fatalf("signing with %s, want the next key %s promoted", got, next[0].ID)
	}
	if currentID(t, m2, AlgES256) != es1 {
		t.Fatal("the ES256 key changed")
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), k1) {
		t.Fatalf("no error log naming the corrupted key:\n%s", logs.String())
	}
	if k := stored(t, s)[k1]; k.State != storage.KeyRetired {
		t.Fatalf("corrupted key state %s, want retired (its tokens still verify)", k.State)
	}
	if !slices.Contains(published(t, m2), k1) {
		t.Fatal("the corrupted key's public half must stay published for the tokens it signed")
	}
}

// A corrupted current key without a next key: a new one is made.
func TestCorruptedCurrentKeyIsReplaced(t *testing.T) {
	ck := newFakeClock()
	s := memory.New()
	o := testOptions(ck, AlgEdDSA)
	m := mustOpen(t, s, o)
	k1 := currentID(t, m, AlgRS256)
	ed := currentID(t, m, AlgEdDSA)
	corrupt(t, s, k1, func(k *storage.SigningKey) { k.PrivateKey = []byte("garbage") })
	corrupt(t, s, ed, func(k *storage.SigningKey) { k.PublicKey = []byte(`{"kty":`) })

	var logs logBuffer
	o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	m2 := mustOpen(t, s, o)
	if got := currentID(t, m2, AlgRS256); got == k1 {
		t.Fatal("still signing with the corrupted key")
	}
	if got := currentID(t, m2, AlgEdDSA); got == ed {
		t.Fatal("still signing with the EdDSA key whose public half is unreadable")
	}
	if slices.Contains(published(t, m2), ed) {
		t.Fatal("an unreadable public key is published")
	}
	if n := strings.Count(logs.String(), "level=ERROR"); n != 2 {
		t.Fatalf("%d error lines, want one per corrupted key:\n%s", n, logs.String())
	}
	// Logged once, not on every refresh.
	mustStep(t, m2)
	mustStep(t, m2)
	if n := strings.Count(logs.String(), "level=ERROR"); n != 2 {
		t.Fatalf("problems logged again on refresh:\n%s", logs.String())
	}
	settled(t, m2, s)
}

// A private key that stops decrypting on a running replica (another one
// re-encrypted it under a secret this one does not know) is not treated as
// corrupted: nothing is replaced.
func TestRunningReplicaDoesNotReplaceUndecryptableKeys(t *testing.T) {
	ck := newFakeClock()
	s := memory.New()
	o := testOptions(ck)
	m := mustOpen(t, s, o)
	k1 := currentID(t, m, AlgRS256)
	// A key the running replica never saw, under a secret it lacks.
	o2 := o
	o2.Secret, o2.OldSecrets = secret2, [][]byte{secret1}
	m2 := mustOpen(t, s, o2)
	if _, err := m2.Rotate(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	mustStep(t, m)
	if currentID(t, m, AlgRS256) != k1 || len(stored(t, s)) != 2 {
		t.Fatal("running replica replaced keys it could not decrypt")
	}
	for _, k := range stored(t, s) {
		if k.State == storage.KeyNext && !slices.Contains(published(t, m), k.ID) {
			t.Fatal("the next key must be published even by a replica that cannot decrypt it")
		}
	}
}

// Replicas that step concurrently over a long time agree: one current key
// per algorithm, and whatever a replica signs with, every replica
// publishes.
func TestReplicasAgree(t *testing.T) {
	runReplicasAgree(t, memory.New())
}

func runReplicasAgree(t *testing.T, s Store) {
	ck := newFakeClock()
	o := testOptions(ck, AlgES256)
	o.RotationPeriod = 3 * time.Hour
	ms := []*Manager{mustOpen(t, s, o), mustOpen(t, s, o), mustOpen(t, s, o)}
	for range 40 {
		ck.Advance(20 * time.Minute)
		var wg sync.WaitGroup
		errs := make([]error, len(ms))
		for i, m := range ms {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = m.Step(context.Background()) }()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		current := map[string]int{}
		for _, k := range stored(t, s) {
			if k.State == storage.KeyCurrent {
				current[k.Algorithm]++
			}
		}
		if current[AlgRS256] != 1 || current[AlgES256] != 1 {
			t.Fatalf("current keys per algorithm: %v", current)
		}
		for _, signer := range ms {
			for _, alg := range []string{AlgRS256, AlgES256} {
				kid := currentID(t, signer, alg)
				for _, other := range ms {
					if !slices.Contains(published(t, other), kid) {
						t.Fatalf("a replica signs with %s, which another does not publish", kid)
					}
				}
			}
		}
	}
	// 40 × 20 min over a 3 h period: several rotations happened, and
	// retired keys went.
	if n := len(stored(t, s)); n > 8 {
		t.Fatalf("%d keys kept; retired keys are not deleted", n)
	}
}

// The published JWKs carry kid, alg and use, and only public material.
func TestPublishedKeysArePublic(t *testing.T) {
	ck := newFakeClock()
	m := mustOpen(t, memory.New(), testOptions(ck, AlgES256, AlgEdDSA))
	pub, _ := m.PublicKeys(t.Context())
	if len(pub) != 3 {
		t.Fatalf("%d keys published", len(pub))
	}
	for _, k := range pub {
		b, err := k.MarshalJSON()
		if err != nil || bytes.Contains(b, []byte(`"d"`)) {
			t.Fatalf("public JWK %s, %v", b, err)
		}
	}
	set := jose.JSONWebKeySet{Keys: pub}
	if len(set.Key(pub[2].KeyID)) != 1 {
		t.Fatal("kids are not unique")
	}
}
