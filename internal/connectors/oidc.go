package connectors

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/signet-idp/signet/internal/storage"
)

// oidcUpstream is any OpenID provider: discovery, code flow with PKCE
// S256, state and nonce, the ID token verified by go-oidc, then userinfo.
type oidcUpstream struct {
	id           string
	clientID     string
	clientSecret string
	s            Settings
	google       bool
	client       *http.Client
	providers    *providerCache
}

// providerCache keeps discovered providers (and with them their key sets,
// which go-oidc refreshes when it meets an unknown kid), so a sign-in
// costs no discovery round trip. A failed discovery is not kept.
type providerCache struct {
	mu  sync.Mutex
	m   map[string]cachedProvider
	ttl time.Duration
	now func() time.Time
}

type cachedProvider struct {
	p       *oidc.Provider
	fetched time.Time
}

func (c *providerCache) get(ctx context.Context, client *http.Client, issuer string) (*oidc.Provider, error) {
	c.mu.Lock()
	cp, ok := c.m[issuer]
	c.mu.Unlock()
	if ok && c.now().Sub(cp.fetched) < c.ttl {
		return cp.p, nil
	}
	// go-oidc keeps the context of NewProvider for later key fetches: it
	// must outlive this request; the client's timeout bounds each call.
	pctx := oidc.ClientContext(context.WithoutCancel(ctx), client)
	type result struct {
		p   *oidc.Provider
		err error
	}
	done := make(chan result, 1)
	go func() {
		p, err := oidc.NewProvider(pctx, issuer)
		done <- result{p, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, r.err
	}
	c.mu.Lock()
	c.m[issuer] = cachedProvider{p: r.p, fetched: c.now()}
	c.mu.Unlock()
	return r.p, nil
}

// forget drops the provider of a connector whose settings changed.
func (c *providerCache) forget(conn storage.Connector) {
	st, err := parseSettings(conn.Config)
	if err != nil || st.Issuer == "" {
		return
	}
	c.mu.Lock()
	delete(c.m, st.Issuer)
	c.mu.Unlock()
}

func (u *oidcUpstream) scopes() []string {
	sc := u.s.Scopes
	if len(sc) == 0 {
		sc = []string{oidc.ScopeOpenID, "email", "profile"}
	}
	if !slices.Contains(sc, oidc.ScopeOpenID) {
		sc = append([]string{oidc.ScopeOpenID}, sc...)
	}
	return sc
}

func (u *oidcUpstream) config(p *oidc.Provider, redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: u.clientID, ClientSecret: u.clientSecret, Endpoint: p.Endpoint(),
		RedirectURL: redirectURL, Scopes: u.scopes(),
	}
}

func (u *oidcUpstream) authURL(ctx context.Context, f Flow, redirectURL string) (string, error) {
	p, err := u.providers.get(ctx, u.client, u.s.Issuer)
	if err != nil {
		return "", classify(u.id, fmt.Errorf("discovery: %w", err))
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)}
	if u.google && len(u.s.HostedDomains) == 1 {
		// A hint for Google's account chooser; the hd claim is what counts.
		opts = append(opts, oauth2.SetAuthURLParam("hd", u.s.HostedDomains[0]))
	}
	return u.config(p, redirectURL).AuthCodeURL(f.State, opts...), nil
}

func (u *oidcUpstream) identify(ctx context.Context, f Flow, code, redirectURL string) (Identity, error) {
	p, err := u.providers.get(ctx, u.client, u.s.Issuer)
	if err != nil {
		return Identity{}, classify(u.id, fmt.Errorf("discovery: %w", err))
	}
	ctx = oidc.ClientContext(ctx, u.client)
	tok, err := u.config(p, redirectURL).Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return Identity{}, classify(u.id, fmt.Errorf("code exchange: %w", err))
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return Identity{}, fail(KindInvalid, u.id, errors.New("token response without id_token"))
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: u.clientID}).Verify(ctx, raw)
	if err != nil {
		return Identity{}, fail(KindInvalid, u.id, fmt.Errorf("id token: %w", err))
	}
	if !equal(idt.Nonce, f.Nonce) {
		return Identity{}, fail(KindNonce, u.id, errors.New("id token nonce differs from the one sent"))
	}
	if idt.Subject == "" {
		return Identity{}, fail(KindInvalid, u.id, errors.New("id token without sub"))
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, fail(KindInvalid, u.id, fmt.Errorf("id token claims: %w", err))
	}
	if u.google && len(u.s.HostedDomains) > 0 {
		hd := firstString(claims, "hd")
		if !slices.Contains(u.s.HostedDomains, hd) {
			return Identity{}, fail(KindNotAllowed, u.id, fmt.Errorf("hosted domain %q is not allowed", hd))
		}
	}
	if p.UserInfoEndpoint() != "" {
		ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return Identity{}, classify(u.id, fmt.Errorf("userinfo: %w", err))
		}
		if ui.Subject != idt.Subject {
			return Identity{}, fail(KindInvalid, u.id, errors.New("userinfo sub differs from the id token's"))
		}
		extra := map[string]any{}
		if err := ui.Claims(&extra); err != nil {
			return Identity{}, fail(KindInvalid, u.id, fmt.Errorf("userinfo claims: %w", err))
		}
		// The ID token is signed: where both say something, it wins.
		for k, v := range extra {
			if _, ok := claims[k]; !ok {
				claims[k] = v
			}
		}
	}
	return u.mapClaims(idt.Subject, claims), nil
}

func (u *oidcUpstream) mapClaims(sub string, claims map[string]any) Identity {
	name := func(configured, def string) string {
		if configured != "" {
			return configured
		}
		return def
	}
	id := Identity{
		Subject:  sub,
		Email:    firstString(claims, name(u.s.EmailClaim, "email")),
		Name:     firstString(claims, name(u.s.NameClaim, "name")),
		Username: firstString(claims, name(u.s.UsernameClaim, "preferred_username")),
		Claims:   map[string][]string{},
	}
	switch v := claims["email_verified"].(type) {
	case bool:
		id.EmailVerified = v
	case string: // some providers send "true"
		id.EmailVerified = strings.EqualFold(v, "true")
	}
	if u.s.TrustEmail && id.Email != "" {
		id.EmailVerified = true
	}
	for k, v := range claims {
		if vals := claimValues(v); len(vals) > 0 {
			id.Claims[k] = vals
		}
	}
	if g := name(u.s.GroupsClaim, "groups"); g != "groups" {
		id.Claims["groups"] = claimValues(claims[g])
	}
	return id
}
