package sessions

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/signet-idp/signet/internal/storage"
)

// ErrNoSession: the request carries no cookie, or one whose session has
// ended or expired.
var ErrNoSession = errors.New("sessions: no valid session")

// Defaults of Options.
const (
	DefaultCookieName  = "signet_session"
	DefaultRememberFor = 30 * 24 * time.Hour
	DefaultIdleTimeout = time.Hour
	DefaultMaxLifetime = 24 * time.Hour
	// touchInterval spares a write on every request: LastSeenAt moves
	// at most this often.
	touchInterval = time.Minute
)

// Store is what sessions need from storage.
type Store interface {
	storage.SessionStore
}

// Options tunes a Manager; zero values take the defaults.
type Options struct {
	// CookieName names the session cookie.
	CookieName string
	// Secure marks the cookie Secure; set it when the issuer is https.
	Secure bool
	// RememberFor is how long a "remember me" session and its persistent
	// cookie last.
	RememberFor time.Duration
	// IdleTimeout ends a session that was not remembered after this long
	// without use; its cookie lasts until the browser closes.
	IdleTimeout time.Duration
	// MaxLifetime caps a session that was not remembered, however busy.
	MaxLifetime time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Manager starts, finds and ends browser sessions. Safe for concurrent use.
type Manager struct {
	store Store
	opts  Options
}

// NewManager returns a Manager over store.
func NewManager(store Store, o Options) *Manager {
	if o.CookieName == "" {
		o.CookieName = DefaultCookieName
	}
	if o.RememberFor <= 0 {
		o.RememberFor = DefaultRememberFor
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxLifetime <= 0 {
		o.MaxLifetime = DefaultMaxLifetime
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Manager{store: store, opts: o}
}

// CookieName is the name of the session cookie.
func (m *Manager) CookieName() string { return m.opts.CookieName }

// Now is the manager's clock.
func (m *Manager) Now() time.Time { return m.opts.Now() }

// HashToken is how a cookie value is kept in storage.Session.TokenHash.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Current returns the session the request's cookie names. An expired
// session is deleted and reported as ErrNoSession; a live one that was not
// remembered has its idle deadline pushed forward. Storage failures come
// back wrapped (storage.ErrUnavailable stays matchable).
func (m *Manager) Current(r *http.Request) (storage.Session, error) {
	c, err := r.Cookie(m.opts.CookieName)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return storage.Session{}, ErrNoSession
	}
	ctx := r.Context()
	s, err := m.store.GetSessionByTokenHash(ctx, HashToken(c.Value))
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Session{}, ErrNoSession
	}
	if err != nil {
		return storage.Session{}, fmt.Errorf("look up session: %w", err)
	}
	now := m.opts.Now()
	if !now.Before(s.ExpiresAt) {
		if err := m.store.DeleteSession(ctx, s.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return storage.Session{}, fmt.Errorf("delete expired session: %w", err)
		}
		return storage.Session{}, ErrNoSession
	}
	if !s.Remember && now.Sub(s.LastSeenAt) >= touchInterval {
		exp := m.idleDeadline(s.CreatedAt, now)
		switch err := m.store.TouchSession(ctx, s.ID, now, exp); {
		case err == nil:
			s.LastSeenAt, s.ExpiresAt = now, exp
		case errors.Is(err, storage.ErrNotFound):
			// Ended by a concurrent logout.
			return storage.Session{}, ErrNoSession
		default:
			return storage.Session{}, fmt.Errorf("touch session: %w", err)
		}
	}
	return s, nil
}

func (m *Manager) idleDeadline(created, now time.Time) time.Time {
	exp := now.Add(m.opts.IdleTimeout)
	if limit := created.Add(m.opts.MaxLifetime); exp.After(limit) {
		exp = limit
	}
	return exp
}

// StartInput describes a successful login.
type StartInput struct {
	UserID string
	// Remember asks for a persistent cookie and a long session.
	Remember  bool
	UserAgent string
	IP        string
	// AMR says how the person authenticated (RFC 8176: "pwd", "otp",
	// "hwk", "mfa", "fed"), ACR the class that reached; IDP is the
	// connector they came through ("" for none). ID tokens carry them.
	AMR []string
	ACR string
	IDP string
}

// Start creates a fresh session for a person who just authenticated and
// sets its cookie on w. Any session the request already carried is ended
// first: the id and the token are always new after a login, so a cookie
// planted before login is worth nothing after it.
func (m *Manager) Start(w http.ResponseWriter, r *http.Request, in StartInput) (storage.Session, error) {
	ctx := r.Context()
	if err := m.endCurrent(ctx, r); err != nil {
		return storage.Session{}, err
	}
	token, err := randomString(32)
	if err != nil {
		return storage.Session{}, err
	}
	id, err := randomString(18)
	if err != nil {
		return storage.Session{}, err
	}
	now := m.opts.Now().UTC()
	s := storage.Session{
		ID:         id,
		TokenHash:  HashToken(token),
		UserID:     in.UserID,
		AuthTime:   now,
		CreatedAt:  now,
		LastSeenAt: now,
		Remember:   in.Remember,
		UserAgent:  truncate(in.UserAgent, 512),
		IP:         truncate(in.IP, 64),
		AMR:        in.AMR,
		ACR:        in.ACR,
		IDP:        in.IDP,
	}
	if in.Remember {
		s.ExpiresAt = now.Add(m.opts.RememberFor)
	} else {
		s.ExpiresAt = m.idleDeadline(now, now)
	}
	if err := m.store.CreateSession(ctx, s); err != nil {
		return storage.Session{}, fmt.Errorf("create session: %w", err)
	}
	cookie := m.cookie(token)
	if in.Remember {
		cookie.MaxAge = int(m.opts.RememberFor / time.Second)
		cookie.Expires = now.Add(m.opts.RememberFor)
	}
	http.SetCookie(w, cookie)
	return s, nil
}

// End deletes the request's session, if any, and clears the cookie. It
// returns the session that was ended, or ErrNoSession when there was none
// (the cookie is cleared all the same).
func (m *Manager) End(w http.ResponseWriter, r *http.Request) (storage.Session, error) {
	s, err := m.Current(r)
	m.ClearCookie(w)
	if err != nil {
		return storage.Session{}, err
	}
	if err := m.store.DeleteSession(r.Context(), s.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storage.Session{}, fmt.Errorf("end session: %w", err)
	}
	return s, nil
}

// ClearCookie tells the browser to drop the session cookie.
func (m *Manager) ClearCookie(w http.ResponseWriter) {
	c := m.cookie("")
	c.MaxAge = -1
	c.Expires = time.Unix(0, 0)
	http.SetCookie(w, c)
}

func (m *Manager) endCurrent(ctx context.Context, r *http.Request) error {
	c, err := r.Cookie(m.opts.CookieName)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return nil
	}
	s, err := m.store.GetSessionByTokenHash(ctx, HashToken(c.Value))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up previous session: %w", err)
	}
	if err := m.store.DeleteSession(ctx, s.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("end previous session: %w", err)
	}
	return nil
}

func (m *Manager) cookie(value string) *http.Cookie {
	return &http.Cookie{
		Name:     m.opts.CookieName,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		Secure:   m.opts.Secure,
		SameSite: http.SameSiteLaxMode,
	}
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("crypto/rand: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// truncate keeps at most n bytes of valid UTF-8 (PostgreSQL refuses
// anything else in a text column).
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}
