package main

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/keys"
	adminapi "github.com/signet-idp/signet/internal/web/admin"
)

// openKeys loads the signing keys (creating, re-encrypting, promoting and
// replacing under the key lock as the configuration and the stored keys
// require) with the configured schedule and algorithms. It fails with
// keys.ErrNoUsableKey when keys exist that the secret cannot decrypt.
func openKeys(ctx context.Context, d serverDeps) (*keys.Manager, error) {
	return keys.Open(ctx, d.store, keys.Options{
		Secret:           d.secret,
		OldSecrets:       d.oldSecrets,
		Algorithms:       d.cfg.SigningAlgorithms,
		RotationPeriod:   d.cfg.KeyRotationPeriod,
		PrepublishWindow: d.cfg.KeyPrepublishWindow,
		RefreshInterval:  d.cfg.KeyRefreshInterval,
		MaxTokenLifetime: maxIDTokenLifetime(d),
		Now:              d.now,
		Logger:           d.logger,
	})
}

// warnClientAlgorithms logs the clients registered for an ID token
// algorithm without a current key: their token requests fail until it is
// configured.
func warnClientAlgorithms(ctx context.Context, d serverDeps, km *keys.Manager) {
	cs, err := d.store.ListClients(ctx)
	if err != nil {
		return
	}
	offered := km.Algorithms(ctx)
	for _, c := range cs {
		if c.IDTokenSignedResponseAlg != "" && !slices.Contains(offered, c.IDTokenSignedResponseAlg) {
			d.logger.Warn("client asks for ID tokens in an algorithm this server does not offer; its token requests fail "+
				"until the algorithm is added to --signing-algorithms", "client_id", c.ID,
				"id_token_signed_response_alg", c.IDTokenSignedResponseAlg, "offered", offered)
		}
	}
}

// maxIDTokenLifetime is the longest an ID token may live: the configured
// default or the longest per-client override. A retired key stays
// published at least that long.
func maxIDTokenLifetime(d serverDeps) func(ctx context.Context) (time.Duration, error) {
	return func(ctx context.Context) (time.Duration, error) {
		longest := d.cfg.IDTokenLifespan
		cs, err := d.store.ListClients(ctx)
		if err != nil {
			return 0, err
		}
		for _, c := range cs {
			longest = max(longest, c.IDTokenLifespan)
		}
		return longest, nil
	}
}

// registerKeysAdmin mounts GET /admin/keys and POST /admin/keys/rotate on
// the admin listener, behind the admin bearer token; rotations are
// audited.
func registerKeysAdmin(admin *echo.Echo, km *keys.Manager, d serverDeps) {
	ka := auditedKeys{Manager: km, audit: audit.New(d.store, d.now, d.logger)}
	adminapi.RegisterKeys(admin.Group("/admin"), ka, d.logger, adminapi.RequireBearer(d.cfg.AdminToken))
}

// auditedKeys records every rotation asked through the admin API.
type auditedKeys struct {
	*keys.Manager
	audit *audit.Service
}

func (a auditedKeys) Rotate(ctx context.Context, alg string) ([]keys.Info, error) {
	ks, err := a.Manager.Rotate(ctx, alg)
	if err != nil {
		return nil, err
	}
	var kids []string
	for _, k := range ks {
		kids = append(kids, k.Algorithm+":"+k.ID)
	}
	a.audit.Record(ctx, audit.Event{Action: audit.KeyRotate, Target: strings.Join(kids, ","),
		Details: map[string]string{"alg": alg}})
	return ks, nil
}
