package keys

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-idp/signet/internal/storage"
)

// AlgRS256 is the default (and for now only) signing algorithm.
const AlgRS256 = "RS256"

// rsaBits is the size of generated RSA keys.
const rsaBits = 2048

// ErrNoUsableKey: signing keys exist but none decrypts with the configured
// secret or old secrets. The server must refuse to start rather than make
// new keys, which would silently invalidate every ID token relying parties
// hold and hide a misconfigured secret.
var ErrNoUsableKey = errors.New("keys: signing keys exist but none decrypts with the configured secret (or old secrets)")

// SigningKey is the key that signs now.
type SigningKey struct {
	// ID is the `kid` header of what it signs.
	ID string
	// Algorithm is the JWS alg, e.g. RS256.
	Algorithm string
	// Private is a plain crypto key (*rsa.PrivateKey), never a go-jose
	// value: fosite signs with go-jose v3 and rejects v4 keys at run time.
	Private crypto.Signer
}

// Provider hands out signing keys. Implementations are safe for concurrent
// use.
type Provider interface {
	// Current returns the key to sign with now.
	Current(ctx context.Context) (SigningKey, error)
	// PublicKeys returns every published public key (current, next and
	// retired), for the JWKS endpoint and for verifying our own tokens.
	PublicKeys(ctx context.Context) ([]jose.JSONWebKey, error)
}

// Store is what the key manager needs from storage.
type Store interface {
	storage.Transactor
	storage.KeyStore
}

// Manager is the Provider over the store: one RSA key, created at first
// start, kept in memory afterwards.
type Manager struct {
	mu      sync.RWMutex
	current SigningKey
	public  []jose.JSONWebKey
}

var _ Provider = (*Manager)(nil)

// Open loads the signing keys, creating the first one when there is none.
// Creation happens under storage.KeyStore.LockKeys inside a transaction, so
// two replicas starting together create one key between them. secret
// encrypts new keys; it and oldSecrets are tried for decryption. It returns
// ErrNoUsableKey when keys exist but the current one cannot be decrypted.
func Open(ctx context.Context, store Store, secret []byte, oldSecrets [][]byte, now func() time.Time) (*Manager, error) {
	if now == nil {
		now = time.Now
	}
	if len(secret) == 0 {
		return nil, errors.New("keys: empty secret")
	}
	secrets := append([][]byte{secret}, oldSecrets...)
	m := &Manager{}
	err := store.InTx(ctx, func(ctx context.Context) error {
		if err := store.LockKeys(ctx); err != nil {
			return fmt.Errorf("lock keys: %w", err)
		}
		all, err := store.ListKeys(ctx)
		if err != nil {
			return fmt.Errorf("list keys: %w", err)
		}
		if len(all) == 0 {
			k, err := generate(secret, now())
			if err != nil {
				return err
			}
			if err := store.CreateKey(ctx, k); err != nil {
				return fmt.Errorf("store new signing key: %w", err)
			}
			all = []storage.SigningKey{k}
		}
		return m.load(all, secrets)
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// load picks the current key (the newest current one) and decrypts it, and
// collects the public keys of every key that is not past its deletion.
func (m *Manager) load(all []storage.SigningKey, secrets [][]byte) error {
	var current *storage.SigningKey
	public := make([]jose.JSONWebKey, 0, len(all))
	for i := range all {
		k := &all[i]
		var jwk jose.JSONWebKey
		if err := json.Unmarshal(k.PublicKey, &jwk); err != nil {
			return fmt.Errorf("keys: public key %s is not a JWK: %w", k.ID, err)
		}
		public = append(public, jwk)
		if k.State == storage.KeyCurrent {
			current = k // ListKeys is oldest first: the last one wins
		}
	}
	if current == nil {
		return fmt.Errorf("%w: no key is in state %q", ErrNoUsableKey, storage.KeyCurrent)
	}
	priv, err := decryptPrivate(current, secrets)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.current = SigningKey{ID: current.ID, Algorithm: current.Algorithm, Private: priv}
	m.public = public
	return nil
}

// Current implements Provider.
func (m *Manager) Current(context.Context) (SigningKey, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.current.Private == nil {
		return SigningKey{}, errors.New("keys: no current signing key")
	}
	return m.current, nil
}

// PublicKeys implements Provider.
func (m *Manager) PublicKeys(context.Context) ([]jose.JSONWebKey, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return append([]jose.JSONWebKey(nil), m.public...), nil
}

// generate makes a new current RSA key with a random kid, its private part
// encrypted under secret.
func generate(secret []byte, now time.Time) (storage.SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return storage.SigningKey{}, fmt.Errorf("generate RSA key: %w", err)
	}
	kid, err := randomKID()
	if err != nil {
		return storage.SigningKey{}, err
	}
	pub, err := json.Marshal(jose.JSONWebKey{Key: &priv.PublicKey, KeyID: kid, Algorithm: AlgRS256, Use: "sig"})
	if err != nil {
		return storage.SigningKey{}, fmt.Errorf("encode public key: %w", err)
	}
	enc, err := encryptPrivate(priv, kid, secret)
	if err != nil {
		return storage.SigningKey{}, err
	}
	return storage.SigningKey{
		ID:         kid,
		Algorithm:  AlgRS256,
		State:      storage.KeyCurrent,
		PrivateKey: enc,
		PublicKey:  pub,
		CreatedAt:  now.UTC(),
		ActivateAt: now.UTC(),
	}, nil
}

func randomKID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random kid: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
