package keys

import (
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-idp/signet/internal/storage"
)

// Signing algorithms (JWS alg values).
const (
	// AlgRS256 is always offered: OpenID Connect requires it, and it is
	// the default for clients that ask for nothing else.
	AlgRS256 = "RS256"
	// AlgES256 is ECDSA on P-256 with SHA-256.
	AlgES256 = "ES256"
	// AlgEdDSA is Ed25519.
	AlgEdDSA = "EdDSA"
)

// SupportedAlgorithms lists every algorithm keys can be made for, in the
// order discovery lists them.
func SupportedAlgorithms() []string { return []string{AlgRS256, AlgES256, AlgEdDSA} }

// IsSupported reports whether alg is one of SupportedAlgorithms.
func IsSupported(alg string) bool { return slices.Contains(SupportedAlgorithms(), alg) }

// rsaBits is the size of generated RSA keys.
const rsaBits = 2048

// Defaults of Options.
const (
	// DefaultPrepublishWindow is the JWKS cache lifetime (max-age) and so
	// the least time a key is published before it signs.
	DefaultPrepublishWindow = time.Hour
	// DefaultRefreshInterval is how often a replica runs the rotation step
	// and reloads the keys.
	DefaultRefreshInterval = 15 * time.Second
	// DefaultMaxTokenLifetime is assumed when Options.MaxTokenLifetime is
	// not set.
	DefaultMaxTokenLifetime = 24 * time.Hour
	// RetirementMargin is added to how long a retired key stays published,
	// for clock skew between replicas and relying parties.
	RetirementMargin = 10 * time.Minute
)

var (
	// ErrNoUsableKey: signing keys exist but none decrypts with the
	// configured secret or old secrets. The server must refuse to start
	// rather than make new keys, which would silently invalidate every ID
	// token relying parties hold and hide a misconfigured secret.
	ErrNoUsableKey = errors.New("the signing keys in the database do not decrypt with the configured secret " +
		"(SIGNET_SECRET) or old secrets (SIGNET_OLD_SECRETS); refusing to start rather than create new keys, " +
		"which would break every relying party")
	// ErrNoKey: no key of the algorithm is current (the algorithm is not
	// configured, or its key cannot be used).
	ErrNoKey = errors.New("keys: no current signing key for the algorithm")
	// ErrAlgorithm: the algorithm is not supported or not configured.
	ErrAlgorithm = errors.New("keys: signing algorithm not available")
)

// SigningKey is a key that signs now.
type SigningKey struct {
	// ID is the `kid` header of what it signs.
	ID string
	// Algorithm is the JWS alg: RS256, ES256 or EdDSA.
	Algorithm string
	// Private is a plain crypto key (*rsa.PrivateKey, *ecdsa.PrivateKey or
	// ed25519.PrivateKey), never a go-jose value.
	Private crypto.Signer
}

// Provider hands out signing keys. Implementations are safe for concurrent
// use.
type Provider interface {
	// Current returns the key that signs for alg now ("" means RS256). It
	// fails with ErrNoKey when no key of alg is current.
	Current(ctx context.Context, alg string) (SigningKey, error)
	// PublicKeys returns every published public key (next, current and
	// retired), for the JWKS endpoint and for verifying our own tokens.
	PublicKeys(ctx context.Context) ([]jose.JSONWebKey, error)
	// Algorithms lists the algorithms that have a current key, RS256
	// first: what discovery offers.
	Algorithms(ctx context.Context) []string
}

// Store is what the key manager needs from storage.
type Store interface {
	storage.Transactor
	storage.KeyStore
}

