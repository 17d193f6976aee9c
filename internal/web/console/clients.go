package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/keys"
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

// clientForm reads the client form (create and edit share it), clipped
// for showing it again, and refuses over-long URI lists.
func clientForm(c echo.Context) (render.AdminClientForm, render.FieldErrors) {
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
	for field, v := range map[string]string{"redirect_uris": c.FormValue("redirect_uris"), "post_logout_redirect_uris": c.FormValue("post_logout_redirect_uris")} {
		if len(v) > maxURIField {
			return form, render.FieldErrors{field: sentence(clientLabels[field], "are too long")}
		}
	}
	return form, nil
}

// applyForm sets the form's fields on r (the ones the form does not show,
// such as grant types and scopes, stay). The values are the form's as
// sent, unclipped: the service judges them.
func applyForm(c echo.Context, r *clients.Registration) {
	r.Name = c.FormValue("client_name")
	r.RedirectURIs = lines(c.FormValue("redirect_uris"))
	r.PostLogoutRedirectURIs = lines(c.FormValue("post_logout_redirect_uris"))
	r.TokenEndpointAuthMethod = c.FormValue("token_endpoint_auth_method")
	r.FirstParty = c.FormValue("first_party") != ""
	r.RequireMFA = c.FormValue("require_mfa") != ""
	r.IDTokenSignedResponseAlg = c.FormValue("id_token_signed_response_alg")
	r.AccessTokenFormat = c.FormValue("access_token_format")
	r.RequirePushedAuthorizationRequests = c.FormValue("require_pushed_authorization_requests") != ""
	r.BackchannelLogoutURI = c.FormValue("backchannel_logout_uri")
	r.BackchannelLogoutSessionRequired = c.FormValue("backchannel_logout_session_required") != ""
}

// clientRefusal turns the service's refusal into a message for the form:
// on the field it names, or above the form.
func clientRefusal(err error) (render.FieldErrors, string, bool) {
	var ve *clients.ValidationError
	if !errors.As(err, &ve) {
		return nil, "", false
	}
	if label := clientLabels[ve.Field]; label != "" {
		return render.FieldErrors{ve.Field: sentence(label, ve.Message)}, "", true
	}
	return nil, refusal(ve), true
}

// createClient registers a client with the defaults of CONTRACT.md for
// what the form does not ask (grant types, scopes) and answers with its
// secret, shown this once.
func (h *Handler) createClient(c echo.Context) error {
	ctx := c.Request().Context()
	form, errs := clientForm(c)
	problem := func(status int, errs render.FieldErrors, msg string) error {
		return h.renderClients(c, status, render.AdminClientsPage{Form: form, Errors: errs, Error: msg})
	}
	if errs != nil {
		return problem(http.StatusUnprocessableEntity, errs, "")
	}
	var reg clients.Registration
	applyForm(c, &reg)
	cl, secret, err := h.cfg.Clients.Create(ctx, reg)
	if err != nil {
		if errs, msg, ok := clientRefusal(err); ok {
			return problem(http.StatusUnprocessableEntity, errs, msg)
		}
		return h.fail(c, err)
	}
	h.cfg.Audit.Record(ctx, audit.Event{Action: audit.ClientCreate, Target: cl.ID,
		Details: map[string]string{"name": cl.Name, "auth_method": cl.TokenEndpointAuthMethod}})
	return h.cfg.Render.AdminClientCreated(c.Response(), http.StatusCreated, render.AdminClientCreatedPage{
		Common: h.common(c), Client: toAdminClient(cl), Secret: secret,
	})
}

// editClientForm shows a client's edit page, the form pre-filled with its
// settings.
func (h *Handler) editClientForm(c echo.Context) error {
	cl, err := h.cfg.Clients.Get(c.Request().Context(), param(c, "id"))
	if errors.Is(err, clients.ErrNotFound) {
		return h.notFound(c, "There is no such client.")
	} else if err != nil {
		return h.fail(c, err)
	}
	return h.renderClientEdit(c, http.StatusOK, cl, render.AdminClientEditPage{Flash: h.takeFlash(c), Form: formOf(cl)})
}

// formOf is the client form filled with cl's settings.
func formOf(cl storage.Client) render.AdminClientForm {
	return render.AdminClientForm{
		Name:                             cl.Name,
		RedirectURIs:                     strings.Join(cl.RedirectURIs, "\n"),
		PostLogoutRedirectURIs:           strings.Join(cl.PostLogoutRedirectURIs, "\n"),
		AuthMethod:                       cl.TokenEndpointAuthMethod,
		FirstParty:                       cl.FirstParty,
		RequireMFA:                       cl.RequireMFA,
		IDTokenAlg:                       cl.IDTokenSignedResponseAlg,
		AccessTokenFormat:                cl.AccessTokenFormat,
		RequirePAR:                       cl.RequirePushedAuthorizationRequests,
		BackchannelLogoutURI:             cl.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: cl.BackchannelLogoutSessionRequired,
	}
}

