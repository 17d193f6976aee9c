package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"

	"github.com/signet-idp/signet/internal/oauth"
)

// token handles POST /oauth2/token. fosite's NewAccessRequest runs outside
// any transaction (the revocations it makes on code or refresh-token reuse
// must commit although the answer is an error); NewAccessResponse runs in
// one transaction, so a successful exchange or rotation writes all its rows
// or none (client_credentials writes one row and needs none); the response
// is written after the commit.
func (h *Handler) token(c echo.Context) error {
	r, w := c.Request(), c.Response()
	ctx := h.oauth.WithRequestCache(r.Context())
	if err := parseForm(w, r); err != nil {
		return h.accessError(ctx, c, nil, fosite.ErrInvalidRequest.WithHint(err.Error()))
	}
	if err := checkParams(r.PostForm); err != nil {
		return h.accessError(ctx, c, nil, fosite.ErrInvalidRequest.WithHint(err.Error()))
	}

	switch gt := r.PostForm.Get("grant_type"); gt {
	case "":
		return h.accessError(ctx, c, nil, fosite.ErrInvalidRequest.WithHint("The grant_type parameter is missing."))
	case "refresh_token":
		ctx = oauth.WithRefreshGrace(ctx)
	case "authorization_code", "client_credentials":
	default:
		return h.accessError(ctx, c, nil, fosite.ErrUnsupportedGrantType.WithHintf("The grant type %q is not supported.", gt))
	}

	resourceAsAudience(r.PostForm)
	resourceAsAudience(r.Form)
	ar, err := h.oauth.NewAccessRequest(ctx, r, oauth.NewSession())
	if err != nil {
		return h.accessError(ctx, c, ar, err)
	}
	sess, ok := ar.GetSession().(*oauth.Session)
	if !ok {
		return h.accessError(ctx, c, ar, fosite.ErrServerError.WithDebug("unexpected session type"))
	}
	grant := ar.GetGrantTypes()
	if !grant.ExactOne("client_credentials") {
		// Grants made before the algorithm left --signing-algorithms:
		// refuse before the code is spent or the token rotated.
		// (A code exchange has only the requested scopes so far.)
		scopes := append(fosite.Arguments{}, ar.GetRequestedScopes()...)
		if err := h.checkIDTokenAlg(ctx, ar.GetClient(), append(scopes, ar.GetGrantedScopes()...)); err != nil {
			return h.accessError(ctx, c, ar, err)
		}
	}
	switch {
	case grant.ExactOne("client_credentials"):
		// No person: scopes about one make no sense, and the client is
		// the subject.
		for _, s := range []string{oauth.ScopeOpenID, oauth.ScopeOfflineAccess} {
			if ar.GetRequestedScopes().Has(s) {
				return h.accessError(ctx, c, ar, fosite.ErrInvalidScope.WithHintf("The scope %q needs a signed-in person; client_credentials has none.", s))
			}
		}
		sess.Subject = ar.GetClient().GetID()
		// fosite checked the requested resources against the client's
		// audiences but grants none: the token is for them.
		for _, a := range ar.GetRequestedAudience() {
			ar.GrantAudience(a)
		}
	case grant.ExactOne("refresh_token"):
		// fosite v0.49 ignores the scope parameter of a refresh; RFC 6749
		// §6 forbids widening, so refuse it rather than ignore it.
		for _, s := range strings.Fields(r.PostForm.Get("scope")) {
			if !ar.GetGrantedScopes().Has(s) {
				return h.accessError(ctx, c, ar, fosite.ErrInvalidScope.WithHintf("The scope %q was not granted originally; a refresh cannot widen the grant.", s))
			}
		}
		if err := h.oauth.PrepareRefresh(ctx, ar); errors.Is(err, oauth.ErrUserUnavailable) {
			if rerr := h.oauth.RevokeGrant(ctx, ar, oauth.RevokedUserUnavailable); rerr != nil {
				return h.accessError(ctx, c, ar, rerr)
			}
			return h.accessError(ctx, c, ar, fosite.ErrInvalidGrant.WithHint("The user of this grant no longer exists or is disabled."))
		} else if err != nil {
			return h.accessError(ctx, c, ar, err)
		}
	}

	var resp fosite.AccessResponder
	var respErr, txErr error
	if grant.ExactOne("client_credentials") {
		// One row written (the access token): atomic by itself, so the
		// two round trips of a transaction would buy nothing.
		resp, respErr = h.oauth.NewAccessResponse(ctx, ar)
	} else {
		txErr = h.oauth.InTx(ctx, func(ctx context.Context) error {
			resp, respErr = h.oauth.NewAccessResponse(ctx, ar)
			return respErr
		})
	}
	if respErr != nil {
		if oauth.RefreshRepeatRefused(ctx) {
			return h.accessError(ctx, c, ar, fosite.ErrInvalidGrant.WithHint("The refresh token was already used, and the token issued for it is no longer valid."))
		}
		if grant.ExactOne("authorization_code") && errors.Is(respErr, fosite.ErrSerializationFailure) {
			// Another request redeemed the code between our read and our
			// write: a code used twice. Revoke what the other use got.
			if rerr := h.oauth.RevokeGrant(ctx, ar, oauth.RevokedCodeReplay); rerr != nil {
				return h.accessError(ctx, c, ar, rerr)
			}
			return h.accessError(ctx, c, ar, fosite.ErrInvalidGrant.WithHint("The authorization code has already been used."))
		}
		if errors.Is(respErr, fosite.ErrSerializationFailure) {
			return h.accessError(ctx, c, ar, fosite.ErrInvalidRequest.WithHint("Another request used the same token at the same time. Please retry."))
		}
		return h.accessError(ctx, c, ar, respErr)
	}
	if txErr != nil {
		return h.accessError(ctx, c, ar, txErr)
	}
	h.oauth.WriteAccessResponse(ctx, w, ar, resp)
	return nil
}

