package pages

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
)

// A form on Signet's pages may end, through redirects, at the app: the
// consent form answers with a redirect to the app's redirect URI, the login
// form may too (single sign-on with consent already given), and the logout
// confirmation with one to the post-logout redirect URI. Browsers apply
// the page's CSP form-action to every hop of that chain, so those pages
// name the app's registered origins in form-action, and nothing more.

var (
	originSource = regexp.MustCompile(`^(https?)://[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)
	schemeSource = regexp.MustCompile(`^[a-z][a-z0-9+.\-]*:$`)
)

// formActionSource is the CSP source that allows a redirect to uri: its
// origin for http(s), its scheme for a native app's private-use scheme;
// "" when it cannot be expressed safely.
func formActionSource(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme == "http" || scheme == "https" {
		src := scheme + "://" + u.Host
		if !originSource.MatchString(src) {
			return ""
		}
		return src
	}
	if src := scheme + ":"; schemeSource.MatchString(src) {
		return src
	}
	return ""
}

// withFormAction adds sources to the form-action directive of csp.
func withFormAction(csp string, sources []string) string {
	if len(sources) == 0 {
		return csp
	}
	directives := strings.Split(csp, ";")
	for i, d := range directives {
		fields := strings.Fields(d)
		if len(fields) > 0 && strings.EqualFold(fields[0], "form-action") {
			directives[i] = " " + strings.Join(append(fields, sources...), " ")
			return strings.TrimSpace(strings.Join(directives, ";"))
		}
	}
	return strings.TrimRight(strings.TrimSpace(csp), ";") + "; form-action 'self' " + strings.Join(sources, " ")
}

// allowFormTargets lets the page's forms end at these URIs.
func allowFormTargets(c echo.Context, uris ...string) {
	var sources []string
	for _, u := range uris {
		if s := formActionSource(u); s != "" && !slices.Contains(sources, s) {
			sources = append(sources, s)
		}
	}
	h := c.Response().Header()
	if csp := h.Get("Content-Security-Policy"); csp != "" {
		h.Set("Content-Security-Policy", withFormAction(csp, sources))
	}
}

// allowClientTargets lets the page's forms end at the client's registered
// redirect URIs (one of which the request names).
func (h *Handler) allowClientTargets(ctx context.Context, c echo.Context, clientID string) {
	if clientID == "" {
		return
	}
	cl, err := h.cfg.Clients.GetClient(ctx, clientID)
	if err != nil {
		h.cfg.Logger.WarnContext(ctx, "client lookup for form-action failed", "client_id", clientID, "err", err)
		return
	}
	allowFormTargets(c, cl.RedirectURIs...)
}