func (h *Handler) renderClientEdit(c echo.Context, status int, cl storage.Client, p render.AdminClientEditPage) error {
	p.Common = h.common(c)
	p.Client = toAdminClient(cl)
	p.Form.Editing = true
	p.HasSecret = len(cl.SecretHash) > 0
	return h.cfg.Render.AdminClientEdit(c.Response(), status, p)
}

// editClient saves the edit page: the form's fields replace the client's,
// the settings the form does not show stay. A client that became
// confidential gets a secret, shown this once.
func (h *Handler) editClient(c echo.Context) error {
	ctx := c.Request().Context()
	id := param(c, "id")
	cur, err := h.cfg.Clients.Get(ctx, id)
	if errors.Is(err, clients.ErrNotFound) {
		return h.notFound(c, "There is no such client. It may have been deleted.")
	} else if err != nil {
		return h.fail(c, err)
	}
	form, errs := clientForm(c)
	problem := func(errs render.FieldErrors, msg string) error {
		return h.renderClientEdit(c, http.StatusUnprocessableEntity, cur, render.AdminClientEditPage{Form: form, Errors: errs, Error: msg})
	}
	if errs != nil {
		return problem(errs, "")
	}
	var before clients.Registration
	cl, secret, err := h.cfg.Clients.Edit(ctx, id, func(r clients.Registration) (clients.Registration, error) {
		before = r
		method := r.TokenEndpointAuthMethod
		applyForm(c, &r)
		// A form without a choice (a client whose method the form does
		// not offer) keeps the method rather than taking the default.
		if r.TokenEndpointAuthMethod == "" {
			r.TokenEndpointAuthMethod = method
		}
		// The form's "default" is the same as an explicit RS256 or
		// opaque: not a change.
		if r.IDTokenSignedResponseAlg == "" && before.IDTokenSignedResponseAlg == keys.AlgRS256 {
			r.IDTokenSignedResponseAlg = keys.AlgRS256
		}
		if r.AccessTokenFormat == "" && before.AccessTokenFormat == storage.AccessTokenOpaque {
			r.AccessTokenFormat = storage.AccessTokenOpaque
		}
		return r, nil
	})
	switch {
	case errors.Is(err, clients.ErrNotFound):
		return h.notFound(c, "There is no such client. It may have been deleted.")
	case err != nil:
		if errs, msg, ok := clientRefusal(err); ok {
			return problem(errs, msg)
		}
		return h.fail(c, err)
	}
	details := map[string]string{"name": cl.Name, "fields": strings.Join(clients.ChangedFields(before, clients.RegistrationOf(cl)), ",")}
	if secret != "" {
		details["became_confidential"] = "true"
	}
	h.cfg.Audit.Record(ctx, audit.Event{Action: audit.ClientUpdate, Target: cl.ID, Details: details})
	if secret != "" {
		return h.cfg.Render.AdminClientCreated(c.Response(), http.StatusOK, render.AdminClientCreatedPage{
			Common: h.common(c), Client: toAdminClient(cl), Secret: secret, NewSecret: true,
		})
	}
	h.flash(c, "client-saved")
	return c.Redirect(http.StatusSeeOther, ClientsPath+"/"+url.PathEscape(cl.ID)+"/edit")
}

// rotateClientSecret gives a confidential client a new secret, shown this
// once; the old one stops working at once.
func (h *Handler) rotateClientSecret(c echo.Context) error {
	ctx := c.Request().Context()
	id := param(c, "id")
	cl, secret, err := h.cfg.Clients.RotateSecret(ctx, id)
	var ve *clients.ValidationError
	switch {
	case errors.Is(err, clients.ErrNotFound):
		return h.notFound(c, "There is no such client. It may have been deleted.")
	case errors.As(err, &ve):
		cur, gerr := h.cfg.Clients.Get(ctx, id)
		if gerr != nil {
			return h.fail(c, gerr)
		}
		return h.renderClientEdit(c, http.StatusUnprocessableEntity, cur, render.AdminClientEditPage{
			Error: cur.Name + " has no secret to replace: it authenticates without one.", Form: formOf(cur)})
	case err != nil:
		return h.fail(c, err)
	}
	h.cfg.Audit.Record(ctx, audit.Event{Action: audit.ClientRotateSecret, Target: cl.ID, Details: map[string]string{"name": cl.Name}})
	return h.cfg.Render.AdminClientCreated(c.Response(), http.StatusOK, render.AdminClientCreatedPage{
		Common: h.common(c), Client: toAdminClient(cl), Secret: secret, NewSecret: true,
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
