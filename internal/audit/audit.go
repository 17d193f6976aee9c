// Package audit records security and administration events (who did
// what, to what, when, from which address) in the audit log and reads
// the latest ones back.
//
// Recording never fails the operation it describes: a storage error is
// logged and swallowed, because refusing a login or a password reset
// because the log is unavailable would be worse than a missing line.
// Details never hold secrets: keys that look like one are dropped.
//
// Who is acting travels in the context (WithActor): the admin API sets
// "admin-api" and the caller's address, pages set the signed-in user; the
// services below record with it and may use it for rules such as "an
// administrator cannot disable themselves".
package audit

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/signet-idp/signet/internal/storage"
)

// Action names. Services record these; `signet audit tail` shows them.
const (
	LoginSuccess         = "login.success"
	LoginFailure         = "login.failure"
	LoginLockout         = "login.lockout"
	PasswordChange       = "password.change"
	PasswordReset        = "password.reset"
	PasswordResetRequest = "password.reset_request"
	ConsentGrant         = "consent.grant"
	ConsentRevoke        = "consent.revoke"
	RoleChange           = "role.change"
	UserCreate           = "user.create"
	UserRegister         = "user.register"
	// UserRegisterExisting: a sign-up named an address that has an
	// account; the owner was notified and nothing was created.
	UserRegisterExisting = "user.register_existing_email"
	UserDisable          = "user.disable"
	UserEnable           = "user.enable"
	UserDelete           = "user.delete"
	UserUpdate           = "user.update"
	ClientCreate         = "client.create"
	ClientDelete         = "client.delete"
	// ClientRegister, ClientUpdate: dynamic client registration (RFC
	// 7591) and its management by the client (RFC 7592).
	// ClientUpdate is also an administrator's edit (admin API, console).
	ClientRegister = "client.register"
	ClientUpdate   = "client.update"
	// ClientRotateSecret: an administrator gave a client a new secret.
	ClientRotateSecret = "client.rotate_secret"
	// RegistrationTokenCreate, RegistrationTokenRevoke: initial access
	// tokens for dynamic registration.
	RegistrationTokenCreate = "registration_token.create"
	RegistrationTokenRevoke = "registration_token.revoke"
	// KeyRotate: a signing-key rotation asked through the admin API.
	KeyRotate        = "key.rotate"
	RoleCreate       = "role.create"
	RoleDelete       = "role.delete"
	SessionRevokeAll = "session.revoke_all"
	EmailVerify      = "email.verify"
	EmailVerifySent  = "email.verify_sent"
	EmailChange      = "email.change"
	// GrantRevokeAutomatic: the server revoked a grant's tokens by itself
	// (details: reason code_replay, refresh_reuse or user_unavailable,
	// client_id, grant); the target is the grant's user.
	GrantRevokeAutomatic = "grant.revoke_automatic"
	// ClientAssertionRefused: a private_key_jwt client assertion was
	// replayed or signed with a key the client did not register (details:
	// reason replay or bad_signature); the target is the client.
	ClientAssertionRefused = "client.assertion_refused"
	// Upstream identity providers (connectors).
	ConnectorCreate      = "connector.create"
	ConnectorUpdate      = "connector.update"
	ConnectorDelete      = "connector.delete"
	UpstreamLogin        = "upstream.login"
	UpstreamLoginFailure = "upstream.login_failure"
	UpstreamUserCreate   = "upstream.user_create"
	UpstreamLink         = "upstream.link"
	UpstreamLinkRefused  = "upstream.link_refused"
	UpstreamUnlink       = "upstream.unlink"
)

// Well-known actors.
const (
	// ActorAdminAPI is every call through the admin API (its one bearer
	// token names no person).
	ActorAdminAPI = "admin-api"
	// ActorSystem is the server itself (and callers that set no actor).
	ActorSystem = "system"
	// ActorAnonymous is a person not signed in (registration, a
	// forgotten password).
	ActorAnonymous = "anonymous"
)

