package pages

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/connectors"
	"github.com/signet-idp/signet/internal/mfa"
	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/web/render"
)

// Paths of the upstream sign-in.
const (
	// ConnectorStartPath is GET /connectors/ID/start: the login page's
	// "Continue with …" links (a link, not a form: the redirect to the
	// upstream is not a form submission, which CSP form-action would
	// stop, and starting a sign-in changes nothing here).
	ConnectorStartPath = "/connectors/:id/start"
	// ConnectorCallbackPath is where the upstream sends the browser back.
	ConnectorCallbackPath = "/connectors/:id/callback"
	// ConnectorLinkPath asks for an existing account's password before
	// linking.
	ConnectorLinkPath = "/connectors/link"
	// AccountUnlinkPath unlinks a provider from the account page.
	AccountUnlinkPath = "/account/connectors/unlink"
	// AccountLinkPath starts linking a provider from the account page.
	AccountLinkPath = "/account/connectors/link"
)

// Cookies of the upstream sign-in: sealed, HttpOnly, only sent to
// /connectors/, and SameSite=Lax because the upstream's redirect back is
// a cross-site top-level navigation.
const (
	flowCookie    = "signet_upstream"
	pendingCookie = "signet_upstream_link"
)

// Connectors is the upstream sign-in service (connectors.Service).
type Connectors interface {
	Buttons(ctx context.Context) ([]connectors.Button, error)
	Begin(ctx context.Context, id string, f connectors.Flow) (authURL, sealed string, err error)
	Complete(ctx context.Context, id, sealed string, query url.Values) (connectors.Flow, connectors.Identity, error)
	SignIn(ctx context.Context, id string, ident connectors.Identity) (connectors.Outcome, error)
	Link(ctx context.Context, userID, id string, ident connectors.Identity) error
	Unlink(ctx context.Context, userID, id string) error
	Providers(ctx context.Context, userID string) ([]connectors.Linked, error)
	ConnectorName(ctx context.Context, id string) string
	SealPending(p connectors.PendingLink) (string, error)
	OpenPending(sealed string) (connectors.PendingLink, error)
}

func (h *Handler) registerConnectors(e *echo.Echo) {
	if h.cfg.Connectors == nil {
		return
	}
	e.GET(ConnectorStartPath, h.connectorStart, h.csrf)
	e.GET(ConnectorCallbackPath, h.connectorCallback, h.csrf)
	e.GET(ConnectorLinkPath, h.connectorLinkForm, h.csrf)
	e.POST(ConnectorLinkPath, h.connectorLink, h.csrf)
	if h.cfg.Account != nil {
		e.POST(AccountUnlinkPath, h.accountForm("", false, h.unlinkProvider), h.csrf)
		e.POST(AccountLinkPath, h.accountForm("", false, h.linkProvider), h.csrf)
	}
}

// connectorButtons are the login page's providers; a failure to list them
// leaves only the password form (and is logged).
func (h *Handler) connectorButtons(ctx context.Context, challenge, returnTo string) []render.ConnectorButton {
	if h.cfg.Connectors == nil {
		return nil
	}
	bs, err := h.cfg.Connectors.Buttons(ctx)
	if err != nil {
		h.cfg.Logger.WarnContext(ctx, "could not list connectors for the login page", "err", err)
		return nil
	}
	out := make([]render.ConnectorButton, 0, len(bs))
	for _, b := range bs {
		q := url.Values{}
		if challenge != "" {
			q.Set(ChallengeParam, challenge)
		} else if returnTo != "" {
			q.Set("return_to", returnTo)
		}
		href := "/connectors/" + url.PathEscape(b.ID) + "/start"
		if len(q) > 0 {
			href += "?" + q.Encode()
		}
		out = append(out, render.ConnectorButton{Name: b.Name, IconURL: b.IconURL, Href: href})
	}
	return out
}

