package main

import (
	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/config"
)

// addDatabaseFlags binds the connection pool, client cache and refresh
// rotation flags.
func addDatabaseFlags(cmd *cobra.Command, cfg *config.Config) {
	f := cmd.Flags()
	f.IntVar(&cfg.DBMaxOpenConns, "db-max-open-conns", cfg.DBMaxOpenConns, "most connections this replica opens to PostgreSQL (all replicas together must fit max_connections)")
	f.IntVar(&cfg.DBMaxIdleConns, "db-max-idle-conns", cfg.DBMaxIdleConns, "connections kept open between bursts (at most --db-max-open-conns)")
	f.DurationVar(&cfg.DBConnMaxLifetime, "db-conn-max-lifetime", cfg.DBConnMaxLifetime, "recycle connections after this long (0: never)")
	f.DurationVar(&cfg.DBConnMaxIdleTime, "db-conn-max-idle-time", cfg.DBConnMaxIdleTime, "close connections idle this long (0: never)")
	f.DurationVar(&cfg.ClientCacheTTL, "client-cache-ttl", cfg.ClientCacheTTL, "how long a replica may use its cached copy of a client after another replica changed it (0: no cache)")
	f.DurationVar(&cfg.RefreshGracePeriod, "refresh-grace-period", cfg.RefreshGracePeriod, "after a refresh token rotates, a repeat of it within this window gets the same new tokens instead of revoking the grant (0: off)")
}
