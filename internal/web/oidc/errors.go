package oidc

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"

	"github.com/signet-idp/signet/internal/oauth"
	"github.com/signet-idp/signet/internal/storage"
)

// unavailable reports whether err comes from a backend that cannot be
// reached: the answer is then 503, not a protocol error.
func unavailable(err error) bool {
	return errors.Is(err, storage.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

var errorPageTmpl = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in request rejected</title></head>
<body><main>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
<p>Error code: <code>{{.Code}}</code></p>
<p>Go back to the application you came from and try again. If it keeps happening, tell the people who run it.</p>
</main></body></html>`))

// errorPage answers with a small HTML page: for requests whose redirect URI
// cannot be trusted (unknown client, unregistered redirect_uri), so the
// error must not be sent anywhere.
func (h *Handler) errorPage(c echo.Context, status int, code, message string) error {
	title := "This sign-in request cannot be completed"
	if status == http.StatusServiceUnavailable {
		title = "Signing in is unavailable right now"
	}
	w := c.Response()
	w.Header().Set("Cache-Control", "no-store")
	if h.errorPages != nil {
		return h.errorPages.ProtocolError(w, status, title, message, code)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	return errorPageTmpl.Execute(w, struct{ Title, Message, Code string }{title, message, code})
}

// authorizeErrorPage renders a fosite error (or a storage failure) as the
// HTML page.
func (h *Handler) authorizeErrorPage(c echo.Context, err error) error {
	if unavailable(err) {
		h.logger.Warn("authorization endpoint: storage unavailable", "err", err)
		return h.errorPage(c, http.StatusServiceUnavailable, "temporarily_unavailable",
			"The service cannot reach its database. Try again in a moment.")
	}
	rfc := oauth.LocalizeError(err)
	status := rfc.CodeField
	if status >= 500 {
		h.logger.Error("authorization endpoint failed", "err", err, "debug", rfc.DebugField)
	} else if status < 400 {
		status = http.StatusBadRequest
	}
	if rfc.ErrorField == "invalid_client" {
		status = http.StatusBadRequest
	}
	return h.errorPage(c, status, rfc.ErrorField, rfc.GetDescription())
}

// authorizeError answers an error for a request whose redirect URI was
// checked: fosite redirects it (query or form_post) to the client.
func (h *Handler) authorizeError(ctx context.Context, c echo.Context, ar fosite.AuthorizeRequester, err error) error {
	if unavailable(err) {
		return h.authorizeErrorPage(c, err)
	}
	rfc := fosite.ErrorToRFC6749Error(err)
	if rfc.CodeField >= 500 {
		h.logger.Error("authorization endpoint failed", "err", err, "debug", rfc.DebugField)
	}
	if ar.GetResponseMode() == fosite.ResponseModeFormPost {
		setFormPostCSP(c.Response().Header(), ar.GetRedirectURI())
	}
	h.oauth.WriteAuthorizeError(ctx, c.Response(), ar, err)
	return nil
}

// oauthJSONError writes an RFC 6749 §5.2 style error.
func oauthJSONError(c echo.Context, status int, code, description string) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	body := map[string]string{"error": code}
	if description != "" {
		body["error_description"] = description
	}
	return c.JSON(status, body)
}

// jsonFailure answers an unexpected error of a JSON endpoint: 503 when the
// database is unreachable, 500 otherwise (logged).
func (h *Handler) jsonFailure(c echo.Context, err error) error {
	if unavailable(err) {
		h.logger.Warn("storage unavailable", "path", c.Request().URL.Path, "err", err)
		c.Response().Header().Set("Retry-After", strconv.Itoa(5))
		return oauthJSONError(c, http.StatusServiceUnavailable, "temporarily_unavailable",
			"The service cannot reach its database. Try again in a moment.")
	}
	h.logger.Error("request failed", "path", c.Request().URL.Path, "err", err)
	return oauthJSONError(c, http.StatusInternalServerError, "server_error", "The server could not complete the request.")
}

// errStorageUnavailable stands for a storage outage fosite reported
// without its cause.
var errStorageUnavailable = storage.ErrUnavailable
