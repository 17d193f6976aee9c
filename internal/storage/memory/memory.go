package memory

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/signet-idp/signet/internal/storage"
)

// Store is an in-memory storage.Store. The zero value is not usable; call
// New.
type Store struct {
	// lock is a one-slot semaphore rather than a sync.Mutex: a transaction
	// holds it from BeginTx to Commit or Rollback, which may run on other
	// goroutines (a cancelled context rolls back from its own goroutine),
	// and waiting for it can give up when the caller's context ends.
	lock chan struct{}
	// data is only touched while lock is held.
	data *state
}

// state is everything the store keeps. Records are stored as private deep
// copies and are never shared with callers.
type state struct {
	clients      map[string]storage.Client
	users        map[string]storage.User
	roles        map[string]storage.Role
	userRoles    map[string]map[string]struct{} // user id → role names
	requests     map[requestKey]storage.OAuthRequest
	challenges   map[string]storage.LoginChallenge
	sessions     map[string]storage.Session
	consents     map[consentKey]storage.Consent
	keys         map[string]storage.SigningKey
	attempts     map[string]storage.LoginAttempts
	actionTokens map[actionTokenKey]storage.ActionToken
	jtis         map[string]time.Time   // client assertion key → expiry
	mfa          map[string]*mfaRecords // user id → their second factors
	webauthn     map[string]storage.WebAuthnChallenge
	audit        []storage.AuditEvent
	lastAuditID  int64
	connectors   map[string]storage.Connector
	upstream     map[upstreamKey]storage.UpstreamIdentity

	// Back-channel logout and dynamic registration (backchannel.go).
	sessionClients     map[string]map[string]time.Time // session id → client id → recorded at
	deliveries         []delivery
	lastDeliveryID     int64
	registrationTokens map[string]storage.RegistrationToken
	clientRegTokens    map[string]string // client id → token hash
}

type upstreamKey struct{ connectorID, subject string }

type requestKey struct {
	kind      storage.RequestKind
	signature string
}

type consentKey struct{ userID, clientID string }

type actionTokenKey struct{ purpose, hash string }

var _ storage.Store = (*Store)(nil)

// New returns an empty store holding only the built-in roles.
func New() *Store {
	now := ts(time.Now())
	d := &state{
		clients:      map[string]storage.Client{},
		users:        map[string]storage.User{},
		roles:        map[string]storage.Role{},
		userRoles:    map[string]map[string]struct{}{},
		requests:     map[requestKey]storage.OAuthRequest{},
		challenges:   map[string]storage.LoginChallenge{},
		sessions:     map[string]storage.Session{},
		consents:     map[consentKey]storage.Consent{},
		keys:         map[string]storage.SigningKey{},
		attempts:     map[string]storage.LoginAttempts{},
		actionTokens: map[actionTokenKey]storage.ActionToken{},
		jtis:         map[string]time.Time{},
		connectors:   map[string]storage.Connector{},
		upstream:     map[upstreamKey]storage.UpstreamIdentity{},
		mfa:          map[string]*mfaRecords{},
		webauthn:     map[string]storage.WebAuthnChallenge{},

		sessionClients:     map[string]map[string]time.Time{},
		registrationTokens: map[string]storage.RegistrationToken{},
		clientRegTokens:    map[string]string{},
	}
	// Same names and descriptions as migrations/0001_init.sql.
	d.roles[storage.RoleAdmin] = storage.Role{Name: storage.RoleAdmin, Description: "Administrator: may use the admin API and console", CreatedAt: now}
	d.roles[storage.RoleUser] = storage.Role{Name: storage.RoleUser, Description: "Regular user", CreatedAt: now}
	return &Store{lock: make(chan struct{}, 1), data: d}
}

