package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/signet-idp/signet/internal/mfa"
	"github.com/signet-idp/signet/internal/storage"
)

// Errors of the challenge service; match with errors.Is.
var (
	// ErrChallengeNotFound: the challenge is unknown, expired or used.
	ErrChallengeNotFound = errors.New("the sign-in request is unknown, expired or was already completed")
	// ErrLoginNotAccepted: consent was decided before a login was accepted.
	ErrLoginNotAccepted = errors.New("the sign-in request has no accepted login yet")
	// ErrScopeNotRequested: consent named a scope the client did not ask for.
	ErrScopeNotRequested = errors.New("consent names a scope the client did not request")
	// ErrLoginRejected: the login does not satisfy the request (prompt=login
	// needs a fresh login, max_age a recent one, id_token_hint its subject).
	ErrLoginRejected = errors.New("the login does not satisfy the sign-in request")
)

// ChallengeStore is what the challenge service needs from storage.
type ChallengeStore interface {
	storage.LoginChallengeStore
	storage.ClientStore
	storage.ConsentStore
}

// Challenges parks authorization requests while a person logs in and
// consents, and hands them back to the authorization endpoint once. The
// challenge value travels in URLs; storage only keeps its SHA-256.
type Challenges struct {
	store    ChallengeStore
	now      func() time.Time
	lifespan time.Duration
	// hint decodes id_token_hint (nil: hints are not checked here).
	hint func(ctx context.Context, token string) (string, error)
}

// NewChallenges returns the service; lifespan bounds how long a person may
// take (cfg.LoginChallengeLifespan).
func NewChallenges(store ChallengeStore, lifespan time.Duration, now func() time.Time) *Challenges {
	if now == nil {
		now = time.Now
	}
	return &Challenges{store: store, now: now, lifespan: lifespan}
}

// WithIDTokenHints lets the service read id_token_hint subjects through p.
func (s *Challenges) WithIDTokenHints(p *Provider) *Challenges {
	s.hint = p.DecodeIDTokenHint
	return s
}

// SetHintDecoder sets how id_token_hint subjects are read (a verified
// token's `sub`).
func (s *Challenges) SetHintDecoder(decode func(ctx context.Context, token string) (string, error)) {
	s.hint = decode
}

// ChallengeID is the storage id of a challenge value.
func ChallengeID(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}

// Login is a login that already happened (an SSO browser session, or the
// login page's result).
type Login struct {
	Subject   string
	SessionID string
	AuthTime  time.Time
	// AMR, ACR and IDP: how the session signed in (not parked: read from
	// the browser session when the request resumes).
	AMR []string
	ACR string
	IDP string
}

// ParkRequest is an authorization request fosite accepted.
type ParkRequest struct {
	ClientID        string
	Form            url.Values
	RequestedScopes []string
	// Login, when set, pre-fills an SSO login that satisfies the request.
	Login *Login
	// Consent, when set with Login, pre-decides consent (first-party
	// client or remembered consent) for these scopes.
	Consent []string
}

// Park stores the request as a new challenge and returns its value
// (32 random bytes, base64url).
func (s *Challenges) Park(ctx context.Context, r ParkRequest) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random challenge: %w", err)
	}
	value := base64.RawURLEncoding.EncodeToString(b)
	form := url.Values{}
	for k, v := range r.Form {
		if k != "client_secret" {
			form[k] = v
		}
	}
	now := s.now().UTC()
	c := storage.LoginChallenge{
		ID:              ChallengeID(value),
		ClientID:        r.ClientID,
		Form:            form.Encode(),
		RequestedScopes: slices.Clone(r.RequestedScopes),
		CreatedAt:       now,
		ExpiresAt:       now.Add(s.lifespan),
	}
	if r.Login != nil {
		c.Subject, c.SessionID, c.AuthTime = r.Login.Subject, r.Login.SessionID, r.Login.AuthTime.UTC()
		if r.Consent != nil {
			c.ConsentGiven, c.GrantedScopes = true, slices.Clone(r.Consent)
		}
	}
	// The id hashes 256 random bits, so "already exists" can only be this
	// very row: database/sql resends a statement when the connection
	// breaks while it is answered, and the first send had committed.
	if err := s.store.CreateLoginChallenge(ctx, c); err != nil && !errors.Is(err, storage.ErrAlreadyExists) {
		return "", err
	}
	return value, nil
}