// Options configures Open.
type Options struct {
	// Secret encrypts keys; it and OldSecrets are tried for decryption,
	// and keys found under an old secret are re-encrypted under Secret at
	// Open.
	Secret     []byte
	OldSecrets [][]byte
	// Algorithms that get a current key and are rotated; RS256 is always
	// among them.
	Algorithms []string
	// RotationPeriod is how long a key signs before the next one takes
	// over; 0 means never automatically (Rotate still works).
	RotationPeriod time.Duration
	// PrepublishWindow is the JWKS cache lifetime (the max-age the JWKS
	// endpoint sends). A next key is published this long plus one
	// RefreshInterval before it signs. 0: DefaultPrepublishWindow.
	PrepublishWindow time.Duration
	// RefreshInterval is how often Run steps and reloads. 0:
	// DefaultRefreshInterval.
	RefreshInterval time.Duration
	// MaxTokenLifetime returns the longest lifetime an ID token may have
	// (the default and every per-client override). It is asked inside the
	// rotation transaction when a key retires. nil: DefaultMaxTokenLifetime.
	MaxTokenLifetime func(ctx context.Context) (time.Duration, error)
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Logger receives key changes and problems (nil: discarded).
	Logger *slog.Logger
}

// Info describes a stored key, for listings.
type Info struct {
	ID          string
	Algorithm   string
	State       storage.KeyState
	CreatedAt   time.Time
	ActivateAt  time.Time
	RetiredAt   time.Time
	DeleteAfter time.Time
	// Problem says why this replica cannot sign with the key (its public
	// key is unreadable, its private key does not decrypt or does not
	// match); empty when the key is fine.
	Problem string
}

// Manager is the Provider over the store. It keeps a view of the keys in
// memory (signers and public keys) and reloads it after every change it
// makes and on every Step.
type Manager struct {
	store   Store
	o       Options
	secrets [][]byte
	algs    []string
	logger  *slog.Logger

	// stepMu serialises Step, Rotate and List in this process; it guards
	// cache and logged.
	stepMu sync.Mutex
	// cache holds decrypted private keys by kid, with the sealed bytes
	// they came from, so a refresh does not decrypt again.
	cache map[string]cachedKey
	// logged remembers the problem already logged for a kid, so a bad row
	// is reported once, not on every refresh.
	logged map[string]string

	mu   sync.RWMutex
	view view
}

type cachedKey struct {
	sealed, public []byte
	priv           crypto.Signer
	secret         int
}

// view is what this replica signs with and publishes.
type view struct {
	current map[string]SigningKey
	public  []jose.JSONWebKey
	algs    []string
}

var _ Provider = (*Manager)(nil)

