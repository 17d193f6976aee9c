package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	fositestorage "github.com/ory/fosite/storage"

	"github.com/signet-idp/signet/internal/storage"
)

// Store is what the OAuth core needs from storage.
type Store interface {
	storage.Transactor
	storage.ClientStore
	storage.UserStore
	storage.OAuthRequestStore
	storage.LoginChallengeStore
	storage.ConsentStore
	storage.ClientAssertionStore
}

// adapter implements fosite's storage interfaces on storage.Store. It maps
// fosite.Requester to storage.OAuthRequest rows (one row per code, token,
// PKCE challenge and OpenID Connect session, tied by request id) and
// storage errors to the fosite errors its handlers act on.
type adapter struct {
	store Store
	now   func() time.Time
	// lifespans used when a session carries no expiry for a row.
	codeLifespan, accessLifespan, refreshLifespan, parLifespan time.Duration
	// grace is the refresh grace window (see rotation.go); 0: none.
	grace time.Duration
	// codeSignature is the storage key of a raw authorization code (the
	// token strategy's).
	codeSignature func(code string) string
}

var (
	_ fosite.Storage                     = (*adapter)(nil)
	_ oauth2.CoreStorage                 = (*adapter)(nil)
	_ oauth2.TokenRevocationStorage      = (*adapter)(nil)
	_ pkce.PKCERequestStorage            = (*adapter)(nil)
	_ openid.OpenIDConnectRequestStorage = (*adapter)(nil)
	_ fositestorage.Transactional        = (*adapter)(nil)
)

// Form parameters never written to storage, whatever fosite hands over.
var secretParams = []string{"client_secret", "code", "code_verifier", "refresh_token", "token", "password", "client_assertion", "access_token"}

// ---- transactions ----

// txKey marks a context inside a transaction opened by InTx, so fosite's
// own BeginTX/Commit/Rollback calls join it instead of deciding.
type txKey struct{}

// InTx runs fn in one storage transaction; fosite's transactional calls
// made with the context fn receives join it and leave commit or rollback to
// InTx. The rows fn creates are written together when fn succeeds, in one
// multi-row INSERT inside the transaction (a code exchange writes two, an
// authorization three): nothing in one grant reads back a row it created.
func (a *adapter) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if pendingOf(ctx) != nil {
		return fn(ctx)
	}
	return a.store.InTx(ctx, func(ctx context.Context) error {
		p := &pendingRows{}
		if err := fn(context.WithValue(context.WithValue(ctx, txKey{}, true), pendingKey{}, p)); err != nil {
			return err
		}
		return mapErr(a.store.CreateOAuthRequests(ctx, p.rows))
	})
}

// pendingRows collects the rows created inside InTx.
type pendingRows struct {
	mu   sync.Mutex
	rows []storage.OAuthRequest
}

type pendingKey struct{}

func pendingOf(ctx context.Context) *pendingRows {
	p, _ := ctx.Value(pendingKey{}).(*pendingRows)
	return p
}

func inTx(ctx context.Context) bool { v, _ := ctx.Value(txKey{}).(bool); return v }

// BeginTX implements fosite's storage.Transactional.
func (a *adapter) BeginTX(ctx context.Context) (context.Context, error) {
	if inTx(ctx) {
		return ctx, nil
	}
	return a.store.BeginTx(ctx)
}

// Commit implements fosite's storage.Transactional.
func (a *adapter) Commit(ctx context.Context) error {
	if inTx(ctx) {
		return nil
	}
	return a.store.Commit(ctx)
}

// Rollback implements fosite's storage.Transactional.
func (a *adapter) Rollback(ctx context.Context) error {
	if inTx(ctx) {
		return nil
	}
	return a.store.Rollback(ctx)
}

// ---- per-request cache ----

// requestCache remembers, for one HTTP request, the clients and rows
// already read, so fosite's repeated reads of the same record (the
// authenticated client, the code read before and inside the exchange
// transaction) cost one round trip. Writes go through and update it.
// Correctness under concurrency never rests on it: single use is enforced
// by conditional updates (DeactivateOAuthRequest) in the store.
type requestCache struct {
	mu      sync.Mutex
	clients map[string]*Client
	rows    map[rowKey]storage.OAuthRequest
	// missing are rows a prefetch found absent.
	missing map[rowKey]bool
	// revocations follow the automatic revocations of the request.
	revocations revocationNotes
}

