package main

import (
	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/config"
)

// addOutboundFlags binds the policy of requests to client-supplied URLs
// (back-channel logout, jwks_uri) and back-channel logout itself.
func addOutboundFlags(cmd *cobra.Command, cfg *config.Config) {
	f := cmd.Flags()
	f.StringSliceVar(&cfg.OutboundAllowCIDRs, "outbound-allow-cidrs", cfg.OutboundAllowCIDRs, "special-use ranges (loopback, private, link-local) that requests to client-supplied URLs may reach, e.g. 10.20.0.0/16 for internal relying parties (default: public addresses only)")
	f.BoolVar(&cfg.BackchannelLogout, "backchannel-logout", cfg.BackchannelLogout, "OpenID Connect Back-Channel Logout: POST a logout token to each client with a backchannel_logout_uri when a session in which it got tokens ends")
	f.IntVar(&cfg.BackchannelLogoutAttempts, "backchannel-logout-attempts", cfg.BackchannelLogoutAttempts, "POSTs a logout token gets before it is given up (audited as backchannel.failed)")
	f.DurationVar(&cfg.BackchannelLogoutBackoff, "backchannel-logout-backoff", cfg.BackchannelLogoutBackoff, "wait after a failed logout token POST; doubles after each further failure (at most 5m)")
	f.DurationVar(&cfg.OutboundTimeout, "outbound-timeout", cfg.OutboundTimeout, "longest time for one request to a client-supplied URL (back-channel logout, jwks_uri)")
}
