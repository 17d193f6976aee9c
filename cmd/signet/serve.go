package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/storage/cached"
	"github.com/signet-idp/signet/internal/web"
)

func newServeCmd() *cobra.Command {
	cfg := config.Default()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the public listener (OAuth2/OIDC endpoints and pages) and the admin listener",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(cmd.ErrOrStderr(), cfg.LogFormat, cfg.LogLevel)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, cfg, logger, serveHooks{})
		},
	}
	addServerFlags(cmd, &cfg)
	cmd.Flags().BoolVar(&cfg.Dev, "dev", false, "development mode: in-memory store when no database is set, demo client and users, e-mails to the log, generated secret")
	cmd.Flags().DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "how long in-flight requests may take to finish on shutdown")
	return cmd
}

// addServerFlags binds the flags serve and migrate share.
func addServerFlags(cmd *cobra.Command, cfg *config.Config) {
	f := cmd.Flags()
	f.StringVar(&cfg.Issuer, "issuer", cfg.Issuer, "issuer URL, exactly as relying parties see it")
	f.StringVar(&cfg.Listen, "listen", cfg.Listen, "public listener address")
	f.StringVar(&cfg.AdminListen, "admin-listen", cfg.AdminListen, "admin listener address")
	f.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "PostgreSQL URL (empty: in-memory store, only with --dev)")
	f.StringVar(&cfg.Secret, "secret", cfg.Secret, "global secret, at least 32 bytes: keys tokens and encrypts keys at rest")
	f.StringSliceVar(&cfg.OldSecrets, "old-secrets", cfg.OldSecrets, "previous secrets still accepted while the secret is rotated")
	f.StringVar(&cfg.AdminToken, "admin-token", cfg.AdminToken, "bearer token required on the admin API (required off loopback)")
	f.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "text or json (default: text in a terminal, json otherwise)")
	f.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	f.DurationVar(&cfg.AccessTokenLifespan, "access-token-lifespan", cfg.AccessTokenLifespan, "default access token lifetime")
	f.DurationVar(&cfg.IDTokenLifespan, "id-token-lifespan", cfg.IDTokenLifespan, "default ID token lifetime")
	f.DurationVar(&cfg.RefreshTokenLifespan, "refresh-token-lifespan", cfg.RefreshTokenLifespan, "default refresh token lifetime")
	f.DurationVar(&cfg.AuthCodeLifespan, "auth-code-lifespan", cfg.AuthCodeLifespan, "authorization code lifetime")
	f.DurationVar(&cfg.LoginChallengeLifespan, "login-challenge-lifespan", cfg.LoginChallengeLifespan, "how long a person may take to log in and consent")
	addAccountFlags(cmd, cfg)
	// Signing keys (issue 4).
	f.DurationVar(&cfg.KeyRotationPeriod, "key-rotation-period", cfg.KeyRotationPeriod, "how long a signing key signs before the next takes over (0: rotate only on request, signet keys rotate)")
	f.DurationVar(&cfg.KeyPrepublishWindow, "key-prepublish-window", cfg.KeyPrepublishWindow, "JWKS cache lifetime (max-age): how long a new key is published before it signs")
	f.DurationVar(&cfg.KeyRefreshInterval, "key-refresh-interval", cfg.KeyRefreshInterval, "how often each replica runs the key rotation step and reloads keys from the database")
	f.StringSliceVar(&cfg.SigningAlgorithms, "signing-algorithms", cfg.SigningAlgorithms, "ID token signing algorithms with a key each: RS256 (always), ES256, EdDSA")
	addPageFlags(cmd, cfg)
	addDatabaseFlags(cmd, cfg)
}

// newLogger logs text in a terminal and JSON otherwise (containers, CI).
func newLogger(w interface{ Write([]byte) (int, error) }, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q must be debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}

// serveHooks let tests observe and steer a running server.
type serveHooks struct {
	// started is called with the bound addresses once both listeners accept.
	started func(publicAddr, adminAddr string, d serverDeps)
	// now replaces the clock.
	now func() time.Time
	// console receives what --dev prints for a person; default stderr.
	console io.Writer
	// publicListener and adminListener, when set, are used instead of
	// binding cfg.Listen and cfg.AdminListen (tests need the port before
	// the issuer is known).
	publicListener, adminListener net.Listener
}