// ChallengeInfo is what the login and consent pages need to know.
type ChallengeInfo struct {
	ClientID   string
	ClientName string
	// FirstParty clients skip the consent page.
	FirstParty      bool
	RequestedScopes []string
	// Prompt holds the prompt values (none, login, consent).
	Prompt    []string
	LoginHint string
	// MaxAge is max_age; HasMaxAge tells whether it was sent.
	MaxAge    time.Duration
	HasMaxAge bool
	// IDTokenHintSubject is the subject of a valid id_token_hint.
	IDTokenHintSubject string
	// RequireMFA: the request (acr_values) or the client asks for a
	// second factor.
	RequireMFA bool
	// LoginSatisfied: a login was accepted (or a browser session already
	// satisfies the request); Subject, SessionID and AuthTime describe it.
	LoginSatisfied bool
	Subject        string
	SessionID      string
	AuthTime       time.Time
	// ConsentGiven and GrantedScopes: consent already decided.
	ConsentGiven  bool
	GrantedScopes []string
	ExpiresAt     time.Time
}

func (s *Challenges) get(ctx context.Context, value string) (storage.LoginChallenge, error) {
	return s.load(ctx, value, s.store.GetLoginChallenge)
}

// load reads (or consumes) the challenge named by value: a malformed,
// unknown, used or expired one is ErrChallengeNotFound alike.
func (s *Challenges) load(ctx context.Context, value string, read func(context.Context, string) (storage.LoginChallenge, error)) (storage.LoginChallenge, error) {
	if value == "" || len(value) > 128 {
		return storage.LoginChallenge{}, ErrChallengeNotFound
	}
	c, err := read(ctx, ChallengeID(value))
	if errors.Is(err, storage.ErrNotFound) {
		return c, ErrChallengeNotFound
	} else if err != nil {
		return c, err
	}
	if !s.now().Before(c.ExpiresAt) {
		return c, ErrChallengeNotFound
	}
	return c, nil
}

// Challenge describes a pending challenge. ErrChallengeNotFound when it is
// unknown, expired or used.
func (s *Challenges) Challenge(ctx context.Context, value string) (ChallengeInfo, error) {
	c, err := s.get(ctx, value)
	if err != nil {
		return ChallengeInfo{}, err
	}
	client, err := s.store.GetClient(ctx, c.ClientID)
	if errors.Is(err, storage.ErrNotFound) {
		return ChallengeInfo{}, ErrChallengeNotFound // the client went away meanwhile
	} else if err != nil {
		return ChallengeInfo{}, err
	}
	form, _ := url.ParseQuery(c.Form)
	info := ChallengeInfo{
		ClientID:        c.ClientID,
		ClientName:      client.Name,
		FirstParty:      client.FirstParty,
		RequestedScopes: slices.Clone(c.RequestedScopes),
		Prompt:          strings.Fields(form.Get("prompt")),
		LoginHint:       form.Get("login_hint"),
		LoginSatisfied:  c.Subject != "",
		Subject:         c.Subject,
		SessionID:       c.SessionID,
		AuthTime:        c.AuthTime,
		ConsentGiven:    c.ConsentGiven,
		GrantedScopes:   slices.Clone(c.GrantedScopes),
		ExpiresAt:       c.ExpiresAt,
		RequireMFA:      RequiresSecondFactor(form, client),
	}
	if ma, ok := parseMaxAge(form); ok {
		info.MaxAge, info.HasMaxAge = ma, true
	}
	if h := form.Get("id_token_hint"); h != "" && s.hint != nil {
		if sub, err := s.hint(ctx, h); err == nil {
			info.IDTokenHintSubject = sub
		}
	}
	return info, nil
}

// RequiresSecondFactor reports whether an authorization request must be
// answered from a two-factor sign-in: it asks for the two-factor class in
// acr_values (a request for acr is never answered with less, so a
// password-only session is stepped up), or the client is registered to
// require it.
func RequiresSecondFactor(form url.Values, client storage.Client) bool {
	return client.RequireMFA || slices.Contains(strings.Fields(form.Get("acr_values")), mfa.ACRTwoFactor)
}