func (h *Handler) setUpstreamCookie(c echo.Context, name, value string) {
	http.SetCookie(c.Response(), &http.Cookie{
		Name: name, Value: value, Path: "/connectors/", MaxAge: int(connectors.FlowLifespan / time.Second),
		HttpOnly: true, Secure: h.cfg.Secure, SameSite: http.SameSiteLaxMode,
	})
}

func (h *Handler) clearUpstreamCookie(c echo.Context, name string) {
	http.SetCookie(c.Response(), &http.Cookie{
		Name: name, Value: "", Path: "/connectors/", MaxAge: -1,
		HttpOnly: true, Secure: h.cfg.Secure, SameSite: http.SameSiteLaxMode,
	})
}

// connectorStart sends the browser to the upstream to sign in.
func (h *Handler) connectorStart(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	f := connectors.Flow{
		Challenge: c.QueryParam(ChallengeParam),
		ReturnTo:  SafeReturnTo(c.QueryParam("return_to")),
	}
	if f.Challenge != "" {
		if _, err := h.cfg.Challenges.Challenge(ctx, f.Challenge); err != nil {
			return h.badChallenge(c, err)
		}
	}
	authURL, sealed, err := h.cfg.Connectors.Begin(ctx, id, f)
	if err != nil {
		return h.upstreamFailed(c, id, "", err)
	}
	h.setUpstreamCookie(c, flowCookie, sealed)
	return c.Redirect(http.StatusSeeOther, authURL)
}

// connectorCallback takes the upstream's answer.
func (h *Handler) connectorCallback(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("id")
	sealed := ""
	if ck, err := c.Cookie(flowCookie); err == nil {
		sealed = ck.Value
	}
	// One answer per flow: a replayed callback finds no cookie.
	h.clearUpstreamCookie(c, flowCookie)
	f, ident, err := h.cfg.Connectors.Complete(ctx, id, sealed, c.QueryParams())
	if err != nil {
		return h.upstreamFailed(c, id, f.LinkUser, err)
	}
	if f.LinkUser != "" {
		return h.linkFromAccount(c, id, f.LinkUser, ident)
	}
	out, err := h.cfg.Connectors.SignIn(ctx, id, ident)
	if err != nil {
		return h.upstreamFailed(c, id, "", err)
	}
	if out.LinkTo != "" {
		// Never link by e-mail alone: whoever controls an upstream account
		// could name any address. The account's password decides.
		p, err := h.cfg.Connectors.SealPending(connectors.PendingLink{
			Connector: id, Identity: ident, UserID: out.LinkTo, Challenge: f.Challenge, ReturnTo: f.ReturnTo, Remember: f.Remember,
		})
		if err != nil {
			return h.fail(c, err)
		}
		h.cfg.Logger.InfoContext(ctx, "upstream e-mail belongs to an account: asking for its password", "connector", id, "user_id", out.LinkTo)
		h.setUpstreamCookie(c, pendingCookie, p)
		return h.continueTo(c, ConnectorLinkPath)
	}
	details := map[string]string{"connector": id}
	if out.Created {
		details["created"] = "true"
	}
	return h.upstreamSession(c, out.UserID, id, []string{"fed"}, f.Challenge, f.ReturnTo, f.Remember, details)
}