// clone returns a deep copy, taken when a transaction begins so Rollback
// can restore it.
func (d *state) clone() *state {
	c := &state{
		clients:      make(map[string]storage.Client, len(d.clients)),
		users:        maps.Clone(d.users), // User holds no reference types
		roles:        maps.Clone(d.roles), // nor does Role
		userRoles:    make(map[string]map[string]struct{}, len(d.userRoles)),
		requests:     make(map[requestKey]storage.OAuthRequest, len(d.requests)),
		challenges:   make(map[string]storage.LoginChallenge, len(d.challenges)),
		sessions:     make(map[string]storage.Session, len(d.sessions)),
		consents:     make(map[consentKey]storage.Consent, len(d.consents)),
		keys:         make(map[string]storage.SigningKey, len(d.keys)),
		attempts:     maps.Clone(d.attempts), // nor does LoginAttempts
		actionTokens: maps.Clone(d.actionTokens),
		jtis:         maps.Clone(d.jtis),
		mfa:          make(map[string]*mfaRecords, len(d.mfa)),
		webauthn:     maps.Clone(d.webauthn), // Data is never changed in place
		audit:        make([]storage.AuditEvent, len(d.audit)),
		lastAuditID:  d.lastAuditID,

		connectors: make(map[string]storage.Connector, len(d.connectors)),
		upstream:   maps.Clone(d.upstream), // UpstreamIdentity holds no reference types

		sessionClients:     make(map[string]map[string]time.Time, len(d.sessionClients)),
		deliveries:         slices.Clone(d.deliveries), // delivery holds no reference types
		lastDeliveryID:     d.lastDeliveryID,
		registrationTokens: maps.Clone(d.registrationTokens), // nor does RegistrationToken
		clientRegTokens:    maps.Clone(d.clientRegTokens),
	}
	for k, v := range d.sessionClients {
		c.sessionClients[k] = maps.Clone(v)
	}
	for k, v := range d.connectors {
		c.connectors[k] = copyConnector(v)
	}
	for k, v := range d.clients {
		c.clients[k] = copyClient(v)
	}
	for k, v := range d.userRoles {
		c.userRoles[k] = maps.Clone(v)
	}
	for k, v := range d.requests {
		c.requests[k] = copyRequest(v)
	}
	for k, v := range d.challenges {
		c.challenges[k] = copyChallenge(v)
	}
	for k, v := range d.consents {
		c.consents[k] = copyConsent(v)
	}
	for k, v := range d.sessions {
		c.sessions[k] = copySession(v)
	}
	for k, v := range d.mfa {
		c.mfa[k] = v.clone()
	}
	for k, v := range d.keys {
		c.keys[k] = copyKey(v)
	}
	for i, e := range d.audit {
		c.audit[i] = copyAudit(e)
	}
	return c
}

// Ping always succeeds: memory is always there.
func (s *Store) Ping(ctx context.Context) error { return nil }

// Close does nothing; the store is garbage collected with its last user.
func (s *Store) Close() error { return nil }

func (s *Store) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) release() { <-s.lock }

// do runs fn with exclusive access to the data: inside the transaction of
// ctx when there is one (which already holds the store), else under the
// store lock for just this call. fn must check everything before it changes
// anything, so a call that fails leaves the data as it was.
func (s *Store) do(ctx context.Context, fn func(d *state) error) error {
	if h := s.handle(ctx); h != nil {
		t := h.tx
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.done {
			return sql.ErrTxDone
		}
		return fn(s.data)
	}
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	return fn(s.data)
}

// txKey is the context key of this store's transaction; it includes the
// store so two stores' transactions in one context stay apart.
type txKey struct{ s *Store }

// txHandle is what the context carries. joined marks a BeginTx made inside
// an existing transaction: its Commit and Rollback leave the decision to
// the outermost owner, like a nested InTx.
type txHandle struct {
	tx     *tx
	joined bool
}

type tx struct {
	store *Store
	// stop cancels the automatic rollback on context cancellation.
	stop func() bool
	// mu serialises calls made with the transaction's context, which may
	// come from several goroutines at once.
	mu       sync.Mutex
	snapshot *state
	done     bool
}

