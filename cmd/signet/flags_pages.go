package main

import (
	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/config"
)

// addPageFlags binds the settings of browser sessions, branding and the
// reverse proxies in front of the public listener.
func addPageFlags(cmd *cobra.Command, cfg *config.Config) {
	f := cmd.Flags()
	f.DurationVar(&cfg.SessionRememberFor, "session-remember-for", cfg.SessionRememberFor, `how long "remember me" keeps a person signed in`)
	f.DurationVar(&cfg.SessionIdleTimeout, "session-idle-timeout", cfg.SessionIdleTimeout, "a session without remember-me ends after this long unused")
	f.DurationVar(&cfg.SessionMaxLifetime, "session-max-lifetime", cfg.SessionMaxLifetime, "a session without remember-me ends after this long however busy")
	f.StringVar(&cfg.BrandName, "brand-name", cfg.BrandName, "name shown on the pages instead of Signet")
	f.StringVar(&cfg.BrandLogoURL, "brand-logo-url", cfg.BrandLogoURL, "logo shown on the pages: an https URL or a path on Signet")
	f.StringVar(&cfg.BrandAccentColor, "brand-accent-color", cfg.BrandAccentColor, "accent colour of buttons and links, #rgb or #rrggbb")
	f.DurationVar(&cfg.ConnectorTimeout, "connector-timeout", cfg.ConnectorTimeout, "bound on each call to an upstream identity provider")
	f.BoolVar(&cfg.PasswordLogin, "password-login", cfg.PasswordLogin, "offer the password form on the login page (false: only the upstream providers, when any is enabled)")
	f.StringSliceVar(&cfg.TrustedProxies, "trusted-proxies", cfg.TrustedProxies, "CIDRs of reverse proxies whose X-Forwarded-For is believed (empty: none)")
}
