package config

import (
	"testing"
	"time"
)

func TestParseRateLimit(t *testing.T) {
	for _, tc := range []struct {
		in     string
		count  int
		window time.Duration
		ok     bool
	}{
		{"10/1h", 10, time.Hour, true},
		{" 3 / 90s ", 3, 90 * time.Second, true},
		{"100000/24h", 100000, 24 * time.Hour, true},
		{"1/1s", 1, time.Second, true},
		{"", 0, 0, false},
		{"10", 0, 0, false},
		{"10/", 0, 0, false},
		{"/1h", 0, 0, false},
		{"0/1h", 0, 0, false},
		{"-1/1h", 0, 0, false},
		{"100001/1h", 0, 0, false},
		{"ten/1h", 0, 0, false},
		{"10/1", 0, 0, false},
		{"10/500ms", 0, 0, false},
		{"10/25h", 0, 0, false},
		{"10/1h/2", 0, 0, false},
	} {
		count, window, err := ParseRateLimit(tc.in)
		if (err == nil) != tc.ok || count != tc.count || window != tc.window {
			t.Errorf("ParseRateLimit(%q) = %d, %s, %v; want %d, %s, ok %v", tc.in, count, window, err, tc.count, tc.window, tc.ok)
		}
	}
}

func TestValidateClientRegistrationRateLimit(t *testing.T) {
	runValidateCases(t, []validateCase{
		{name: "default rate limit", mutate: func(*Config) {}},
		{name: "low rate limit", mutate: func(c *Config) { c.ClientRegistrationRateLimit = "2/10m" }},
		{name: "no window", mutate: func(c *Config) { c.ClientRegistrationRateLimit = "5" },
			wantErr: []string{"client registration rate limit", "COUNT/WINDOW"}},
		{name: "zero count", mutate: func(c *Config) { c.ClientRegistrationRateLimit = "0/1h" },
			wantErr: []string{"client registration rate limit", "count"}},
		{name: "window too long", mutate: func(c *Config) { c.ClientRegistrationRateLimit = "5/48h" },
			wantErr: []string{"client registration rate limit", "window"}},
	})
}
