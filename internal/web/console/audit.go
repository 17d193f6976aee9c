package console

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/web/render"
)

// AuditLimit is how many events the audit page shows.
const AuditLimit = 100

// audit shows the latest audit events, newest first.
func (h *Handler) audit(c echo.Context) error {
	events, err := h.cfg.Audit.Tail(c.Request().Context(), AuditLimit)
	if err != nil {
		return h.fail(c, err)
	}
	p := render.AdminAuditPage{Common: h.common(c), Limit: AuditLimit}
	for _, e := range events {
		ev := render.AdminAuditEvent{At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target, IP: e.IP}
		for k, v := range e.Details {
			ev.Details = append(ev.Details, k+"="+v)
		}
		slices.Sort(ev.Details)
		p.Events = append(p.Events, ev)
	}
	return h.cfg.Render.AdminAudit(c.Response(), http.StatusOK, p)
}
