package console

import (
	"net/http"
	"slices"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/storage"
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
	names := h.userNames(c, events)
	for _, e := range events {
		ev := render.AdminAuditEvent{At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target, IP: e.IP,
			ActorName: names[e.Actor], TargetName: names[e.Target]}
		for k, v := range e.Details {
			ev.Details = append(ev.Details, k+"="+v)
		}
		slices.Sort(ev.Details)
		p.Events = append(p.Events, ev)
	}
	return h.cfg.Render.AdminAudit(c.Response(), http.StatusOK, p)
}

// maxNameLookups bounds the user look-ups one audit page makes.
const maxNameLookups = 50

// userNames finds the user names of the user ids among the events' actors
// and targets (ids of deleted users stay unnamed).
func (h *Handler) userNames(c echo.Context, events []storage.AuditEvent) map[string]string {
	ctx := c.Request().Context()
	names := map[string]string{}
	tried := map[string]bool{}
	for _, e := range events {
		for _, id := range []string{e.Actor, e.Target} {
			if tried[id] || len(tried) >= maxNameLookups {
				continue
			}
			if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
				continue
			}
			tried[id] = true
			if u, err := h.cfg.Accounts.GetUser(ctx, id); err == nil {
				names[id] = u.Username
			}
		}
	}
	return names
}
