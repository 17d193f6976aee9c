package backchannel

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/keys"
	"github.com/signet-idp/signet/internal/outbound"
	"github.com/signet-idp/signet/internal/storage"
)

// EventLogout is the one member of a logout token's events claim.
const EventLogout = "http://schemas.openid.net/event/backchannel-logout"

// TokenType is the typ header of a logout token.
const TokenType = "logout+jwt"

// Audit actions.
const (
	ActionDelivered = "backchannel.delivered"
	ActionFailed    = "backchannel.failed"
)

// Defaults of Options.
const (
	DefaultMaxAttempts   = 5
	DefaultBackoff       = 2 * time.Second
	DefaultMaxBackoff    = 5 * time.Minute
	DefaultPollInterval  = time.Second
	DefaultConcurrency   = 16
	DefaultTokenLifespan = 2 * time.Minute
)

// Store is what the service needs from storage.
type Store interface {
	GetClient(ctx context.Context, id string) (storage.Client, error)
	RecordSessionClient(ctx context.Context, sessionID, clientID string, at time.Time) error
	ClaimBackchannelDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]storage.BackchannelDelivery, error)
	CompleteBackchannelDelivery(ctx context.Context, id int64) error
	RetryBackchannelDelivery(ctx context.Context, id int64, next time.Time, lastError string) error
}

// Keys hands out the current signing key of an algorithm.
type Keys interface {
	Current(ctx context.Context, alg string) (keys.SigningKey, error)
}

// Sender sends a request under the outbound policy (*outbound.Client).
type Sender interface {
	Do(req *http.Request) (*http.Response, error)
}

// Options configures New.
type Options struct {
	Issuer string
	Store  Store
	Keys   Keys
	Sender Sender
	Audit  audit.Recorder
	Logger *slog.Logger
	Now    func() time.Time
	// Timeout bounds one POST (the outbound client's own timeout applies
	// as well); it sets the claim's lease. Default outbound.DefaultTimeout.
	Timeout time.Duration
	// MaxAttempts is how many POSTs a delivery gets before it is given up.
	MaxAttempts int
	// Backoff is the wait after the first failure; it doubles after each
	// further one, up to MaxBackoff.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// PollInterval is how often the queue is checked.
	PollInterval time.Duration
	// Concurrency bounds deliveries in flight on this replica.
	Concurrency int
	// TokenLifespan is the logout token's exp minus iat.
	TokenLifespan time.Duration
}

// Service records session clients and delivers logout tokens.
type Service struct {
	o  Options
	wg sync.WaitGroup
}

// New returns a Service; Run starts its delivery loop.
func New(o Options) (*Service, error) {
	if o.Issuer == "" || o.Store == nil || o.Keys == nil || o.Sender == nil || o.Audit == nil {
		return nil, errors.New("backchannel: issuer, store, keys, sender and audit are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout <= 0 {
		o.Timeout = outbound.DefaultTimeout
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.TokenLifespan <= 0 {
		o.TokenLifespan = DefaultTokenLifespan
	}
	return &Service{o: o}, nil
}

// RecordSessionClient notes that the client received tokens in the
// browser session, so it gets a logout token when the session ends. A
// session that ended meanwhile is no error: there is nothing left to log
// out of.
func (s *Service) RecordSessionClient(ctx context.Context, sessionID, clientID string) error {
	err := s.o.Store.RecordSessionClient(ctx, sessionID, clientID, s.o.Now())
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}

// lease is how long a claimed delivery is ours: the POST's timeout plus
// room for signing and the bookkeeping around it.
func (s *Service) lease() time.Duration { return 2*s.o.Timeout + 10*time.Second }

// Run delivers queued logout tokens until ctx ends, then waits for the
// deliveries in flight (their requests end with ctx).
func (s *Service) Run(ctx context.Context) {
	slots := make(chan struct{}, s.o.Concurrency)
	t := time.NewTicker(s.o.PollInterval)
	defer t.Stop()
	for {
		s.pump(ctx, slots)
		select {
		case <-ctx.Done():
			s.wg.Wait()
			return
		case <-t.C:
		}
	}
}

// pump claims as many due deliveries as there are free slots and starts
// each on its own goroutine: a slow relying party holds one slot, not the
// queue.
func (s *Service) pump(ctx context.Context, slots chan struct{}) {
	free := cap(slots) - len(slots)
	if free == 0 || ctx.Err() != nil {
		return
	}
	list, err := s.o.Store.ClaimBackchannelDeliveries(ctx, s.o.Now(), s.lease(), free)
	if err != nil {
		if ctx.Err() == nil {
			s.o.Logger.Warn("back-channel logout: cannot claim deliveries", "err", err)
		}
		return
	}
	for _, d := range list {
		slots <- struct{}{}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-slots }()
			s.deliver(ctx, d)
		}()
	}
}