type rowKey struct {
	kind storage.RequestKind
	sig  string
}

type cacheKey struct{}

// WithRequestCache returns a context whose store reads are remembered for
// the rest of the request. Use one per HTTP request.
func WithRequestCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, cacheKey{}, &requestCache{clients: map[string]*Client{}, rows: map[rowKey]storage.OAuthRequest{}, missing: map[rowKey]bool{}})
}

func cacheOf(ctx context.Context) *requestCache {
	c, _ := ctx.Value(cacheKey{}).(*requestCache)
	return c
}

// ---- clients ----

// GetClient implements fosite.ClientManager. An unknown client is
// fosite.ErrNotFound, which fosite answers with invalid_client.
func (a *adapter) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	return a.getClient(ctx, id)
}

func (a *adapter) getClient(ctx context.Context, id string) (*Client, error) {
	cache := cacheOf(ctx)
	if cache != nil {
		cache.mu.Lock()
		c, ok := cache.clients[id]
		cache.mu.Unlock()
		if ok {
			return c, nil
		}
	}
	if id == "" {
		return nil, fosite.ErrNotFound.WithHint("No client_id was given.")
	}
	sc, err := a.store.GetClient(ctx, id)
	if err != nil {
		return nil, mapErr(err)
	}
	c := &Client{Client: sc}
	if cache != nil {
		cache.mu.Lock()
		cache.clients[id] = c
		cache.mu.Unlock()
	}
	return c, nil
}

// ClientAssertionJWTValid: private_key_jwt is not supported, so no JTI is
// ever acceptable.
func (a *adapter) ClientAssertionJWTValid(context.Context, string) error {
	return fosite.ErrJTIKnown.WithHint("Client assertions are not supported.")
}

// SetClientAssertionJWT: private_key_jwt is not supported.
func (a *adapter) SetClientAssertionJWT(context.Context, string, time.Time) error {
	return fosite.ErrInvalidClient.WithHint("Client assertions are not supported.")
}

// ---- error mapping ----

// mapErr turns storage errors into the fosite errors its handlers test
// for, keeping the storage error in the chain (errors.Is still finds
// storage.ErrUnavailable, which the HTTP layer answers with 503).
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound):
		return fosite.ErrNotFound.WithWrap(err).WithDebug(err.Error())
	case errors.Is(err, storage.ErrConflict), errors.Is(err, storage.ErrAlreadyExists):
		return fosite.ErrSerializationFailure.WithWrap(err).WithDebug(err.Error())
	default:
		return err
	}
}

// ---- rows ----

