package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"

	"github.com/signet-idp/signet/internal/mfa"
	"github.com/signet-idp/signet/internal/oauth"
)

// authorize handles GET and POST /oauth2/auth: fosite validates the
// request; a request whose client or redirect URI cannot be trusted gets an
// HTML page, any other error a redirect to the client. A browser whose
// session satisfies the request, asking scopes already consented to, gets
// its code at once; any other valid request is parked as a login
// challenge and the browser goes to the login page.
func (h *Handler) authorize(c echo.Context) error {
	r := c.Request()
	ctx := h.oauth.WithRequestCache(r.Context())
	if err := parseForm(c.Response(), r); err != nil {
		return h.errorPage(c, http.StatusBadRequest, "invalid_request", err.Error())
	}
	// Request objects are not supported; fosite would try to decode them
	// before the redirect URI is known, so take them out and refuse them
	// once errors can be sent back. A pushed request's request_uri stays.
	pushed, requestObject := h.takeRequestObjects(r.Form)
	resourceAsAudience(r.Form)
	ar, err := h.oauth.NewAuthorizeRequest(ctx, r)
	// form is the request as made: for a pushed one, the parameters the
	// client pushed (fosite merged them in and used the request_uri up).
	form := r.Form
	if pushed && ar != nil && ar.GetClient() != nil && ar.GetClient().GetID() != "" {
		form = url.Values{}
		for k, v := range ar.GetRequestForm() {
			form[k] = v
		}
		form.Del("request_uri")
	}
	if ok, page := h.redirectable(ar, form, err); !ok {
		return page(c)
	}
	if err != nil {
		return h.authorizeError(ctx, c, ar, err)
	}
	if requestObject != nil {
		return h.authorizeError(ctx, c, ar, requestObject)
	}
	if !pushed && (h.requirePAR || requiresPAR(ar.GetClient())) {
		return h.authorizeError(ctx, c, ar, fosite.ErrInvalidRequest.WithHint(
			"Authorization requests of this client must be pushed first: POST them to the pushed_authorization_request_endpoint and send the request_uri it answers."))
	}
	hintSubject, err := h.checkAuthorizeRequest(ctx, ar, form)
	if err != nil {
		return h.authorizeError(ctx, c, ar, err)
	}
	if err := h.checkIDTokenAlg(ctx, ar.GetClient(), ar.GetRequestedScopes()); err != nil {
		return h.authorizeError(ctx, c, ar, err)
	}

	prompt := strings.Fields(form.Get("prompt"))
	park := oauth.ParkRequest{
		ClientID:        ar.GetClient().GetID(),
		Form:            form,
		RequestedScopes: []string(ar.GetRequestedScopes()),
	}
	bs, found, err := h.sessions.Current(r)
	if err != nil {
		return h.authorizeErrorPage(c, err)
	}
	if found {
		l := oauth.Login{Subject: bs.Subject, SessionID: bs.ID, AuthTime: bs.AuthTime, AMR: bs.AMR, ACR: bs.ACR, IDP: bs.IDP}
		if oauth.SatisfiesRequest(form, h.now(), l, hintSubject) {
			ok, err := h.strongEnough(ctx, ar, form, bs)
			if err != nil {
				return h.authorizeErrorPage(c, err)
			}
			if ok {
				park.Login = &l
			}
		}
	}

	if slices.Contains(prompt, "none") && park.Login == nil {
		return h.authorizeError(ctx, c, ar, fosite.ErrLoginRequired.WithHint("No signed-in session satisfies the request, and prompt=none forbids asking."))
	}
	// Single sign-on: a session that satisfies the request and consent
	// that needs no page answer at once, as the login and consent pages
	// would have without showing anything (no challenge is parked: three
	// page hops and their writes saved).
	if park.Login != nil && !slices.Contains(prompt, "login") && !slices.Contains(prompt, "consent") {
		ok, err := h.consentKnown(ctx, ar, park.Login.Subject)
		if err != nil {
			return h.authorizeErrorPage(c, err)
		}
		if ok {
			return h.issueCode(ctx, c, ar, oauth.Grant{
				Subject:     park.Login.Subject,
				SessionID:   park.Login.SessionID,
				AuthTime:    park.Login.AuthTime,
				AMR:         park.Login.AMR,
				ACR:         park.Login.ACR,
				IDP:         park.Login.IDP,
				RequestedAt: h.now(),
				Nonce:       form.Get("nonce"),
			}, park.RequestedScopes)
		}
		if slices.Contains(prompt, "none") {
			return h.authorizeError(ctx, c, ar, fosite.ErrConsentRequired.WithHint("The person has not consented to these scopes, and prompt=none forbids asking."))
		}
	}

	value, err := h.challenges.Park(ctx, park)
	if err != nil {
		return h.authorizeErrorPage(c, err)
	}
	return c.Redirect(http.StatusSeeOther, h.loginPath+"?login_challenge="+url.QueryEscape(value))
}

