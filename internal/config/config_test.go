package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	runValidateCases(t, []validateCase{
		{name: "defaults with database and secret", mutate: func(*Config) {}},
		{name: "dev without database or secret", mutate: func(c *Config) { c.Dev = true; c.DatabaseURL = ""; c.Secret = "" }},
		{name: "short secret", mutate: func(c *Config) { c.Secret = "short" }, wantErr: []string{"at least 32 bytes"}},
		{name: "no database without dev", mutate: func(c *Config) { c.DatabaseURL = "" }, wantErr: []string{"database URL"}},
		{name: "bad database scheme", mutate: func(c *Config) { c.DatabaseURL = "mysql://x" }, wantErr: []string{"postgres://"}},
		{name: "relative issuer", mutate: func(c *Config) { c.Issuer = "/x" }, wantErr: []string{"absolute http(s) URL"}},
		{name: "http issuer off loopback", mutate: func(c *Config) { c.Issuer = "http://id.example.com" }, wantErr: []string{"must use https"}},
		{name: "issuer with trailing slash", mutate: func(c *Config) { c.Issuer = "https://id.example.com/" }, wantErr: []string{"slash"}},
		{name: "admin off loopback without token", mutate: func(c *Config) { c.AdminListen = ":8081" }, wantErr: []string{"admin token"}},
		{name: "admin off loopback with token", mutate: func(c *Config) { c.AdminListen = ":8081"; c.AdminToken = strings.Repeat("t", 20) }},
		{name: "bad log format", mutate: func(c *Config) { c.LogFormat = "xml" }, wantErr: []string{"log format"}},
		{name: "bad trusted proxy", mutate: func(c *Config) { c.TrustedProxies = []string{"10.0.0.1"} }, wantErr: []string{"CIDR"}},
		{name: "bad accent colour", mutate: func(c *Config) { c.BrandAccentColor = "red" }, wantErr: []string{"#rgb"}},
		{name: "http logo", mutate: func(c *Config) { c.BrandLogoURL = "http://x/logo.png" }, wantErr: []string{"logo"}},
		{name: "branding", mutate: func(c *Config) {
			c.BrandAccentColor = "#0a5"
			c.BrandLogoURL = "https://cdn.example/l.svg"
			c.TrustedProxies = []string{"10.0.0.0/8"}
		}},
		{name: "zero read timeout", mutate: func(c *Config) { c.HTTPReadTimeout = 0 }, wantErr: []string{"HTTP read timeout must be positive"}},
		{name: "negative write timeout", mutate: func(c *Config) { c.HTTPWriteTimeout = -time.Second }, wantErr: []string{"HTTP write timeout must be positive"}},
		{name: "zero idle and header timeouts", mutate: func(c *Config) { c.HTTPIdleTimeout = 0; c.HTTPReadHeaderTimeout = 0 },
			wantErr: []string{"HTTP idle timeout", "HTTP read header timeout"}},
		{name: "negative drain delay", mutate: func(c *Config) { c.ShutdownDrainDelay = -time.Second }, wantErr: []string{"drain delay"}},
		{name: "drain delay and profiling", mutate: func(c *Config) { c.ShutdownDrainDelay = 5 * time.Second; c.Profiling = true }},
		{name: "zero lifespan", mutate: func(c *Config) { c.AccessTokenLifespan = 0 }, wantErr: []string{"access token lifespan"}},
		{
			name:    "every problem at once",
			mutate:  func(c *Config) { c.Secret = ""; c.DatabaseURL = ""; c.Listen = "nope" },
			wantErr: []string{"secret", "database URL", "listen address"},
		},
	})
}

// validateCase is one configuration change and what Validate must say
// about it (nothing when wantErr is empty).
type validateCase struct {
	name    string
	mutate  func(*Config)
	wantErr []string
}

// runValidateCases applies each case to a valid configuration and checks
// that Validate reports every expected problem, and never a secret.
func runValidateCases(t *testing.T, tests []validateCase) {
	t.Helper()
	valid := Default()
	valid.DatabaseURL = "postgres://u@db/signet"
	valid.Secret = strings.Repeat("s", MinSecretLength)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			c.SigningAlgorithms = slices.Clone(valid.SigningAlgorithms)
			tt.mutate(&c)
			err := c.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors %q", tt.wantErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to mention %q", err, w)
				}
			}
			for _, secret := range []string{c.Secret, c.SMTPPassword, c.AdminToken} {
				if len(secret) >= 8 && strings.Contains(err.Error(), secret) {
					t.Errorf("Validate() shows a secret: %q", err)
				}
			}
		})
	}
}
