package main

import (
	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/config"
)

// addOutboundFlags binds the policy of requests to client-supplied URLs
// (back-channel logout, jwks_uri), back-channel logout itself and dynamic
// client registration, whose clients supply such URLs.
func addOutboundFlags(cmd *cobra.Command, cfg *config.Config) {
	f := cmd.Flags()
	f.StringSliceVar(&cfg.OutboundAllowCIDRs, "outbound-allow-cidrs", cfg.OutboundAllowCIDRs, "special-use ranges (loopback, private, link-local) that requests to client-supplied URLs may reach, e.g. 10.20.0.0/16 for internal relying parties (default: public addresses only)")
	f.BoolVar(&cfg.BackchannelLogout, "backchannel-logout", cfg.BackchannelLogout, "OpenID Connect Back-Channel Logout: POST a logout token to each client with a backchannel_logout_uri when a session in which it got tokens ends (off: deliveries still queued are dropped unsent, audited as backchannel.dropped)")
	f.IntVar(&cfg.BackchannelLogoutAttempts, "backchannel-logout-attempts", cfg.BackchannelLogoutAttempts, "POSTs a logout token gets before it is given up (audited as backchannel.failed)")
	f.DurationVar(&cfg.BackchannelLogoutBackoff, "backchannel-logout-backoff", cfg.BackchannelLogoutBackoff, "wait after a failed logout token POST; doubles after each further failure (at most 5m)")
	f.StringVar(&cfg.ClientRegistration, "client-registration", cfg.ClientRegistration, "dynamic client registration (RFC 7591/7592) at /oauth2/register: off, token (an initial access token from `signet registration-tokens create` is required) or open")
	f.StringVar(&cfg.ClientRegistrationRateLimit, "client-registration-rate-limit", cfg.ClientRegistrationRateLimit, "dynamic registrations one address may make, COUNT/WINDOW: COUNT at once, then one a minute (doubling up to 15m, never more than WINDOW); the count starts over after WINDOW without any (COUNT 1-100000, WINDOW 1s-24h)")
	f.DurationVar(&cfg.OutboundTimeout, "outbound-timeout", cfg.OutboundTimeout, "longest time for one request to a client-supplied URL (back-channel logout, jwks_uri)")
}
