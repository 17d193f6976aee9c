package pages

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/web/render"
)

// logoutParams are the RP-Initiated Logout 1.0 request parameters Signet
// acts on.
type logoutParams struct {
	IDTokenHint           string
	ClientID              string
	PostLogoutRedirectURI string
	State                 string
}

func logoutParamsFrom(get func(string) string) logoutParams {
	return logoutParams{
		IDTokenHint:           get("id_token_hint"),
		ClientID:              get("client_id"),
		PostLogoutRedirectURI: get("post_logout_redirect_uri"),
		State:                 get("state"),
	}
}

func (p logoutParams) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{
		"id_token_hint": p.IDTokenHint, "client_id": p.ClientID,
		"post_logout_redirect_uri": p.PostLogoutRedirectURI, "state": p.State,
	} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v
}

// logoutRequest is a validated logout request.
type logoutRequest struct {
	logoutParams
	// hint holds the verified id_token_hint claims (nil without a hint).
	hint   *HintClaims
	client *storage.Client
	// redirect is the validated post-logout redirect URI with state, ""
	// when the person stays on Signet.
	redirect string
}

// errorPage values for logout requests that cannot be honoured: none of
// them may redirect anywhere.
var (
	errBadHint = render.ErrorPage{
		Status: http.StatusBadRequest, Title: "This sign-out link is not valid",
		Message: "The app sent a sign-out request that could not be verified.",
		Hint:    "You can close this window, or sign out from the app again.", Code: "invalid_id_token_hint",
	}
	errUnknownClient = render.ErrorPage{
		Status: http.StatusBadRequest, Title: "This sign-out link is not valid",
		Message: "The app that sent you here is not known to us.",
		Hint:    "You can close this window.", Code: "invalid_client",
	}
	errBadRedirect = render.ErrorPage{
		Status: http.StatusBadRequest, Title: "This sign-out link is not valid",
		Message: "The app asked to send you to an address it has not registered.",
		Hint:    "You can close this window. You have not been signed out.", Code: "invalid_post_logout_redirect_uri",
	}
)

// errPage is a logout validation failure that is answered with a page.
type errPage struct{ page render.ErrorPage }

func (e *errPage) Error() string { return e.page.Code }

// validateLogout checks the hint, identifies the client (the hint's
// audience or client_id, which must agree) and requires the post-logout
// redirect URI to be registered for exactly that client.
func (h *Handler) validateLogout(c echo.Context, p logoutParams) (logoutRequest, error) {
	ctx := c.Request().Context()
	req := logoutRequest{logoutParams: p}
	if p.IDTokenHint != "" {
		if h.cfg.Hints == nil {
			return req, &errPage{errBadHint}
		}
		claims, err := h.cfg.Hints.VerifyIDTokenHint(ctx, p.IDTokenHint)
		if err != nil {
			if errors.Is(err, storage.ErrUnavailable) {
				return req, err
			}
			h.cfg.Logger.InfoContext(ctx, "logout: id_token_hint rejected", "err", err)
			return req, &errPage{errBadHint}
		}
		req.hint = &claims
	}
	clientID := p.ClientID
	if req.hint != nil {
		switch {
		case clientID != "" && !slices.Contains(req.hint.Audience, clientID):
			h.cfg.Logger.InfoContext(ctx, "logout: client_id is not an audience of id_token_hint", "client_id", clientID)
			return req, &errPage{errBadHint}
		case clientID == "" && req.hint.AuthorizedParty != "":
			clientID = req.hint.AuthorizedParty
		case clientID == "" && len(req.hint.Audience) == 1:
			clientID = req.hint.Audience[0]
		}
	}
	if clientID != "" {
		cl, err := h.cfg.Clients.GetClient(ctx, clientID)
		if errors.Is(err, storage.ErrNotFound) {
			return req, &errPage{errUnknownClient}
		}
		if err != nil {
			return req, err
		}
		req.client = &cl
	}
	if p.PostLogoutRedirectURI != "" {
		if req.client == nil || !slices.Contains(req.client.PostLogoutRedirectURIs, p.PostLogoutRedirectURI) {
			h.cfg.Logger.InfoContext(ctx, "logout: post_logout_redirect_uri not registered", "client_id", clientID)
			return req, &errPage{errBadRedirect}
		}
		u, err := url.Parse(p.PostLogoutRedirectURI)
		if err != nil {
			return req, &errPage{errBadRedirect}
		}
		if p.State != "" {
			q := u.Query()
			q.Set("state", p.State)
			u.RawQuery = q.Encode()
		}
		req.redirect = u.String()
	}
	return req, nil
}

