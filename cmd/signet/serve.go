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
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/outbound"
	"github.com/signet-idp/signet/internal/storage/cached"
	"github.com/signet-idp/signet/internal/tracing"
	"github.com/signet-idp/signet/internal/web"
	adminapi "github.com/signet-idp/signet/internal/web/admin"
)

func newServeCmd() *cobra.Command {
	cfg := config.Default()
	return newServeCmdWith(&cfg)
}

// newServeCmdWith binds serve's flags to cfg (tests read it back).
func newServeCmdWith(cfg *config.Config) *cobra.Command {
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
			return serve(ctx, *cfg, logger, serveHooks{})
		},
	}
	addServerFlags(cmd, cfg)
	addConfigFlag(cmd)
	cmd.Flags().BoolVar(&cfg.Dev, "dev", false, "development mode: in-memory store when no database is set, demo client and users, e-mails to the log, generated secret")
	f := cmd.Flags()
	f.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "how long in-flight requests may take to finish on shutdown")
	f.DurationVar(&cfg.ShutdownDrainDelay, "shutdown-drain-delay", cfg.ShutdownDrainDelay, "on shutdown, how long readiness answers 503 while requests are still served, before the listeners close (behind a load balancer: its probe interval times its failure threshold, plus a little)")
	f.DurationVar(&cfg.HTTPReadTimeout, "http-read-timeout", cfg.HTTPReadTimeout, "longest time to read a whole request, headers and body (both listeners)")
	f.DurationVar(&cfg.HTTPReadHeaderTimeout, "http-read-header-timeout", cfg.HTTPReadHeaderTimeout, "longest time to read a request's headers (both listeners)")
	f.DurationVar(&cfg.HTTPWriteTimeout, "http-write-timeout", cfg.HTTPWriteTimeout, "longest time from the end of a request's headers to the end of its answer (both listeners)")
	f.DurationVar(&cfg.HTTPIdleTimeout, "http-idle-timeout", cfg.HTTPIdleTimeout, "how long an idle keep-alive connection stays open (both listeners)")
	f.BoolVar(&cfg.Profiling, "profiling", cfg.Profiling, "sample blocking and mutex contention for /debug/pprof on the admin listener (costs some throughput)")
	f.BoolVar(&cfg.SkipMigrations, "skip-migrations", false, "do not migrate at start (behind a transaction-pooling PgBouncer: run `signet migrate` on a direct connection first)")
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
	addOutboundFlags(cmd, cfg)
	addProtocolFlags(cmd, cfg)
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
	// routes, when set, sees both listeners' handlers once every route is
	// registered (the OpenAPI test lists the admin routes).
	routes func(public, admin *echo.Echo)
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
	// Tracing first, so the store's driver and the listeners are wrapped;
	// its deferred flush runs last, after the listeners have drained.
	tr, err := tracing.Setup(ctx, os.LookupEnv, buildVersion())
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := tr.Shutdown(flushCtx); err != nil {
			logger.Warn("tracing: spans not exported at shutdown", "err", err)
		}
	}()
	logger = slog.New(tr.LogHandler(logger.Handler()))
	if tr.Enabled() {
		logger.Info("tracing: a span per request and database call is exported by OTLP (OTEL_EXPORTER_OTLP_*)")
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
	allow, err := outbound.ParseCIDRs(cfg.OutboundAllowCIDRs)
	if err != nil {
		return err // Validate has checked them
	}
	d.outbound = outbound.New(outbound.Options{AllowCIDRs: allow, Timeout: cfg.OutboundTimeout})
	d.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerBuildInfo(d.metrics, buildVersion())

	store, err := openStore(ctx, cfg, logger, d.metrics, tr)
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
	// draining turns readiness 503 from the shutdown signal on, while
	// the listeners still serve, so load balancers stop sending first.
	var draining atomic.Bool
	registerHealth(public, d, &draining)
	registerHealth(admin, d, &draining)
	admin.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(d.metrics, promhttp.HandlerOpts{})))
	registerPprof(admin, d)
	if cfg.Profiling {
		// Rates are process-wide; reset them so a later serve in the same
		// process (tests) does not pay for them.
		runtime.SetBlockProfileRate(blockProfileRate)
		runtime.SetMutexProfileFraction(mutexProfileFraction)
		defer runtime.SetBlockProfileRate(0)
		defer runtime.SetMutexProfileFraction(0)
	}

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
	if job := resealSecrets(ctx, d, acc); job != nil {
		background = append(background, job)
	}
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
	warnNoAdministrator(ctx, d)

	if hooks.routes != nil {
		hooks.routes(public, admin)
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
	servers := []*http.Server{newHTTPServer(cfg, tr.Handler(public, "public"), logger), newHTTPServer(cfg, tr.Handler(admin, "admin"), logger)}
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
	// Start-up (migrations parsed by goose, keys loaded or generated) left
	// tens of MB of garbage the runtime would hand back to the OS only
	// minutes later: give it back now, so an idle replica stays small.
	debug.FreeOSMemory()
	logger.Info("signet is serving", "version", buildVersion(), "issuer", cfg.Issuer, "public", publicLn.Addr().String(), "admin", adminLn.Addr().String(), "dev", cfg.Dev)
	if hooks.started != nil {
		hooks.started(publicLn.Addr().String(), adminLn.Addr().String(), d)
	}

	var serveErr error
	select {
	case <-ctx.Done():
		drain(cfg, servers, &draining, logger)
		logger.Info("shutting down: listeners closed, waiting for in-flight requests", "timeout", cfg.ShutdownTimeout)
	case serveErr = <-errc:
		draining.Store(true)
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

// newHTTPServer bounds every phase of a connection: without a read
// timeout a client trickling its body holds a connection (and a goroutine)
// forever.
func newHTTPServer(cfg config.Config, h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           web.AnswerHEAD(h),
		ReadTimeout:       cfg.HTTPReadTimeout,
		ReadHeaderTimeout: cfg.HTTPReadHeaderTimeout,
		WriteTimeout:      cfg.HTTPWriteTimeout,
		IdleTimeout:       cfg.HTTPIdleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// drain turns readiness 503 and keeps serving for the drain delay, so a
// load balancer takes this replica out before its listeners close.
// Keep-alives end now: each answer closes its connection, so the
// balancer's next request opens a new one, which it routes by readiness.
func drain(cfg config.Config, servers []*http.Server, draining *atomic.Bool, logger *slog.Logger) {
	draining.Store(true)
	for _, srv := range servers {
		srv.SetKeepAlivesEnabled(false)
	}
	if cfg.ShutdownDrainDelay <= 0 {
		return
	}
	logger.Info("shutting down: readiness answers 503 while requests are still served", "drain_delay", cfg.ShutdownDrainDelay)
	time.Sleep(cfg.ShutdownDrainDelay)
}

// Sampling rates of --profiling: one blocking event per 10µs spent
// blocked on average (longer ones always), one in ten mutex contentions.
// Enough to see where requests wait under load at a few percent of
// throughput.
const (
	blockProfileRate     = 10_000
	mutexProfileFraction = 10
)

// registerPprof mounts net/http/pprof on the admin listener only, behind
// the admin token as the admin API is: profiles show code paths and
// memory. /debug/pprof/cmdline is left out since the command line may
// carry --secret or --admin-token. The handlers extend the write deadline
// themselves for profiles that sample for ?seconds=.
func registerPprof(admin *echo.Echo, d serverDeps) {
	h := func(c echo.Context) error {
		w, r := c.Response(), c.Request()
		switch strings.TrimPrefix(r.URL.Path, "/debug/pprof/") {
		case "cmdline":
			return echo.ErrNotFound
		case "profile":
			pprof.Profile(w, r)
		case "symbol":
			pprof.Symbol(w, r)
		case "trace":
			pprof.Trace(w, r)
		default:
			pprof.Index(w, r)
		}
		return nil
	}
	guard := adminapi.RequireBearer(d.cfg.AdminToken)
	admin.GET("/debug/pprof/*", h, guard)
	admin.POST("/debug/pprof/symbol", h, guard)
}

// registerHealth mounts liveness and readiness probes. Ready means the
// database answers and the server is not shutting down; it turns 503
// while the database does not answer, and back without a restart.
func registerHealth(e *echo.Echo, d serverDeps, draining *atomic.Bool) {
	v := buildVersion()
	e.GET("/health/alive", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok", "version": v})
	})
	e.GET("/health/ready", func(c echo.Context) error {
		if draining.Load() {
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "shutting_down"})
		}
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
