package keys

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"sync"
	"testing"

	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

var (
	secret1 = []byte("first-secret-0123456789-abcdefghijkl")
	secret2 = []byte("second-secret-0123456789-abcdefghijk")
)

func TestOpenCreatesOneKeyAndReusesIt(t *testing.T) {
	ctx := t.Context()
	s := memory.New()
	m1, err := Open(ctx, s, Options{Secret: secret1})
	if err != nil {
		t.Fatal(err)
	}
	k1, err := m1.Current(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if k1.ID == "" || k1.Algorithm != AlgRS256 {
		t.Fatalf("key = %+v", k1)
	}
	rsaKey, ok := k1.Private.(*rsa.PrivateKey)
	if !ok || rsaKey.N.BitLen() != 2048 {
		t.Fatalf("private key is %T, want a 2048-bit *rsa.PrivateKey", k1.Private)
	}

	m2, err := Open(ctx, s, Options{Secret: secret1})
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := m2.Current(ctx, "")
	if k2.ID != k1.ID || !rsaKey.Equal(k2.Private) {
		t.Fatalf("second start made another key: %s vs %s", k2.ID, k1.ID)
	}
	all, _ := s.ListKeys(ctx)
	if len(all) != 1 {
		t.Fatalf("%d keys stored, want 1", len(all))
	}
	pub, err := m2.PublicKeys(ctx)
	if err != nil || len(pub) != 1 || pub[0].KeyID != k1.ID || pub[0].Use != "sig" || pub[0].Algorithm != AlgRS256 || !pub[0].IsPublic() {
		t.Fatalf("public keys = %+v, %v", pub, err)
	}
}

func TestPrivateKeyIsEncryptedAtRest(t *testing.T) {
	ctx := t.Context()
	s := memory.New()
	m, err := Open(ctx, s, Options{Secret: secret1})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := m.Current(ctx, "")
	der, _ := x509.MarshalPKCS8PrivateKey(k.Private)
	stored, err := s.GetKey(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored.PrivateKey, der[len(der)-64:]) {
		t.Fatal("stored private key contains the plain key material")
	}
	if _, err := x509.ParsePKCS8PrivateKey(stored.PrivateKey); err == nil {
		t.Fatal("stored private key parses as plain PKCS#8")
	}
	// Bound to its kid: the same ciphertext under another id does not open.
	if _, err := openPrivate(stored.PrivateKey, "other-kid", secret1); err == nil {
		t.Fatal("ciphertext opened under another kid")
	}
}

func TestWrongSecretRefusesAndOldSecretWorks(t *testing.T) {
	ctx := t.Context()
	s := memory.New()
	m, err := Open(ctx, s, Options{Secret: secret1})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := m.Current(ctx, "")

	if _, err := Open(ctx, s, Options{Secret: secret2}); !errors.Is(err, ErrNoUsableKey) {
		t.Fatalf("Open with another secret: %v, want ErrNoUsableKey", err)
	}
	all, _ := s.ListKeys(ctx)
	if len(all) != 1 {
		t.Fatalf("a wrong secret created keys: %d stored", len(all))
	}

	m2, err := Open(ctx, s, Options{Secret: secret2, OldSecrets: [][]byte{secret1}})
	if err != nil {
		t.Fatalf("Open with the old secret listed: %v", err)
	}
	got, _ := m2.Current(ctx, "")
	if got.ID != want.ID {
		t.Fatalf("old secret: kid %s, want %s", got.ID, want.ID)
	}
}

func TestConcurrentOpenCreatesOneKey(t *testing.T) {
	runConcurrentOpen(t, memory.New())
}

// runConcurrentOpen starts several managers at once on one store, as
// replicas do, and checks they agree on a single key.
func runConcurrentOpen(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	const n = 4
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := Open(ctx, s, Options{Secret: secret1})
			if err != nil {
				errs[i] = err
				return
			}
			k, _ := m.Current(ctx, "")
			ids[i] = k.ID
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Open #%d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			t.Fatalf("replicas disagree on the key: %v", ids)
		}
	}
	all, err := s.ListKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].State != storage.KeyCurrent {
		t.Fatalf("stored keys = %d, want one current key", len(all))
	}
}
