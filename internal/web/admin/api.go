package admin

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/storage"
)

// Accounts is what the API uses of the accounts service.
type Accounts interface {
	CreateUser(ctx context.Context, u accounts.NewUser) (accounts.User, error)
	GetUser(ctx context.Context, ref string) (accounts.User, error)
	ListUsers(ctx context.Context, q accounts.UserQuery) ([]accounts.User, error)
	SetRoles(ctx context.Context, ref string, roles []string) (accounts.User, error)
	DisableUser(ctx context.Context, ref string) (accounts.User, error)
	EnableUser(ctx context.Context, ref string) (accounts.User, error)
	DeleteUser(ctx context.Context, ref string) error
	MarkEmailVerified(ctx context.Context, ref string) (accounts.User, error)
	SendPasswordReset(ctx context.Context, ref string) (accounts.User, error)
	SignOutEverywhere(ctx context.Context, ref string) (int, error)
	CreateRole(ctx context.Context, name, description string) (accounts.Role, error)
	ListRoles(ctx context.Context) ([]accounts.Role, error)
	DeleteRole(ctx context.Context, name string) error
}

// Clients is what the API uses of the clients service.
type Clients interface {
	Create(ctx context.Context, r clients.Registration) (storage.Client, string, error)
	Get(ctx context.Context, id string) (storage.Client, error)
	List(ctx context.Context) ([]storage.Client, error)
	Delete(ctx context.Context, id string) error
	Edit(ctx context.Context, id string, edit func(current clients.Registration) (clients.Registration, error)) (storage.Client, string, error)
	RotateSecret(ctx context.Context, id string) (storage.Client, string, error)
}

// Audit is what the API uses of the audit service: it records client
// changes itself (the accounts service records its own) and serves the
// log's tail.
type Audit interface {
	Record(ctx context.Context, e audit.Event)
	Tail(ctx context.Context, limit int) ([]storage.AuditEvent, error)
}

// API is the JSON admin API: clients, users, roles and the audit log.
type API struct {
	accounts Accounts
	clients  Clients
	audit    Audit
	logger   *slog.Logger
	// connectors is nil until WithConnectors: no /connectors routes.
	connectors Connectors
	// mfa is nil until WithMFA: no reset-mfa route, mfa_enrolled false.
	mfa SecondFactors
	// regTokens serves /registration-tokens (nil: not mounted).
	regTokens RegistrationTokens
}

// NewAPI returns the API over the services. au nil records nothing and
// shows an empty log; logger receives internal errors (never request
// bodies); nil discards them.
func NewAPI(acc Accounts, cl Clients, au Audit, logger *slog.Logger) *API {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if au == nil {
		au = noAudit{}
	}
	return &API{accounts: acc, clients: cl, audit: au, logger: logger}
}

type noAudit struct{}

func (noAudit) Record(context.Context, audit.Event) {}
func (noAudit) Tail(context.Context, int) ([]storage.AuditEvent, error) {
	return []storage.AuditEvent{}, nil
}

// DefaultListLimit and MaxListLimit bound GET /users: a page, not the whole
// table, unless asked.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// Register mounts the routes on g (the caller picks the prefix, /admin, and
// adds RequireBearer). Unknown paths under g answer 404 in the API's JSON
// error shape.
func (a *API) Register(g *echo.Group) {
	// Group middleware applies to the routes added after it, so first.
	g.Use(rejectBrowsers, actAsAdminAPI)

	g.POST("/clients", a.createClient)
	g.GET("/clients", a.listClients)
	g.GET("/clients/:id", a.getClient)
	g.DELETE("/clients/:id", a.deleteClient)
	g.PATCH("/clients/:id", a.updateClient)
	g.POST("/clients/:id/rotate-secret", a.rotateClientSecret)

	g.POST("/users", a.createUser)
	g.GET("/users", a.listUsers)
	g.GET("/users/:id", a.getUser)
	g.DELETE("/users/:id", a.deleteUser)
	g.PUT("/users/:id/roles", a.setUserRoles)
	g.POST("/users/:id/disable", a.disableUser)
	g.POST("/users/:id/enable", a.enableUser)
	g.POST("/users/:id/verify-email", a.verifyUserEmail)
	g.POST("/users/:id/send-reset", a.sendUserReset)
	g.POST("/users/:id/logout", a.logoutUser)

	g.POST("/roles", a.createRole)
	g.GET("/roles", a.listRoles)
	g.DELETE("/roles/:name", a.deleteRole)

	g.GET("/audit", a.tailAudit)

	a.registerRegistrationTokens(g)

	g.GET("/openapi.json", serveOpenAPI)

	a.registerConnectors(g)
	a.registerMFA(g)

	g.RouteNotFound("/*", func(c echo.Context) error {
		return writeError(c, http.StatusNotFound, "not_found", "no such admin API endpoint (or method)")
	})
}

// actAsAdminAPI names who acts for the services and the audit log: the
// admin API (its token names no person) from the caller's address. The
// address is the connection's peer unless the server was told how to read
// a proxy's headers (Echo's IPExtractor): a client-chosen X-Forwarded-For
// must not forge the audit log.
func actAsAdminAPI(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		ip := echo.ExtractIPDirect()(r)
		if c.Echo().IPExtractor != nil {
			ip = c.RealIP()
		}
		c.SetRequest(r.WithContext(audit.WithActor(r.Context(), audit.Actor{ID: audit.ActorAdminAPI, IP: ip})))
		return next(c)
	}
}
