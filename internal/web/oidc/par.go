package oidc

import (
	"context"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"

	"github.com/signet-idp/signet/internal/oauth"
)

// pushAuthorize handles POST /oauth2/par (RFC 9126): the client, which
// authenticates as at the token endpoint, pushes its authorization request
// and gets a request_uri, usable once within the PAR lifespan. The request
// is checked here as the authorization endpoint would check it, so a
// mistake is answered to the client, not shown to the person later.
func (h *Handler) pushAuthorize(c echo.Context) error {
	r := c.Request()
	ctx := h.oauth.WithRequestCache(r.Context())
	if err := parseForm(c.Response(), r); err != nil {
		return h.parError(ctx, c, nil, fosite.ErrInvalidRequest.WithHint(err.Error()))
	}
	if err := checkParams(r.PostForm); err != nil {
		return h.parError(ctx, c, nil, fosite.ErrInvalidRequest.WithHint(err.Error()))
	}
	if r.URL.RawQuery != "" {
		return h.parError(ctx, c, nil, fosite.ErrInvalidRequest.WithHint("Send the parameters in the request body, not the query."))
	}
	if r.PostForm.Has("request") {
		return h.parError(ctx, c, nil, fosite.ErrRequestNotSupported.WithHint("Request objects are not supported."))
	}
	resourceAsAudience(r.Form)
	ar, err := h.oauth.NewPushedAuthorizeRequest(ctx, r)
	if err != nil {
		return h.parError(ctx, c, ar, err)
	}
	form := r.Form
	if len(form["redirect_uri"]) != 1 || !slices.Contains(ar.GetClient().GetRedirectURIs(), form.Get("redirect_uri")) {
		return h.parError(ctx, c, ar, fosite.ErrInvalidRequest.WithHint("redirect_uri is required, once, and must be registered for the client."))
	}
	if _, err := h.checkAuthorizeRequest(ctx, ar, form); err != nil {
		return h.parError(ctx, c, ar, err)
	}
	resp, err := h.oauth.NewPushedAuthorizeResponse(ctx, ar, oauth.NewSession())
	if err != nil {
		return h.parError(ctx, c, ar, err)
	}
	h.oauth.WritePushedAuthorizeResponse(ctx, c.Response(), ar, resp)
	return nil
}

// parError answers a PAR error as JSON (RFC 9126 §2.3); an unreachable
// database is 503.
func (h *Handler) parError(ctx context.Context, c echo.Context, ar fosite.AuthorizeRequester, err error) error {
	if unavailable(err) {
		return h.jsonFailure(c, err)
	}
	rfc := fosite.ErrorToRFC6749Error(err)
	if rfc.CodeField >= 500 {
		return h.jsonFailure(c, err)
	}
	if rfc.ErrorField == "invalid_client" && c.Request().Header.Get("Authorization") != "" {
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="`+h.issuer+`"`)
	}
	if ar == nil {
		ar = fosite.NewAuthorizeRequest()
	}
	h.oauth.WritePushedAuthorizeError(ctx, c.Response(), ar, err)
	return nil
}
