package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/web/render"
)

// PageSize is how many users one page of the list shows.
const PageSize = 20

// Bounds on the list's query: longer searches are cut, later pages
// refused.
const (
	maxSearch = 200
	maxPage   = 100000
)

func toAdminUser(u accounts.User) render.AdminUser {
	return render.AdminUser{
		ID: u.ID, Username: u.Username, Email: u.Email, Name: u.Name, EmailVerified: u.EmailVerified,
		Disabled: u.Disabled, Roles: u.Roles, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

func usersURL(q string, page int) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) == 0 {
		return UsersPath
	}
	return UsersPath + "?" + v.Encode()
}

// users lists users matching ?q=, a page (?page=) at a time, ordered by
// user name.
func (h *Handler) users(c echo.Context) error {
	q := clip(strings.TrimSpace(c.QueryParam("q")), maxSearch)
	page, err := strconv.Atoi(c.QueryParam("page"))
	if err != nil || page < 1 || page > maxPage {
		page = 1
	}
	// One more than a page tells whether there is a next one.
	list, err := h.cfg.Accounts.ListUsers(c.Request().Context(), accounts.UserQuery{
		Search: q, Limit: PageSize + 1, Offset: (page - 1) * PageSize,
	})
	var ve *accounts.ValidationError
	if errors.As(err, &ve) {
		list, err = nil, nil // text no user can match
	}
	if err != nil {
		return h.fail(c, err)
	}
	p := render.AdminUsersPage{Common: h.common(c), Flash: h.takeFlash(c), Query: q, Page: page}
	if len(list) > PageSize {
		list = list[:PageSize]
		p.NextURL = usersURL(q, page+1)
	}
	if page > 1 {
		p.PrevURL = usersURL(q, page-1)
	}
	ids := make([]string, 0, len(list))
	for _, u := range list {
		p.Users = append(p.Users, toAdminUser(u))
		ids = append(ids, u.ID)
	}
	if h.cfg.MFA != nil {
		st, err := h.cfg.MFA.Statuses(c.Request().Context(), ids)
		if err != nil {
			return h.fail(c, err)
		}
		p.ShowMFA = true
		for i := range p.Users {
			p.Users[i].MFA = st[p.Users[i].ID].Enrolled()
		}
	}
	return h.cfg.Render.AdminUsers(c.Response(), http.StatusOK, p)
}

// searchUsers takes the search form (a POST, so it carries the CSRF token
// without putting it in a URL) to the list's first page of results.
func (h *Handler) searchUsers(c echo.Context) error {
	q := clip(strings.TrimSpace(c.FormValue("q")), maxSearch)
	return c.Redirect(http.StatusSeeOther, usersURL(q, 1))
}

// user shows one user.
func (h *Handler) user(c echo.Context) error {
	u, err := h.cfg.Accounts.GetUser(c.Request().Context(), param(c, "id"))
	if errors.Is(err, accounts.ErrUserNotFound) {
		return h.notFound(c, "There is no such user. They may have been deleted.")
	}
	if err != nil {
		return h.fail(c, err)
	}
	return h.renderUser(c, http.StatusOK, u, h.takeFlash(c), "")
}

func (h *Handler) renderUser(c echo.Context, status int, u accounts.User, flash, problem string) error {
	roles, err := h.cfg.Accounts.ListRoles(c.Request().Context())
	if err != nil {
		return h.fail(c, err)
	}
	p := render.AdminUserPage{
		Common: h.common(c), Flash: flash, Error: problem, User: toAdminUser(u), Self: u.ID == admin(c).ID,
	}
	if h.cfg.MFA != nil {
		st, err := h.cfg.MFA.Statuses(c.Request().Context(), []string{u.ID})
		if err != nil {
			return h.fail(c, err)
		}
		p.ShowMFA = true
		p.User.MFA = st[u.ID].Enrolled()
		p.TOTP, p.Passkeys, p.RecoveryCodes = st[u.ID].TOTP, st[u.ID].Passkeys, st[u.ID].RecoveryCodes
	}
	for _, r := range roles {
		p.Roles = append(p.Roles, render.AdminRoleChoice{Name: r.Name, Description: r.Description, Checked: slices.Contains(u.Roles, r.Name)})
	}
	return h.cfg.Render.AdminUser(c.Response(), status, p)
}