// HashCode is how a raw authorization code is turned into a storage key
// (the OpenID Connect session is keyed by the code itself in fosite).
func HashCode(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

func (a *adapter) expiryFor(kind storage.RequestKind, r fosite.Requester) time.Time {
	var tt fosite.TokenType
	var fallback time.Duration
	switch kind {
	case storage.KindAccessToken:
		tt, fallback = fosite.AccessToken, a.accessLifespan
	case storage.KindRefreshToken:
		tt, fallback = fosite.RefreshToken, a.refreshLifespan
	case storage.KindPAR:
		tt, fallback = fosite.PushedAuthorizeRequestContext, a.parLifespan
	default: // code, PKCE and OpenID Connect rows live as long as the code
		tt, fallback = fosite.AuthorizeCode, a.codeLifespan
	}
	if s := r.GetSession(); s != nil {
		if exp := s.GetExpiresAt(tt); !exp.IsZero() {
			return exp.UTC()
		}
	}
	at := r.GetRequestedAt()
	if at.IsZero() {
		at = a.now()
	}
	return at.Add(fallback).UTC()
}

func (a *adapter) toRow(kind storage.RequestKind, signature string, r fosite.Requester) (storage.OAuthRequest, error) {
	form := url.Values{}
	for k, v := range r.GetRequestForm() {
		form[k] = v
	}
	for _, k := range secretParams {
		delete(form, k)
	}
	var subject string
	var sess []byte
	if s := r.GetSession(); s != nil {
		subject = s.GetSubject()
		b, err := json.Marshal(s)
		if err != nil {
			return storage.OAuthRequest{}, fmt.Errorf("encode session: %w", err)
		}
		sess = b
	}
	var clientID string
	if c := r.GetClient(); c != nil {
		clientID = c.GetID()
	}
	return storage.OAuthRequest{
		Kind:              kind,
		Signature:         signature,
		RequestID:         r.GetID(),
		ClientID:          clientID,
		Subject:           subject,
		RequestedAt:       r.GetRequestedAt().UTC(),
		ExpiresAt:         a.expiryFor(kind, r),
		RequestedScopes:   []string(r.GetRequestedScopes()),
		GrantedScopes:     []string(r.GetGrantedScopes()),
		RequestedAudience: []string(r.GetRequestedAudience()),
		GrantedAudience:   []string(r.GetGrantedAudience()),
		Form:              form.Encode(),
		Session:           sess,
		Active:            true,
	}, nil
}

func (a *adapter) create(ctx context.Context, kind storage.RequestKind, signature string, r fosite.Requester) error {
	row, err := a.toRow(kind, signature, r)
	if err != nil {
		return err
	}
	return a.createRow(ctx, row)
}

func (a *adapter) createRow(ctx context.Context, row storage.OAuthRequest) error {
	if p := pendingOf(ctx); p != nil {
		p.mu.Lock()
		p.rows = append(p.rows, row)
		p.mu.Unlock()
	} else if err := a.store.CreateOAuthRequest(ctx, row); err != nil {
		return mapErr(err)
	}
	if c := cacheOf(ctx); c != nil {
		c.mu.Lock()
		c.rows[rowKey{row.Kind, row.Signature}] = row
		c.mu.Unlock()
	}
	return nil
}

// getRow reads a row (through the request cache). Rows past their expiry
// are reported as not found: the janitor may delete them at any moment.
func (a *adapter) getRow(ctx context.Context, kind storage.RequestKind, signature string) (storage.OAuthRequest, error) {
	key := rowKey{kind, signature}
	cache := cacheOf(ctx)
	var row storage.OAuthRequest
	var ok bool
	if cache != nil {
		cache.mu.Lock()
		row, ok = cache.rows[key]
		missing := cache.missing[key]
		cache.mu.Unlock()
		if missing {
			return row, fosite.ErrNotFound.WithDebug("The record does not exist.")
		}
	}
	if !ok {
		var err error
		if row, err = a.store.GetOAuthRequest(ctx, kind, signature); err != nil {
			return row, mapErr(err)
		}
		if cache != nil {
			cache.mu.Lock()
			cache.rows[key] = row
			cache.mu.Unlock()
		}
	}
	if !row.ExpiresAt.IsZero() && !a.now().Before(row.ExpiresAt) {
		return row, fosite.ErrNotFound.WithDebug("The record expired.")
	}
	return row, nil
}

// forget drops cached rows after a write the cache cannot mirror.
func (a *adapter) markInactive(ctx context.Context, kind storage.RequestKind, signature, requestID string) {
	c := cacheOf(ctx)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, r := range c.rows {
		if k.kind == kind && (k.sig == signature || (requestID != "" && r.RequestID == requestID)) {
			r.Active = false
			c.rows[k] = r
		}
	}
}

func (a *adapter) forget(ctx context.Context, kind storage.RequestKind, signature string) {
	if c := cacheOf(ctx); c != nil {
		c.mu.Lock()
		delete(c.rows, rowKey{kind, signature})
		c.mu.Unlock()
	}
}

// toRequester rebuilds the fosite request of a row. session, when not nil,
// is hydrated in place (fosite validates tokens against the session it
// passed in); the row's client must still resolve.
func (a *adapter) toRequester(ctx context.Context, row storage.OAuthRequest, session fosite.Session) (fosite.Requester, error) {
	client, err := a.getClient(ctx, row.ClientID)
	if err != nil {
		return nil, err
	}
	if session == nil {
		session = NewSession()
	}
	if len(row.Session) > 0 {
		if err := json.Unmarshal(row.Session, session); err != nil {
			return nil, fmt.Errorf("decode session of %s row: %w", row.Kind, err)
		}
	}
	form, err := url.ParseQuery(row.Form)
	if err != nil {
		return nil, fmt.Errorf("decode form of %s row: %w", row.Kind, err)
	}
	return &fosite.Request{
		ID:                row.RequestID,
		RequestedAt:       row.RequestedAt,
		Client:            client,
		RequestedScope:    fosite.Arguments(row.RequestedScopes),
		GrantedScope:      fosite.Arguments(row.GrantedScopes),
		Form:              form,
		Session:           session,
		RequestedAudience: fosite.Arguments(row.RequestedAudience),
		GrantedAudience:   fosite.Arguments(row.GrantedAudience),
	}, nil
}

// get returns the requester of a row and whether the row is active.
func (a *adapter) get(ctx context.Context, kind storage.RequestKind, signature string, session fosite.Session) (fosite.Requester, bool, error) {
	row, err := a.getRow(ctx, kind, signature)
	if err != nil {
		return nil, false, err
	}
	req, err := a.toRequester(ctx, row, session)
	if err != nil {
		return nil, false, err
	}
	return req, row.Active, nil
}

// ---- authorization codes ----

// CreateAuthorizeCodeSession stores the code's request. fosite sets the
// code's expiry from the provider default only; the client's own
// AuthCodeLifespan is applied here.
func (a *adapter) CreateAuthorizeCodeSession(ctx context.Context, signature string, r fosite.Requester) error {
	if c, ok := r.GetClient().(*Client); ok && c.AuthCodeLifespan > 0 && r.GetSession() != nil {
		r.GetSession().SetExpiresAt(fosite.AuthorizeCode, time.Now().UTC().Add(c.AuthCodeLifespan))
	}
	return a.create(ctx, storage.KindAuthorizeCode, signature, r)
}

// codeKinds are the rows keyed by a code's signature.
var codeKinds = []storage.RequestKind{storage.KindAuthorizeCode, storage.KindPKCE, storage.KindOpenIDConnect}

// prefetchCode reads a code's rows (code, PKCE challenge, OpenID Connect
// request) in one round trip into the request cache; fosite asks for each
// in turn.
func (a *adapter) prefetchCode(ctx context.Context, signature string) error {
	c := cacheOf(ctx)
	if c == nil {
		return nil
	}
	c.mu.Lock()
	_, done := c.rows[rowKey{storage.KindAuthorizeCode, signature}]
	c.mu.Unlock()
	if done {
		return nil
	}
	rows, err := a.store.ListOAuthRequestsBySignature(ctx, signature, codeKinds)
	if err != nil {
		return mapErr(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range codeKinds {
		c.missing[rowKey{k, signature}] = true
	}
	for _, r := range rows {
		key := rowKey{r.Kind, r.Signature}
		c.rows[key] = r
		delete(c.missing, key)
	}
	return nil
}

// GetAuthorizeCodeSession returns the request together with
// fosite.ErrInvalidatedAuthorizeCode for a used code: fosite then revokes
// every token of the grant.
func (a *adapter) GetAuthorizeCodeSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	if err := a.prefetchCode(ctx, signature); err != nil {
		return nil, err
	}
	req, active, err := a.get(ctx, storage.KindAuthorizeCode, signature, session)
	if err != nil {
		return nil, err
	}
	if !active {
		// fosite revokes the grant next (RevokeAccessToken and
		// RevokeRefreshToken).
		notePending(ctx, req, RevokedCodeReplay)
		return req, fosite.ErrInvalidatedAuthorizeCode
	}
	return req, nil
}

// InvalidateAuthorizeCodeSession marks the code used. A code another
// request used first is a serialization failure.
func (a *adapter) InvalidateAuthorizeCodeSession(ctx context.Context, signature string) error {
	if err := a.store.DeactivateOAuthRequest(ctx, storage.KindAuthorizeCode, signature); err != nil {
		return mapErr(err)
	}
	a.markInactive(ctx, storage.KindAuthorizeCode, signature, "")
	return nil
}

// ---- PKCE ----

// CreatePKCERequestSession stores the code challenge of a code.
func (a *adapter) CreatePKCERequestSession(ctx context.Context, signature string, r fosite.Requester) error {
	return a.create(ctx, storage.KindPKCE, signature, r)
}

// GetPKCERequestSession implements pkce.PKCERequestStorage.
func (a *adapter) GetPKCERequestSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, _, err := a.get(ctx, storage.KindPKCE, signature, session)
	return req, err
}

// DeletePKCERequestSession keeps the row on purpose. fosite deletes the
// challenge before it compares the verifier, so with a real delete a
// client could burn the challenge with a wrong verifier and then redeem
// the code without one (confidential clients need no PKCE): a downgrade.
// The row is bound to a single-use code and expires with it (the janitor
// removes it); keeping it also saves a round trip per exchange.
func (a *adapter) DeletePKCERequestSession(context.Context, string) error { return nil }

// ---- OpenID Connect sessions ----

// The OpenID Connect request of a code is keyed by the code's signature,
// like the code and its PKCE row, so one read fetches all three. (fosite
// hands over the raw code; rows written before this keying are found by
// the SHA-256 of the code they used.)

// openIDKey is the storage key of a code's OpenID Connect request.
func (a *adapter) openIDKey(code string) string {
	if sig := a.codeSignature(code); sig != "" {
		return sig
	}
	return HashCode(code) // not a code of ours; never the raw value
}

// CreateOpenIDConnectSession stores the OpenID Connect request of a code.
func (a *adapter) CreateOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) error {
	return a.create(ctx, storage.KindOpenIDConnect, a.openIDKey(code), r)
}

