package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestValidateSigningKeys(t *testing.T) {
	valid := Default()
	valid.DatabaseURL = "postgres://u@db/signet"
	valid.Secret = strings.Repeat("s", MinSecretLength)
	if valid.KeyRotationPeriod != 30*24*time.Hour || valid.KeyPrepublishWindow != time.Hour ||
		!slices.Equal(valid.SigningAlgorithms, []string{"RS256"}) {
		t.Fatalf("defaults: %v %v %v", valid.KeyRotationPeriod, valid.KeyPrepublishWindow, valid.SigningAlgorithms)
	}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"defaults", func(*Config) {}, ""},
		{"all algorithms", func(c *Config) { c.SigningAlgorithms = []string{"RS256", "ES256", "EdDSA"} }, ""},
		{"no automatic rotation", func(c *Config) { c.KeyRotationPeriod = 0 }, ""},
		{"unknown algorithm", func(c *Config) { c.SigningAlgorithms = []string{"HS256"} }, `signing algorithm "HS256"`},
		{"lower-case algorithm", func(c *Config) { c.SigningAlgorithms = []string{"es256"} }, "signing algorithm"},
		{"zero window", func(c *Config) { c.KeyPrepublishWindow = 0 }, "prepublication window"},
		{"refresh longer than window", func(c *Config) { c.KeyRefreshInterval = 2 * time.Hour }, "refresh interval"},
		{"zero refresh", func(c *Config) { c.KeyRefreshInterval = 0 }, "refresh interval"},
		{"period inside the window", func(c *Config) { c.KeyRotationPeriod = 30 * time.Minute }, "rotation period"},
		{"negative period", func(c *Config) { c.KeyRotationPeriod = -time.Hour }, "rotation period"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			c.SigningAlgorithms = slices.Clone(valid.SigningAlgorithms)
			tt.mutate(&c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate() = %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate() = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}
