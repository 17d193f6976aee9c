package admin

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/adminapi"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/keys"
	"github.com/signet-idp/signet/internal/storage"
)

// toClientResponse shows a stored client; only createClient adds the
// secret. A client stored without an ID token algorithm gets the
// provider's default, RS256, and is shown with it.
func toClientResponse(c storage.Client) adminapi.OAuthClient {
	alg := c.IDTokenSignedResponseAlg
	if alg == "" {
		alg = keys.AlgRS256
	}
	format := c.AccessTokenFormat
	if format == "" {
		format = storage.AccessTokenOpaque
	}
	out := adminapi.OAuthClient{
		ClientID:                           c.ID,
		ClientName:                         c.Name,
		RedirectURIs:                       nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs:             nonNil(c.PostLogoutRedirectURIs),
		GrantTypes:                         nonNil(c.GrantTypes),
		ResponseTypes:                      nonNil(c.ResponseTypes),
		Scope:                              strings.Join(c.Scopes, " "),
		TokenEndpointAuthMethod:            c.TokenEndpointAuthMethod,
		FirstParty:                         c.FirstParty,
		RequireMFA:                         c.RequireMFA,
		IDTokenSignedResponseAlg:           alg,
		JWKSURI:                            c.JWKSURI,
		TokenEndpointAuthSigningAlg:        c.TokenEndpointAuthSigningAlg,
		RequirePushedAuthorizationRequests: c.RequirePushedAuthorizationRequests,
		AccessTokenFormat:                  format,
		Audience:                           nonNil(c.Audience),
		BackchannelLogoutURI:               c.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired:   c.BackchannelLogoutSessionRequired,
		CreatedAt:                          c.CreatedAt,
	}
	if c.JWKS != "" {
		out.JWKS = json.RawMessage(c.JWKS)
	}
	return out
}

