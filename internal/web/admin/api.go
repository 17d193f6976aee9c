package admin

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
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
}

// API is the JSON admin API: clients, users and roles.
type API struct {
	accounts Accounts
	clients  Clients
	logger   *slog.Logger
}

// NewAPI returns the API over the two services. logger receives internal
// errors (never request bodies); nil discards them.
func NewAPI(acc Accounts, cl Clients, logger *slog.Logger) *API {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &API{accounts: acc, clients: cl, logger: logger}
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
	g.Use(rejectBrowsers)

	g.POST("/clients", a.createClient)
	g.GET("/clients", a.listClients)
	g.GET("/clients/:id", a.getClient)
	g.DELETE("/clients/:id", a.deleteClient)

	g.POST("/users", a.createUser)
	g.GET("/users", a.listUsers)
	g.GET("/users/:id", a.getUser)
	g.DELETE("/users/:id", a.deleteUser)
	g.PUT("/users/:id/roles", a.setUserRoles)
	g.POST("/users/:id/disable", a.disableUser)
	g.POST("/users/:id/enable", a.enableUser)

	g.POST("/roles", a.createRole)
	g.GET("/roles", a.listRoles)
	g.DELETE("/roles/:name", a.deleteRole)

	g.RouteNotFound("/*", func(c echo.Context) error {
		return writeError(c, http.StatusNotFound, "not_found", "no such admin API endpoint (or method)")
	})
}
