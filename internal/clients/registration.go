package clients

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// ErrBadToken: an initial access token or registration access token that
// is unknown, expired, used up or not the client's. Callers answer
// invalid_token without saying which.
var ErrBadToken = errors.New("invalid registration token")

// RegistrationTokenStore is what registration tokens need from storage.
type RegistrationTokenStore interface {
	storage.RegistrationStore
}

// RegistrationTokens issues and checks the initial access tokens an
// administrator hands out for dynamic client registration (RFC 7591), and
// the registration access token each dynamically registered client manages
// itself with (RFC 7592). Tokens are 256 random bits; only their SHA-256
// is stored.
type RegistrationTokens struct {
	store RegistrationTokenStore
	now   func() time.Time
}

// NewRegistrationTokens returns the service; now is the clock (nil:
// time.Now).
func NewRegistrationTokens(store RegistrationTokenStore, now func() time.Time) *RegistrationTokens {
	if now == nil {
		now = time.Now
	}
	return &RegistrationTokens{store: store, now: now}
}

// NewRegistrationToken describes an initial access token to issue.
type NewRegistrationToken struct {
	Description string
	// ExpiresIn 0: never expires.
	ExpiresIn time.Duration
	// MaxUses 0: any number of registrations.
	MaxUses int
}

const maxDescription = 200

// Issue creates an initial access token and returns it with the token in
// plain text, this once.
func (s *RegistrationTokens) Issue(ctx context.Context, in NewRegistrationToken) (storage.RegistrationToken, string, error) {
	in.Description = strings.TrimSpace(in.Description)
	switch {
	case len(in.Description) > maxDescription || !printable(in.Description):
		return storage.RegistrationToken{}, "", invalid("description", "must be at most %d characters of text", maxDescription)
	case in.ExpiresIn < 0:
		return storage.RegistrationToken{}, "", invalid("expires_in", "must not be negative (0: never expires)")
	case in.MaxUses < 0:
		return storage.RegistrationToken{}, "", invalid("max_uses", "must not be negative (0: no limit)")
	}
	id, err := newClientID()
	if err != nil {
		return storage.RegistrationToken{}, "", err
	}
	token, err := newToken()
	if err != nil {
		return storage.RegistrationToken{}, "", err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	t := storage.RegistrationToken{ID: id, Hash: HashToken(token), Description: in.Description, CreatedAt: now, MaxUses: in.MaxUses}
	if in.ExpiresIn > 0 {
		t.ExpiresAt = now.Add(in.ExpiresIn)
	}
	if err := s.store.CreateRegistrationToken(ctx, t); err != nil {
		return storage.RegistrationToken{}, "", fmt.Errorf("create registration token: %w", err)
	}
	return t, token, nil
}

// List returns every initial access token (without the tokens).
func (s *RegistrationTokens) List(ctx context.Context) ([]storage.RegistrationToken, error) {
	list, err := s.store.ListRegistrationTokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("list registration tokens: %w", err)
	}
	return list, nil
}

// Revoke deletes an initial access token; ErrNotFound when there is none.
func (s *RegistrationTokens) Revoke(ctx context.Context, id string) error {
	if !lookupable(id) {
		return fmt.Errorf("%w: registration token %q", ErrNotFound, id)
	}
	err := s.store.DeleteRegistrationToken(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: registration token %s", ErrNotFound, id)
	}
	return err
}

// Use spends one registration of an initial access token; ErrBadToken
// when it is unknown, expired or used up.
func (s *RegistrationTokens) Use(ctx context.Context, token string) (storage.RegistrationToken, error) {
	if token == "" || len(token) > 200 {
		return storage.RegistrationToken{}, ErrBadToken
	}
	t, err := s.store.UseRegistrationToken(ctx, HashToken(token), s.now())
	if errors.Is(err, storage.ErrNotFound) {
		return storage.RegistrationToken{}, ErrBadToken
	}
	return t, err
}

// IssueAccessToken gives the client a new registration access token
// (replacing any previous one) and returns it in plain text, this once.
func (s *RegistrationTokens) IssueAccessToken(ctx context.Context, clientID string) (string, error) {
	token, err := newToken()
	if err != nil {
		return "", err
	}
	if err := s.store.SetClientRegistrationToken(ctx, clientID, HashToken(token)); err != nil {
		return "", fmt.Errorf("store registration access token: %w", err)
	}
	return token, nil
}