// strongEnough reports whether the browser session's sign-in satisfies the
// second factor the request, the client or the user's policy requires.
func (h *Handler) strongEnough(ctx context.Context, ar fosite.AuthorizeRequester, form url.Values, bs BrowserSession) (bool, error) {
	if mfa.TwoFactor(bs.ACR) {
		return true, nil
	}
	if c, ok := ar.GetClient().(*oauth.Client); ok && oauth.RequiresSecondFactor(form, c.Client) {
		return false, nil
	}
	if h.mfaPolicy == nil || bs.Subject == "" {
		return true, nil
	}
	required, err := h.mfaPolicy.Required(ctx, bs.Subject)
	return !required, err
}

// consentKnown reports whether consent needs no page: a first-party
// client, or remembered consent covering the requested scopes.
func (h *Handler) consentKnown(ctx context.Context, ar fosite.AuthorizeRequester, subject string) (bool, error) {
	if c, ok := ar.GetClient().(*oauth.Client); ok && c.FirstParty {
		return true, nil
	}
	return h.challenges.RememberedConsent(ctx, subject, ar.GetClient().GetID(), ar.GetRequestedScopes())
}

// redirectable decides whether errors may be sent to the redirect URI: the
// client exists, client_id and redirect_uri came exactly once, and
// redirect_uri is present and equal to a registered URI (exact string
// match: no loopback port or prefix leniency). Otherwise it returns the
// HTML page to answer with.
func (h *Handler) redirectable(ar fosite.AuthorizeRequester, form url.Values, err error) (bool, func(echo.Context) error) {
	page := func(code, msg string) func(echo.Context) error {
		return func(c echo.Context) error { return h.errorPage(c, http.StatusBadRequest, code, msg) }
	}
	// fosite starts every request with an empty placeholder client.
	if ar == nil || ar.GetClient() == nil || ar.GetClient().GetID() == "" {
		if err != nil && unavailable(err) {
			return false, func(c echo.Context) error { return h.authorizeErrorPage(c, err) }
		}
		if len(form["client_id"]) == 0 || form.Get("client_id") == "" {
			return false, page("invalid_request", "The request names no client (client_id is missing).")
		}
		if err != nil && fosite.ErrorToRFC6749Error(err).ErrorField != "invalid_client" {
			return false, func(c echo.Context) error { return h.authorizeErrorPage(c, err) }
		}
		return false, page("invalid_client", "The application that sent you here is not registered with this service.")
	}
	switch {
	case len(form["client_id"]) != 1:
		return false, page("invalid_request", "The parameter client_id was sent more than once.")
	case len(form["redirect_uri"]) > 1:
		return false, page("invalid_request", "The parameter redirect_uri was sent more than once.")
	case form.Get("redirect_uri") == "":
		return false, page("invalid_request", "The request has no redirect_uri; it is required.")
	case !slices.Contains(ar.GetClient().GetRedirectURIs(), form.Get("redirect_uri")):
		return false, page("invalid_request", "The redirect_uri is not registered for this application, so you cannot be sent back to it.")
	case !ar.IsRedirectURIValid():
		if err != nil {
			return false, func(c echo.Context) error { return h.authorizeErrorPage(c, err) }
		}
		return false, page("invalid_request", "The redirect_uri is not valid.")
	}
	return true, nil
}

var codeChallengePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// checkAuthorizeRequest checks at once what fosite would only check after
// the login (PKCE, prompt, nonce, id_token_hint) or not at all (repeated
// or over-long parameters, request objects). It returns the subject of a
// valid id_token_hint.
func (h *Handler) checkAuthorizeRequest(ctx context.Context, ar fosite.AuthorizeRequester, form url.Values) (string, error) {
	if err := checkParams(form); err != nil {
		return "", fosite.ErrInvalidRequest.WithHint(err.Error())
	}
	if !ar.GetResponseTypes().ExactOne("code") {
		return "", fosite.ErrUnsupportedResponseType.WithHint("Only response_type=code is supported.")
	}
	challenge, method := form.Get("code_challenge"), form.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return "", fosite.ErrInvalidRequest.WithHint("code_challenge_method was sent without code_challenge.")
	case challenge == "" && ar.GetClient().IsPublic():
		return "", fosite.ErrInvalidRequest.WithHint("This client must use PKCE: code_challenge (S256) is missing.")
	case challenge != "" && method != "S256":
		return "", fosite.ErrInvalidRequest.WithHint("code_challenge_method must be S256.")
	case challenge != "" && !codeChallengePattern.MatchString(challenge):
		return "", fosite.ErrInvalidRequest.WithHint("code_challenge must be the 43-character base64url SHA-256 of the verifier.")
	}
	prompt := strings.Fields(form.Get("prompt"))
	for _, p := range prompt {
		if p != "none" && p != "login" && p != "consent" {
			return "", fosite.ErrInvalidRequest.WithHintf("Unsupported prompt value %q.", p)
		}
	}
	if slices.Contains(prompt, "none") && len(prompt) > 1 {
		return "", fosite.ErrInvalidRequest.WithHint("prompt=none cannot be combined with other values.")
	}
	if v := form.Get("max_age"); v != "" {
		// fosite, like parseMaxAge, counts it in a time.Duration: a
		// larger value would wrap around and refuse every login.
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 || n > oauth.MaxAgeLimit {
			return "", fosite.ErrInvalidRequest.WithHintf("max_age must be a number of seconds from 0 to %d.", oauth.MaxAgeLimit)
		}
	}
	if n := form.Get("nonce"); n != "" && len(n) < 8 {
		return "", fosite.ErrInvalidRequest.WithHint("nonce must be at least 8 characters long.")
	}
	var hintSubject string
	if hint := form.Get("id_token_hint"); hint != "" {
		sub, err := h.oauth.DecodeIDTokenHint(ctx, hint)
		if err != nil {
			if unavailable(err) {
				return "", err
			}
			return "", fosite.ErrInvalidRequest.WithHint("id_token_hint is not an ID token issued by this service.")
		}
		hintSubject = sub
	}
	return hintSubject, nil
}

