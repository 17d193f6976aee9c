package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/web/render"
)

var clientLabels = map[string]string{
	"client_name":                "Name",
	"redirect_uris":              "Redirect URIs",
	"post_logout_redirect_uris":  "Post-logout redirect URIs",
	"token_endpoint_auth_method": "The authentication",
	// The service's message names --signing-algorithms, which an operator
	// needs to read to fix it.
	"id_token_signed_response_alg":        "The ID token signature",
	"access_token_format":                 "The access token format",
	"backchannel_logout_uri":              "The back-channel logout URL",
	"backchannel_logout_session_required": "Session required",
}

// maxURIField bounds each URI list as the form sends it.
const maxURIField = 8000

func toAdminClient(cl storage.Client) render.AdminClient {
	return render.AdminClient{
		ID: cl.ID, Name: cl.Name, RedirectURIs: cl.RedirectURIs, AuthMethod: cl.TokenEndpointAuthMethod,
		FirstParty: cl.FirstParty, RequireMFA: cl.RequireMFA, CreatedAt: cl.CreatedAt,
	}
}

func (h *Handler) clients(c echo.Context) error {
	return h.renderClients(c, http.StatusOK, render.AdminClientsPage{Flash: h.takeFlash(c)})
}

func (h *Handler) renderClients(c echo.Context, status int, p render.AdminClientsPage) error {
	list, err := h.cfg.Clients.List(c.Request().Context())
	if err != nil {
		return h.fail(c, err)
	}
	p.Common = h.common(c)
	for _, cl := range list {
		p.Clients = append(p.Clients, toAdminClient(cl))
	}
	return h.cfg.Render.AdminClients(c.Response(), status, p)
}

// lines splits a textarea into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// createClient registers a client with the defaults of CONTRACT.md for
// what the form does not ask (grant types, scopes) and answers with its
// secret, shown this once.
func (h *Handler) createClient(c echo.Context) error {
	ctx := c.Request().Context()
	form := render.AdminClientForm{
		Name:                             clip(c.FormValue("client_name"), 200),
		RedirectURIs:                     clip(c.FormValue("redirect_uris"), maxURIField),
		PostLogoutRedirectURIs:           clip(c.FormValue("post_logout_redirect_uris"), maxURIField),
		AuthMethod:                       clip(c.FormValue("token_endpoint_auth_method"), 40),
		FirstParty:                       c.FormValue("first_party") != "",
		RequireMFA:                       c.FormValue("require_mfa") != "",
		IDTokenAlg:                       clip(c.FormValue("id_token_signed_response_alg"), 20),
		AccessTokenFormat:                clip(c.FormValue("access_token_format"), 20),
		RequirePAR:                       c.FormValue("require_pushed_authorization_requests") != "",
		BackchannelLogoutURI:             clip(c.FormValue("backchannel_logout_uri"), 2000),
		BackchannelLogoutSessionRequired: c.FormValue("backchannel_logout_session_required") != "",
	}
	problem := func(status int, errs render.FieldErrors, msg string) error {
		return h.renderClients(c, status, render.AdminClientsPage{Form: form, Errors: errs, Error: msg})
	}
	for field, v := range map[string]string{"redirect_uris": c.FormValue("redirect_uris"), "post_logout_redirect_uris": c.FormValue("post_logout_redirect_uris")} {
		if len(v) > maxURIField {
			return problem(http.StatusUnprocessableEntity, render.FieldErrors{field: sentence(clientLabels[field], "are too long")}, "")
		}
	}
	cl, secret, err := h.cfg.Clients.Create(ctx, clients.Registration{
		Name:                               c.FormValue("client_name"),
		RedirectURIs:                       lines(c.FormValue("redirect_uris")),
		PostLogoutRedirectURIs:             lines(c.FormValue("post_logout_redirect_uris")),
		TokenEndpointAuthMethod:            c.FormValue("token_endpoint_auth_method"),
		FirstParty:                         form.FirstParty,
		RequireMFA:                         form.RequireMFA,
		IDTokenSignedResponseAlg:           c.FormValue("id_token_signed_response_alg"),
		AccessTokenFormat:                  c.FormValue("access_token_format"),
		RequirePushedAuthorizationRequests: form.RequirePAR,
		BackchannelLogoutURI:               c.FormValue("backchannel_logout_uri"),
		BackchannelLogoutSessionRequired:   form.BackchannelLogoutSessionRequired,
	})
	var ve *clients.ValidationError
	switch {
	case err == nil:
	case errors.As(err, &ve):
		if label := clientLabels[ve.Field]; label != "" {
			return problem(http.StatusUnprocessableEntity, render.FieldErrors{ve.Field: sentence(label, ve.Message)}, "")
		}
		return problem(http.StatusUnprocessableEntity, nil, refusal(ve))
	default:
		return h.fail(c, err)
	}
	h.cfg.Audit.Record(ctx, audit.Event{Action: audit.ClientCreate, Target: cl.ID,
		Details: map[string]string{"name": cl.Name, "auth_method": cl.TokenEndpointAuthMethod}})
	return h.cfg.Render.AdminClientCreated(c.Response(), http.StatusCreated, render.AdminClientCreatedPage{
		Common: h.common(c), Client: toAdminClient(cl), Secret: secret,
	})
}

// deleteClient deletes a client; its tokens stop working.
func (h *Handler) deleteClient(c echo.Context) error {
	ctx := c.Request().Context()
	id := param(c, "id")
	err := h.cfg.Clients.Delete(ctx, id)
	switch {
	case err == nil:
		h.cfg.Audit.Record(ctx, audit.Event{Action: audit.ClientDelete, Target: id})
		h.flash(c, "client-deleted")
		return c.Redirect(http.StatusSeeOther, ClientsPath)
	case errors.Is(err, clients.ErrNotFound):
		return h.renderClients(c, http.StatusNotFound, render.AdminClientsPage{Error: "There is no such client. It may have been deleted already."})
	}
	return h.fail(c, err)
}
