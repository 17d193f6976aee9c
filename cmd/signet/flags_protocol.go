package main

import (
	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/config"
)

// addProtocolFlags binds the optional protocol features: pushed
// authorization requests and who may introspect which tokens.
func addProtocolFlags(cmd *cobra.Command, cfg *config.Config) {
	f := cmd.Flags()
	f.BoolVar(&cfg.PAR, "par", cfg.PAR, "serve the pushed authorization request endpoint (RFC 9126)")
	f.BoolVar(&cfg.RequirePAR, "require-par", cfg.RequirePAR, "refuse authorization requests that were not pushed first, for every client")
	f.DurationVar(&cfg.PARLifespan, "par-lifespan", cfg.PARLifespan, "how long a pushed request's request_uri stays usable (once)")
	f.StringSliceVar(&cfg.IntrospectionClients, "introspection-clients", cfg.IntrospectionClients, "client ids (resource servers) that may introspect tokens issued to other clients; every other client sees only its own tokens as active")
}
