package admin

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/storage"
)

// clientRequest is the body of POST /clients, in RFC 7591 spelling plus
// first_party. Omitted lists take the defaults.
type clientRequest struct {
	ClientName             string   `json:"client_name"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	GrantTypes             []string `json:"grant_types"`
	ResponseTypes          []string `json:"response_types"`
	// Scope is space-separated, as in RFC 7591.
	Scope                   string `json:"scope"`
	TokenEndpointAuthMethod string `json:"token_endpoint_auth_method"`
	FirstParty              bool   `json:"first_party"`
}

// clientResponse is a client as the API shows it. ClientSecret is set only
// in the answer to POST /clients: it is not stored and cannot be shown
// again.
type clientResponse struct {
	ClientID                string    `json:"client_id"`
	ClientSecret            string    `json:"client_secret,omitempty"`
	ClientName              string    `json:"client_name"`
	RedirectURIs            []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs  []string  `json:"post_logout_redirect_uris"`
	GrantTypes              []string  `json:"grant_types"`
	ResponseTypes           []string  `json:"response_types"`
	Scope                   string    `json:"scope"`
	TokenEndpointAuthMethod string    `json:"token_endpoint_auth_method"`
	FirstParty              bool      `json:"first_party"`
	CreatedAt               time.Time `json:"created_at"`
}

func toClientResponse(c storage.Client) clientResponse {
	return clientResponse{
		ClientID:                c.ID,
		ClientName:              c.Name,
		RedirectURIs:            nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs:  nonNil(c.PostLogoutRedirectURIs),
		GrantTypes:              nonNil(c.GrantTypes),
		ResponseTypes:           nonNil(c.ResponseTypes),
		Scope:                   strings.Join(c.Scopes, " "),
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
		FirstParty:              c.FirstParty,
		CreatedAt:               c.CreatedAt,
	}
}

// userRequest is the body of POST /users.
type userRequest struct {
	Username      string   `json:"username"`
	Email         string   `json:"email"`
	Name          string   `json:"name"`
	Password      string   `json:"password"`
	EmailVerified bool     `json:"email_verified"`
	Roles         []string `json:"roles"`
}

// userResponse is a user as the API shows it; there is no password field
// of any kind.
type userResponse struct {
	ID            string    `json:"id"`
	Username      string    `json:"username"`
	Email         string    `json:"email"`
	Name          string    `json:"name"`
	EmailVerified bool      `json:"email_verified"`
	Disabled      bool      `json:"disabled"`
	Roles         []string  `json:"roles"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func toUserResponse(u accounts.User) userResponse {
	return userResponse{
		ID:            u.ID,
		Username:      u.Username,
		Email:         u.Email,
		Name:          u.Name,
		EmailVerified: u.EmailVerified,
		Disabled:      u.Disabled,
		Roles:         nonNil(u.Roles),
		CreatedAt:     u.CreatedAt,
		UpdatedAt:     u.UpdatedAt,
	}
}

// rolesRequest is the body of PUT /users/:id/roles.
type rolesRequest struct {
	// Roles is required (an empty array removes every role), so a body
	// that forgot it does not silently strip the user's roles.
	Roles *[]string `json:"roles"`
}

// roleRequest is the body of POST /roles.
type roleRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type roleResponse struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	CreatedAt   time.Time `json:"created_at"`
}

func toRoleResponse(r accounts.Role) roleResponse {
	return roleResponse{Name: r.Name, Description: r.Description, CreatedAt: r.CreatedAt}
}

// param returns a path parameter, unescaped. Echo routes on the raw path
// when the request's escaping is not Go's default (RawPath is set), and
// then its parameters are still escaped.
func param(c echo.Context, name string) string {
	v := c.Param(name)
	if c.Request().URL.RawPath == "" {
		return v
	}
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *API) createClient(c echo.Context) error {
	var req clientRequest
	if err := decode(c, &req); err != nil {
		return a.fail(c, err)
	}
	client, secret, err := a.clients.Create(c.Request().Context(), clients.Registration{
		Name:                    req.ClientName,
		RedirectURIs:            req.RedirectURIs,
		PostLogoutRedirectURIs:  req.PostLogoutRedirectURIs,
		GrantTypes:              req.GrantTypes,
		ResponseTypes:           req.ResponseTypes,
		Scopes:                  strings.Fields(req.Scope),
		TokenEndpointAuthMethod: req.TokenEndpointAuthMethod,
		FirstParty:              req.FirstParty,
	})
	if err != nil {
		return a.fail(c, err)
	}
	a.audit.Record(c.Request().Context(), audit.Event{Action: audit.ClientCreate, Target: client.ID,
		Details: map[string]string{"name": client.Name, "auth_method": client.TokenEndpointAuthMethod}})
	resp := toClientResponse(client)
	resp.ClientSecret = secret
	// The secret must not linger in any cache between here and the CLI.
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, resp)
}

func (a *API) listClients(c echo.Context) error {
	list, err := a.clients.List(c.Request().Context())
	if err != nil {
		return a.fail(c, err)
	}
	out := make([]clientResponse, 0, len(list))
	for _, cl := range list {
		out = append(out, toClientResponse(cl))
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) getClient(c echo.Context) error {
	cl, err := a.clients.Get(c.Request().Context(), param(c, "id"))
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, toClientResponse(cl))
}

func (a *API) deleteClient(c echo.Context) error {
	id := param(c, "id")
	if err := a.clients.Delete(c.Request().Context(), id); err != nil {
		return a.fail(c, err)
	}
	a.audit.Record(c.Request().Context(), audit.Event{Action: audit.ClientDelete, Target: id})
	return c.NoContent(http.StatusNoContent)
}