// Actor is who is acting and from where.
type Actor struct {
	// ID is a user id or one of the well-known actors.
	ID string
	// IP is the client address, "" when there is none (CLI on the host).
	IP string
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor in ctx; ok is false when none was set.
func ActorFrom(ctx context.Context) (a Actor, ok bool) {
	a, ok = ctx.Value(actorKey{}).(Actor)
	return a, ok
}

// Event is one thing that happened. Empty Actor and IP are taken from the
// context (then ActorSystem).
type Event struct {
	Actor  string
	Action string
	Target string
	IP     string
	// Details add context (a client id, the new roles). Never secrets:
	// keys naming one (password, secret, token, hash) are dropped.
	Details map[string]string
}

// Limits on what one event stores.
const (
	// DefaultTailLimit and MaxTailLimit bound Tail.
	DefaultTailLimit = 50
	MaxTailLimit     = 1000
	maxFieldLen      = 512
	maxDetails       = 32
)

// Recorder is what services need to write events.
type Recorder interface {
	Record(ctx context.Context, e Event)
}

// Service writes and reads the audit log.
type Service struct {
	store  storage.AuditStore
	now    func() time.Time
	logger *slog.Logger
}

// New returns a Service over store. now nil means time.Now; logger nil
// means slog.Default.
func New(store storage.AuditStore, now func() time.Time, logger *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{store: store, now: now, logger: logger}
}

// Record appends e to the log. It never fails: errors are logged. It runs
// outside the caller's cancellation (a request that ends just after its
// change committed still leaves its line), so call it after the change is
// committed, not inside the transaction.
func (s *Service) Record(ctx context.Context, e Event) {
	if a, ok := ActorFrom(ctx); ok {
		if e.Actor == "" {
			e.Actor = a.ID
		}
		if e.IP == "" {
			e.IP = a.IP
		}
	}
	if e.Actor == "" {
		e.Actor = ActorSystem
	}
	ev := storage.AuditEvent{
		At:      s.now().UTC().Truncate(time.Microsecond),
		Actor:   clean(e.Actor),
		Action:  clean(e.Action),
		Target:  clean(e.Target),
		IP:      clean(e.IP),
		Details: cleanDetails(e.Details),
	}
	ctx = context.WithoutCancel(ctx)
	if err := s.store.AppendAudit(ctx, ev); err != nil {
		s.logger.ErrorContext(ctx, "audit event not recorded", "action", ev.Action, "actor", ev.Actor,
			"target", ev.Target, "err", err)
	}
}

// Tail returns the newest events first, at most limit (0 means
// DefaultTailLimit; at most MaxTailLimit).
func (s *Service) Tail(ctx context.Context, limit int) ([]storage.AuditEvent, error) {
	switch {
	case limit < 0:
		return nil, errors.New("audit: limit must not be negative")
	case limit == 0:
		limit = DefaultTailLimit
	case limit > MaxTailLimit:
		limit = MaxTailLimit
	}
	events, err := s.store.ListAudit(ctx, limit)
	if err != nil {
		return nil, err
	}
	if events == nil {
		events = []storage.AuditEvent{}
	}
	return events, nil
}

// secretWords mark detail keys that must not be stored.
var secretWords = []string{"password", "secret", "token", "hash", "credential", "cookie"}

func cleanDetails(d map[string]string) map[string]string {
	if len(d) == 0 {
		return nil
	}
	out := make(map[string]string, len(d))
	for k, v := range d {
		lk := strings.ToLower(k)
		secret := false
		for _, w := range secretWords {
			if strings.Contains(lk, w) {
				secret = true
				break
			}
		}
		if secret || len(out) >= maxDetails {
			continue
		}
		out[clean(k)] = clean(v)
	}
	return out
}

// clean makes a value storable on every backend: valid UTF-8 without NUL
// (PostgreSQL refuses both in text), bounded in length.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) > maxFieldLen {
		cut := maxFieldLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