// GetOpenIDConnectSession implements openid.OpenIDConnectRequestStorage.
func (a *adapter) GetOpenIDConnectSession(ctx context.Context, code string, requester fosite.Requester) (fosite.Requester, error) {
	var session fosite.Session
	if requester != nil {
		session = requester.GetSession()
	}
	key := a.openIDKey(code)
	req, _, err := a.get(ctx, storage.KindOpenIDConnect, key, session)
	if errors.Is(err, fosite.ErrNotFound) && key != HashCode(code) {
		req, _, err = a.get(ctx, storage.KindOpenIDConnect, HashCode(code), session)
	}
	return req, err
}

// DeleteOpenIDConnectSession keeps the row, as DeletePKCERequestSession
// does: it is only ever read with its single-use code, and expires with it
// (the janitor removes it). That saves a round trip per exchange.
func (a *adapter) DeleteOpenIDConnectSession(context.Context, string) error { return nil }

// ---- access tokens ----

// CreateAccessTokenSession implements oauth2.AccessTokenStorage. A
// repeated refresh within the grace window skips the row: the first
// rotation wrote it.
func (a *adapter) CreateAccessTokenSession(ctx context.Context, signature string, r fosite.Requester) error {
	if graceOf(ctx).repeated(signature) {
		return nil
	}
	return a.create(ctx, storage.KindAccessToken, signature, r)
}

