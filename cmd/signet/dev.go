package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/web/oidc"
)

// Demo data of `serve --dev`.
const (
	demoClientID    = "demo-app"
	demoRedirectURI = "http://127.0.0.1:5555/callback"
)

// seedDev creates the demo client and users of `serve --dev` (once: on a
// database that already has them nothing changes) and logs them with a
// ready-to-open authorization URL. Passwords and the client secret are
// random per seeding, so a --dev database never has well-known credentials.
func seedDev(ctx context.Context, d serverDeps, acc *accounts.Service) error {
	secret, err := clients.NewSecret()
	if err != nil {
		return err
	}
	reg, err := clients.Validate(clients.Registration{
		Name:                   "Demo App",
		RedirectURIs:           []string{demoRedirectURI},
		PostLogoutRedirectURIs: []string{"http://127.0.0.1:5555/"},
	})
	if err != nil {
		return fmt.Errorf("demo client: %w", err)
	}
	now := d.now()
	client := storage.Client{
		ID:                      demoClientID,
		SecretHash:              clients.HashSecret(secret),
		Name:                    reg.Name,
		RedirectURIs:            reg.RedirectURIs,
		PostLogoutRedirectURIs:  reg.PostLogoutRedirectURIs,
		GrantTypes:              reg.GrantTypes,
		ResponseTypes:           reg.ResponseTypes,
		Scopes:                  reg.Scopes,
		TokenEndpointAuthMethod: reg.TokenEndpointAuthMethod,
		CreatedAt:               now,
		UpdatedAt:               now,
	}
	var lines []string
	switch err := d.store.CreateClient(ctx, client); {
	case err == nil:
		lines = append(lines, fmt.Sprintf("demo client: client_id=%s client_secret=%s redirect_uri=%s", demoClientID, secret, demoRedirectURI))
	case errors.Is(err, storage.ErrAlreadyExists):
		lines = append(lines, fmt.Sprintf("demo client: client_id=%s (already present; its secret was shown when it was created)", demoClientID))
	default:
		return fmt.Errorf("demo client: %w", err)
	}

	for _, u := range []accounts.NewUser{
		{Username: "alice", Email: "alice@example.com", Name: "Alice Admin", EmailVerified: true, Roles: []string{storage.RoleAdmin, storage.RoleUser}},
		{Username: "bob", Email: "bob@example.com", Name: "Bob User", EmailVerified: true, Roles: []string{storage.RoleUser}},
	} {
		pw, err := clients.NewSecret()
		if err != nil {
			return err
		}
		u.Password = pw[:16]
		switch _, err := acc.CreateUser(ctx, u); {
		case err == nil:
			lines = append(lines, fmt.Sprintf("demo user: %s / %s (roles: %s)", u.Username, u.Password, strings.Join(u.Roles, ", ")))
		case errors.Is(err, accounts.ErrUserExists):
			lines = append(lines, fmt.Sprintf("demo user: %s (already present)", u.Username))
		default:
			return fmt.Errorf("demo user %s: %w", u.Username, err)
		}
	}

	q := url.Values{
		"client_id":     {demoClientID},
		"response_type": {"code"},
		"scope":         {"openid profile email roles offline_access"},
		"redirect_uri":  {demoRedirectURI},
		"state":         {"demo-state-0123456789"},
		"nonce":         {"demo-nonce-0123456789"},
	}
	lines = append(lines, "open to sign in: "+d.cfg.Issuer+oidc.PathAuthorize+"?"+q.Encode())
	// Printed to standard error as well as logged: a person starting --dev
	// reads the terminal, and the log may be JSON.
	fmt.Fprintln(d.console, "\n  Signet --dev\n  "+strings.Join(lines, "\n  ")+"\n")
	return nil
}