// CheckAccessToken reports, in constant time, whether token is the
// client's registration access token: ErrBadToken when the client is
// unknown, has none (registered by an administrator) or another one.
func (s *RegistrationTokens) CheckAccessToken(ctx context.Context, clientID, token string) error {
	if !lookupable(clientID) || token == "" || len(token) > 200 {
		return ErrBadToken
	}
	h, err := s.store.GetClientRegistrationToken(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return ErrBadToken
	}
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(h), []byte(HashToken(token))) != 1 {
		return ErrBadToken
	}
	return nil
}

// HashToken is how registration tokens are stored: SHA-256, hex.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("registration token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Dynamic is dynamic client registration (RFC 7591) and management (RFC
// 7592): the same validation as the admin API, every client public-facing
// (never first party: such clients always ask for consent), each with its
// own registration access token.
type Dynamic struct {
	clients *Service
	tokens  *RegistrationTokens
	tx      storage.Transactor
}

// NewDynamic returns the service.
func NewDynamic(clients *Service, tokens *RegistrationTokens, tx storage.Transactor) *Dynamic {
	return &Dynamic{clients: clients, tokens: tokens, tx: tx}
}

// Registered is the outcome of Register: the client, its secret (empty for
// a public client) and its registration access token, the last two in
// plain text this once.
type Registered struct {
	Client       storage.Client
	Secret       string
	AccessToken  string
	InitialToken storage.RegistrationToken
}

// Register validates r and creates the client with a registration access
// token. With requireToken, initialToken must be a valid initial access
// token, of which one use is spent in the same transaction (a refused
// registration spends none).
func (d *Dynamic) Register(ctx context.Context, r Registration, requireToken bool, initialToken string) (Registered, error) {
	r.FirstParty, r.Audience = false, nil
	if _, err := Validate(r); err != nil {
		return Registered{}, err
	}
	var out Registered
	err := d.tx.InTx(ctx, func(ctx context.Context) error {
		if requireToken {
			t, err := d.tokens.Use(ctx, initialToken)
			if err != nil {
				return err
			}
			out.InitialToken = t
		}
		c, secret, err := d.clients.Create(ctx, r)
		if err != nil {
			return err
		}
		rat, err := d.tokens.IssueAccessToken(ctx, c.ID)
		if err != nil {
			return err
		}
		out.Client, out.Secret, out.AccessToken = c, secret, rat
		return nil
	})
	return out, err
}

// Read returns the client when accessToken is its registration access
// token (ErrBadToken otherwise, also for an unknown client).
func (d *Dynamic) Read(ctx context.Context, clientID, accessToken string) (storage.Client, error) {
	if err := d.tokens.CheckAccessToken(ctx, clientID, accessToken); err != nil {
		return storage.Client{}, err
	}
	c, err := d.clients.Get(ctx, clientID)
	if errors.Is(err, ErrNotFound) {
		return storage.Client{}, ErrBadToken
	}
	return c, err
}

// Update replaces the client's registration (RFC 7592: omitted fields take
// their defaults) and returns it with a new secret when it became
// confidential.
func (d *Dynamic) Update(ctx context.Context, clientID, accessToken string, r Registration) (storage.Client, string, error) {
	r.FirstParty, r.Audience = false, nil
	if err := d.tokens.CheckAccessToken(ctx, clientID, accessToken); err != nil {
		return storage.Client{}, "", err
	}
	// require_mfa is the administrator's to set, not the client's: its own
	// update must not drop it.
	c, secret, err := d.clients.Edit(ctx, clientID, func(cur Registration) (Registration, error) {
		r.RequireMFA = cur.RequireMFA
		return r, nil
	})
	if errors.Is(err, ErrNotFound) {
		return storage.Client{}, "", ErrBadToken
	}
	return c, secret, err
}

// Delete deletes the client (its registration access token goes with it).
func (d *Dynamic) Delete(ctx context.Context, clientID, accessToken string) error {
	if err := d.tokens.CheckAccessToken(ctx, clientID, accessToken); err != nil {
		return err
	}
	err := d.clients.Delete(ctx, clientID)
	if errors.Is(err, ErrNotFound) {
		return ErrBadToken
	}
	return err
}
