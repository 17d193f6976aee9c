package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/adminapi"
	"github.com/signet-idp/signet/internal/keys"
)

// KeyAdmin is what the key endpoints use of the key manager
// (*keys.Manager).
type KeyAdmin interface {
	// List returns every stored key, oldest first.
	List(ctx context.Context) ([]keys.Info, error)
	// Rotate publishes a next key for alg ("" every configured algorithm)
	// and returns the next keys.
	Rotate(ctx context.Context, alg string) ([]keys.Info, error)
}

func toKeyResponse(k keys.Info) adminapi.SigningKey {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return adminapi.SigningKey{KID: k.ID, Algorithm: k.Algorithm, State: string(k.State), CreatedAt: k.CreatedAt,
		ActivateAt: opt(k.ActivateAt), RetiredAt: opt(k.RetiredAt), DeleteAfter: opt(k.DeleteAfter), Problem: k.Problem}
}

// RegisterKeys mounts GET /keys (every signing key with its state and
// dates) and POST /keys/rotate (publish a next key now; the body
// {"alg":"ES256"} is optional) on g. mw run first on both routes (the
// caller's RequireBearer). RegisterKeys never calls g.Use: in Echo that
// adds a catch-all route to the group, which would shadow the API's own
// JSON 404 when both share the /admin prefix.
func RegisterKeys(g *echo.Group, k KeyAdmin, logger *slog.Logger, mw ...echo.MiddlewareFunc) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &keysAPI{keys: k, logger: logger}
	mw = append(mw, rejectBrowsers, actAsAdminAPI)
	g.GET("/keys", h.list, mw...)
	g.POST("/keys/rotate", h.rotate, mw...)
}

type keysAPI struct {
	keys   KeyAdmin
	logger *slog.Logger
}

func (h *keysAPI) list(c echo.Context) error {
	ks, err := h.keys.List(c.Request().Context())
	if err != nil {
		return h.fail(c, err)
	}
	out := make([]adminapi.SigningKey, 0, len(ks))
	for _, k := range ks {
		out = append(out, toKeyResponse(k))
	}
	return c.JSON(http.StatusOK, out)
}

func (h *keysAPI) rotate(c echo.Context) error {
	var req adminapi.RotateKeys
	if r := c.Request(); r.ContentLength != 0 || r.Header.Get(echo.HeaderContentType) != "" {
		if err := decode(c, &req); err != nil {
			return h.fail(c, err)
		}
	}
	ks, err := h.keys.Rotate(c.Request().Context(), req.Algorithm)
	if err != nil {
		return h.fail(c, err)
	}
	out := make([]adminapi.SigningKey, 0, len(ks))
	for _, k := range ks {
		out = append(out, toKeyResponse(k))
	}
	return c.JSON(http.StatusOK, out)
}

func (h *keysAPI) fail(c echo.Context, err error) error {
	var reqErr *requestError
	switch {
	case errors.As(err, &reqErr):
		return writeError(c, reqErr.status, "invalid_request", reqErr.msg)
	case errors.Is(err, keys.ErrAlgorithm):
		return writeError(c, http.StatusBadRequest, "invalid_request", err.Error())
	}
	// The clients/users error mapping (503 for an unavailable database,
	// 500 logged otherwise) applies as well.
	return (&API{logger: h.logger}).fail(c, err)
}
