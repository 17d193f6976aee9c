package main

import (
	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/clients"
	adminapi "github.com/signet-idp/signet/internal/web/admin"
)

// registerAdminAPI mounts the JSON admin API on the admin listener, under
// /admin, behind the admin bearer token when one is configured.
func registerAdminAPI(admin *echo.Echo, d serverDeps) error {
	acc := accounts.NewService(d.store, accounts.Options{Now: d.now, Logger: d.logger})
	cl := clients.NewService(d.store, d.now)
	api := adminapi.NewAPI(acc, cl, d.logger)
	api.Register(admin.Group("/admin", adminapi.RequireBearer(d.cfg.AdminToken)))
	return nil
}