// userOp is one action on a user; it returns the flash code of its
// success.
type userOp func(c echo.Context, ctx context.Context, ref string) (string, error)

// userAction runs op on the user in the path and goes back to the user's
// page: with a flash message on success, or showing the service's refusal
// (409 for the last administrator or one's own account).
func (h *Handler) userAction(op userOp) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		ref := param(c, "id")
		flash, err := op(c, ctx, ref)
		if err == nil {
			h.flash(c, flash)
			return c.Redirect(http.StatusSeeOther, UsersPath+"/"+url.PathEscape(ref))
		}
		if errors.Is(err, accounts.ErrUserNotFound) {
			return h.notFound(c, "There is no such user. They may have been deleted.")
		}
		status, msg := 0, ""
		var ve *accounts.ValidationError
		switch {
		case errors.Is(err, accounts.ErrLastAdmin), errors.Is(err, accounts.ErrSelf), errors.Is(err, accounts.ErrUserDisabled):
			status, msg = http.StatusConflict, refusal(err)
		case errors.Is(err, accounts.ErrMailNotSent):
			status, msg = http.StatusBadGateway, "The e-mail could not be sent. Check the mail settings and try again."
		case errors.Is(err, storage.ErrConflict):
			status, msg = http.StatusConflict, "Someone changed this user at the same moment. Check the page and try again."
		case errors.As(err, &ve):
			status, msg = http.StatusUnprocessableEntity, refusal(ve)
		default:
			return h.fail(c, err)
		}
		u, gerr := h.cfg.Accounts.GetUser(ctx, ref)
		if gerr != nil {
			return h.fail(c, gerr)
		}
		return h.renderUser(c, status, u, "", msg)
	}
}

// maxRoles bounds the checkboxes one form may send.
const maxRoles = 200

func (h *Handler) setRoles(c echo.Context, ctx context.Context, ref string) (string, error) {
	form, err := c.FormParams()
	if err != nil {
		return "", &accounts.ValidationError{Field: "roles", Message: "could not be read from the form"}
	}
	roles := form["roles"]
	if len(roles) > maxRoles {
		return "", &accounts.ValidationError{Field: "roles", Message: "are too many"}
	}
	if roles == nil {
		roles = []string{}
	}
	_, err = h.cfg.Accounts.SetRoles(ctx, ref, roles)
	return "roles-saved", err
}

func (h *Handler) disable(_ echo.Context, ctx context.Context, ref string) (string, error) {
	_, err := h.cfg.Accounts.DisableUser(ctx, ref)
	return "user-disabled", err
}

func (h *Handler) enable(_ echo.Context, ctx context.Context, ref string) (string, error) {
	_, err := h.cfg.Accounts.EnableUser(ctx, ref)
	return "user-enabled", err
}

func (h *Handler) verifyEmail(_ echo.Context, ctx context.Context, ref string) (string, error) {
	_, err := h.cfg.Accounts.MarkEmailVerified(ctx, ref)
	return "email-verified", err
}

func (h *Handler) sendReset(_ echo.Context, ctx context.Context, ref string) (string, error) {
	_, err := h.cfg.Accounts.SendPasswordReset(ctx, ref)
	return "reset-sent", err
}

func (h *Handler) signOut(_ echo.Context, ctx context.Context, ref string) (string, error) {
	_, err := h.cfg.Accounts.SignOutEverywhere(ctx, ref)
	return "signed-out", err
}

// resetMFA removes the user's second factors and recovery codes (they lost
// them); the service records it in the audit log.
func (h *Handler) resetMFA(_ echo.Context, ctx context.Context, ref string) (string, error) {
	u, err := h.cfg.Accounts.GetUser(ctx, ref)
	if err != nil {
		return "", err
	}
	return "mfa-reset", h.cfg.MFA.Reset(ctx, u.ID)
}
