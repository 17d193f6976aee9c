package admin

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/adminapi"
	"github.com/signet-idp/signet/internal/connectors"
	"github.com/signet-idp/signet/internal/storage"
)

// Connectors is what the API uses of the connectors service.
type Connectors interface {
	Create(ctx context.Context, in connectors.Input) (connectors.View, error)
	Update(ctx context.Context, id string, p connectors.Patch) (connectors.View, error)
	Get(ctx context.Context, id string) (connectors.View, error)
	List(ctx context.Context) ([]connectors.View, error)
	Delete(ctx context.Context, id string) error
}

// WithConnectors adds the /connectors routes (upstream identity providers).
func (a *API) WithConnectors(c Connectors) *API {
	a.connectors = c
	return a
}

func (a *API) registerConnectors(g *echo.Group) {
	if a.connectors == nil {
		return
	}
	g.POST("/connectors", a.createConnector)
	g.GET("/connectors", a.listConnectors)
	g.GET("/connectors/:id", a.getConnector)
	g.PATCH("/connectors/:id", a.updateConnector)
	g.DELETE("/connectors/:id", a.deleteConnector)
}

func toRules(in []adminapi.RoleRule) []storage.RoleRule {
	if in == nil {
		return nil
	}
	out := make([]storage.RoleRule, 0, len(in))
	for _, r := range in {
		out = append(out, storage.RoleRule{Claim: r.Claim, Value: r.Value, Role: r.Role})
	}
	return out
}

func toConnector(v connectors.View) adminapi.Connector {
	rules := make([]adminapi.RoleRule, 0, len(v.RoleRules))
	for _, r := range v.RoleRules {
		rules = append(rules, adminapi.RoleRule{Claim: r.Claim, Value: r.Value, Role: r.Role})
	}
	return adminapi.Connector{
		ID: v.ID, Type: v.Type, Name: v.Name, IconURL: v.IconURL, Enabled: v.Enabled, ClientID: v.ClientID,
		HasClientSecret: v.HasClientSecret, Config: v.Config, RoleRules: rules, DefaultRole: v.DefaultRole,
		RedirectURL: v.RedirectURL, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
	}
}

func (a *API) createConnector(c echo.Context) error {
	var req adminapi.NewConnector
	if err := decode(c, &req); err != nil {
		return a.fail(c, err)
	}
	v, err := a.connectors.Create(c.Request().Context(), connectors.Input{
		ID: req.ID, Type: req.Type, Name: req.Name, IconURL: req.IconURL, Enabled: req.Enabled,
		ClientID: req.ClientID, ClientSecret: req.ClientSecret, Config: req.Config,
		RoleRules: toRules(req.RoleRules), DefaultRole: req.DefaultRole,
	})
	if err != nil {
		return a.fail(c, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, toConnector(v))
}

func (a *API) listConnectors(c echo.Context) error {
	list, err := a.connectors.List(c.Request().Context())
	if err != nil {
		return a.fail(c, err)
	}
	out := make([]adminapi.Connector, 0, len(list))
	for _, v := range list {
		out = append(out, toConnector(v))
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) getConnector(c echo.Context) error {
	v, err := a.connectors.Get(c.Request().Context(), param(c, "id"))
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, toConnector(v))
}

func (a *API) updateConnector(c echo.Context) error {
	var req adminapi.ConnectorPatch
	if err := decode(c, &req); err != nil {
		return a.fail(c, err)
	}
	p := connectors.Patch{
		Name: req.Name, IconURL: req.IconURL, Enabled: req.Enabled, ClientID: req.ClientID,
		ClientSecret: req.ClientSecret, Config: req.Config, DefaultRole: req.DefaultRole,
	}
	if req.RoleRules != nil {
		rules := toRules(*req.RoleRules)
		if rules == nil {
			rules = []storage.RoleRule{}
		}
		p.RoleRules = &rules
	}
	v, err := a.connectors.Update(c.Request().Context(), param(c, "id"), p)
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, toConnector(v))
}

func (a *API) deleteConnector(c echo.Context) error {
	if err := a.connectors.Delete(c.Request().Context(), param(c, "id")); err != nil {
		return a.fail(c, err)
	}
	return c.NoContent(http.StatusNoContent)
}
