package console

import (
	"context"
	"net/http"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/storage"
)

// Sessions finds the browser session of a request (sessions.Manager).
type Sessions interface {
	// Current returns sessions.ErrNoSession when there is none.
	Current(r *http.Request) (storage.Session, error)
}

// Accounts is what the console uses of the accounts service.
type Accounts interface {
	GetUser(ctx context.Context, ref string) (accounts.User, error)
	ListUsers(ctx context.Context, q accounts.UserQuery) ([]accounts.User, error)
	SetRoles(ctx context.Context, ref string, roles []string) (accounts.User, error)
	DisableUser(ctx context.Context, ref string) (accounts.User, error)
	EnableUser(ctx context.Context, ref string) (accounts.User, error)
	MarkEmailVerified(ctx context.Context, ref string) (accounts.User, error)
	SendPasswordReset(ctx context.Context, ref string) (accounts.User, error)
	SignOutEverywhere(ctx context.Context, ref string) (int, error)
	ListRoles(ctx context.Context) ([]accounts.Role, error)
	CreateRole(ctx context.Context, name, description string) (accounts.Role, error)
	DeleteRole(ctx context.Context, name string) error
}

// Clients is what the console uses of the clients service.
type Clients interface {
	Create(ctx context.Context, r clients.Registration) (storage.Client, string, error)
	List(ctx context.Context) ([]storage.Client, error)
	Delete(ctx context.Context, id string) error
	Get(ctx context.Context, id string) (storage.Client, error)
	Edit(ctx context.Context, id string, edit func(current clients.Registration) (clients.Registration, error)) (storage.Client, string, error)
	RotateSecret(ctx context.Context, id string) (storage.Client, string, error)
}

// Audit records the console's client changes (the accounts service
// records its own) and reads the log.
type Audit interface {
	Record(ctx context.Context, e audit.Event)
	Tail(ctx context.Context, limit int) ([]storage.AuditEvent, error)
}

// SecondFactors is what the console uses of two-factor sign-in
// (internal/mfa's Service): who has a second factor, and the reset for
// someone who lost theirs.
type SecondFactors interface {
	Statuses(ctx context.Context, userIDs []string) (map[string]storage.MFAStatus, error)
	Reset(ctx context.Context, userID string) error
}

// MFAPolicy says whether a user must sign in with a second factor (their
// role or the server requires it): the console then needs a two-factor
// session.
type MFAPolicy interface {
	Required(ctx context.Context, userID string) (bool, error)
}
