package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
	"github.com/signet-idp/signet/internal/storage/postgres"
	"github.com/signet-idp/signet/internal/tracing"
)

// openStore opens PostgreSQL and applies the migrations (under an advisory
// lock, so replicas may start together) unless told to skip them, or
// returns the in-memory store when no database is configured (only
// allowed with --dev).
func openStore(ctx context.Context, cfg config.Config, logger *slog.Logger, metrics prometheus.Registerer, tr *tracing.Tracing) (storage.Store, error) {
	if cfg.DatabaseURL == "" {
		logger.Warn("no database configured: using the in-memory store (--dev); nothing survives a restart")
		return memory.New(), nil
	}
	store, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.WithOpenDB(tr.OpenDB))
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	store.SetPool(postgres.Pool{
		MaxOpenConns:    cfg.DBMaxOpenConns,
		MaxIdleConns:    cfg.DBMaxIdleConns,
		ConnMaxLifetime: cfg.DBConnMaxLifetime,
		ConnMaxIdleTime: cfg.DBConnMaxIdleTime,
	})
	if cfg.SkipMigrations {
		// The migration lock is a session advisory lock: through a
		// transaction-pooling PgBouncer it would be taken on one server
		// connection and released (or not) on another.
		logger.Info("not migrating at start (--skip-migrations): the schema must be current (signet migrate)")
	} else if err := postgres.Migrate(ctx, store.DB()); err != nil {
		store.Close()
		return nil, fmt.Errorf("database migrations: %w", err)
	}
	if err := metrics.Register(postgres.NewPoolCollector(store)); err != nil {
		store.Close()
		return nil, fmt.Errorf("database pool metrics: %w", err)
	}
	return store, nil
}

func newMigrateCmd() *cobra.Command {
	cfg := config.Default()
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the embedded SQL migrations to the database (serve also does this at start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.DatabaseURL == "" {
				return fmt.Errorf("database URL (--database-url or SIGNET_DATABASE_URL) is required")
			}
			store, err := postgres.Open(cmd.Context(), cfg.DatabaseURL)
			if err != nil {
				return fmt.Errorf("database: %w", err)
			}
			defer store.Close()
			if err := postgres.Migrate(cmd.Context(), store.DB()); err != nil {
				return fmt.Errorf("database migrations: %w", err)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), "migrations applied")
			return err
		},
	}
	cmd.Flags().StringVar(&cfg.DatabaseURL, "database-url", "", "PostgreSQL URL")
	addConfigFlag(cmd)
	return cmd
}
