package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/mfa"
	"github.com/signet-idp/signet/internal/oauth"
	"github.com/signet-idp/signet/internal/web/pages"
)

// mfaCookieInfo names the key of the pending-sign-in and remembered-device
// cookies among those derived from the global secret.
const mfaCookieInfo = "signet mfa cookies v1"

// newMFA builds the second-factor service: authenticator secrets sealed
// under the global secret (old secrets still open them), passkeys bound
// to the issuer.
func newMFA(d serverDeps, au *audit.Service) (*mfa.Service, error) {
	svc, err := mfa.New(mfa.Options{
		Store:   d.store,
		Secrets: append([][]byte{d.secret}, d.oldSecrets...),
		Issuer:  d.cfg.Issuer,
		Name:    d.cfg.BrandName,
		Audit:   au,
		Logger:  d.logger,
		Now:     d.now,
	})
	if err != nil {
		return nil, fmt.Errorf("two-factor sign-in: %w", err)
	}
	return svc, nil
}

// newTwoFactorPages is the pages' two-factor configuration: the service,
// cookies signed with a key derived from the secret (every replica reads
// them), the operator's policy and remembered-device lifetime.
func newTwoFactorPages(d serverDeps, svc *mfa.Service) (*pages.TwoFactorConfig, error) {
	var keys [][]byte
	for _, secret := range append([][]byte{d.secret}, d.oldSecrets...) {
		k, err := oauth.DeriveKey(secret, mfaCookieInfo)
		if err != nil {
			return nil, fmt.Errorf("two-factor cookie key: %w", err)
		}
		keys = append(keys, k)
	}
	cookies, err := mfa.NewCookies(keys, d.cfg.IssuerIsHTTPS(), d.now)
	if err != nil {
		return nil, err
	}
	tf := &pages.TwoFactorConfig{
		Factors:        svc,
		Cookies:        cookies,
		RememberDevice: time.Duration(d.cfg.MFARememberDays) * 24 * time.Hour,
	}
	if p := newMFAPolicy(d); p != nil {
		tf.Policy = p
	}
	return tf, nil
}

// mfaPolicy is the operator's requirement of a second factor: for every
// user (--mfa-required) or for users with one of some roles
// (--mfa-required-roles).
type mfaPolicy struct {
	all   bool
	roles []string
	users interface {
		ListUserRoles(ctx context.Context, userID string) ([]string, error)
	}
}

// newMFAPolicy returns nil when the operator requires nothing (only apps
// may then ask for a second factor), so no role lookup is ever made.
func newMFAPolicy(d serverDeps) *mfaPolicy {
	if !d.cfg.MFARequired && len(d.cfg.MFARequiredRoles) == 0 {
		return nil
	}
	return &mfaPolicy{all: d.cfg.MFARequired, roles: d.cfg.MFARequiredRoles, users: d.store}
}

// Required implements pages.MFAPolicy and oidc.MFAPolicy.
func (p *mfaPolicy) Required(ctx context.Context, userID string) (bool, error) {
	if p.all {
		return true, nil
	}
	roles, err := p.users.ListUserRoles(ctx, userID)
	if err != nil {
		return false, err
	}
	for _, r := range roles {
		if slices.Contains(p.roles, r) {
			return true, nil
		}
	}
	return false, nil
}