func (s *Store) handle(ctx context.Context) *txHandle {
	h, _ := ctx.Value(txKey{s}).(*txHandle)
	return h
}

// finish ends the transaction once: commit keeps the data, otherwise the
// snapshot comes back. Either way the store is released.
func (t *tx) finish(commit bool) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return sql.ErrTxDone
	}
	t.done = true
	if !commit {
		t.store.data = t.snapshot
	}
	t.snapshot = nil
	t.store.release()
	return nil
}

func (t *tx) check() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return sql.ErrTxDone
	}
	return nil
}

// errNoTx is returned by Commit and Rollback on a context without a
// transaction: a programming error, not a storage condition.
func errNoTx(op string) error {
	return fmt.Errorf("memory: %s: no transaction in context", op)
}

// BeginTx takes the store exclusively until Commit or Rollback, or until
// ctx ends, which rolls back like database/sql does. Inside an existing
// transaction it joins that one.
func (s *Store) BeginTx(ctx context.Context) (context.Context, error) {
	if h := s.handle(ctx); h != nil {
		return context.WithValue(ctx, txKey{s}, &txHandle{tx: h.tx, joined: true}), nil
	}
	if err := s.acquire(ctx); err != nil {
		return nil, fmt.Errorf("memory: begin transaction: %w", err)
	}
	t := &tx{store: s, snapshot: s.data.clone()}
	// Without this an abandoned transaction would hold the store forever.
	t.stop = context.AfterFunc(ctx, func() { _ = t.finish(false) })
	return context.WithValue(ctx, txKey{s}, &txHandle{tx: t}), nil
}

// Commit ends the transaction of ctx keeping its writes. It fails with
// sql.ErrTxDone when the transaction already ended, and rolls back instead
// when ctx was cancelled.
func (s *Store) Commit(ctx context.Context) error {
	h := s.handle(ctx)
	if h == nil {
		return errNoTx("commit")
	}
	if h.joined {
		return h.tx.check()
	}
	if !h.tx.stop() {
		// Already finished, or ctx ended and the rollback is under way.
		if err := h.tx.finish(false); err != nil {
			return fmt.Errorf("memory: commit: %w", err)
		}
		return fmt.Errorf("memory: commit: rolled back: %w", context.Cause(ctx))
	}
	if err := h.tx.finish(true); err != nil {
		return fmt.Errorf("memory: commit: %w", err)
	}
	return nil
}

// Rollback ends the transaction of ctx undoing its writes; sql.ErrTxDone
// when it already ended.
func (s *Store) Rollback(ctx context.Context) error {
	h := s.handle(ctx)
	if h == nil {
		return errNoTx("rollback")
	}
	if h.joined {
		return h.tx.check()
	}
	h.tx.stop()
	if err := h.tx.finish(false); err != nil {
		return fmt.Errorf("memory: rollback: %w", err)
	}
	return nil
}

// InTx runs fn in a transaction, or in the one ctx already carries.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.handle(ctx) != nil {
		return fn(ctx)
	}
	return storage.RunInTx(ctx, s, fn)
}

// ts normalises an instant the way PostgreSQL keeps it (microseconds, no
// monotonic reading) and to UTC, so both stores answer alike.
func ts(t time.Time) time.Time { return t.Round(time.Microsecond).UTC() }

// strs copies a list; empty lists come back empty, not nil, like a text[]
// column.
func strs(s []string) []string {
	if len(s) == 0 {
		return []string{}
	}
	return slices.Clone(s)
}

// bin copies bytes; empty is nil, like a NULL bytea.
func bin(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b)
}

func copyClient(c storage.Client) storage.Client {
	c.SecretHash = bin(c.SecretHash)
	c.RedirectURIs = strs(c.RedirectURIs)
	c.PostLogoutRedirectURIs = strs(c.PostLogoutRedirectURIs)
	c.GrantTypes = strs(c.GrantTypes)
	c.ResponseTypes = strs(c.ResponseTypes)
	c.Scopes = strs(c.Scopes)
	c.Audience = strs(c.Audience)
	c.CreatedAt, c.UpdatedAt = ts(c.CreatedAt), ts(c.UpdatedAt)
	return c
}

