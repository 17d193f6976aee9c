package admin

import (
	_ "embed"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
)

// openAPIDocument describes every route of this package; the test
// TestAdminAPIMatchesOpenAPI in cmd/signet keeps it true (see doc.go).
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPI returns the OpenAPI 3.1 description of the admin API, as
// GET /admin/openapi.json serves it.
func OpenAPI() []byte { return slices.Clone(openAPIDocument) }

func serveOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIDocument)
}
