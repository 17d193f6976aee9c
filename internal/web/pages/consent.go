package pages

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/web/render"
)

// consentForm asks the person whether the client may have the requested
// scopes, unless that is already settled.
func (h *Handler) consentForm(c echo.Context) error {
	value := c.QueryParam(ChallengeParam)
	if value == "" {
		return h.badChallenge(c, ErrChallengeNotFound)
	}
	ch, err := h.cfg.Challenges.Challenge(c.Request().Context(), value)
	if err != nil {
		return h.badChallenge(c, err)
	}
	s, err := h.current(c)
	if err != nil {
		return h.fail(c, err)
	}
	if s == nil || ch.Subject == "" || ch.SessionID != s.ID || ch.Subject != s.UserID {
		// Not logged in for this request in this browser: the login page
		// sorts it out (single sign-on or the form).
		return c.Redirect(http.StatusSeeOther, challengeURL(LoginPath, value))
	}
	ok, err := h.consentSettled(c, ch, s.UserID)
	if err != nil {
		return h.fail(c, err)
	}
	if ok {
		if err := h.cfg.Challenges.DecideConsent(c.Request().Context(), value, ch.Scopes, true); err != nil {
			return h.badChallenge(c, err)
		}
		return h.resume(c, value)
	}
	h.allowClientTargets(c.Request().Context(), c, ch.ClientID)
	return h.cfg.Render.Consent(c.Response(), http.StatusOK, render.ConsentPage{
		Common:     h.common(c, s),
		Challenge:  value,
		ClientName: ch.ClientName,
		Scopes:     describeScopes(ch.Scopes),
	})
}

// consent records the person's decision: allow grants exactly the
// requested scopes and remembers them for this client; deny sends the
// client access_denied and forgets what was remembered.
func (h *Handler) consent(c echo.Context) error {
	ctx := c.Request().Context()
	value := c.FormValue(ChallengeParam)
	if value == "" {
		return h.badChallenge(c, ErrChallengeNotFound)
	}
	ch, err := h.cfg.Challenges.Challenge(ctx, value)
	if err != nil {
		return h.badChallenge(c, err)
	}
	s, err := h.current(c)
	if err != nil {
		return h.fail(c, err)
	}
	if s == nil || ch.Subject == "" || ch.SessionID != s.ID || ch.Subject != s.UserID {
		return h.cfg.Render.Error(c.Response(), render.ErrorPage{
			Status:  http.StatusForbidden,
			Title:   "You are no longer signed in",
			Message: "This request was started by a sign-in that has ended on this device.",
			Hint:    "Go back to the app you came from and start signing in again.",
			Code:    "session_mismatch",
		})
	}
	switch c.FormValue("decision") {
	case "allow":
		if err := h.cfg.Consents.Remember(ctx, s.UserID, ch.ClientID, ch.Scopes); err != nil {
			return h.fail(c, err)
		}
		if err := h.cfg.Challenges.DecideConsent(ctx, value, ch.Scopes, true); err != nil {
			return h.badChallenge(c, err)
		}
		h.audit(c, s.UserID, audit.ConsentGrant, ch.ClientID, nil)
	case "deny":
		if err := h.cfg.Consents.Forget(ctx, s.UserID, ch.ClientID); err != nil {
			return h.fail(c, err)
		}
		if err := h.cfg.Challenges.DecideConsent(ctx, value, nil, false); err != nil {
			return h.badChallenge(c, err)
		}
		h.audit(c, s.UserID, "consent.deny", ch.ClientID, nil)
	default:
		return h.cfg.Render.Error(c.Response(), render.ErrorPage{
			Status:  http.StatusBadRequest,
			Title:   "Choose Allow or Deny",
			Message: "The form did not say whether you allow the app access.",
			Hint:    "Go back and choose one of the buttons.",
			Code:    "invalid_decision",
		})
	}
	return h.resume(c, value)
}
