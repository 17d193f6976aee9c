package main

import (
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/outbound"
	"github.com/signet-idp/signet/internal/storage"
)

// serverDeps is what serve hands every wire_* function. It is built once, by
// hand, in serve; nothing else constructs concrete pieces.
type serverDeps struct {
	cfg    config.Config
	store  storage.Store
	logger *slog.Logger
	// now is the clock; tests replace it.
	now func() time.Time
	// metrics is the registry /metrics serves.
	metrics *prometheus.Registry
	// secret is the validated global secret (SIGNET_SECRET, or a generated
	// one under --dev), followed by old secrets still accepted.
	secret     []byte
	oldSecrets [][]byte
	// console is where --dev prints its demo credentials for a person.
	console io.Writer
	// outbound sends every request to a client-supplied URL (SSRF policy).
	outbound *outbound.Client
}