func (a *API) createUser(c echo.Context) error {
	var req userRequest
	if err := decode(c, &req); err != nil {
		return a.fail(c, err)
	}
	u, err := a.accounts.CreateUser(c.Request().Context(), accounts.NewUser{
		Username:      req.Username,
		Email:         req.Email,
		Name:          req.Name,
		Password:      req.Password,
		EmailVerified: req.EmailVerified,
		Roles:         req.Roles,
	})
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusCreated, toUserResponse(u))
}

func (a *API) listUsers(c echo.Context) error {
	q := accounts.UserQuery{Search: c.QueryParam("search"), Limit: DefaultListLimit}
	var err error
	if q.Limit, err = intParam(c, "limit", DefaultListLimit, 1, MaxListLimit); err != nil {
		return a.fail(c, err)
	}
	if q.Offset, err = intParam(c, "offset", 0, 0, 1<<31-1); err != nil {
		return a.fail(c, err)
	}
	users, err := a.accounts.ListUsers(c.Request().Context(), q)
	if err != nil {
		return a.fail(c, err)
	}
	out := make([]userResponse, 0, len(users))
	for _, u := range users {
		out = append(out, toUserResponse(u))
	}
	return c.JSON(http.StatusOK, out)
}

// intParam reads an optional integer query parameter within [lo, hi].
func intParam(c echo.Context, name string, def, lo, hi int) (int, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, badRequest(name + " must be a whole number from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi))
	}
	return n, nil
}

func (a *API) getUser(c echo.Context) error {
	u, err := a.accounts.GetUser(c.Request().Context(), param(c, "id"))
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, toUserResponse(u))
}

func (a *API) deleteUser(c echo.Context) error {
	if err := a.accounts.DeleteUser(c.Request().Context(), param(c, "id")); err != nil {
		return a.fail(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) setUserRoles(c echo.Context) error {
	var req rolesRequest
	if err := decode(c, &req); err != nil {
		return a.fail(c, err)
	}
	if req.Roles == nil {
		return a.fail(c, badRequest(`field "roles" is required (an empty array removes every role)`))
	}
	u, err := a.accounts.SetRoles(c.Request().Context(), param(c, "id"), *req.Roles)
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, toUserResponse(u))
}

func (a *API) disableUser(c echo.Context) error {
	u, err := a.accounts.DisableUser(c.Request().Context(), param(c, "id"))
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, toUserResponse(u))
}

func (a *API) enableUser(c echo.Context) error {
	u, err := a.accounts.EnableUser(c.Request().Context(), param(c, "id"))
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, toUserResponse(u))
}

func (a *API) createRole(c echo.Context) error {
	var req roleRequest
	if err := decode(c, &req); err != nil {
		return a.fail(c, err)
	}
	r, err := a.accounts.CreateRole(c.Request().Context(), req.Name, req.Description)
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusCreated, toRoleResponse(r))
}

func (a *API) listRoles(c echo.Context) error {
	roles, err := a.accounts.ListRoles(c.Request().Context())
	if err != nil {
		return a.fail(c, err)
	}
	out := make([]roleResponse, 0, len(roles))
	for _, r := range roles {
		out = append(out, toRoleResponse(r))
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) deleteRole(c echo.Context) error {
	if err := a.accounts.DeleteRole(c.Request().Context(), param(c, "name")); err != nil {
		return a.fail(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) verifyUserEmail(c echo.Context) error {
	u, err := a.accounts.MarkEmailVerified(c.Request().Context(), param(c, "id"))
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, toUserResponse(u))
}

// sendUserReset mails the user a password reset link and answers the user
// (the address it went to is the user's e-mail).
func (a *API) sendUserReset(c echo.Context) error {
	u, err := a.accounts.SendPasswordReset(c.Request().Context(), param(c, "id"))
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, toUserResponse(u))
}

// logoutResponse is the answer of POST /users/:id/logout.
type logoutResponse struct {
	SessionsEnded int `json:"sessions_ended"`
}

// logoutUser ends every session of the user and revokes every token issued
// to them.
func (a *API) logoutUser(c echo.Context) error {
	n, err := a.accounts.SignOutEverywhere(c.Request().Context(), param(c, "id"))
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, logoutResponse{SessionsEnded: n})
}

// auditEventResponse is one audit log line.
type auditEventResponse struct {
	ID      int64             `json:"id"`
	At      time.Time         `json:"at"`
	Actor   string            `json:"actor"`
	Action  string            `json:"action"`
	Target  string            `json:"target"`
	IP      string            `json:"ip"`
	Details map[string]string `json:"details"`
}

// tailAudit answers the newest audit events first: ?limit= from 1 to
// audit.MaxTailLimit, default audit.DefaultTailLimit.
func (a *API) tailAudit(c echo.Context) error {
	limit, err := intParam(c, "limit", audit.DefaultTailLimit, 1, audit.MaxTailLimit)
	if err != nil {
		return a.fail(c, err)
	}
	events, err := a.audit.Tail(c.Request().Context(), limit)
	if err != nil {
		return a.fail(c, err)
	}
	out := make([]auditEventResponse, 0, len(events))
	for _, e := range events {
		d := e.Details
		if d == nil {
			d = map[string]string{}
		}
		out = append(out, auditEventResponse{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target,
			IP: e.IP, Details: d})
	}
	return c.JSON(http.StatusOK, out)
}