// resume handles GET /oauth2/auth/resume?login_challenge=VALUE: it takes
// the completed challenge (once), rebuilds the authorization request and
// answers the client: access_denied, or a code.
func (h *Handler) resume(c echo.Context) error {
	r := c.Request()
	ctx := h.oauth.WithRequestCache(r.Context())
	if err := parseForm(c.Response(), r); err != nil {
		return h.errorPage(c, http.StatusBadRequest, "invalid_request", err.Error())
	}
	value := r.Form.Get("login_challenge")
	ch, err := h.challenges.Consume(ctx, value)
	if errors.Is(err, oauth.ErrChallengeNotFound) {
		return h.errorPage(c, http.StatusBadRequest, "invalid_request",
			"This sign-in request expired or was already completed. Go back to the application and start again.")
	} else if err != nil {
		return h.authorizeErrorPage(c, err)
	}
	if ch.Subject != "" && ch.SessionID == "" && h.requireSess {
		// A login bound to no browser session could be finished by any
		// browser holding the challenge.
		return h.errorPage(c, http.StatusBadRequest, "invalid_request",
			"This sign-in is not tied to a browser session. Go back to the application and start again.")
	}
	var bs BrowserSession
	if ch.SessionID != "" {
		cur, found, err := h.sessions.Current(r)
		if err != nil {
			return h.authorizeErrorPage(c, err)
		}
		if (found && cur.ID != ch.SessionID) || (!found && h.requireSess) {
			return h.errorPage(c, http.StatusBadRequest, "invalid_request",
				"This sign-in was completed in another browser session. Go back to the application and start again.")
		}
		bs = cur
	}

	form, err := url.ParseQuery(ch.Form)
	if err != nil {
		return h.errorPage(c, http.StatusBadRequest, "invalid_request", "The stored sign-in request is unreadable.")
	}
	synth, err := http.NewRequestWithContext(ctx, http.MethodGet, PathAuthorize+"?"+form.Encode(), nil)
	if err != nil {
		return h.errorPage(c, http.StatusBadRequest, "invalid_request", "The stored sign-in request is unreadable.")
	}
	synth.Header.Set("Accept-Language", r.Header.Get("Accept-Language"))
	ar, err := h.oauth.NewAuthorizeRequest(ctx, synth)
	if ok, page := h.redirectable(ar, synth.Form, err); !ok {
		return page(c)
	}
	if err != nil {
		return h.authorizeError(ctx, c, ar, err)
	}
	if ch.Subject == "" {
		return h.authorizeError(ctx, c, ar, fosite.ErrAccessDenied.WithHint("The sign-in was not completed."))
	}
	if !ch.ConsentGiven {
		return h.authorizeError(ctx, c, ar, fosite.ErrAccessDenied.WithHint("The person did not allow the application access."))
	}
	// The login pages step a password-only session up; a challenge that
	// reaches here without it was not completed as the request demands.
	if ok, err := h.strongEnough(ctx, ar, form, bs); err != nil {
		return h.authorizeErrorPage(c, err)
	} else if !ok && ch.SessionID != "" {
		return h.authorizeError(ctx, c, ar, fosite.ErrAccessDenied.WithHint("The sign-in did not use the second factor the request requires."))
	}
	return h.issueCode(ctx, c, ar, oauth.Grant{
		Subject:     ch.Subject,
		SessionID:   ch.SessionID,
		AuthTime:    ch.AuthTime,
		AMR:         bs.AMR,
		ACR:         bs.ACR,
		IDP:         bs.IDP,
		RequestedAt: ch.CreatedAt,
		Nonce:       form.Get("nonce"),
	}, ch.GrantedScopes)
}

// issueCode grants the requested scopes among granted (and the requested
// audience) and answers the client with a code for the grant.
func (h *Handler) issueCode(ctx context.Context, c echo.Context, ar fosite.AuthorizeRequester, g oauth.Grant, granted []string) error {
	for _, s := range granted {
		if ar.GetRequestedScopes().Has(s) {
			ar.GrantScope(s)
		}
	}
	for _, a := range ar.GetRequestedAudience() {
		ar.GrantAudience(a)
	}
	sess, err := h.oauth.NewUserSession(ctx, g, ar.GetGrantedScopes())
	if errors.Is(err, oauth.ErrUserUnavailable) {
		return h.authorizeError(ctx, c, ar, fosite.ErrAccessDenied.WithHint("The account cannot sign in."))
	} else if err != nil {
		return h.authorizeError(ctx, c, ar, err)
	}
	var resp fosite.AuthorizeResponder
	var respErr error
	txErr := h.oauth.InTx(ctx, func(ctx context.Context) error {
		if err := h.recordSessionClient(ctx, ar.GetClient(), g.SessionID); err != nil {
			return err
		}
		resp, respErr = h.oauth.NewAuthorizeResponse(ctx, ar, sess)
		return respErr
	})
	if respErr != nil {
		return h.authorizeError(ctx, c, ar, respErr)
	}
	if txErr != nil {
		return h.authorizeErrorPage(c, txErr)
	}
	if ar.GetResponseMode() == fosite.ResponseModeFormPost {
		setFormPostCSP(c.Response().Header(), ar.GetRedirectURI())
	}
	h.oauth.WriteAuthorizeResponse(ctx, c.Response(), ar, resp)
	return nil
}

