package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

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
	Get(ctx context.Context, id string) (connectors.View, error)
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
	g.GET("/connectors/:id/edit", h.editConnectorForm)
	g.POST("/connectors/:id/edit", h.editConnector)
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
	field := func(name string) string { return strings.TrimSpace(c.FormValue(name)) }
	f := render.AdminConnectorForm{
		ID: field("id"), Type: c.FormValue("type"), Name: field("name"),
		IconURL: field("icon_url"), ClientID: field("client_id"),
		Issuer: field("issuer"), Scopes: field("scopes"),
		HostedDomains: field("hosted_domains"), Orgs: field("orgs"),
		RoleRules: field("role_rules"), DefaultRole: field("default_role"),
		LoadTeams: c.FormValue("load_teams") != "", TrustEmail: c.FormValue("trust_email") != "",
	}
	problem := func(status int, msg string) error {
		return h.renderConnectors(c, status, render.AdminConnectorsPage{Error: msg, Form: f})
	}
	if msg := unfitConnectorForm(c); msg != "" {
		f.ID, f.Name, f.IconURL, f.ClientID, f.Issuer, f.Scopes, f.HostedDomains, f.Orgs, f.RoleRules, f.DefaultRole = "", "", "", "", "", "", "", "", "", ""
		return problem(http.StatusUnprocessableEntity, msg)
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
		return problem(http.StatusUnprocessableEntity, connectorProblem(err))
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

// Bounds of the edit page's role rules: rows shown empty for new rules,
// and rows accepted (a form with more was not made by the page).
const (
	blankRuleRows = 3
	maxRuleRows   = 200
)

func (h *Handler) editConnectorForm(c echo.Context) error {
	v, err := h.cfg.Connectors.Get(c.Request().Context(), param(c, "id"))
	if errors.Is(err, connectors.ErrNotFound) {
		return h.notFound(c, "There is no such sign-in provider.")
	} else if err != nil {
		return h.fail(c, err)
	}
	f, err := storedConnectorEdit(v)
	if err != nil {
		return h.fail(c, err)
	}
	return h.renderConnectorEdit(c, http.StatusOK, v, f, "")
}

// storedConnectorEdit is the edit page's form filled from the stored
// connector.
func storedConnectorEdit(v connectors.View) (render.AdminConnectorEdit, error) {
	var st connectors.Settings
	if err := json.Unmarshal(v.Config, &st); err != nil {
		return render.AdminConnectorEdit{}, fmt.Errorf("connector %q config: %w", v.ID, err)
	}
	f := render.AdminConnectorEdit{
		Name: v.Name, IconURL: v.IconURL, ClientID: v.ClientID, Scopes: strings.Join(st.Scopes, " "), DefaultRole: v.DefaultRole,
		Issuer: st.Issuer, EmailClaim: st.EmailClaim, NameClaim: st.NameClaim, UsernameClaim: st.UsernameClaim,
		GroupsClaim: st.GroupsClaim, HostedDomains: strings.Join(st.HostedDomains, " "), BaseURL: st.BaseURL,
		Orgs: strings.Join(st.Orgs, " "), TrustEmail: st.TrustEmail, LoadTeams: st.LoadTeams,
	}
	for _, r := range v.RoleRules {
		f.Rules = append(f.Rules, render.AdminRoleRule{Claim: r.Claim, Value: r.Value, Role: r.Role})
	}
	return f, nil
}

// maxConnectorField bounds each value of the connector forms, only to
// bound the work a form makes; the service judges the values themselves.
const maxConnectorField = 32 << 10

// unfitConnectorForm refuses, with a message for the page, a connector
// form with a value over maxConnectorField or not valid UTF-8. Such a
// value is never cut or repaired into one that fits: an allowed
// organisation or hosted domain cut short may name someone else's
// (acme-corporation → acme), and a role rule's value another group.
func unfitConnectorForm(c echo.Context) string {
	form, err := c.FormParams()
	if err != nil {
		return "The form could not be read. Try again."
	}
	for name, vs := range form {
		for _, v := range vs {
			if len(v) > maxConnectorField || !utf8.ValidString(v) {
				return fmt.Sprintf("The field %s is too long or not text. Nothing was saved.", name)
			}
		}
	}
	return ""
}

func (h *Handler) renderConnectorEdit(c echo.Context, status int, v connectors.View, f render.AdminConnectorEdit, msg string) error {
	for range blankRuleRows {
		f.Rules = append(f.Rules, render.AdminRoleRule{})
	}
	for i := range f.Rules {
		f.Rules[i].N = i + 1
	}
	return h.cfg.Render.AdminConnectorEdit(c.Response(), status, render.AdminConnectorEditPage{
		Common: h.common(c), Error: msg, Form: f,
		Connector: render.AdminConnector{ID: v.ID, Type: v.Type, Name: v.Name, Enabled: v.Enabled, HasSecret: v.HasClientSecret, RedirectURL: v.RedirectURL},
	})
}

// editConnector saves the edit page. Settings the page does not show for
// the connector's type are kept as they are; an empty client secret keeps
// the stored one.
func (h *Handler) editConnector(c echo.Context) error {
	ctx := c.Request().Context()
	v, err := h.cfg.Connectors.Get(ctx, param(c, "id"))
	if errors.Is(err, connectors.ErrNotFound) {
		return h.notFound(c, "There is no such sign-in provider. It may have been deleted.")
	} else if err != nil {
		return h.fail(c, err)
	}
	if msg := unfitConnectorForm(c); msg != "" {
		// Shown again as stored, since what was sent cannot be.
		f, err := storedConnectorEdit(v)
		if err != nil {
			return h.fail(c, err)
		}
		return h.renderConnectorEdit(c, http.StatusUnprocessableEntity, v, f, msg)
	}
	field := func(name string) string { return strings.TrimSpace(c.FormValue(name)) }
	f := render.AdminConnectorEdit{
		Name: field("name"), IconURL: field("icon_url"), ClientID: field("client_id"),
		Scopes: field("scopes"), DefaultRole: field("default_role"),
		Issuer: field("issuer"), EmailClaim: field("email_claim"), NameClaim: field("name_claim"),
		UsernameClaim: field("username_claim"), GroupsClaim: field("groups_claim"),
		HostedDomains: field("hosted_domains"), BaseURL: field("base_url"), Orgs: field("orgs"),
		TrustEmail: c.FormValue("trust_email") != "", LoadTeams: c.FormValue("load_teams") != "",
	}
	rules, problem := formRules(c, &f)
	if problem != "" {
		return h.renderConnectorEdit(c, http.StatusUnprocessableEntity, v, f, problem)
	}

	// Start from the stored settings so that those of no field here
	// survive the save.
	var st connectors.Settings
	if err := json.Unmarshal(v.Config, &st); err != nil {
		return h.fail(c, fmt.Errorf("connector %q config: %w", v.ID, err))
	}
	st.Scopes = strings.Fields(f.Scopes)
	switch v.Type {
	case storage.ConnectorOIDC:
		st.Issuer, st.TrustEmail = f.Issuer, f.TrustEmail
	case storage.ConnectorGoogle:
		st.HostedDomains = strings.Fields(f.HostedDomains)
	case storage.ConnectorGitHub:
		st.BaseURL, st.Orgs, st.LoadTeams = f.BaseURL, strings.Fields(f.Orgs), f.LoadTeams
	}
	if v.Type != storage.ConnectorGitHub {
		st.EmailClaim, st.NameClaim, st.UsernameClaim, st.GroupsClaim = f.EmailClaim, f.NameClaim, f.UsernameClaim, f.GroupsClaim
	}
	cfg, err := json.Marshal(st)
	if err != nil {
		return h.fail(c, err)
	}
	p := connectors.Patch{
		Name: &f.Name, IconURL: &f.IconURL, ClientID: &f.ClientID, DefaultRole: &f.DefaultRole,
		Config: cfg, RoleRules: &rules,
	}
	if secret := c.FormValue("client_secret"); strings.TrimSpace(secret) != "" {
		p.ClientSecret = &secret
	}
	_, err = h.cfg.Connectors.Update(ctx, v.ID, p)
	switch {
	case err == nil:
		h.flash(c, "connector-saved")
		return c.Redirect(http.StatusSeeOther, ConnectorsPath)
	case errors.Is(err, connectors.ErrNotFound):
		return h.notFound(c, "There is no such sign-in provider. It may have been deleted.")
	case errors.Is(err, connectors.ErrInvalid):
		return h.renderConnectorEdit(c, http.StatusUnprocessableEntity, v, f, connectorProblem(err))
	}
	return h.fail(c, err)
}

// formRules reads the rows of role rules into f (for showing them again)
// and returns the rules. Empty rows are dropped; a row with only some of
// its cells filled is a problem, named by its row number.
func formRules(c echo.Context, f *render.AdminConnectorEdit) ([]storage.RoleRule, string) {
	form, err := c.FormParams()
	if err != nil {
		return nil, "The form could not be read. Try again."
	}
	claims, values, roles := form["rule_claim"], form["rule_value"], form["rule_role"]
	n := max(len(claims), len(values), len(roles))
	if n > maxRuleRows {
		return nil, fmt.Sprintf("At most %d role rules.", maxRuleRows)
	}
	cell := func(col []string, i int) string {
		if i < len(col) {
			return strings.TrimSpace(col[i])
		}
		return ""
	}
	rules := []storage.RoleRule{}
	var problems []string
	for i := range n {
		r := render.AdminRoleRule{Claim: cell(claims, i), Value: cell(values, i), Role: cell(roles, i)}
		if r.Claim == "" && r.Value == "" && r.Role == "" {
			continue
		}
		if r.Claim == "" || r.Value == "" || r.Role == "" {
			problems = append(problems, fmt.Sprintf("Role rule %d needs a claim, a value and a role.", len(f.Rules)+1))
		}
		f.Rules = append(f.Rules, r)
		rules = append(rules, storage.RoleRule{Claim: r.Claim, Value: r.Value, Role: r.Role})
	}
	return rules, strings.Join(problems, " ")
}

// fieldWords names the API's fields in the service's messages as the
// forms label them.
var fieldWords = strings.NewReplacer(
	"config.issuer", "the issuer URL", "config.base_url", "the GitHub Enterprise Server URL", "icon_url", "the icon URL",
	"client_id", "the client id", "hosted_domains", "hosted domains", "load_teams", "reading teams",
	"base_url", "a GitHub Enterprise Server URL", "trust_email", "trusting e-mail addresses",
)

// connectorProblem is the service's refusal (connectors.ErrInvalid) as a
// sentence for the page.
func connectorProblem(err error) string {
	return refusal(errors.New(fieldWords.Replace(strings.TrimPrefix(err.Error(), connectors.ErrInvalid.Error()+": "))))
}