// accessError answers a token endpoint error as RFC 6749 §5.2 JSON; an
// unreachable database is 503, not invalid_client or server_error.
func (h *Handler) accessError(ctx context.Context, c echo.Context, ar fosite.AccessRequester, err error) error {
	if unavailable(err) {
		return h.jsonFailure(c, err)
	}
	rfc := fosite.ErrorToRFC6749Error(err)
	if rfc.CodeField >= 500 {
		h.logger.Error("token endpoint failed", "err", err, "debug", rfc.DebugField)
	}
	if ar == nil {
		ar = fosite.NewAccessRequest(nil)
	}
	if rfc.ErrorField == "invalid_client" && c.Request().Header.Get("Authorization") != "" {
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="`+h.issuer+`"`)
	}
	h.oauth.WriteAccessError(ctx, c.Response(), ar, err)
	return nil
}

// userinfo handles GET and POST /userinfo with a bearer access token
// (Authorization header, or access_token in a POST body). It answers the
// user's current claims for the token's scopes.
func (h *Handler) userinfo(c echo.Context) error {
	r := c.Request()
	ctx := h.oauth.WithRequestCache(r.Context())
	if err := parseForm(c.Response(), r); err != nil {
		return bearerError(c, http.StatusBadRequest, "invalid_request", err.Error())
	}
	token := ""
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, value, ok := strings.Cut(a, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(value) == "" {
			return bearerError(c, http.StatusUnauthorized, "invalid_request", "Use the Authorization: Bearer scheme.")
		}
		token = strings.TrimSpace(value)
	} else if r.Method == http.MethodPost {
		if len(r.PostForm["access_token"]) > 1 {
			return bearerError(c, http.StatusBadRequest, "invalid_request", "access_token was sent more than once.")
		}
		token = r.PostForm.Get("access_token")
	}
	if token == "" {
		return bearerError(c, http.StatusUnauthorized, "", "")
	}
	if len(token) > paramLimits["access_token"] {
		return bearerError(c, http.StatusUnauthorized, "invalid_token", "The access token is not valid.")
	}
	use, ar, err := h.oauth.IntrospectToken(ctx, token, fosite.AccessToken, oauth.NewSession())
	if err != nil {
		if unavailable(err) {
			return h.jsonFailure(c, err)
		}
		return bearerError(c, http.StatusUnauthorized, "invalid_token", "The access token is not valid, expired or was revoked.")
	}
	if use != fosite.AccessToken {
		return bearerError(c, http.StatusUnauthorized, "invalid_token", "The token is not an access token.")
	}
	if !ar.GetGrantedScopes().Has(oauth.ScopeOpenID) {
		return bearerError(c, http.StatusForbidden, "insufficient_scope", "The access token was not granted the openid scope.")
	}
	claims, err := h.oauth.UserInfo(ctx, ar.GetSession().GetSubject(), ar.GetGrantedScopes())
	if errors.Is(err, oauth.ErrUserUnavailable) {
		return bearerError(c, http.StatusUnauthorized, "invalid_token", "The user of this token no longer exists or is disabled.")
	} else if err != nil {
		return h.jsonFailure(c, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, claims)
}

// bearerError answers per RFC 6750 §3: WWW-Authenticate names the error.
func bearerError(c echo.Context, status int, code, description string) error {
	v := `Bearer realm="signet"`
	if code != "" {
		v += `, error="` + code + `"`
		if description != "" {
			v += `, error_description="` + strings.ReplaceAll(description, `"`, `'`) + `"`
		}
	}
	c.Response().Header().Set("WWW-Authenticate", v)
	if code == "" {
		code = "invalid_request"
		description = "An access token is required."
	}
	return oauthJSONError(c, status, code, description)
}