// checkIDTokenAlg refuses, before anyone signs in, a request for an ID
// token (scope openid) from a client registered for ID tokens in an
// algorithm this server does not sign with: the client was stored before
// registration checked it, or --signing-algorithms lost the algorithm
// since. Without it the person would sign in and consent, and the code
// exchange would fail.
func (h *Handler) checkIDTokenAlg(ctx context.Context, client fosite.Client, scopes fosite.Arguments) error {
	cl, ok := client.(*oauth.Client)
	if !ok || cl.IDTokenSignedResponseAlg == "" || !scopes.Has(oauth.ScopeOpenID) {
		return nil
	}
	offered := h.keys.Algorithms(ctx)
	if slices.Contains(offered, cl.IDTokenSignedResponseAlg) {
		return nil
	}
	h.logger.WarnContext(ctx, "client asks for ID tokens in an algorithm this server does not sign with; add it to --signing-algorithms",
		"client_id", cl.ID, "id_token_signed_response_alg", cl.IDTokenSignedResponseAlg, "offered", offered)
	return fosite.ErrUnauthorizedClient.WithHintf(
		"The client is registered for ID tokens signed with %s, which this server does not offer (it signs with %s).",
		cl.IDTokenSignedResponseAlg, strings.Join(offered, ", "))
}

// recordSessionClient notes, with the code it comes with, that the client
// receives tokens in the browser session, when back-channel logout is on
// and the client registered a logout URI (other clients cost nothing).
func (h *Handler) recordSessionClient(ctx context.Context, fc fosite.Client, sessionID string) error {
	c, ok := fc.(*oauth.Client)
	if h.sessClients == nil || sessionID == "" || !ok || c.BackchannelLogoutURI == "" {
		return nil
	}
	return h.sessClients.RecordSessionClient(ctx, sessionID, c.ID)
}

// takeRequestObjects removes request and request_uri from the form and
// returns the error to answer when one was there. The request_uri of a
// pushed request (RFC 9126) stays when PAR is on: the request is then the
// pushed one, and every other parameter sent along (but client_id, which
// must match) is dropped, as the pushed parameters alone count.
func (h *Handler) takeRequestObjects(form url.Values) (pushed bool, err error) {
	if h.par && !form.Has("request") && len(form["request_uri"]) == 1 && oauth.IsPushedRequestURI(form.Get("request_uri")) {
		for k := range form {
			if k != "client_id" && k != "request_uri" {
				delete(form, k)
			}
		}
		return true, nil
	}
	if form.Has("request_uri") {
		err = fosite.ErrRequestURINotSupported.WithHint("request_uri is supported only for pushed authorization requests.")
	}
	if form.Has("request") {
		err = fosite.ErrRequestNotSupported.WithHint("Request objects are not supported.")
	}
	form.Del("request")
	form.Del("request_uri")
	return false, err
}

// requiresPAR reports whether the client registered
// require_pushed_authorization_requests.
func requiresPAR(c fosite.Client) bool {
	oc, ok := c.(*oauth.Client)
	return ok && oc.RequirePushedAuthorizationRequests
}
