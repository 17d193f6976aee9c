package main

import (
	"fmt"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/web/oidc"
	"github.com/signet-idp/signet/internal/web/pages"
	"github.com/signet-idp/signet/internal/web/render"
)

// registerPages mounts the pages people see (login, consent, logout and
// the signed-out page, Signet's start page) and their stylesheet on the
// public listener. The browser sessions are the ones the authorization
// endpoint reads (newSessionManager), and the login challenges are the
// ones it parks (newPagesChallenges).
func registerPages(public *echo.Echo, d serverDeps) error {
	rd, err := render.New(render.Branding{})
	if err != nil {
		return fmt.Errorf("pages: %w", err)
	}
	h, err := pages.New(pages.Config{
		Render:     rd,
		Sessions:   newSessionManager(d),
		Throttle:   sessions.NewThrottle(d.store, sessions.DefaultAccountPolicy, sessions.DefaultIPPolicy, d.now),
		Consents:   sessions.NewConsents(d.store, d.now),
		Challenges: newPagesChallenges(d),
		Accounts:   accounts.NewService(d.store, accounts.Options{Now: d.now, Logger: d.logger}),
		Users:      d.store,
		Clients:    d.store,
		Hints:      pages.KeyStoreHintVerifier{Keys: d.store, Issuer: d.cfg.Issuer},
		Audit:      d.store,
		Logger:     d.logger,
		Secure:     d.cfg.IssuerIsHTTPS(),
		ResumePath: oidc.PathResume,
		Now:        d.now,
	})
	if err != nil {
		return fmt.Errorf("pages: %w", err)
	}
	h.Register(public)
	return nil
}
