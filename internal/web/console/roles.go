package console

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/web/render"
)

var roleLabels = map[string]string{"name": "Name", "description": "Description"}

func (h *Handler) roles(c echo.Context) error {
	return h.renderRoles(c, http.StatusOK, render.AdminRolesPage{Flash: h.takeFlash(c)})
}

func (h *Handler) renderRoles(c echo.Context, status int, p render.AdminRolesPage) error {
	roles, err := h.cfg.Accounts.ListRoles(c.Request().Context())
	if err != nil {
		return h.fail(c, err)
	}
	p.Common = h.common(c)
	for _, r := range roles {
		p.Roles = append(p.Roles, render.AdminRole{
			Name: r.Name, Description: r.Description, CreatedAt: r.CreatedAt,
			Builtin: r.Name == storage.RoleAdmin || r.Name == storage.RoleUser,
		})
	}
	return h.cfg.Render.AdminRoles(c.Response(), status, p)
}

// createRole creates a role; a bad or taken name shows the form again
// with the message at the field.
func (h *Handler) createRole(c echo.Context) error {
	name, desc := c.FormValue("name"), c.FormValue("description")
	_, err := h.cfg.Accounts.CreateRole(c.Request().Context(), name, desc)
	if err == nil {
		h.flash(c, "role-created")
		return c.Redirect(http.StatusSeeOther, RolesPath)
	}
	p := render.AdminRolesPage{Name: clip(name, 64), Description: clip(desc, 500)}
	var ve *accounts.ValidationError
	switch {
	case errors.Is(err, accounts.ErrRoleExists):
		p.Errors = render.FieldErrors{"name": "A role with this name exists already."}
		return h.renderRoles(c, http.StatusConflict, p)
	case errors.As(err, &ve):
		label := roleLabels[ve.Field]
		if label == "" {
			p.Error = refusal(ve)
		} else {
			p.Errors = render.FieldErrors{ve.Field: sentence(label, ve.Message)}
		}
		return h.renderRoles(c, http.StatusUnprocessableEntity, p)
	}
	return h.fail(c, err)
}

// deleteRole deletes a role; the built-in ones are refused (409).
func (h *Handler) deleteRole(c echo.Context) error {
	err := h.cfg.Accounts.DeleteRole(c.Request().Context(), param(c, "name"))
	switch {
	case err == nil:
		h.flash(c, "role-deleted")
		return c.Redirect(http.StatusSeeOther, RolesPath)
	case errors.Is(err, accounts.ErrBuiltinRole):
		return h.renderRoles(c, http.StatusConflict, render.AdminRolesPage{Error: "The roles admin and user are built in and cannot be deleted."})
	case errors.Is(err, accounts.ErrRoleNotFound):
		return h.renderRoles(c, http.StatusNotFound, render.AdminRolesPage{Error: "There is no such role. It may have been deleted already."})
	}
	return h.fail(c, err)
}
