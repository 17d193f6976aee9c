package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// resealInterval is how often a replica with old secrets looks again for
// values still sealed under one after its start: replicas that do not have
// the new secret yet (a rolling rotation) keep sealing new ones under the
// old secret, and an edit that read a connector before the start-up pass
// swapped its secret writes the old sealed value back.
const resealInterval = 10 * time.Minute

// resealSecrets seals again under the current secret the authenticator-app
// and connector client secrets still sealed under an old one (signing keys
// were re-encrypted when they were opened), and logs how many — counts and
// ids only, never values. It runs once before serving and returns the job
// that repeats it every resealInterval (nil without old secrets). A pass
// that fails or runs out of time is only a warning: what it did is kept
// (each row is swapped on its own), the next pass carries on, and a large
// database must not keep a replica from serving. Rows that open with no
// configured secret are left and warned about: they are lost either way.
func resealSecrets(ctx context.Context, d serverDeps, acc accountServices) func(context.Context) {
	if len(d.oldSecrets) == 0 {
		return nil
	}
	resealOnce(ctx, d, acc, true)
	return func(ctx context.Context) {
		t := time.NewTicker(resealInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				resealOnce(ctx, d, acc, false)
			}
		}
	}
}

// resealOnce is one pass; the first one always logs its counts, later
// ones only when they found something.
func resealOnce(ctx context.Context, d serverDeps, acc accountServices, first bool) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	totp, badTOTP, err := acc.mfa.ResealSecrets(ctx)
	if err != nil {
		d.logger.Warn("secret rotation: re-sealing authenticator secrets stopped; the next pass carries on",
			"resealed", totp, "err", err, "next_in", resealInterval)
		return
	}
	conn, badConn, err := acc.connectors.ResealSecrets(ctx)
	if err != nil {
		d.logger.Warn("secret rotation: re-sealing connector secrets stopped; the next pass carries on",
			"totp_secrets", totp, "resealed", conn, "err", err, "next_in", resealInterval)
		return
	}
	if first || totp+conn > 0 {
		d.logger.Info("secret rotation: values sealed under an old secret are now sealed under the current one",
			"totp_secrets", totp, "connector_secrets", conn)
	}
	// Once per start: they stay unreadable until their owners act, and a
	// warning every pass would drown the log.
	if first && len(badTOTP)+len(badConn) > 0 {
		d.logger.Warn("secret rotation: some sealed values open with neither the secret nor an old secret and were left as they are; "+
			"those users must set their authenticator app up again, those connectors need their client secret set again",
			"totp_secrets", len(badTOTP), "connector_secrets", len(badConn),
			"user_ids", firstFew(badTOTP), "connectors", firstFew(badConn))
	}
}

// firstFew lists up to ten ids for a log line, saying how many more.
func firstFew(ids []string) string {
	const most = 10
	if len(ids) <= most {
		return strings.Join(ids, ",")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:most], ","), len(ids)-most)
}