func copyUser(u storage.User) storage.User {
	u.CreatedAt, u.UpdatedAt = ts(u.CreatedAt), ts(u.UpdatedAt)
	return u
}

func copyRequest(r storage.OAuthRequest) storage.OAuthRequest {
	r.RequestedAt, r.ExpiresAt = ts(r.RequestedAt), ts(r.ExpiresAt)
	r.RequestedScopes = strs(r.RequestedScopes)
	r.GrantedScopes = strs(r.GrantedScopes)
	r.RequestedAudience = strs(r.RequestedAudience)
	r.GrantedAudience = strs(r.GrantedAudience)
	r.Session = bin(r.Session)
	return r
}

func copyChallenge(c storage.LoginChallenge) storage.LoginChallenge {
	c.RequestedScopes = strs(c.RequestedScopes)
	c.GrantedScopes = strs(c.GrantedScopes)
	c.CreatedAt, c.ExpiresAt, c.AuthTime = ts(c.CreatedAt), ts(c.ExpiresAt), ts(c.AuthTime)
	return c
}

func copySession(s storage.Session) storage.Session {
	s.AuthTime, s.CreatedAt = ts(s.AuthTime), ts(s.CreatedAt)
	s.LastSeenAt, s.ExpiresAt = ts(s.LastSeenAt), ts(s.ExpiresAt)
	if len(s.AMR) == 0 {
		s.AMR = nil
	} else {
		s.AMR = slices.Clone(s.AMR)
	}
	return s
}

func copyConsent(c storage.Consent) storage.Consent {
	c.Scopes = strs(c.Scopes)
	c.CreatedAt, c.UpdatedAt = ts(c.CreatedAt), ts(c.UpdatedAt)
	return c
}

func copyKey(k storage.SigningKey) storage.SigningKey {
	k.PrivateKey, k.PublicKey = bin(k.PrivateKey), bin(k.PublicKey)
	k.CreatedAt, k.ActivateAt = ts(k.CreatedAt), ts(k.ActivateAt)
	k.RetiredAt, k.DeleteAfter = ts(k.RetiredAt), ts(k.DeleteAfter)
	return k
}

func copyActionToken(t storage.ActionToken) storage.ActionToken {
	t.CreatedAt, t.ExpiresAt = ts(t.CreatedAt), ts(t.ExpiresAt)
	return t
}

func copyAudit(e storage.AuditEvent) storage.AuditEvent {
	e.At = ts(e.At)
	// Always a map, like the jsonb column's '{}'.
	details := make(map[string]string, len(e.Details))
	maps.Copy(details, e.Details)
	e.Details = details
	return e
}

// storable reports whether PostgreSQL could keep s in a text column:
// valid UTF-8 without NUL bytes. The memory store refuses the same text so
// that development behaves like production.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// checkText walks v (a record, a string, or lists and maps of them) and
// fails when any text in it is not storable. Bytes are not text.
func checkText(v any) error {
	if !textOK(reflect.ValueOf(v)) {
		return errors.New("text must be valid UTF-8 without NUL bytes")
	}
	return nil
}

func textOK(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return storable(v.String())
	case reflect.Struct:
		for i := range v.NumField() {
			if !textOK(v.Field(i)) {
				return false
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return true
		}
		for i := range v.Len() {
			if !textOK(v.Index(i)) {
				return false
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if !textOK(it.Key()) || !textOK(it.Value()) {
				return false
			}
		}
	}
	return true
}

// limitOf reads a caller's limit: zero or less means no limit.
func limitOf(limit, n int) int {
	if limit <= 0 || limit > n {
		return n
	}
	return limit
}