func newManager(store Store, o Options) (*Manager, error) {
	if store == nil {
		return nil, errors.New("keys: a store is required")
	}
	if len(o.Secret) == 0 {
		return nil, errors.New("keys: empty secret")
	}
	if o.RotationPeriod < 0 || o.PrepublishWindow < 0 || o.RefreshInterval < 0 {
		return nil, errors.New("keys: rotation period, prepublication window and refresh interval must not be negative")
	}
	if o.PrepublishWindow == 0 {
		o.PrepublishWindow = DefaultPrepublishWindow
	}
	if o.RefreshInterval == 0 {
		o.RefreshInterval = DefaultRefreshInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	algs := []string{AlgRS256}
	for _, a := range o.Algorithms {
		if !IsSupported(a) {
			return nil, fmt.Errorf("%w: %q (supported: RS256, ES256, EdDSA)", ErrAlgorithm, a)
		}
		if !slices.Contains(algs, a) {
			algs = append(algs, a)
		}
	}
	secrets := append([][]byte{o.Secret}, o.OldSecrets...)
	for i, s := range secrets {
		if len(s) == 0 {
			return nil, fmt.Errorf("keys: old secret #%d is empty", i)
		}
	}
	return &Manager{
		store: store, o: o, secrets: secrets, algs: algs, logger: logger,
		cache: map[string]cachedKey{}, logged: map[string]string{},
	}, nil
}

// Open loads the signing keys and brings them in line with the options in
// one transaction under LockKeys: keys found under an old secret are
// re-encrypted under the secret, keys that cannot be used are skipped (an
// error is logged; a current one is replaced by its next key or a new one),
// and every configured algorithm gets a current key (at first start, or
// when one is added). Two replicas starting together do this one after the
// other, so they agree.
//
// It returns ErrNoUsableKey when keys exist but none decrypts: then the
// secret is wrong, and nothing is written.
func Open(ctx context.Context, store Store, o Options) (*Manager, error) {
	m, err := newManager(store, o)
	if err != nil {
		return nil, err
	}
	m.stepMu.Lock()
	defer m.stepMu.Unlock()
	var entries []entry
	err = store.InTx(ctx, func(ctx context.Context) error {
		if err := store.LockKeys(ctx); err != nil {
			return fmt.Errorf("lock keys: %w", err)
		}
		all, err := store.ListKeys(ctx)
		if err != nil {
			return fmt.Errorf("list keys: %w", err)
		}
		es := m.classify(all, true)
		if len(all) > 0 && !slices.ContainsFunc(es, func(e entry) bool { return e.opened }) {
			return ErrNoUsableKey
		}
		if err := m.reencrypt(ctx, es); err != nil {
			return err
		}
		entries, err = m.settle(ctx, es, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	m.load(entries)
	if _, err := m.Current(ctx, AlgRS256); err != nil {
		return nil, err
	}
	return m, nil
}

// reencrypt seals again under the current secret every key that opened
// with an old one, so the old secret can be dropped after a restart.
func (m *Manager) reencrypt(ctx context.Context, es []entry) error {
	for i := range es {
		e := &es[i]
		if e.priv == nil || e.secret <= 0 {
			continue
		}
		sealed, err := encryptPrivate(e.priv, e.ID, m.secrets[0])
		if err != nil {
			return err
		}
		k := e.SigningKey
		k.PrivateKey = sealed
		if err := m.store.UpdateKey(ctx, k); err != nil {
			return fmt.Errorf("re-encrypt key %s: %w", k.ID, err)
		}
		e.SigningKey, e.secret = k, 0
		m.cache[k.ID] = cachedKey{sealed: sealed, public: k.PublicKey, priv: e.priv}
		m.logger.Info("signing key re-encrypted under the current secret", "kid", k.ID, "alg", k.Algorithm)
	}
	return nil
}

// Step is the rotation step: it promotes a next key whose time has come
// (retiring the old current one), deletes retired keys every token of which
// has expired, replaces a current key that cannot sign, gives a configured
// algorithm without a key one, and publishes a next key when the schedule
// says so. It changes the store only when something is due, in a
// transaction under LockKeys after reading the keys again, so running it on
// every replica at once is safe and running it twice changes nothing more.
// It then reloads this replica's view.
func (m *Manager) Step(ctx context.Context) error {
	m.stepMu.Lock()
	defer m.stepMu.Unlock()
	all, err := m.store.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("list keys: %w", err)
	}
	es := m.classify(all, false)
	if len(plan(es, m.params(0))) > 0 {
		err := m.store.InTx(ctx, func(ctx context.Context) error {
			if err := m.store.LockKeys(ctx); err != nil {
				return fmt.Errorf("lock keys: %w", err)
			}
			all, err := m.store.ListKeys(ctx)
			if err != nil {
				return fmt.Errorf("list keys: %w", err)
			}
			es, err = m.settle(ctx, m.classify(all, false), false)
			return err
		})
		if err != nil {
			return err
		}
	}
	m.load(es)
	return nil
}

// Run steps every RefreshInterval until ctx ends. A failed step (the
// database away) is logged; the keys in memory keep serving.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.o.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := m.Step(sctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			m.logger.Warn("signing keys: refresh failed; signing on with the keys in memory", "err", err)
		}
	}
}

