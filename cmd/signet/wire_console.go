package main

import (
	"fmt"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/connectors"
	"github.com/signet-idp/signet/internal/mfa"
	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/web/console"
	"github.com/signet-idp/signet/internal/web/render"
)

// consoleDeps are the pieces the console shares with the pages: one
// renderer, the same browser sessions, the same CSRF middleware (one
// cookie, one rejection page), the same accounts service and audit log.
type consoleDeps struct {
	render     *render.Renderer
	sessions   *sessions.Manager
	csrf       echo.MiddlewareFunc
	accounts   *accounts.Service
	audit      *audit.Service
	connectors *connectors.Service
	mfa        *mfa.Service
}

// registerConsole mounts the admin console under /admin on the public
// listener, for signed-in users with the admin role.
func registerConsole(public *echo.Echo, d serverDeps, cd consoleDeps) error {
	cfg := console.Config{
		Render:      cd.render,
		Sessions:    cd.sessions,
		Accounts:    cd.accounts,
		Clients:     clients.NewService(d.store, d.now, clients.WithSigningAlgorithms(d.cfg.SigningAlgorithms)),
		Audit:       cd.audit,
		CSRF:        cd.csrf,
		Logger:      d.logger,
		Secure:      d.cfg.IssuerIsHTTPS(),
		AccountLink: true,
		Connectors:  cd.connectors,
		MFA:         cd.mfa,
	}
	if p := newMFAPolicy(d); p != nil {
		cfg.MFAPolicy = p
	}
	h, err := console.New(cfg)
	if err != nil {
		return fmt.Errorf("console: %w", err)
	}
	h.Register(public)
	return nil
}
