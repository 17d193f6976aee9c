package admin

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/adminapi"
	"github.com/signet-idp/signet/internal/storage"
)

// SecondFactors is what the API uses of two-factor sign-in
// (internal/mfa's Service): who has a second factor, and the reset.
type SecondFactors interface {
	Statuses(ctx context.Context, userIDs []string) (map[string]storage.MFAStatus, error)
	Reset(ctx context.Context, userID string) error
}

// WithMFA adds POST /users/:id/reset-mfa and mfa_enrolled in user answers.
func (a *API) WithMFA(m SecondFactors) *API {
	a.mfa = m
	return a
}

func (a *API) registerMFA(g *echo.Group) {
	if a.mfa == nil {
		return
	}
	g.POST("/users/:id/reset-mfa", a.resetMFA)
}

// resetMFA removes the user's second factors and recovery codes (they
// lost them); the service writes the audit entry.
func (a *API) resetMFA(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := a.accounts.GetUser(ctx, param(c, "id"))
	if err != nil {
		return a.fail(c, err)
	}
	if err := a.mfa.Reset(ctx, u.ID); err != nil {
		return a.fail(c, err)
	}
	return c.JSON(http.StatusOK, toUserResponse(u))
}

// users answers users with whether each has a second factor.
func (a *API) users(c echo.Context, list ...accounts.User) ([]adminapi.User, error) {
	out := make([]adminapi.User, 0, len(list))
	ids := make([]string, 0, len(list))
	for _, u := range list {
		out = append(out, toUserResponse(u))
		ids = append(ids, u.ID)
	}
	if a.mfa == nil || len(ids) == 0 {
		return out, nil
	}
	st, err := a.mfa.Statuses(c.Request().Context(), ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].MFAEnrolled = st[out[i].ID].Enrolled()
	}
	return out, nil
}

// userJSON answers one user with whether they have a second factor.
func (a *API) userJSON(c echo.Context, status int, u accounts.User) error {
	out, err := a.users(c, u)
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(status, out[0])
}
