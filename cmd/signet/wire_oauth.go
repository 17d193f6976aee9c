package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/backchannel"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/jwksfetch"
	"github.com/signet-idp/signet/internal/oauth"
	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/web/oidc"
	"github.com/signet-idp/signet/internal/web/pages"
	"github.com/signet-idp/signet/internal/web/registration"
	"github.com/signet-idp/signet/internal/web/render"
)

// registerOAuth mounts the OAuth2/OIDC endpoints on the public listener
// and the key endpoints on the admin listener: it loads (or, at first
// start, creates) the signing keys, composes fosite, and returns the
// background work serve runs until shutdown: the janitor that deletes
// expired codes, tokens and login challenges, and the key rotation step
// with the refresh of the keys this replica signs with, and either the
// back-channel logout delivery loop or, with the feature off, the sweep that
// drops what is still queued. It fails when
// signing keys exist that the secret cannot decrypt: the server must not
// start then.
func registerOAuth(public, admin *echo.Echo, d serverDeps, rd *render.Renderer) (background []func(ctx context.Context), err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	km, err := openKeys(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	warnClientAlgorithms(ctx, d, km)
	registerKeysAdmin(admin, km, d)
	provider, err := oauth.New(oauth.Options{
		Issuer:               d.cfg.Issuer,
		AccessTokenLifespan:  d.cfg.AccessTokenLifespan,
		IDTokenLifespan:      d.cfg.IDTokenLifespan,
		RefreshTokenLifespan: d.cfg.RefreshTokenLifespan,
		RefreshGracePeriod:   d.cfg.RefreshGracePeriod,
		AuthCodeLifespan:     d.cfg.AuthCodeLifespan,
		Secret:               d.secret,
		OldSecrets:           d.oldSecrets,
		Store:                d.store,
		Keys:                 km,
		Now:                  d.now,
		FormPostTemplate:     oidc.FormPostTemplate(),
		Audit:                audit.New(d.store, d.now, d.logger),
		PAR:                  d.cfg.PAR,
		PARLifespan:          d.cfg.PARLifespan,
		JWKSFetcher:          jwksfetch.New(d.outbound, jwksfetch.Options{Now: d.now}),
		AssertionAudiences:   []string{d.cfg.Issuer + oidc.PathPAR, d.cfg.Issuer + oidc.PathRevoke},
	})
	if err != nil {
		return nil, err
	}
	challenges := oauth.NewChallenges(d.store, d.cfg.LoginChallengeLifespan, d.now).WithIDTokenHints(provider)
	var bc *backchannel.Service
	var sessionClients oidc.SessionClients
	if d.cfg.BackchannelLogout {
		if bc, err = newBackchannel(d, km); err != nil {
			return nil, err
		}
		sessionClients = bc
	}
	var registrationPath string
	if d.cfg.ClientRegistration != registration.ModeOff {
		if err := registerClientRegistration(public, d); err != nil {
			return nil, err
		}
		registrationPath = registration.Path
	}
	h, err := oidc.New(oidc.Options{
		Issuer:                d.cfg.Issuer,
		OAuth:                 provider,
		Challenges:            challenges,
		Keys:                  km,
		JWKSMaxAge:            km.PrepublishWindow(),
		Sessions:              managerSessions{newSessionManager(d)},
		MFAPolicy:             oidcMFAPolicy(d),
		RequireBrowserSession: true,
		LoginPath:             pages.LoginPath,
		ErrorPages:            protocolErrorPages{rd},
		EndSessionPath:        pages.LogoutPath,
		IntrospectionClients:  d.cfg.IntrospectionClients,
		PAR:                   d.cfg.PAR,
		RequirePAR:            d.cfg.RequirePAR,
		SessionClients:        sessionClients,
		RegistrationPath:      registrationPath,
		Logger:                d.logger,
		Now:                   d.now,
	})
	if err != nil {
		return nil, err
	}
	h.Register(public)

	janitor := &oauth.Janitor{Store: d.store, Now: d.now, Logger: d.logger}
	background = []func(ctx context.Context){janitor.Run, km.Run}
	if bc != nil {
		background = append(background, bc.Run)
	} else {
		// Nobody sends what is still queued from when it was on.
		dropper := &backchannel.Dropper{Store: d.store, Audit: audit.New(d.store, d.now, d.logger), Logger: d.logger, Now: d.now}
		background = append(background, dropper.Run)
	}
	return background, nil
}

// registerClientRegistration mounts dynamic client registration (RFC
// 7591/7592) on the public listener: the clients service the admin API
// uses (same validation), registration tokens, and the per-address limit
// kept in the database like the login throttle's.
func registerClientRegistration(public *echo.Echo, d serverDeps) error {
	count, window, err := config.ParseRateLimit(d.cfg.ClientRegistrationRateLimit)
	if err != nil {
		return err // Validate has checked it
	}
	cl := clients.NewService(d.store, d.now, clients.WithSigningAlgorithms(d.cfg.SigningAlgorithms))
	h, err := registration.New(registration.Options{
		Issuer:  d.cfg.Issuer,
		Mode:    d.cfg.ClientRegistration,
		Dynamic: clients.NewDynamic(cl, clients.NewRegistrationTokens(d.store, d.now), d.store),
		Limiter: sessions.NewThrottle(d.store, sessions.ThrottlePolicy{}, sessions.ThrottlePolicy{}, d.now),
		Policy:  registration.PolicyFor(count, window),
		Audit:   audit.New(d.store, d.now, d.logger),
		Logger:  d.logger,
	})
	if err != nil {
		return err
	}
	h.Register(public)
	return nil
}

// newBackchannel is the back-channel logout service: it records session
// clients for the authorization endpoint and delivers the logout tokens
// the store queues when sessions end, through the outbound SSRF policy.
func newBackchannel(d serverDeps, km backchannel.Keys) (*backchannel.Service, error) {
	return backchannel.New(backchannel.Options{
		Issuer:      d.cfg.Issuer,
		Store:       d.store,
		Keys:        km,
		Sender:      d.outbound,
		Audit:       audit.New(d.store, d.now, d.logger),
		Logger:      d.logger,
		Now:         d.now,
		Timeout:     d.cfg.OutboundTimeout,
		MaxAttempts: d.cfg.BackchannelLogoutAttempts,
		Backoff:     d.cfg.BackchannelLogoutBackoff,
	})
}

// oidcMFAPolicy is the operator's second-factor requirement as the
// authorization endpoint reads it (a nil interface when there is none).
func oidcMFAPolicy(d serverDeps) oidc.MFAPolicy {
	if p := newMFAPolicy(d); p != nil {
		return p
	}
	return nil
}

// newSessionManager is the browser session manager the authorization
// endpoint reads SSO sessions with. It must read the cookie the login page
// writes: same store, cookie name and clock as the pages' manager.
func newSessionManager(d serverDeps) *sessions.Manager {
	return sessions.NewManager(d.store, sessions.Options{
		Secure:      d.cfg.IssuerIsHTTPS(),
		RememberFor: d.cfg.SessionRememberFor,
		IdleTimeout: d.cfg.SessionIdleTimeout,
		MaxLifetime: d.cfg.SessionMaxLifetime,
		Now:         d.now,
	})
}

// managerSessions shows the authorization endpoint the signed-in browser
// session (single sign-on) of the sessions package.
type managerSessions struct{ m *sessions.Manager }

func (s managerSessions) Current(r *http.Request) (oidc.BrowserSession, bool, error) {
	sess, err := s.m.Current(r)
	if errors.Is(err, sessions.ErrNoSession) {
		return oidc.BrowserSession{}, false, nil
	} else if err != nil {
		return oidc.BrowserSession{}, false, err
	}
	return oidc.BrowserSession{ID: sess.ID, Subject: sess.UserID, AuthTime: sess.AuthTime, AMR: sess.AMR, ACR: sess.ACR, IDP: sess.IDP}, true, nil
}

// newPagesChallenges is the login challenge service in the shape the login
// and consent pages use (registerPages wires it). It is stateless over the
// store, so it may be built apart from registerOAuth's; id_token_hint
// subjects are read with the pages' own verifier over the stored keys.
func newPagesChallenges(d serverDeps) pages.Challenges {
	hints := pages.KeyStoreHintVerifier{Keys: d.store, Issuer: d.cfg.Issuer}
	svc := oauth.NewChallenges(d.store, d.cfg.LoginChallengeLifespan, d.now)
	svc.SetHintDecoder(func(ctx context.Context, raw string) (string, error) {
		c, err := hints.VerifyIDTokenHint(ctx, raw)
		return c.Subject, err
	})
	return pagesChallenges{svc}
}

// pagesChallenges adapts oauth.Challenges to pages.Challenges.
type pagesChallenges struct{ s *oauth.Challenges }

func (p pagesChallenges) Challenge(ctx context.Context, value string) (pages.Challenge, error) {
	info, err := p.s.Challenge(ctx, value)
	if err != nil {
		return pages.Challenge{}, pagesErr(err)
	}
	return pages.Challenge{
		ClientID:           info.ClientID,
		ClientName:         info.ClientName,
		FirstParty:         info.FirstParty,
		Scopes:             info.RequestedScopes,
		Prompt:             info.Prompt,
		LoginHint:          info.LoginHint,
		MaxAge:             info.MaxAge,
		MaxAgeSet:          info.HasMaxAge,
		IDTokenHintSubject: info.IDTokenHintSubject,
		RequireMFA:         info.RequireMFA,
		Subject:            info.Subject,
		SessionID:          info.SessionID,
		AuthTime:           info.AuthTime,
		ConsentGiven:       info.ConsentGiven,
	}, nil
}

func (p pagesChallenges) AcceptLogin(ctx context.Context, value, subject, sessionID string, authTime time.Time) error {
	return pagesErr(p.s.AcceptLogin(ctx, value, subject, sessionID, authTime))
}

func (p pagesChallenges) DecideConsent(ctx context.Context, value string, granted []string, allow bool) error {
	return pagesErr(p.s.DecideConsent(ctx, value, granted, allow))
}

func pagesErr(err error) error {
	switch {
	case errors.Is(err, oauth.ErrChallengeNotFound):
		return fmt.Errorf("%w: %w", pages.ErrChallengeNotFound, err)
	case errors.Is(err, oauth.ErrLoginRejected):
		return fmt.Errorf("%w: %w", pages.ErrLoginRejected, err)
	}
	return err
}

// protocolErrorPages shows the authorization endpoint's errors that cannot
// go back to a client (unknown client, unregistered redirect URI, expired
// sign-in) on the pages' own error page.
type protocolErrorPages struct{ r *render.Renderer }

func (p protocolErrorPages) ProtocolError(w http.ResponseWriter, status int, title, message, code string) error {
	return p.r.Error(w, render.ErrorPage{
		Status:  status,
		Title:   title,
		Message: message,
		Hint:    "Go back to the application you came from and try again. If it keeps happening, tell the people who run it.",
		Code:    code,
	})
}