// upstreamSession starts the session of an upstream sign-in and carries
// on with the app's request (or returnTo).
func (h *Handler) upstreamSession(c echo.Context, userID, connectorID string, amr []string, challenge, returnTo string, remember bool, details map[string]string) error {
	ctx := c.Request().Context()
	s, err := h.cfg.Sessions.Start(c.Response(), c.Request(), sessions.StartInput{
		UserID: userID, Remember: remember, UserAgent: c.Request().UserAgent(), IP: h.clientIP(c),
		AMR: amr, ACR: mfa.ACRFor(amr), IDP: connectorID,
	})
	if err != nil {
		return h.fail(c, err)
	}
	details["remember"] = strconv.FormatBool(remember)
	h.audit(c, userID, audit.UpstreamLogin, s.ID, details)
	h.cfg.Logger.InfoContext(ctx, "signed in through a connector", "connector", connectorID, "user_id", userID)
	if challenge == "" {
		return h.continueTo(c, orHome(returnTo))
	}
	if err := h.cfg.Challenges.AcceptLogin(ctx, challenge, userID, s.ID, s.AuthTime); err != nil {
		if errors.Is(err, ErrLoginRejected) {
			return h.cfg.Render.Error(c.Response(), render.ErrorPage{
				Common: h.common(c, &s), Status: http.StatusForbidden, Title: "Signed in with another account",
				Message: "The app asked you to sign in with a different account.",
				Hint:    "Go back to the app and start signing in again.", Code: "login_rejected",
			})
		}
		return h.badChallenge(c, err)
	}
	// The login page carries on with a login it already accepted
	// (consent, then back to the app).
	return h.continueTo(c, challengeURL(LoginPath, challenge))
}

// continueTo moves the browser on to a path on Signet through a page
// rather than a redirect: the callback is the last hop of a redirect
// chain that began with the upstream's login form, and the browser would
// hold the hops after it to that form's CSP form-action.
func (h *Handler) continueTo(c echo.Context, next string) error {
	return h.cfg.Render.Continue(c.Response(), render.Common{}, next)
}

// linkFromAccount finishes linking an upstream account from the account
// page: the browser must still be signed in as the person who started it.
func (h *Handler) linkFromAccount(c echo.Context, id, userID string, ident connectors.Identity) error {
	s, err := h.current(c)
	if err != nil {
		return h.fail(c, err)
	}
	if s == nil || s.UserID != userID {
		return h.upstreamFailed(c, id, userID, &connectors.Error{Kind: connectors.KindState, Connector: id,
			Err: errors.New("link flow finished in another session")})
	}
	ctx := h.actAs(c, s.UserID)
	if err := h.cfg.Connectors.Link(ctx, s.UserID, id, ident); err != nil {
		return h.upstreamFailed(c, id, userID, err)
	}
	SetFlash(c, "provider-linked", h.cfg.Secure)
	return h.continueTo(c, AccountPath)
}

// pending opens the browser's pending link (nil when there is none or it
// expired: the page says so).
func (h *Handler) pending(c echo.Context) *connectors.PendingLink {
	ck, err := c.Cookie(pendingCookie)
	if err != nil {
		return nil
	}
	p, err := h.cfg.Connectors.OpenPending(ck.Value)
	if err != nil {
		h.cfg.Logger.InfoContext(c.Request().Context(), "pending upstream link unusable", "err", err)
		return nil
	}
	return &p
}

func (h *Handler) linkExpired(c echo.Context) error {
	return h.cfg.Render.Error(c.Response(), render.ErrorPage{
		Status: http.StatusBadRequest, Title: "This sign-in has expired",
		Message: "Linking your account took too long, or was already done.",
		Hint:    "Go back to the app you came from and sign in again.", Code: "link_expired",
	})
}

func (h *Handler) linkPage(c echo.Context, p *connectors.PendingLink, status int, msg string) error {
	cancel := LoginPath
	if p.Challenge != "" {
		cancel = challengeURL(LoginPath, p.Challenge)
		if ch, err := h.cfg.Challenges.Challenge(c.Request().Context(), p.Challenge); err == nil {
			h.allowClientTargets(c.Request().Context(), c, ch.ClientID)
		}
	}
	return h.cfg.Render.ConnectorLink(c.Response(), status, render.LinkPage{
		Common: h.common(c, nil), ConnectorName: h.cfg.Connectors.ConnectorName(c.Request().Context(), p.Connector),
		Email: p.Identity.Email, Error: msg, CancelURL: cancel,
	})
}

func (h *Handler) connectorLinkForm(c echo.Context) error {
	p := h.pending(c)
	if p == nil {
		return h.linkExpired(c)
	}
	return h.linkPage(c, p, http.StatusOK, "")
}

