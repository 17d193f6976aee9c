package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/oauth"
	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/web/oidc"
	"github.com/signet-idp/signet/internal/web/pages"
	"github.com/signet-idp/signet/internal/web/render"
)

// registerPages mounts the pages people see (login, consent, logout and
// the signed-out page, Signet's start page; sign-up, e-mail verification,
// password reset and the account page) and their stylesheet on the public
// listener, and the admin console next to them. The browser sessions are
// the ones the authorization endpoint reads (newSessionManager), and the
// login challenges are the ones it parks (newPagesChallenges).
func registerPages(public *echo.Echo, d serverDeps, svc accountServices, rd *render.Renderer) error {
	acc, au := svc.accounts, svc.audit
	sm := newSessionManager(d)
	devices, err := newDevices(d)
	if err != nil {
		return err
	}
	twoFactor, err := newTwoFactorPages(d, svc.mfa)
	if err != nil {
		return err
	}
	h, err := pages.New(pages.Config{
		Render:            rd,
		Sessions:          sm,
		Throttle:          sessions.NewThrottle(d.store, sessions.DefaultAccountPolicy, sessions.DefaultIPPolicy, d.now),
		Devices:           devices,
		FailedLogins:      failedLoginBudget(d.cfg.FailedLoginRate),
		Consents:          sessions.NewConsents(d.store, d.now),
		Challenges:        newPagesChallenges(d),
		Accounts:          acc,
		Users:             d.store,
		Clients:           d.store,
		Hints:             pages.KeyStoreHintVerifier{Keys: d.store, Issuer: d.cfg.Issuer},
		Audit:             pageAudit{au},
		Signup:            acc,
		Recovery:          acc,
		Account:           acc,
		TwoFactor:         twoFactor,
		Connectors:        svc.connectors,
		HidePasswordLogin: !d.cfg.PasswordLogin,
		IsAdmin:           storeIsAdmin(d.store),
		Logger:            d.logger,
		Secure:            d.cfg.IssuerIsHTTPS(),
		ResumePath:        oidc.PathResume,
		Now:               d.now,
	})
	if err != nil {
		return fmt.Errorf("pages: %w", err)
	}
	h.Register(public)
	return registerConsole(public, d, consoleDeps{render: rd, sessions: sm, csrf: h.CSRF(), accounts: acc, audit: au, connectors: svc.connectors, mfa: svc.mfa})
}

// deviceCookieInfo names the device cookie's key among those derived from
// the global secret.
const deviceCookieInfo = "signet device cookie v1"

// newDevices signs device cookies with a key derived from the global
// secret (old secrets still verify, so a rotation keeps browsers known);
// every replica derives the same keys.
func newDevices(d serverDeps) (*sessions.Devices, error) {
	var keys [][]byte
	for _, secret := range append([][]byte{d.secret}, d.oldSecrets...) {
		k, err := oauth.DeriveKey(secret, deviceCookieInfo)
		if err != nil {
			return nil, fmt.Errorf("device cookie key: %w", err)
		}
		keys = append(keys, k)
	}
	devices, err := sessions.NewDevices(keys, d.cfg.IssuerIsHTTPS(), d.now)
	if err != nil {
		return nil, fmt.Errorf("pages: %w", err)
	}
	return devices, nil
}

// storeIsAdmin reports whether the user holds the admin role, for the
// pages' link to the admin console (the console checks for itself).
func storeIsAdmin(st storage.Store) func(ctx context.Context, userID string) bool {
	return func(ctx context.Context, userID string) bool {
		roles, err := st.ListUserRoles(ctx, userID)
		return err == nil && slices.Contains(roles, storage.RoleAdmin)
	}
}

// pageAudit records the pages' events (logins, lockouts, consent, logout)
// through the audit service, which drops secrets and logs failures.
type pageAudit struct{ s *audit.Service }

func (a pageAudit) AppendAudit(ctx context.Context, e storage.AuditEvent) error {
	a.s.Record(ctx, audit.Event{Actor: e.Actor, Action: e.Action, Target: e.Target, IP: e.IP, Details: e.Details})
	return nil
}

// newRenderer parses the page templates once, with the operator's branding;
// the pages and the authorization endpoint's error pages share it.
func newRenderer(d serverDeps) (*render.Renderer, error) {
	rd, err := render.New(render.Branding{Name: d.cfg.BrandName, LogoURL: d.cfg.BrandLogoURL, AccentColor: d.cfg.BrandAccentColor})
	if err != nil {
		return nil, fmt.Errorf("pages: %w", err)
	}
	return rd, nil
}

// failedLoginBudget is the replica's allowance of wrong passwords checked
// for unknown browsers (nil: none).
func failedLoginBudget(perSecond float64) *sessions.Allowance {
	return sessions.NewAllowance(perSecond, int(2*perSecond))
}
