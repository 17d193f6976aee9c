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
	var tests []validateCase
	for _, tc := range []struct {
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
	} {
		var want []string
		if tc.wantErr != "" {
			want = []string{tc.wantErr}
		}
		tests = append(tests, validateCase{tc.name, tc.mutate, want})
	}
	runValidateCases(t, tests)
}