// MaxAgeLimit is the largest max_age, in seconds, that a time.Duration
// holds (about 292 years); a larger one would wrap around to a negative
// age and refuse every login.
const MaxAgeLimit = math.MaxInt64 / int64(time.Second)

func parseMaxAge(form url.Values) (time.Duration, bool) {
	v := form.Get("max_age")
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > MaxAgeLimit {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// SatisfiesRequest reports whether a login by l.Subject at l.AuthTime
// satisfies the request's prompt=login, max_age and id_token_hint, judged
// as of requestedAt (when the request arrived), as fosite judges them.
func SatisfiesRequest(form url.Values, requestedAt time.Time, l Login, hintSubject string) bool {
	auth := l.AuthTime.UTC().Truncate(time.Second)
	at := requestedAt.UTC().Truncate(time.Second)
	if slices.Contains(strings.Fields(form.Get("prompt")), "login") && auth.Before(at) {
		return false
	}
	if ma, ok := parseMaxAge(form); ok && auth.Add(ma).Before(at) {
		return false
	}
	if hintSubject != "" && hintSubject != l.Subject {
		return false
	}
	return true
}

// AcceptLogin records who logged in for the challenge: the user id, the
// browser session (the `sid` claim; it also binds the challenge to that
// browser) and when the person authenticated. A login that cannot satisfy
// the request (prompt=login with an older login, max_age exceeded, another
// subject than id_token_hint's) is ErrLoginRejected; any consent decided
// for another subject is dropped.
func (s *Challenges) AcceptLogin(ctx context.Context, value, subject, sessionID string, authTime time.Time) error {
	if subject == "" {
		return errors.New("AcceptLogin: empty subject")
	}
	c, err := s.get(ctx, value)
	if err != nil {
		return err
	}
	form, _ := url.ParseQuery(c.Form)
	var hintSub string
	if h := form.Get("id_token_hint"); h != "" && s.hint != nil {
		hintSub, _ = s.hint(ctx, h)
	}
	l := Login{Subject: subject, SessionID: sessionID, AuthTime: authTime}
	if !SatisfiesRequest(form, c.CreatedAt, l, hintSub) {
		return ErrLoginRejected
	}
	if c.Subject != subject {
		c.ConsentGiven, c.GrantedScopes = false, nil
	}
	c.Subject, c.SessionID, c.AuthTime = subject, sessionID, authTime.UTC()
	return s.store.UpdateLoginChallenge(ctx, c)
}

// DecideConsent records the person's decision. With allow, granted must be
// a subset of the requested scopes (openid, when requested, is always
// granted: it is the protocol, not a permission); without, the request
// will be answered access_denied.
func (s *Challenges) DecideConsent(ctx context.Context, value string, granted []string, allow bool) error {
	c, err := s.get(ctx, value)
	if err != nil {
		return err
	}
	if c.Subject == "" {
		return ErrLoginNotAccepted
	}
	c.ConsentGiven, c.GrantedScopes = allow, nil
	if allow {
		out := []string{}
		for _, sc := range granted {
			if !slices.Contains(c.RequestedScopes, sc) {
				return fmt.Errorf("%w: %q", ErrScopeNotRequested, sc)
			}
			if !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
		if slices.Contains(c.RequestedScopes, ScopeOpenID) && !slices.Contains(out, ScopeOpenID) {
			out = append([]string{ScopeOpenID}, out...)
		}
		c.GrantedScopes = out
	}
	return s.store.UpdateLoginChallenge(ctx, c)
}

// Consume takes the challenge out of storage (exactly once) for the
// authorization endpoint to finish the request.
func (s *Challenges) Consume(ctx context.Context, value string) (storage.LoginChallenge, error) {
	return s.load(ctx, value, s.store.ConsumeLoginChallenge)
}

// RememberedConsent reports whether the user's remembered consent for the
// client covers every scope.
func (s *Challenges) RememberedConsent(ctx context.Context, userID, clientID string, scopes []string) (bool, error) {
	c, err := s.store.GetConsent(ctx, userID, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	for _, sc := range scopes {
		if !slices.Contains(c.Scopes, sc) {
			return false, nil
		}
	}
	return true, nil
}