func toUserResponse(u accounts.User) adminapi.User {
	return adminapi.User{
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

func toRoleResponse(r accounts.Role) adminapi.Role {
	return adminapi.Role{Name: r.Name, Description: r.Description, CreatedAt: r.CreatedAt}
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

// jsonText is a raw JSON member as text; null (or absent) is empty.
func jsonText(m json.RawMessage) string {
	if t := strings.TrimSpace(string(m)); t != "null" {
		return t
	}
	return ""
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// toRegistration is the service's registration of a request body.
func toRegistration(req adminapi.ClientRegistration) clients.Registration {
	return clients.Registration{
		Name:                               req.ClientName,
		RedirectURIs:                       req.RedirectURIs,
		PostLogoutRedirectURIs:             req.PostLogoutRedirectURIs,
		GrantTypes:                         req.GrantTypes,
		ResponseTypes:                      req.ResponseTypes,
		Scopes:                             strings.Fields(req.Scope),
		TokenEndpointAuthMethod:            req.TokenEndpointAuthMethod,
		FirstParty:                         req.FirstParty,
		RequireMFA:                         req.RequireMFA,
		IDTokenSignedResponseAlg:           req.IDTokenSignedResponseAlg,
		JWKS:                               string(req.JWKS),
		JWKSURI:                            req.JWKSURI,
		TokenEndpointAuthSigningAlg:        req.TokenEndpointAuthSigningAlg,
		RequirePushedAuthorizationRequests: req.RequirePushedAuthorizationRequests,
		AccessTokenFormat:                  req.AccessTokenFormat,
		Audience:                           req.Audience,
		BackchannelLogoutURI:               req.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired:   req.BackchannelLogoutSessionRequired,
	}
}

// toRegistrationBody is a stored registration as a request body, for
// PATCH to decode the changes onto.
func toRegistrationBody(r clients.Registration) adminapi.ClientRegistration {
	out := adminapi.ClientRegistration{
		ClientName:                         r.Name,
		RedirectURIs:                       r.RedirectURIs,
		PostLogoutRedirectURIs:             r.PostLogoutRedirectURIs,
		GrantTypes:                         r.GrantTypes,
		ResponseTypes:                      r.ResponseTypes,
		Scope:                              strings.Join(r.Scopes, " "),
		TokenEndpointAuthMethod:            r.TokenEndpointAuthMethod,
		FirstParty:                         r.FirstParty,
		RequireMFA:                         r.RequireMFA,
		IDTokenSignedResponseAlg:           r.IDTokenSignedResponseAlg,
		JWKSURI:                            r.JWKSURI,
		TokenEndpointAuthSigningAlg:        r.TokenEndpointAuthSigningAlg,
		RequirePushedAuthorizationRequests: r.RequirePushedAuthorizationRequests,
		AccessTokenFormat:                  r.AccessTokenFormat,
		Audience:                           r.Audience,
		BackchannelLogoutURI:               r.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired:   r.BackchannelLogoutSessionRequired,
	}
	if r.JWKS != "" {
		out.JWKS = json.RawMessage(r.JWKS)
	}
	return out
}

func (a *API) createClient(c echo.Context) error {
	var req adminapi.ClientRegistration
	if err := decode(c, &req); err != nil {
		return a.fail(c, err)
	}
	client, secret, err := a.clients.Create(c.Request().Context(), toRegistration(req))
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
	out := make([]adminapi.OAuthClient, 0, len(list))
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

// updateClient changes the fields the body names and keeps the others:
// the body is decoded onto the client's current registration, then
// validated as a new one would be. A client that became confidential gets
// a secret, shown this once.
func (a *API) updateClient(c echo.Context) error {
	ctx := c.Request().Context()
	body, err := readBody(c)
	if err != nil {
		return a.fail(c, err)
	}
	// A malformed body is a 400 whether or not the client exists, as on
	// every other route.
	if err := decodeJSON(body, &adminapi.ClientRegistration{}); err != nil {
		return a.fail(c, err)
	}
	var fields []string
	client, secret, err := a.clients.Edit(ctx, param(c, "id"), func(cur clients.Registration) (clients.Registration, error) {
		req := toRegistrationBody(cur)
		if err := decodeJSON(body, &req); err != nil {
			return cur, err
		}
		// A null jwks clears it, as an absent one does on create.
		req.JWKS = json.RawMessage(jsonText(req.JWKS))
		var named map[string]json.RawMessage
		if err := json.Unmarshal(body, &named); err != nil {
			return cur, badRequest(describeJSONError(err))
		}
		fields = slices.Sorted(maps.Keys(named))
		return toRegistration(req), nil
	})
	if err != nil {
		return a.fail(c, err)
	}
	details := map[string]string{"name": client.Name, "fields": strings.Join(fields, ",")}
	if secret != "" {
		details["became_confidential"] = "true"
	}
	a.audit.Record(ctx, audit.Event{Action: audit.ClientUpdate, Target: client.ID, Details: details})
	resp := toClientResponse(client)
	resp.ClientSecret = secret
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, resp)
}

// rotateClientSecret gives a confidential client a new secret, shown this
// once; the old one stops working at once (other replicas: within
// --client-cache-ttl), the client's tokens do not.
func (a *API) rotateClientSecret(c echo.Context) error {
	ctx := c.Request().Context()
	client, secret, err := a.clients.RotateSecret(ctx, param(c, "id"))
	if err != nil {
		return a.fail(c, err)
	}
	a.audit.Record(ctx, audit.Event{Action: audit.ClientRotateSecret, Target: client.ID,
		Details: map[string]string{"name": client.Name}})
	resp := toClientResponse(client)
	resp.ClientSecret = secret
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, resp)
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
	var req adminapi.NewUser
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
	out, err := a.users(c, users...)
	if err != nil {
		return a.fail(c, err)
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
	return a.userJSON(c, http.StatusOK, u)
}

func (a *API) deleteUser(c echo.Context) error {
	if err := a.accounts.DeleteUser(c.Request().Context(), param(c, "id")); err != nil {
		return a.fail(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *API) setUserRoles(c echo.Context) error {
	var req adminapi.UserRoles
	if err := decode(c, &req); err != nil {
		return a.fail(c, err)
	}
	if req.Roles == nil { // absent or null; [] decodes to an empty slice
		return a.fail(c, badRequest(`field "roles" is required (an empty array removes every role)`))
	}
	u, err := a.accounts.SetRoles(c.Request().Context(), param(c, "id"), req.Roles)
	if err != nil {
		return a.fail(c, err)
	}
	return a.userJSON(c, http.StatusOK, u)
}

func (a *API) disableUser(c echo.Context) error {
	u, err := a.accounts.DisableUser(c.Request().Context(), param(c, "id"))
	if err != nil {
		return a.fail(c, err)
	}
	return a.userJSON(c, http.StatusOK, u)
}

func (a *API) enableUser(c echo.Context) error {
	u, err := a.accounts.EnableUser(c.Request().Context(), param(c, "id"))
	if err != nil {
		return a.fail(c, err)
	}
	return a.userJSON(c, http.StatusOK, u)
}

func (a *API) createRole(c echo.Context) error {
	var req adminapi.NewRole
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
	out := make([]adminapi.Role, 0, len(roles))
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
	return a.userJSON(c, http.StatusOK, u)
}

// sendUserReset mails the user a password reset link and answers the user
// (the address it went to is the user's e-mail).
func (a *API) sendUserReset(c echo.Context) error {
	u, err := a.accounts.SendPasswordReset(c.Request().Context(), param(c, "id"))
	if err != nil {
		return a.fail(c, err)
	}
	return a.userJSON(c, http.StatusOK, u)
}

// logoutUser ends every session of the user and revokes every token issued
// to them.
func (a *API) logoutUser(c echo.Context) error {
	n, err := a.accounts.SignOutEverywhere(c.Request().Context(), param(c, "id"))
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, adminapi.LogoutResult{SessionsEnded: n})
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
	out := make([]adminapi.AuditEvent, 0, len(events))
	for _, e := range events {
		d := e.Details
		if d == nil {
			d = map[string]string{}
		}
		out = append(out, adminapi.AuditEvent{ID: e.ID, At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target,
			IP: e.IP, Details: d})
	}
	return c.JSON(http.StatusOK, out)
}