// GetAccessTokenSession returns fosite.ErrInactiveToken (with the request)
// for a revoked or rotated-away access token.
func (a *adapter) GetAccessTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, active, err := a.get(ctx, storage.KindAccessToken, signature, session)
	if err != nil {
		return nil, err
	}
	if !active {
		return req, fosite.ErrInactiveToken
	}
	return req, nil
}

// DeleteAccessTokenSession implements oauth2.AccessTokenStorage.
func (a *adapter) DeleteAccessTokenSession(ctx context.Context, signature string) error {
	a.forget(ctx, storage.KindAccessToken, signature)
	return mapErr(a.store.DeleteOAuthRequest(ctx, storage.KindAccessToken, signature))
}

// ---- refresh tokens ----

// CreateRefreshTokenSession implements oauth2.RefreshTokenStorage.
func (a *adapter) CreateRefreshTokenSession(ctx context.Context, signature, accessSignature string, r fosite.Requester) error {
	if graceOf(ctx).repeated(signature) {
		return nil
	}
	row, err := a.toRow(storage.KindRefreshToken, signature, r)
	if err != nil {
		return err
	}
	row.AccessSignature = accessSignature
	return a.createRow(ctx, row)
}

// GetRefreshTokenSession returns fosite.ErrInactiveToken (with the
// request) for a rotated or revoked refresh token: fosite then revokes the
// whole grant. In a refresh grant (WithRefreshGrace), a token rotated
// within the grace window is returned as usable instead: the grant then
// answers the first rotation's tokens (RotateRefreshToken).
func (a *adapter) GetRefreshTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	row, err := a.getRow(ctx, storage.KindRefreshToken, signature)
	if err != nil {
		return nil, err
	}
	req, err := a.toRequester(ctx, row, session)
	if err != nil {
		return nil, err
	}
	if !row.Active && !(graceOf(ctx) != nil && a.withinGrace(row)) {
		if row.RotatedAt.IsZero() || row.RevokedReason != "" {
			// Revoked with its grant, not exchanged: say why.
			notePresented(ctx, row.RevokedReason)
		} else {
			// A rotated token again after the grace window: fosite
			// revokes the grant next.
			notePending(ctx, req, RevokedRefreshReuse)
		}
		return req, fosite.ErrInactiveToken
	}
	return req, nil
}

