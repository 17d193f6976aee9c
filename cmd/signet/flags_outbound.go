package main

import (
	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/config"
)

// addOutboundFlags binds the policy of requests to client-supplied URLs
// (back-channel logout, jwks_uri).
func addOutboundFlags(cmd *cobra.Command, cfg *config.Config) {
	f := cmd.Flags()
	f.StringSliceVar(&cfg.OutboundAllowCIDRs, "outbound-allow-cidrs", cfg.OutboundAllowCIDRs, "special-use ranges (loopback, private, link-local) that requests to client-supplied URLs may reach, e.g. 10.20.0.0/16 for internal relying parties (default: public addresses only)")
	f.DurationVar(&cfg.OutboundTimeout, "outbound-timeout", cfg.OutboundTimeout, "longest time for one request to a client-supplied URL (back-channel logout, jwks_uri)")
}