// revoke handles POST /oauth2/revoke (RFC 7009). Revoking either token of
// a grant revokes the grant's access and refresh tokens; unknown tokens are
// fine (200); another client's token is unauthorized_client.
func (h *Handler) revoke(c echo.Context) error {
	r := c.Request()
	ctx := h.oauth.WithRequestCache(r.Context())
	if err := parseForm(c.Response(), r); err != nil {
		return oauthJSONError(c, http.StatusBadRequest, "invalid_request", err.Error())
	}
	if err := checkParams(r.PostForm); err != nil {
		return oauthJSONError(c, http.StatusBadRequest, "invalid_request", err.Error())
	}
	if r.PostForm.Get("token") == "" {
		return oauthJSONError(c, http.StatusBadRequest, "invalid_request", "The token parameter is required.")
	}
	err := h.oauth.NewRevocationRequest(ctx, r)
	switch {
	case err == nil:
		c.Response().Header().Set("Cache-Control", "no-store")
		return c.NoContent(http.StatusOK)
	case unavailable(err), errors.Is(err, fosite.ErrTemporarilyUnavailable):
		return h.jsonFailure(c, errorsJoinUnavailable(err))
	}
	rfc := oauth.LocalizeError(err)
	if rfc.CodeField >= 500 {
		return h.jsonFailure(c, err)
	}
	if rfc.ErrorField == "invalid_client" && r.Header.Get("Authorization") != "" {
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="`+h.issuer+`"`)
	}
	return oauthJSONError(c, rfc.CodeField, rfc.ErrorField, rfc.GetDescription())
}

// introspect handles POST /oauth2/introspect (RFC 7662). Only clients
// authenticating with their secret (HTTP Basic) may ask: fosite would also
// accept any access token as a credential, which would let every token
// holder read every token. A client sees its own tokens; only the
// resource servers of Options.IntrospectionClients see every token.
func (h *Handler) introspect(c echo.Context) error {
	r := c.Request()
	ctx := h.oauth.WithRequestCache(r.Context())
	if err := parseForm(c.Response(), r); err != nil {
		return oauthJSONError(c, http.StatusBadRequest, "invalid_request", err.Error())
	}
	if err := checkParams(r.PostForm); err != nil {
		return oauthJSONError(c, http.StatusBadRequest, "invalid_request", err.Error())
	}
	// r.Form: fosite reads a credential access_token from the query too,
	// and then skips the client authentication.
	if r.Form.Has("access_token") {
		return oauthJSONError(c, http.StatusBadRequest, "invalid_request", "Authenticate with client credentials, not an access token.")
	}
	if _, _, ok := r.BasicAuth(); !ok {
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="`+h.issuer+`"`)
		return oauthJSONError(c, http.StatusUnauthorized, "invalid_client", "Authenticate with the client's id and secret (HTTP Basic).")
	}
	if r.PostForm.Get("token") == "" {
		return oauthJSONError(c, http.StatusBadRequest, "invalid_request", "The token parameter is required.")
	}
	resp, err := h.oauth.NewIntrospectionRequest(ctx, r, oauth.NewSession())
	if err != nil {
		if unavailable(err) {
			return h.jsonFailure(c, err)
		}
		if errors.Is(err, fosite.ErrRequestUnauthorized) && !errors.Is(err, fosite.ErrInactiveToken) {
			c.Response().Header().Set("WWW-Authenticate", `Basic realm="`+h.issuer+`"`)
			return oauthJSONError(c, http.StatusUnauthorized, "invalid_client", "The client credentials are invalid.")
		}
		h.oauth.WriteIntrospectionError(ctx, c.Response(), err)
		return nil
	}
	if resp.IsActive() && !h.mayIntrospect(r, resp.GetAccessRequester()) {
		// Someone else's token: as inactive as an unknown one, so a
		// client cannot even learn that the token exists.
		resp = &fosite.IntrospectionResponse{Active: false}
	}
	h.oauth.WriteIntrospectionResponse(ctx, c.Response(), resp)
	return nil
}

// mayIntrospect reports whether the authenticated caller may see the
// token: a resource server named in --introspection-clients sees every
// token, any other client only the tokens issued to it.
func (h *Handler) mayIntrospect(r *http.Request, ar fosite.AccessRequester) bool {
	user, _, _ := r.BasicAuth()
	// fosite authenticated the caller with the form-decoded id (RFC 6749
	// §2.3.1); an id that does not decode did not authenticate.
	caller, err := url.QueryUnescape(user)
	if err != nil || caller == "" {
		return false
	}
	if _, ok := h.introspectors[caller]; ok {
		return true
	}
	return ar != nil && ar.GetClient() != nil && ar.GetClient().GetID() == caller
}

// errorsJoinUnavailable makes fosite's bare temporarily_unavailable (it
// drops the storage error) recognisable as a storage outage.
func errorsJoinUnavailable(err error) error {
	if unavailable(err) {
		return err
	}
	return errors.Join(err, errStorageUnavailable)
}