// deliver makes one attempt and records its outcome.
func (s *Service) deliver(ctx context.Context, d storage.BackchannelDelivery) {
	log := s.o.Logger.With("client_id", d.ClientID, "sid", d.SessionID, "attempt", d.Attempts)
	c, err := s.o.Store.GetClient(ctx, d.ClientID)
	switch {
	case errors.Is(err, storage.ErrNotFound) || (err == nil && c.BackchannelLogoutURI == ""):
		// The client was deleted, or no longer wants logout tokens.
		s.finish(ctx, d, log)
		return
	case err != nil:
		s.failed(ctx, d, log, err)
		return
	}
	err = s.post(ctx, c, d)
	if ctx.Err() != nil {
		// Shutting down: leave it to the next claim (a restart, or another
		// replica) at once rather than after the lease.
		bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = s.o.Store.RetryBackchannelDelivery(bg, d.ID, s.o.Now(), "interrupted by shutdown")
		return
	}
	if err != nil {
		s.failed(ctx, d, log.With("uri", c.BackchannelLogoutURI), err)
		return
	}
	s.finish(ctx, d, log)
	log.Info("back-channel logout delivered")
	s.o.Audit.Record(ctx, audit.Event{Actor: audit.ActorSystem, Action: ActionDelivered, Target: d.ClientID,
		Details: map[string]string{"sid": d.SessionID, "sub": d.Subject, "attempts": strconv.Itoa(d.Attempts)}})
}

func (s *Service) finish(ctx context.Context, d storage.BackchannelDelivery, log *slog.Logger) {
	if err := s.o.Store.CompleteBackchannelDelivery(ctx, d.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		log.Warn("back-channel logout: cannot remove the delivery from the queue", "err", err)
	}
}

// failed schedules the next attempt, or gives up after the last one.
func (s *Service) failed(ctx context.Context, d storage.BackchannelDelivery, log *slog.Logger, cause error) {
	msg := cause.Error()
	if len(msg) > 300 {
		msg = msg[:300]
	}
	if d.Attempts >= s.o.MaxAttempts {
		s.finish(ctx, d, log)
		log.Warn("back-channel logout failed: giving up", "err", msg)
		s.o.Audit.Record(ctx, audit.Event{Actor: audit.ActorSystem, Action: ActionFailed, Target: d.ClientID,
			Details: map[string]string{"sid": d.SessionID, "sub": d.Subject, "attempts": strconv.Itoa(d.Attempts), "error": msg}})
		return
	}
	wait := s.o.Backoff
	for i := 1; i < d.Attempts && wait < s.o.MaxBackoff; i++ {
		wait *= 2
	}
	wait = min(wait, s.o.MaxBackoff)
	log.Warn("back-channel logout failed: will retry", "err", msg, "retry_in", wait)
	if err := s.o.Store.RetryBackchannelDelivery(ctx, d.ID, s.o.Now().Add(wait), msg); err != nil {
		log.Warn("back-channel logout: cannot schedule the retry (the claim will lapse)", "err", err)
	}
}

// post sends the logout token; any 2xx is success (the spec asks for 200,
// and notes that frameworks answer 204).
func (s *Service) post(ctx context.Context, c storage.Client, d storage.BackchannelDelivery) error {
	tok, err := s.LogoutToken(ctx, c, d.Subject, d.SessionID)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BackchannelLogoutURI,
		strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
	if err != nil {
		return fmt.Errorf("bad back-channel logout URI: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cache-Control", "no-store")
	resp, err := s.o.Sender.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the relying party answered %d", resp.StatusCode)
	}
	return nil
}