// connectorLink checks the existing account's password (throttled like a
// login), then links and signs in.
func (h *Handler) connectorLink(c echo.Context) error {
	ctx := c.Request().Context()
	p := h.pending(c)
	if p == nil {
		return h.linkExpired(c)
	}
	u, err := h.cfg.Users.GetUser(ctx, p.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		h.clearUpstreamCookie(c, pendingCookie)
		return h.linkExpired(c)
	} else if err != nil {
		return h.fail(c, err)
	}
	limits := h.cfg.Throttle.LoginLimits(sessions.AccountKey(u.ID, ""), sessions.IPKey(h.clientIP(c)), h.cfg.Devices.Known(c.Request(), u.ID))
	attempt, wait, err := h.cfg.Throttle.Reserve(ctx, limits...)
	if err != nil {
		return h.fail(c, err)
	}
	if attempt == nil {
		setRetryAfter(c, wait)
		return h.linkPage(c, p, http.StatusTooManyRequests, msgThrottled(wait))
	}
	user, err := h.cfg.Accounts.Authenticate(ctx, u.Username, c.FormValue("password"))
	if errors.Is(err, accounts.ErrInvalidCredentials) || (err == nil && user.ID != u.ID) {
		h.cfg.Logger.InfoContext(ctx, "upstream link: wrong password", "user_id", u.ID, "connector", p.Connector)
		h.audit(c, u.ID, audit.LoginFailure, "", map[string]string{"connector": p.Connector, "purpose": "link"})
		return h.linkPage(c, p, http.StatusUnauthorized, "The password is not right. Try again.")
	}
	if err != nil {
		h.refund(c, attempt)
		if errors.Is(err, accounts.ErrBusy) {
			setRetryAfter(c, busyRetryAfter)
			return h.linkPage(c, p, http.StatusTooManyRequests, msgBusy)
		}
		return h.fail(c, err)
	}
	if err := attempt.Succeeded(ctx); err != nil {
		h.cfg.Logger.WarnContext(ctx, "could not clear login failures", "user_id", u.ID, "err", err)
	}
	h.clearUpstreamCookie(c, pendingCookie)
	if err := h.cfg.Connectors.Link(audit.WithActor(ctx, audit.Actor{ID: u.ID, IP: h.clientIP(c)}), u.ID, p.Connector, p.Identity); err != nil {
		return h.upstreamFailed(c, p.Connector, u.ID, err)
	}
	return h.upstreamSession(c, u.ID, p.Connector, []string{"fed", "pwd"}, p.Challenge, p.ReturnTo, p.Remember,
		map[string]string{"connector": p.Connector, "linked": "true"})
}

// linkProvider is the account page's "Link": a form with the CSRF token,
// not a link, so no other site can start linking an upstream account (one
// it signed the browser in to, say) to the signed-in person's. The page it
// answers moves on to the upstream: a redirect would be held to the
// page's CSP form-action, which names no upstream.
func (h *Handler) linkProvider(c echo.Context, ctx context.Context, s storage.Session) (string, string, error) {
	id := c.FormValue("connector")
	authURL, sealed, err := h.cfg.Connectors.Begin(ctx, id, connectors.Flow{LinkUser: s.UserID})
	if err != nil {
		return "", "", h.upstreamFailed(c, id, s.UserID, err)
	}
	h.setUpstreamCookie(c, flowCookie, sealed)
	return "", "", h.cfg.Render.Continue(c.Response(), h.common(c, &s), authURL)
}

// unlinkProvider is the account page's "Unlink".
func (h *Handler) unlinkProvider(c echo.Context, ctx context.Context, s storage.Session) (string, string, error) {
	err := h.cfg.Connectors.Unlink(ctx, s.UserID, c.FormValue("connector"))
	switch {
	case errors.Is(err, connectors.ErrLastWayIn):
		return "provider-last", "", nil
	case errors.Is(err, connectors.ErrNotFound):
		return "", "", nil
	case err != nil:
		return "", "", err
	}
	return "provider-unlinked", "", nil
}

