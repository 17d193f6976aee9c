package console

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/connectors"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/web/render"
)

// ConnectorsPath is the console's page of upstream identity providers.
const ConnectorsPath = Prefix + "/connectors"

// Connectors is what the console uses of the connectors service.
type Connectors interface {
	Create(ctx context.Context, in connectors.Input) (connectors.View, error)
	Update(ctx context.Context, id string, p connectors.Patch) (connectors.View, error)
	List(ctx context.Context) ([]connectors.View, error)
	Delete(ctx context.Context, id string) error
}

func (h *Handler) registerConnectors(g *echo.Group) {
	if h.cfg.Connectors == nil {
		return
	}
	g.GET("/connectors", h.connectors)
	g.POST("/connectors", h.createConnector)
	g.POST("/connectors/:id/enable", h.setConnectorEnabled(true))
	g.POST("/connectors/:id/disable", h.setConnectorEnabled(false))
	g.POST("/connectors/:id/delete", h.deleteConnector)
}

func (h *Handler) connectors(c echo.Context) error {
	return h.renderConnectors(c, http.StatusOK, render.AdminConnectorsPage{Flash: h.takeFlash(c), Form: render.AdminConnectorForm{Type: "oidc"}})
}

func (h *Handler) renderConnectors(c echo.Context, status int, p render.AdminConnectorsPage) error {
	list, err := h.cfg.Connectors.List(c.Request().Context())
	if err != nil {
		return h.fail(c, err)
	}
	p.Common = h.common(c)
	for _, v := range list {
		rules := make([]string, 0, len(v.RoleRules))
		for _, r := range v.RoleRules {
			rules = append(rules, r.Claim+":"+r.Value+"="+r.Role)
		}
		p.Connectors = append(p.Connectors, render.AdminConnector{
			ID: v.ID, Type: v.Type, Name: v.Name, Enabled: v.Enabled, ClientID: v.ClientID, HasSecret: v.HasClientSecret,
			Config: string(v.Config), RoleRules: rules, DefaultRole: v.DefaultRole, RedirectURL: v.RedirectURL,
		})
	}
	return h.cfg.Render.AdminConnectors(c.Response(), status, p)
}

// createConnector adds a connector from the form; problems show the form
// again (without the secret) with the service's message.
func (h *Handler) createConnector(c echo.Context) error {
	f := render.AdminConnectorForm{
		ID: clip(strings.TrimSpace(c.FormValue("id")), 40), Type: c.FormValue("type"), Name: clip(c.FormValue("name"), 100),
		IconURL: clip(strings.TrimSpace(c.FormValue("icon_url")), 2000), ClientID: clip(strings.TrimSpace(c.FormValue("client_id")), 500),
		Issuer: clip(strings.TrimSpace(c.FormValue("issuer")), 2000), Scopes: clip(c.FormValue("scopes"), 1000),
		HostedDomains: clip(c.FormValue("hosted_domains"), 1000), Orgs: clip(c.FormValue("orgs"), 1000),
		RoleRules: clip(c.FormValue("role_rules"), 5000), DefaultRole: clip(strings.TrimSpace(c.FormValue("default_role")), 64),
		LoadTeams: c.FormValue("load_teams") != "", TrustEmail: c.FormValue("trust_email") != "",
	}
	problem := func(status int, msg string) error {
		return h.renderConnectors(c, status, render.AdminConnectorsPage{Error: msg, Form: f})
	}
	cfg := map[string]any{}
	put := func(key string, v any, set bool) {
		if set {
			cfg[key] = v
		}
	}
	put("issuer", f.Issuer, f.Issuer != "" && f.Type != "github" && f.Type != "google")
	put("scopes", strings.Fields(f.Scopes), strings.TrimSpace(f.Scopes) != "")
	put("hosted_domains", strings.Fields(f.HostedDomains), strings.TrimSpace(f.HostedDomains) != "")
	put("orgs", strings.Fields(f.Orgs), strings.TrimSpace(f.Orgs) != "")
	put("load_teams", true, f.LoadTeams)
	put("trust_email", true, f.TrustEmail)
	b, err := json.Marshal(cfg)
	if err != nil {
		return h.fail(c, err)
	}
	var rules []storage.RoleRule
	for _, line := range strings.Split(f.RoleRules, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		i := strings.LastIndex(line, "=")
		claim, value, ok := strings.Cut(line[:max(i, 0)], ":")
		if i < 0 || !ok {
			return problem(http.StatusUnprocessableEntity, "Role rule “"+clip(line, 200)+"” must be CLAIM:VALUE=ROLE.")
		}
		rules = append(rules, storage.RoleRule{Claim: claim, Value: value, Role: line[i+1:]})
	}
	_, err = h.cfg.Connectors.Create(c.Request().Context(), connectors.Input{
		ID: f.ID, Type: f.Type, Name: f.Name, IconURL: f.IconURL, ClientID: f.ClientID,
		ClientSecret: c.FormValue("client_secret"), Config: b, RoleRules: rules, DefaultRole: f.DefaultRole,
	})
	switch {
	case err == nil:
		h.flash(c, "connector-created")
		return c.Redirect(http.StatusSeeOther, ConnectorsPath)
	case errors.Is(err, connectors.ErrExists):
		return problem(http.StatusConflict, "A sign-in provider with this id exists already.")
	case errors.Is(err, connectors.ErrInvalid):
		return problem(http.StatusUnprocessableEntity, refusal(errors.New(strings.TrimPrefix(err.Error(), connectors.ErrInvalid.Error()+": "))))
	}
	return h.fail(c, err)
}

func (h *Handler) setConnectorEnabled(on bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		_, err := h.cfg.Connectors.Update(c.Request().Context(), param(c, "id"), connectors.Patch{Enabled: &on})
		switch {
		case err == nil:
			h.flash(c, map[bool]string{true: "connector-enabled", false: "connector-disabled"}[on])
			return c.Redirect(http.StatusSeeOther, ConnectorsPath)
		case errors.Is(err, connectors.ErrNotFound):
			return h.renderConnectors(c, http.StatusNotFound, render.AdminConnectorsPage{Error: "There is no such sign-in provider.", Form: render.AdminConnectorForm{Type: "oidc"}})
		}
		return h.fail(c, err)
	}
}

func (h *Handler) deleteConnector(c echo.Context) error {
	err := h.cfg.Connectors.Delete(c.Request().Context(), param(c, "id"))
	switch {
	case err == nil:
		h.flash(c, "connector-deleted")
		return c.Redirect(http.StatusSeeOther, ConnectorsPath)
	case errors.Is(err, connectors.ErrNotFound):
		return h.renderConnectors(c, http.StatusNotFound, render.AdminConnectorsPage{Error: "There is no such sign-in provider. It may have been deleted already.", Form: render.AdminConnectorForm{Type: "oidc"}})
	}
	return h.fail(c, err)
}