// LogoutToken signs a logout token for the client about the session: iss,
// aud, iat, exp, jti, events, sub and sid, typ logout+jwt, with the
// client's ID token algorithm (RS256 when it has no key here).
func (s *Service) LogoutToken(ctx context.Context, c storage.Client, subject, sessionID string) (string, error) {
	alg := c.IDTokenSignedResponseAlg
	if alg == "" {
		alg = keys.AlgRS256
	}
	k, err := s.o.Keys.Current(ctx, alg)
	if errors.Is(err, keys.ErrNoKey) && alg != keys.AlgRS256 {
		k, err = s.o.Keys.Current(ctx, keys.AlgRS256)
	}
	if err != nil {
		return "", fmt.Errorf("signing key: %w", err)
	}
	sg, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.SignatureAlgorithm(k.Algorithm),
		Key:       jose.JSONWebKey{Key: k.Private, KeyID: k.ID, Algorithm: k.Algorithm},
	}, (&jose.SignerOptions{}).WithType(TokenType))
	if err != nil {
		return "", fmt.Errorf("signer for key %s: %w", k.ID, err)
	}
	jti := make([]byte, 18)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("jti: %w", err)
	}
	now := s.o.Now()
	claims := map[string]any{
		"iss":    s.o.Issuer,
		"aud":    c.ID,
		"iat":    now.Unix(),
		"exp":    now.Add(s.o.TokenLifespan).Unix(),
		"jti":    base64.RawURLEncoding.EncodeToString(jti),
		"sub":    subject,
		"sid":    sessionID,
		"events": map[string]any{EventLogout: map[string]any{}},
	}
	raw, err := jwt.Signed(sg).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("sign logout token: %w", err)
	}
	return raw, nil
}

// ActionDropped: a queued delivery was removed unsent because back-channel
// logout is off on the replica that found it.
const ActionDropped = "backchannel.dropped"

// Defaults of Dropper.
const (
	DefaultDropInterval = time.Minute
	DefaultDropBatch    = 100
)

// DropStore is what a Dropper needs from storage.
type DropStore interface {
	ClaimBackchannelDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]storage.BackchannelDelivery, error)
	CompleteBackchannelDelivery(ctx context.Context, id int64) error
}

// Dropper empties the delivery queue on a replica where back-channel
// logout is off (--backchannel-logout=false). Sessions that ended while it
// was on, or that had recorded clients before it was turned off, still
// queue deliveries in the database; with nobody to send them they would
// stay forever. Each one dropped is audited (ActionDropped) and each sweep
// that dropped any logs one line. It claims what it drops as the delivery
// loop does, so replicas never drop the same delivery twice; during a
// rolling change of the flag a replica with it off drops what is due,
// including deliveries a replica with it on would have sent.
type Dropper struct {
	Store  DropStore
	Audit  audit.Recorder
	Logger *slog.Logger
	Now    func() time.Time
	// Interval between sweeps (DefaultDropInterval when zero); the first
	// runs at start.
	Interval time.Duration
	// Batch is how many deliveries one claim takes (DefaultDropBatch).
	Batch int
}

// Run sweeps at once and then every Interval until ctx ends.
func (d *Dropper) Run(ctx context.Context) {
	interval := d.Interval
	if interval <= 0 {
		interval = DefaultDropInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := d.Drop(ctx); err != nil && ctx.Err() == nil {
			d.logger().Warn("back-channel logout is off: cannot drop queued deliveries", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Drop removes every queued delivery that is due and not claimed by
// another replica, audits each, and returns how many it removed.
func (d *Dropper) Drop(ctx context.Context) (int, error) {
	now, batch := time.Now, d.Batch
	if d.Now != nil {
		now = d.Now
	}
	if batch <= 0 {
		batch = DefaultDropBatch
	}
	dropped := 0
	defer func() {
		if dropped > 0 {
			d.logger().Info("back-channel logout is off: queued logout deliveries dropped unsent", "count", dropped)
		}
	}()
	for {
		list, err := d.Store.ClaimBackchannelDeliveries(ctx, now(), time.Minute, batch)
		if err != nil {
			return dropped, fmt.Errorf("claim deliveries to drop: %w", err)
		}
		for _, q := range list {
			if err := d.Store.CompleteBackchannelDelivery(ctx, q.ID); errors.Is(err, storage.ErrNotFound) {
				continue
			} else if err != nil {
				return dropped, fmt.Errorf("drop delivery %d: %w", q.ID, err)
			}
			dropped++
			// Attempts counts this claim too: the POSTs made are one fewer.
			d.Audit.Record(ctx, audit.Event{Actor: audit.ActorSystem, Action: ActionDropped, Target: q.ClientID,
				Details: map[string]string{"sid": q.SessionID, "sub": q.Subject, "attempts": strconv.Itoa(q.Attempts - 1),
					"reason": "back-channel logout is off"}})
		}
		if len(list) < batch {
			return dropped, nil
		}
	}
}

func (d *Dropper) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}