// upstreamMessages explain each failure in plain words.
var upstreamMessages = map[connectors.Kind]render.ErrorPage{
	connectors.KindCancelled: {Status: http.StatusForbidden, Title: "Sign-in cancelled",
		Message: "The sign-in at %s was cancelled or not allowed.", Hint: "Start again, or choose another way to sign in."},
	connectors.KindRefused: {Status: http.StatusBadGateway, Title: "Sign-in refused",
		Message: "%s refused the sign-in.", Hint: "Start again. If it keeps happening, tell your administrator."},
	connectors.KindUnreachable: {Status: http.StatusGatewayTimeout, Title: "Provider not reachable",
		Message: "%s did not answer in time.", Hint: "Wait a moment and start again, or choose another way to sign in."},
	connectors.KindInvalid: {Status: http.StatusBadGateway, Title: "Sign-in could not be checked",
		Message: "The answer from %s could not be verified.", Hint: "Start again. If it keeps happening, tell your administrator."},
	connectors.KindState: {Status: http.StatusBadRequest, Title: "This sign-in cannot be finished",
		Message: "The answer from %s does not belong to a sign-in started in this browser, or it took too long.",
		Hint:    "Go back to the app and start signing in again."},
	connectors.KindNonce: {Status: http.StatusBadRequest, Title: "This sign-in cannot be finished",
		Message: "The answer from %s does not belong to this sign-in.", Hint: "Go back to the app and start signing in again."},
	connectors.KindUnverifiedEmail: {Status: http.StatusForbidden, Title: "E-mail address not verified",
		Message: "%s did not confirm that your e-mail address is verified.",
		Hint:    "Verify your address there, then start again."},
	connectors.KindNotAllowed: {Status: http.StatusForbidden, Title: "Not allowed to sign in",
		Message: "Your %s account is not in an organisation allowed to sign in here.",
		Hint:    "Sign in with an account of an allowed organisation, or ask your administrator."},
	connectors.KindUnavailable: {Status: http.StatusNotFound, Title: "Sign-in option not available",
		Message: "This way of signing in%s is not available.", Hint: "Go back and choose another way to sign in."},
	connectors.KindDisabled: {Status: http.StatusForbidden, Title: "Account disabled",
		Message: "The account you signed in to with %s is disabled.", Hint: "Ask your administrator."},
	connectors.KindAlreadyLinked: {Status: http.StatusConflict, Title: "Already linked",
		Message: "This %s account is already linked to another account here, or yours already has one linked.",
		Hint:    "Unlink it there first, or sign in with that account."},
}

// upstreamFailed shows the product's own page for a failed upstream
// sign-in; the details go to the log and the audit log.
func (h *Handler) upstreamFailed(c echo.Context, id, userID string, err error) error {
	ctx := c.Request().Context()
	kind := connectors.KindOf(err)
	page, ok := upstreamMessages[kind]
	if !ok {
		return h.fail(c, err)
	}
	name := h.cfg.Connectors.ConnectorName(ctx, id)
	switch {
	case kind == connectors.KindUnavailable:
		name = ""
	case name == "":
		name = "the provider"
	}
	page.Message = fmtMessage(page.Message, name)
	page.Code = string(kind)
	h.cfg.Logger.WarnContext(ctx, "upstream sign-in failed", "connector", id, "kind", string(kind), "err", err)
	h.audit(c, orUnknown(userID), audit.UpstreamLoginFailure, id, map[string]string{"connector": id, "reason": string(kind)})
	return h.cfg.Render.Error(c.Response(), page)
}

func fmtMessage(format, name string) string {
	if name == "" {
		return strings.Replace(format, "%s", "", 1)
	}
	return strings.Replace(format, "%s", name, 1)
}