// serve runs both listeners until ctx ends, then shuts down gracefully:
// listeners stop accepting and in-flight requests finish within
// cfg.ShutdownTimeout.
func serve(ctx context.Context, cfg config.Config, logger *slog.Logger, hooks serveHooks) error {
	if cfg.Dev && cfg.Secret == "" {
		cfg.Secret = randomSecret()
		logger.Warn("no secret configured: generated one for this process (--dev); tokens and keys will not survive a restart")
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	d := serverDeps{
		cfg:     cfg,
		logger:  logger,
		now:     time.Now,
		metrics: prometheus.NewRegistry(),
		secret:  []byte(cfg.Secret),
		console: os.Stderr,
	}
	if hooks.console != nil {
		d.console = hooks.console
	}
	if hooks.now != nil {
		d.now = hooks.now
	}
	for _, s := range cfg.OldSecrets {
		d.oldSecrets = append(d.oldSecrets, []byte(s))
	}
	d.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	store, err := openStore(ctx, cfg, logger, d.metrics)
	if err != nil {
		return err
	}
	defer store.Close()
	// Every part shares one client cache, so this replica's own changes
	// to a client take effect at once.
	d.store = cached.New(store, cached.Options{TTL: cfg.ClientCacheTTL, Now: d.now})

	httpMetrics := web.NewMetrics(d.metrics)
	public := web.New(web.Options{Name: "public", Logger: logger, Metrics: httpMetrics, HTTPS: cfg.IssuerIsHTTPS(), TrustedProxies: cfg.TrustedProxies})
	admin := web.New(web.Options{Name: "admin", Logger: logger, Metrics: httpMetrics})
	registerHealth(public, d)
	registerHealth(admin, d)
	admin.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(d.metrics, promhttp.HandlerOpts{})))

	rd, err := newRenderer(d)
	if err != nil {
		return err
	}
	background, err := registerOAuth(public, admin, d, rd)
	if err != nil {
		return err
	}
	// One accounts service for the pages and the admin API: one password
	// hashing configuration, one audit log, and one set of background
	// mails to wait for at shutdown.
	acc, err := newAccounts(d)
	if err != nil {
		return err
	}
	defer acc.accounts.Wait()
	if err := registerPages(public, d, acc, rd); err != nil {
		return err
	}
	if err := registerAdminAPI(admin, d, acc); err != nil {
		return err
	}
	if cfg.Dev {
		if err := seedDev(ctx, d, acc.accounts); err != nil {
			return fmt.Errorf("seed demo data: %w", err)
		}
	}

	publicLn, adminLn := hooks.publicListener, hooks.adminListener
	if publicLn == nil {
		if publicLn, err = net.Listen("tcp", cfg.Listen); err != nil {
			return fmt.Errorf("public listener: %w", err)
		}
	}
	if adminLn == nil {
		if adminLn, err = net.Listen("tcp", cfg.AdminListen); err != nil {
			publicLn.Close()
			return fmt.Errorf("admin listener: %w", err)
		}
	}
	servers := []*http.Server{
		{Handler: public, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)},
		{Handler: admin, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)},
	}
	listeners := []net.Listener{publicLn, adminLn}

	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, run := range background {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(bgCtx)
		}()
	}

	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			if err := srv.Serve(listeners[i]); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	logger.Info("signet is serving", "issuer", cfg.Issuer, "public", publicLn.Addr().String(), "admin", adminLn.Addr().String(), "dev", cfg.Dev)
	if hooks.started != nil {
		hooks.started(publicLn.Addr().String(), adminLn.Addr().String(), d)
	}

	var serveErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down: waiting for in-flight requests")
	case serveErr = <-errc:
		logger.Error("listener failed, shutting down", "err", serveErr)
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdownCtx); err != nil {
			logger.Warn("shutdown did not finish in time", "err", err)
		}
	}
	stopBackground()
	wg.Wait()
	logger.Info("stopped")
	return serveErr
}

// registerHealth mounts liveness and readiness probes. Ready means the
// database answers; it turns 503 while it does not, and back without a
// restart.
func registerHealth(e *echo.Echo, d serverDeps) {
	e.GET("/health/alive", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/health/ready", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := d.store.Ping(ctx); err != nil {
			d.logger.Warn("readiness check failed", "err", err)
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "database is not reachable"})
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
}

func randomSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
