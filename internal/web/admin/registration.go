package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/adminapi"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/storage"
)

// RegistrationTokens is what the API uses of the initial access tokens of
// dynamic client registration (*clients.RegistrationTokens).
type RegistrationTokens interface {
	Issue(ctx context.Context, in clients.NewRegistrationToken) (storage.RegistrationToken, string, error)
	List(ctx context.Context) ([]storage.RegistrationToken, error)
	Revoke(ctx context.Context, id string) error
}

// WithRegistrationTokens adds the /registration-tokens routes' service.
func (a *API) WithRegistrationTokens(t RegistrationTokens) *API {
	a.regTokens = t
	return a
}

func (a *API) registerRegistrationTokens(g *echo.Group) {
	if a.regTokens == nil {
		return
	}
	g.POST("/registration-tokens", a.createRegistrationToken)
	g.GET("/registration-tokens", a.listRegistrationTokens)
	g.DELETE("/registration-tokens/:id", a.revokeRegistrationToken)
}

func toRegistrationToken(t storage.RegistrationToken) adminapi.RegistrationToken {
	out := adminapi.RegistrationToken{ID: t.ID, Description: t.Description, CreatedAt: t.CreatedAt, MaxUses: t.MaxUses, Uses: t.Uses}
	if !t.ExpiresAt.IsZero() {
		exp := t.ExpiresAt
		out.ExpiresAt = &exp
	}
	return out
}

// maxExpiresIn bounds a token's lifetime (ten years) so the duration
// cannot overflow.
const maxExpiresIn = 10 * 365 * 24 * 3600

func (a *API) createRegistrationToken(c echo.Context) error {
	var req adminapi.NewRegistrationToken
	if err := decode(c, &req); err != nil {
		return a.fail(c, err)
	}
	if req.ExpiresIn < 0 || req.ExpiresIn > maxExpiresIn {
		return a.fail(c, badRequest("expires_in must be from 0 (never) to 315360000 seconds"))
	}
	t, token, err := a.regTokens.Issue(c.Request().Context(), clients.NewRegistrationToken{
		Description: req.Description, ExpiresIn: time.Duration(req.ExpiresIn) * time.Second, MaxUses: req.MaxUses,
	})
	if err != nil {
		return a.fail(c, err)
	}
	a.audit.Record(c.Request().Context(), audit.Event{Action: audit.RegistrationTokenCreate, Target: t.ID,
		Details: map[string]string{"description": t.Description}})
	out := toRegistrationToken(t)
	out.Token = token
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, out)
}

func (a *API) listRegistrationTokens(c echo.Context) error {
	list, err := a.regTokens.List(c.Request().Context())
	if err != nil {
		return a.fail(c, err)
	}
	out := make([]adminapi.RegistrationToken, 0, len(list))
	for _, t := range list {
		out = append(out, toRegistrationToken(t))
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) revokeRegistrationToken(c echo.Context) error {
	id := param(c, "id")
	if err := a.regTokens.Revoke(c.Request().Context(), id); err != nil {
		return a.fail(c, err)
	}
	a.audit.Record(c.Request().Context(), audit.Event{Action: audit.RegistrationTokenRevoke, Target: id})
	return c.NoContent(http.StatusNoContent)
}