// Rotate starts a rotation now for alg ("" means every configured
// algorithm): it publishes a next key that becomes current after the
// prepublication window. An algorithm that already has a next key keeps
// it (a rotation is under way). It returns the next keys.
func (m *Manager) Rotate(ctx context.Context, alg string) ([]Info, error) {
	targets := m.algs
	if alg != "" {
		if !slices.Contains(m.algs, alg) {
			return nil, fmt.Errorf("%w: %q is not among the configured signing algorithms (%v)", ErrAlgorithm, alg, m.algs)
		}
		targets = []string{alg}
	}
	m.stepMu.Lock()
	defer m.stepMu.Unlock()
	var es []entry
	var ids []string
	err := m.store.InTx(ctx, func(ctx context.Context) error {
		if err := m.store.LockKeys(ctx); err != nil {
			return fmt.Errorf("lock keys: %w", err)
		}
		all, err := m.store.ListKeys(ctx)
		if err != nil {
			return fmt.Errorf("list keys: %w", err)
		}
		if es, err = m.settle(ctx, m.classify(all, false), false); err != nil {
			return err
		}
		now := m.clock()
		created := false
		for _, a := range targets {
			if i := slices.IndexFunc(es, func(e entry) bool {
				return e.Algorithm == a && e.State == storage.KeyNext && !e.broken
			}); i >= 0 {
				ids = append(ids, es[i].ID)
				continue
			}
			k, err := m.create(ctx, action{kind: actCreate, key: storage.SigningKey{
				Algorithm: a, State: storage.KeyNext, ActivateAt: now.Add(m.lead()),
			}, reason: "rotation requested"}, now)
			if err != nil {
				return err
			}
			ids, created = append(ids, k.ID), true
		}
		if created {
			all, err := m.store.ListKeys(ctx)
			if err != nil {
				return fmt.Errorf("list keys: %w", err)
			}
			es = m.classify(all, false)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.load(es)
	var out []Info
	for _, e := range es {
		if slices.Contains(ids, e.ID) {
			out = append(out, e.info())
		}
	}
	return out, nil
}

// List returns every stored key as the store has it now, oldest first,
// with the problem that keeps this replica from signing with it, if any.
func (m *Manager) List(ctx context.Context) ([]Info, error) {
	m.stepMu.Lock()
	defer m.stepMu.Unlock()
	all, err := m.store.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	es := m.classify(all, false)
	out := make([]Info, 0, len(es))
	for _, e := range es {
		out = append(out, e.info())
	}
	return out, nil
}

// PrepublishWindow is the JWKS cache lifetime the keys are managed for:
// serve it as the JWKS max-age.
func (m *Manager) PrepublishWindow() time.Duration { return m.o.PrepublishWindow }

// Current implements Provider.
func (m *Manager) Current(_ context.Context, alg string) (SigningKey, error) {
	if alg == "" {
		alg = AlgRS256
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	k, ok := m.view.current[alg]
	if !ok {
		return SigningKey{}, fmt.Errorf("%w %s", ErrNoKey, alg)
	}
	return k, nil
}

// PublicKeys implements Provider.
func (m *Manager) PublicKeys(context.Context) ([]jose.JSONWebKey, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.view.public), nil
}

// Algorithms implements Provider.
func (m *Manager) Algorithms(context.Context) []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.view.algs)
}

// clock is now as stored: UTC, to the microsecond PostgreSQL keeps.
func (m *Manager) clock() time.Time { return m.o.Now().UTC().Truncate(time.Microsecond) }

// lead is how long before it signs a next key is published: one JWKS cache
// lifetime, plus one refresh interval for every replica to notice it.
func (m *Manager) lead() time.Duration { return m.o.PrepublishWindow + m.o.RefreshInterval }

func (m *Manager) params(retention time.Duration) planParams {
	return planParams{now: m.clock(), configured: m.algs, period: m.o.RotationPeriod, lead: m.lead(), retention: retention}
}

// retention is how long a key stays published after it stops signing:
// the longest ID token lifetime, plus one refresh interval (a replica may
// sign with it that much longer, until it notices), plus a margin.
func (m *Manager) retention(ctx context.Context) (time.Duration, error) {
	life := DefaultMaxTokenLifetime
	if m.o.MaxTokenLifetime != nil {
		l, err := m.o.MaxTokenLifetime(ctx)
		if err != nil {
			return 0, fmt.Errorf("longest ID token lifetime: %w", err)
		}
		life = l
	}
	return life + m.o.RefreshInterval + RetirementMargin, nil
}

// settle plans and applies what is due (inside the caller's transaction,
// under LockKeys) and returns the keys as they are afterwards.
func (m *Manager) settle(ctx context.Context, es []entry, atOpen bool) ([]entry, error) {
	retention, err := m.retention(ctx)
	if err != nil {
		return nil, err
	}
	p := m.params(retention)
	acts := plan(es, p)
	if len(acts) == 0 {
		return es, nil
	}
	for _, a := range acts {
		if err := m.apply(ctx, a, p.now); err != nil {
			return nil, err
		}
	}
	all, err := m.store.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	return m.classify(all, atOpen), nil
}

func (m *Manager) apply(ctx context.Context, a action, now time.Time) error {
	k := a.key
	switch a.kind {
	case actCreate:
		_, err := m.create(ctx, a, now)
		return err
	case actUpdate:
		if err := m.store.UpdateKey(ctx, k); err != nil {
			return fmt.Errorf("update key %s: %w", k.ID, err)
		}
		switch k.State {
		case storage.KeyCurrent:
			m.logger.Info("signing key is now current", "kid", k.ID, "alg", k.Algorithm, "reason", a.reason)
		case storage.KeyRetired:
			m.logger.Info("signing key retired; published until every token it signed has expired",
				"kid", k.ID, "alg", k.Algorithm, "delete_after", k.DeleteAfter, "reason", a.reason)
		}
	case actDelete:
		if err := m.store.DeleteKey(ctx, k.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("delete key %s: %w", k.ID, err)
		}
		m.logger.Info("signing key deleted", "kid", k.ID, "alg", k.Algorithm, "state", k.State, "reason", a.reason)
	}
	return nil
}

// create generates, encrypts and stores a key of a.key's algorithm in
// a.key's state.
func (m *Manager) create(ctx context.Context, a action, now time.Time) (storage.SigningKey, error) {
	k, priv, err := newKey(a.key.Algorithm, m.secrets[0], now)
	if err != nil {
		return storage.SigningKey{}, err
	}
	k.State, k.ActivateAt = a.key.State, a.key.ActivateAt
	if err := m.store.CreateKey(ctx, k); err != nil {
		return storage.SigningKey{}, fmt.Errorf("store new signing key: %w", err)
	}
	m.cache[k.ID] = cachedKey{sealed: k.PrivateKey, public: k.PublicKey, priv: priv}
	if k.State == storage.KeyNext {
		m.logger.Info("signing key published as next", "kid", k.ID, "alg", k.Algorithm,
			"activate_at", k.ActivateAt, "reason", a.reason)
	} else {
		m.logger.Info("signing key created as current", "kid", k.ID, "alg", k.Algorithm, "reason", a.reason)
	}
	return k, nil
}

// load replaces the view: every readable public key is published; the
// current key of each algorithm (the latest activated one this replica can
// use) signs.
func (m *Manager) load(es []entry) {
	v := view{current: map[string]SigningKey{}}
	sorted := slices.Clone(es)
	slices.SortStableFunc(sorted, func(a, b entry) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	best := map[string]entry{}
	for _, e := range sorted {
		if e.pubOK {
			v.public = append(v.public, e.jwk)
		}
		if e.State == storage.KeyCurrent && e.usable() {
			if b, ok := best[e.Algorithm]; !ok || e.ActivateAt.After(b.ActivateAt) {
				best[e.Algorithm] = e
			}
		}
	}
	for alg, e := range best {
		v.current[alg] = SigningKey{ID: e.ID, Algorithm: alg, Private: e.priv}
	}
	for _, alg := range SupportedAlgorithms() {
		if _, ok := v.current[alg]; ok {
			v.algs = append(v.algs, alg)
		}
	}
	m.mu.Lock()
	m.view = v
	m.mu.Unlock()
}

// newKey makes a key of alg with a random kid, its private part encrypted
// under secret. State and ActivateAt are the caller's to set.
func newKey(alg string, secret []byte, now time.Time) (storage.SigningKey, crypto.Signer, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case AlgRS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgEdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return storage.SigningKey{}, nil, fmt.Errorf("%w: %q", ErrAlgorithm, alg)
	}
	if err != nil {
		return storage.SigningKey{}, nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	kid, err := randomKID()
	if err != nil {
		return storage.SigningKey{}, nil, err
	}
	pub, err := json.Marshal(jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: alg, Use: "sig"})
	if err != nil {
		return storage.SigningKey{}, nil, fmt.Errorf("encode public key: %w", err)
	}
	enc, err := encryptPrivate(priv, kid, secret)
	if err != nil {
		return storage.SigningKey{}, nil, err
	}
	return storage.SigningKey{
		ID:         kid,
		Algorithm:  alg,
		PrivateKey: enc,
		PublicKey:  pub,
		CreatedAt:  now,
	}, priv, nil
}

func randomKID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random kid: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
