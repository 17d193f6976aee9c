package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/adminapi"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/connectors"
	"github.com/signet-idp/signet/internal/storage"
)

// maxBodyBytes caps request bodies; the largest real one (a client with
// many redirect URIs) is a few KiB.
const maxBodyBytes = 1 << 20

func writeError(c echo.Context, status int, code, description string) error {
	return c.JSON(status, adminapi.ErrorBody{Error: code, Description: description})
}

// fail answers err: the services' errors become 400/404/409/503 with their
// message; anything else is a 500 with a generic message, logged here with
// the details.
func (a *API) fail(c echo.Context, err error) error {
	var reqErr *requestError
	var accErr *accounts.ValidationError
	var clErr *clients.ValidationError
	switch {
	case errors.As(err, &reqErr):
		return writeError(c, reqErr.status, "invalid_request", reqErr.msg)
	case errors.As(err, &accErr):
		return writeError(c, http.StatusBadRequest, "invalid_request", accErr.Error())
	case errors.As(err, &clErr):
		return writeError(c, http.StatusBadRequest, "invalid_request", clErr.Error())
	case errors.Is(err, connectors.ErrInvalid):
		return writeError(c, http.StatusBadRequest, "invalid_request", err.Error())
	case errors.Is(err, connectors.ErrNotFound):
		return writeError(c, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, connectors.ErrExists):
		return writeError(c, http.StatusConflict, "invalid_request", err.Error())
	case errors.Is(err, accounts.ErrBuiltinRole):
		return writeError(c, http.StatusBadRequest, "invalid_request", err.Error())
	case errors.Is(err, accounts.ErrUserNotFound), errors.Is(err, accounts.ErrRoleNotFound),
		errors.Is(err, clients.ErrNotFound):
		return writeError(c, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, accounts.ErrUserExists), errors.Is(err, accounts.ErrRoleExists),
		errors.Is(err, clients.ErrExists):
		return writeError(c, http.StatusConflict, "invalid_request", err.Error())
	case errors.Is(err, accounts.ErrLastAdmin), errors.Is(err, accounts.ErrSelf),
		errors.Is(err, accounts.ErrUserDisabled):
		return writeError(c, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, accounts.ErrMailNotSent):
		// The delivery error names the mail server, never its password;
		// the operator needs it to fix the configuration.
		a.logger.WarnContext(c.Request().Context(), "admin API: mail not sent", "route", c.Path(), "err", err)
		return writeError(c, http.StatusBadGateway, "mail_not_sent", err.Error())
	case errors.Is(err, storage.ErrConflict):
		return writeError(c, http.StatusConflict, "invalid_request",
			"a concurrent change got there first; try again")
	case errors.Is(err, storage.ErrUnavailable):
		a.logger.WarnContext(c.Request().Context(), "admin API: storage unavailable",
			"method", c.Request().Method, "route", c.Path(), "err", err)
		return writeError(c, http.StatusServiceUnavailable, "temporarily_unavailable",
			"the database is unavailable; try again shortly")
	default:
		a.logger.ErrorContext(c.Request().Context(), "admin API: request failed",
			"method", c.Request().Method, "route", c.Path(), "err", err)
		return writeError(c, http.StatusInternalServerError, "server_error",
			"the server could not complete the request")
	}
}

// requestError is bad input found before any service is called: a status
// (400, 415) and a description of what is wrong.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(msg string) error { return &requestError{status: http.StatusBadRequest, msg: msg} }

// decode reads the request body strictly into v: one JSON object, no
// unknown fields, nothing after it, at most maxBodyBytes.
//
// The Content-Type must be application/json. Besides saying what the body
// is, it keeps browsers out: a web page cannot send it cross-site without a
// CORS preflight, which this API never grants, so a page an operator visits
// cannot create users through a token-less admin listener on loopback.
func decode(c echo.Context, v any) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeJSON(body, v)
}

// readBody returns the request body, checked as decode describes but not
// yet decoded: for a handler that decodes it onto a value it reads first
// (PATCH).
func readBody(c echo.Context) ([]byte, error) {
	r := c.Request()
	mt, _, _ := strings.Cut(r.Header.Get(echo.HeaderContentType), ";")
	if !strings.EqualFold(strings.TrimSpace(mt), echo.MIMEApplicationJSON) {
		return nil, &requestError{status: http.StatusUnsupportedMediaType,
			msg: "the body must be JSON sent with Content-Type: application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, maxBodyBytes))
	if err != nil {
		// Too big, or the client went away (then nobody reads the answer).
		return nil, badRequest(describeJSONError(err))
	}
	return body, nil
}

// decodeJSON decodes body strictly into v: one JSON object, no unknown
// fields, nothing after it. Fields the body does not name keep their value
// in v.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest(describeJSONError(err))
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return badRequest("the body must hold a single JSON object, with nothing after it")
	}
	return nil
}

func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return "the body is empty; a JSON object is required"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: the body ends too early"
	case errors.As(err, &syntax):
		return fmt.Sprintf("malformed JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return fmt.Sprintf("the body must be a JSON object, not %s", typ.Value)
		}
		return fmt.Sprintf("field %q must be %s, not %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case errors.As(err, &tooBig):
		return fmt.Sprintf("the body is larger than %d bytes", tooBig.Limit)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	default:
		return "malformed JSON: " + err.Error()
	}
}

// jsonKind names a Go kind the way a JSON writer thinks of it.
func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "int", "int64", "uint", "uint64", "float64":
		return "a number"
	}
	return "of another type"
}
