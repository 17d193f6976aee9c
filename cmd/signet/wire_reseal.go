package main

import (
	"context"
	"fmt"
	"time"
)

// resealSecrets seals again under the current secret the authenticator-app
// and connector client secrets still sealed under an old one (signing keys
// were re-encrypted when they were opened), and logs how many — counts and
// ids only, never values. After one start with --old-secrets has done it,
// the old secrets can be dropped. Rows that open with no configured secret
// are left and warned about: they are lost either way, and refusing to
// start would take sign-in away from everyone else.
func resealSecrets(ctx context.Context, d serverDeps, acc accountServices) error {
	if len(d.oldSecrets) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	totp, badTOTP, err := acc.mfa.ResealSecrets(ctx)
	if err != nil {
		return fmt.Errorf("secret rotation: %w", err)
	}
	conn, badConn, err := acc.connectors.ResealSecrets(ctx)
	if err != nil {
		return fmt.Errorf("secret rotation: %w", err)
	}
	d.logger.Info("secret rotation: values sealed under an old secret are now sealed under the current one",
		"totp_secrets", totp, "connector_secrets", conn)
	if badTOTP+badConn > 0 {
		d.logger.Warn("secret rotation: some sealed values open with neither the secret nor an old secret and were left as they are",
			"totp_secrets", badTOTP, "connector_secrets", badConn)
	}
	return nil
}