// DeleteRefreshTokenSession implements oauth2.RefreshTokenStorage.
func (a *adapter) DeleteRefreshTokenSession(ctx context.Context, signature string) error {
	a.forget(ctx, storage.KindRefreshToken, signature)
	return mapErr(a.store.DeleteOAuthRequest(ctx, storage.KindRefreshToken, signature))
}

// RotateRefreshToken marks the presented refresh token used and
// deactivates the grant's access tokens in one conditional update: of
// concurrent refreshes exactly one rotates. The others, in a refresh grant
// within the grace window, answer that rotation's tokens (see rotation.go);
// outside it they get fosite.ErrSerializationFailure. The old rows stay so
// reuse is detected.
func (a *adapter) RotateRefreshToken(ctx context.Context, requestID, refreshSignature string) error {
	g := graceOf(ctx)
	row, _ := a.getRow(ctx, storage.KindRefreshToken, refreshSignature)
	if g != nil && !row.Active && a.withinGrace(row) {
		return a.repeatRotation(ctx, g, refreshSignature)
	}
	err := a.store.RotateRefreshToken(ctx, refreshSignature, requestID, a.now().UTC())
	if errors.Is(err, storage.ErrConflict) && g != nil {
		// Another request rotated it since we read it (our update waited
		// for its commit): read what it left.
		if row, rerr := a.store.GetOAuthRequest(ctx, storage.KindRefreshToken, refreshSignature); rerr == nil && a.withinGrace(row) {
			return a.repeatRotation(ctx, g, refreshSignature)
		}
	}
	if err != nil {
		return mapErr(err)
	}
	a.markInactive(ctx, storage.KindRefreshToken, refreshSignature, "")
	a.markInactive(ctx, storage.KindAccessToken, "", requestID)
	return nil
}

// RevokeRefreshToken deactivates every refresh token of the grant, with
// the reason of the automatic revocation pending for it, if any.
func (a *adapter) RevokeRefreshToken(ctx context.Context, requestID string) error {
	return a.revoke(ctx, storage.KindRefreshToken, requestID, pendingReason(ctx, requestID))
}

// RevokeAccessToken deactivates every access token of the grant, with the
// reason of the automatic revocation pending for it, if any.
func (a *adapter) RevokeAccessToken(ctx context.Context, requestID string) error {
	return a.revoke(ctx, storage.KindAccessToken, requestID, pendingReason(ctx, requestID))
}

// revoke deactivates the active rows of that kind and grant with the
// reason.
func (a *adapter) revoke(ctx context.Context, kind storage.RequestKind, requestID, reason string) error {
	if err := a.store.DeactivateOAuthRequestsByRequestID(ctx, kind, requestID, reason); err != nil {
		return mapErr(err)
	}
	a.markInactive(ctx, kind, "", requestID)
	noteDone(ctx, requestID)
	return nil
}