// proves reports whether the request's hint was issued to the person
// signed in here, in this very session when the hint names one: then the
// request needs no confirmation.
func (r logoutRequest) proves(s *storage.Session) bool {
	if r.hint == nil || s == nil || r.hint.Subject != s.UserID {
		return false
	}
	return r.hint.SessionID == "" || r.hint.SessionID == s.ID
}

// logoutRequest handles a logout request (the end_session endpoint):
// signs out at once when the hint proves it, otherwise asks to confirm.
func (h *Handler) logoutRequest(c echo.Context) error {
	p := logoutParamsFrom(c.QueryParam)
	req, err := h.validateLogout(c, p)
	if err != nil {
		return h.logoutFailed(c, err)
	}
	s, err := h.current(c)
	if err != nil {
		return h.fail(c, err)
	}
	if s == nil || req.proves(s) {
		return h.finishLogout(c, req, s)
	}
	common := h.common(c, s)
	page := render.LogoutPage{
		Common: common, IDTokenHint: p.IDTokenHint, ClientID: p.ClientID,
		PostLogoutRedirectURI: p.PostLogoutRedirectURI, State: p.State,
	}
	if req.client != nil {
		page.ClientName = req.client.Name
	}
	if req.redirect != "" {
		allowFormTargets(c, req.redirect)
	}
	return h.cfg.Render.Logout(c.Response(), http.StatusOK, page)
}

// logoutPost takes Signet's own sign-out forms (confirmation page, the
// "Sign out" button) after checking their CSRF token; a relying party's
// POSTed logout request (which has no token) is turned into the same GET
// request.
func (h *Handler) logoutPost(c echo.Context) error {
	r := c.Request()
	if err := r.ParseForm(); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "malformed form")
	}
	if _, ours := r.PostForm[CSRFField]; !ours {
		p := logoutParamsFrom(r.PostForm.Get)
		target := LogoutPath
		if v := p.values(); len(v) > 0 {
			target += "?" + v.Encode()
		}
		return c.Redirect(http.StatusSeeOther, target)
	}
	return h.csrf(h.logoutConfirmed)(c)
}

// logoutConfirmed ends the session after the person said so on Signet's
// page ("Stay signed in" keeps it).
func (h *Handler) logoutConfirmed(c echo.Context) error {
	p := logoutParamsFrom(c.FormValue)
	req, err := h.validateLogout(c, p)
	if err != nil {
		return h.logoutFailed(c, err)
	}
	s, err := h.current(c)
	if err != nil {
		return h.fail(c, err)
	}
	if c.FormValue("decision") == "cancel" {
		common := h.common(c, s)
		return h.cfg.Render.Home(c.Response(), http.StatusOK, render.HomePage{
			Common: common, Username: common.SignedInAs, Notice: "You are still signed in.",
		})
	}
	return h.finishLogout(c, req, s)
}

// finishLogout ends the session (if any), clears its cookie and sends the
// person to the validated post-logout URI or the signed-out page.
func (h *Handler) finishLogout(c echo.Context, req logoutRequest, s *storage.Session) error {
	if _, err := h.cfg.Sessions.End(c.Response(), c.Request()); err != nil && !errors.Is(err, sessions.ErrNoSession) {
		return h.fail(c, err)
	}
	if s != nil {
		clientID := ""
		if req.client != nil {
			clientID = req.client.ID
		}
		h.audit(c, s.UserID, "logout", s.ID, map[string]string{"client_id": clientID})
	}
	if req.redirect != "" {
		return c.Redirect(http.StatusSeeOther, req.redirect)
	}
	return h.cfg.Render.SignedOut(c.Response(), http.StatusOK, render.SignedOutPage{})
}

func (h *Handler) logoutFailed(c echo.Context, err error) error {
	var ep *errPage
	if errors.As(err, &ep) {
		return h.cfg.Render.Error(c.Response(), ep.page)
	}
	return h.fail(c, err)
}
