package config

import (
	"testing"
	"time"
)

func TestValidateDatabasePoolAndRefreshGrace(t *testing.T) {
	d := Default()
	if d.DBMaxOpenConns != 16 || d.DBMaxIdleConns != 16 || d.RefreshGracePeriod != 5*time.Second {
		t.Fatalf("defaults: open %d idle %d grace %v", d.DBMaxOpenConns, d.DBMaxIdleConns, d.RefreshGracePeriod)
	}
	runValidateCases(t, []validateCase{
		{"defaults", func(*Config) {}, nil},
		{"no idle connections", func(c *Config) { c.DBMaxIdleConns = 0 }, nil},
		{"unlimited lifetimes", func(c *Config) { c.DBConnMaxLifetime, c.DBConnMaxIdleTime = 0, 0 }, nil},
		{"grace off", func(c *Config) { c.RefreshGracePeriod = 0 }, nil},
		{"zero open", func(c *Config) { c.DBMaxOpenConns = 0 }, []string{"max open connections"}},
		{"idle above open", func(c *Config) { c.DBMaxIdleConns = 17 }, []string{"max idle connections"}},
		{"negative idle", func(c *Config) { c.DBMaxIdleConns = -1 }, []string{"max idle connections"}},
		{"negative lifetime", func(c *Config) { c.DBConnMaxLifetime = -time.Second }, []string{"max lifetime"}},
		{"negative idle time", func(c *Config) { c.DBConnMaxIdleTime = -time.Second }, []string{"max idle time"}},
		{"negative grace", func(c *Config) { c.RefreshGracePeriod = -time.Second }, []string{"refresh grace period"}},
		{"cache off", func(c *Config) { c.ClientCacheTTL = 0 }, nil},
		{"negative cache TTL", func(c *Config) { c.ClientCacheTTL = -time.Second }, []string{"client cache TTL"}},
		{"cache TTL too long", func(c *Config) { c.ClientCacheTTL = time.Hour }, []string{"client cache TTL"}},
		{"grace too long", func(c *Config) { c.RefreshGracePeriod = 2 * time.Minute }, []string{"refresh grace period"}},
	})
}
