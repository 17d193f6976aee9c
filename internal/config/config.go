package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// MinSecretLength is the shortest accepted SIGNET_SECRET, in bytes: it keys
// fosite's HMAC strategy and, through HKDF, the encryption of keys at rest.
const MinSecretLength = 32

// Config is everything `signet serve` needs, filled from flags and their
// environment twins and checked by Validate before anything starts.
type Config struct {
	// Issuer is the OIDC issuer URL, exactly as it appears in `iss`.
	Issuer string
	// Listen is the public listener (protocol endpoints and pages).
	Listen string
	// AdminListen is the admin API listener.
	AdminListen string
	// DatabaseURL selects PostgreSQL; empty means the in-memory store, which
	// is allowed only with Dev.
	DatabaseURL string
	// Secret keys the HMAC token strategy and encrypts keys at rest. Never
	// logged.
	Secret string
	// OldSecrets are previous secrets still accepted for decryption and
	// token validation while the secret is rotated. Never logged.
	OldSecrets []string
	// AdminToken, when set, is required as a bearer token on the admin API.
	// It must be set when AdminListen is not on loopback. Never logged.
	AdminToken string
	// Dev seeds demo data, prints e-mails to the log and generates a secret
	// when none is given.
	Dev bool
	// LogFormat is "text", "json" or "" (text in a terminal, JSON otherwise).
	LogFormat string
	// LogLevel is debug, info, warn or error.
	LogLevel string

	// Token lifetimes (clients may override them).
	AccessTokenLifespan  time.Duration
	IDTokenLifespan      time.Duration
	RefreshTokenLifespan time.Duration
	AuthCodeLifespan     time.Duration
	// LoginChallengeLifespan bounds how long a person may take to log in and
	// consent.
	LoginChallengeLifespan time.Duration

	// ShutdownTimeout bounds how long in-flight requests may finish.
	ShutdownTimeout time.Duration
	// ShutdownDrainDelay is how long readiness answers 503 on shutdown
	// while the listeners still serve, so a load balancer stops sending
	// before they close. Default 0: the right value is the balancer's
	// probe interval times its failure threshold, which only the operator
	// knows (and a delay would slow every Ctrl-C and test).
	ShutdownDrainDelay time.Duration

	// HTTP server timeouts of both listeners. HTTPReadTimeout bounds
	// reading a whole request (headers and body), so a client trickling a
	// body cannot hold a connection; HTTPWriteTimeout bounds a request
	// from the end of its headers to the end of the answer;
	// HTTPIdleTimeout closes idle keep-alive connections.
	HTTPReadTimeout       time.Duration
	HTTPReadHeaderTimeout time.Duration
	HTTPWriteTimeout      time.Duration
	HTTPIdleTimeout       time.Duration
	// Profiling turns on block and mutex profiling for /debug/pprof on the
	// admin listener; off by default because sampling them costs.
	Profiling bool
	// SkipMigrations makes serve use the schema as it is: migrating takes
	// a session advisory lock, which a transaction-pooling PgBouncer
	// cannot hold, so such replicas leave it to `signet migrate` run on a
	// direct connection.
	SkipMigrations bool

	// Browser sessions (single sign-on).
	// SessionRememberFor is how long "remember me" keeps a person signed in.
	SessionRememberFor time.Duration
	// SessionIdleTimeout ends a session that was not remembered after this
	// long unused; SessionMaxLifetime caps it however busy.
	SessionIdleTimeout time.Duration
	SessionMaxLifetime time.Duration

	// Operator branding of the pages. BrandLogoURL is https or a path on
	// Signet; BrandAccentColor is #rgb or #rrggbb.
	BrandName        string
	BrandLogoURL     string
	BrandAccentColor string

	// TrustedProxies are the CIDRs of reverse proxies whose
	// X-Forwarded-For is believed. Empty: the connection's address is the
	// client's (a forged header must not dodge the per-address login
	// throttle).
	TrustedProxies []string

	// --- Upstream identity providers (issue 12: connectors) ---

	// ConnectorTimeout bounds each call to an upstream provider
	// (discovery, token, keys, userinfo, GitHub's API).
	ConnectorTimeout time.Duration
	// PasswordLogin false hides the password form from the login page
	// (and refuses password logins) while any connector is enabled.
	PasswordLogin bool

	// --- Accounts and mail (issue 6: registration, verification, reset) ---

	// SMTPHost is the mail relay; empty means no SMTP: mails (with their
	// links) are written to the log, as with --dev.
	SMTPHost string
	// SMTPPort 0 means 587, or 465 with SMTPStartTLS "implicit".
	SMTPPort int
	// SMTPUsername and SMTPPassword authenticate to the relay when the
	// user name is set, only over TLS (never in clear). The password is
	// never logged.
	SMTPUsername string
	SMTPPassword string
	// SMTPFrom is the sender: "no-reply@example.com" or
	// "Example ID <no-reply@example.com>". Required with SMTPHost.
	SMTPFrom string
	// SMTPStartTLS is "required" (STARTTLS or nothing is sent, the
	// default), "opportunistic", "implicit" (TLS from the first byte,
	// SMTPS) or "none".
	SMTPStartTLS string
	// SMTPTimeout bounds one delivery.
	SMTPTimeout time.Duration
	// RegistrationEnabled lets people sign up. nil means the default: on
	// with --dev, off otherwise (see Registration).
	RegistrationEnabled *bool
	// DefaultRole is given to people who sign up; it must exist.
	DefaultRole string
	// VerificationTokenLifespan and ResetTokenLifespan bound how long an
	// e-mail verification or password reset link works.
	VerificationTokenLifespan time.Duration
	ResetTokenLifespan        time.Duration
	// Argon2Memory (KiB), Argon2Time (passes) and Argon2Parallelism (lanes)
	// are the argon2id parameters of new password hashes; hashes with other
	// parameters are upgraded at the next login.
	Argon2Memory      uint32
	Argon2Time        uint32
	Argon2Parallelism uint8
	// PasswordHashConcurrency is how many password hashes run at once
	// (each takes Argon2Memory); 0 means one per CPU (GOMAXPROCS). Logins
	// beyond it wait briefly in a bounded queue, then get "busy" (429).
	PasswordHashConcurrency int
	// FailedLoginRate bounds, per replica, how many wrong passwords from
	// browsers not known to the account are checked each second (a burst
	// of twice that is allowed). Past it, such logins are asked to retry
	// (429) without hashing, so a flood of wrong passwords from many
	// addresses cannot take the CPU the token endpoint needs. Correct
	// passwords do not use it up, and known browsers are never held by
	// it. 0: no bound.
	FailedLoginRate float64

	// --- Two-factor sign-in (issue 11) ---

	// MFARequired makes every user set up and use a second factor.
	MFARequired bool
	// MFARequiredRoles makes users holding any of these roles set up and
	// use a second factor (the admin console needs one then too).
	MFARequiredRoles []string
	// MFARememberDays, when positive, lets people skip the second factor
	// on a browser they ask to be remembered, for that many days. 0: off.
	MFARememberDays int

	// --- Signing keys (issue 4: rotation, algorithms) ---

	// KeyRotationPeriod is how long a signing key signs before the next
	// one takes over; 0 turns automatic rotation off (`signet keys
	// rotate` still works). Default 30 days.
	KeyRotationPeriod time.Duration
	// KeyPrepublishWindow is the JWKS cache lifetime (its Cache-Control
	// max-age) and so how long a new key is published before it signs
	// (plus one KeyRefreshInterval). Default 1h: short enough that `signet
	// keys rotate` takes effect within the hour, long enough that relying
	// parties fetch the JWKS rarely.
	KeyPrepublishWindow time.Duration
	// KeyRefreshInterval is how often each replica runs the rotation step
	// and reloads the keys from the database (how soon it notices another
	// replica's change).
	KeyRefreshInterval time.Duration
	// SigningAlgorithms get a current key each (RS256 always does). Default
	// RS256 only: every relying party reads RSA keys, while some older
	// JWKS parsers reject a set holding key types they do not know (OKP);
	// ES256 and EdDSA are opt-in for the clients that ask for them.
	SigningAlgorithms []string

	// --- Database connection pool (issue 9) ---

	// DBMaxOpenConns caps the connections this replica holds; several
	// replicas together must stay under PostgreSQL's max_connections (or
	// PgBouncer's pool). DBMaxIdleConns keeps that many open between
	// bursts: database/sql's default of 2 made most requests under load
	// open a fresh connection (a PostgreSQL fork each).
	DBMaxOpenConns int
	DBMaxIdleConns int
	// DBConnMaxLifetime recycles connections (0: never), so a replica
	// follows a failover or a rebalanced PgBouncer; DBConnMaxIdleTime
	// closes connections idle that long (0: never).
	DBConnMaxLifetime time.Duration
	DBConnMaxIdleTime time.Duration
	// ClientCacheTTL bounds how long a replica may answer from its cached
	// copy of a client after another replica changed or deleted it (its
	// own changes it sees at once). 0 reads the database every time.
	ClientCacheTTL time.Duration
	// RefreshGracePeriod is how long after a refresh token was rotated
	// a second use of it is taken for a client's race or retry rather
	// than a replay: it answers the same new token pair again and revokes
	// nothing. 0 turns the window off (every reuse revokes the grant).
	RefreshGracePeriod time.Duration

	// --- Outgoing requests to client-supplied URLs (issue 13) ---

	// OutboundAllowCIDRs are special-use ranges (loopback, private,
	// link-local, ...) that requests to client-supplied URLs may still
	// reach: internal relying parties. Empty: only public addresses.
	OutboundAllowCIDRs []string
	// OutboundTimeout bounds one such request, connecting to last byte.
	OutboundTimeout time.Duration

	// --- Protocol extensions (issue 13, part A) ---

	// PAR serves the pushed authorization request endpoint (RFC 9126).
	PAR bool
	// RequirePAR refuses authorization requests that were not pushed,
	// for every client (a client can also require it for itself).
	RequirePAR bool
	// PARLifespan is how long a request_uri stays usable (once).
	PARLifespan time.Duration
	// IntrospectionClients may introspect any token (resource servers);
	// every other client only the tokens issued to it.
	IntrospectionClients []string

	// BackchannelLogout turns OpenID Connect Back-Channel Logout on:
	// clients that register a backchannel_logout_uri get a logout token
	// when a session in which they received tokens ends. On by default: it
	// costs nothing for clients without the URI, and a client that
	// registered one expects it to work.
	BackchannelLogout bool
	// BackchannelLogoutAttempts is how many POSTs a logout token gets
	// before it is given up; BackchannelLogoutBackoff is the wait after
	// the first failure, doubling after each further one (at most 5m).
	BackchannelLogoutAttempts int
	BackchannelLogoutBackoff  time.Duration

	// ClientRegistration is dynamic client registration (RFC 7591/7592):
	// "off" (the default), "token" (an initial access token issued by an
	// administrator is required) or "open" (anyone may register).
	ClientRegistration string
	// ClientRegistrationRateLimit is the per-address limit on dynamic
	// registrations, "COUNT/WINDOW" (ParseRateLimit): COUNT are admitted
	// at once, then each further one waits; the count starts over after
	// WINDOW without any.
	ClientRegistrationRateLimit string
}

// SupportedSigningAlgorithms are the values SigningAlgorithms accepts.
var SupportedSigningAlgorithms = []string{"RS256", "ES256", "EdDSA"}

// Registration reports whether people may sign up: RegistrationEnabled
// when set, otherwise on with --dev and off without.
func (c Config) Registration() bool {
	if c.RegistrationEnabled != nil {
		return *c.RegistrationEnabled
	}
	return c.Dev
}

// SMTPConfigured reports whether mails go out by SMTP (not to the log).
func (c Config) SMTPConfigured() bool { return c.SMTPHost != "" }

// SMTP TLS modes, as SMTPStartTLS spells them.
var smtpTLSModes = []string{"required", "opportunistic", "implicit", "none"}

// Bounds on the argon2id parameters: the same the password verifier
// accepts from stored hashes, so every hash Signet writes can be read back.
const (
	maxArgon2MemoryKiB = 1 << 21 // 2 GiB
	maxArgon2Time      = 64
	// maxPasswordHashConcurrency keeps the hashes' memory (each takes
	// Argon2Memory) within reason.
	maxPasswordHashConcurrency = 256
)

// defaultRolePattern is the accounts service's rule for role names.
var defaultRolePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._:-]{0,63}$`)

// Default returns the configuration with every default of CONTRACT.md.
func Default() Config {
	return Config{
		Issuer:                 "http://localhost:8080",
		Listen:                 ":8080",
		AdminListen:            "127.0.0.1:8081",
		LogLevel:               "info",
		AccessTokenLifespan:    time.Hour,
		IDTokenLifespan:        time.Hour,
		RefreshTokenLifespan:   30 * 24 * time.Hour,
		AuthCodeLifespan:       10 * time.Minute,
		LoginChallengeLifespan: 30 * time.Minute,
		ShutdownTimeout:        15 * time.Second,
		HTTPReadTimeout:        15 * time.Second,
		HTTPReadHeaderTimeout:  5 * time.Second,
		HTTPWriteTimeout:       30 * time.Second,
		HTTPIdleTimeout:        120 * time.Second,
		SessionRememberFor:     30 * 24 * time.Hour,
		SessionIdleTimeout:     time.Hour,
		SessionMaxLifetime:     24 * time.Hour,
		ConnectorTimeout:       10 * time.Second,
		PasswordLogin:          true,

		SMTPStartTLS:              "required",
		SMTPTimeout:               15 * time.Second,
		DefaultRole:               "user",
		VerificationTokenLifespan: 24 * time.Hour,
		ResetTokenLifespan:        time.Hour,
		Argon2Memory:              64 * 1024,
		Argon2Time:                1,
		Argon2Parallelism:         2,

		KeyRotationPeriod:   30 * 24 * time.Hour,
		KeyPrepublishWindow: time.Hour,
		KeyRefreshInterval:  15 * time.Second,
		SigningAlgorithms:   []string{"RS256"},

		DBMaxOpenConns:     16,
		DBMaxIdleConns:     16,
		DBConnMaxLifetime:  30 * time.Minute,
		DBConnMaxIdleTime:  5 * time.Minute,
		RefreshGracePeriod: 5 * time.Second,
		ClientCacheTTL:     5 * time.Second,
		FailedLoginRate:    2,

		OutboundTimeout: 5 * time.Second,

		PAR:               true,
		PARLifespan:       90 * time.Second,
		BackchannelLogout: true,

		BackchannelLogoutAttempts: 5,
		BackchannelLogoutBackoff:  2 * time.Second,
		ClientRegistration:        "off",

		ClientRegistrationRateLimit: DefaultClientRegistrationRateLimit,
	}
}

// IssuerIsHTTPS reports whether cookies must be Secure and HSTS sent.
func (c Config) IssuerIsHTTPS() bool { return strings.HasPrefix(c.Issuer, "https://") }

// Validate checks the whole configuration and reports every problem at
// once, one per line, so an operator fixes them in one round.
func (c Config) Validate() error {
	var problems []string
	check := func(bad bool, format string, args ...any) {
		if bad {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}

	u, err := url.Parse(c.Issuer)
	check(err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"),
		"issuer %q must be an absolute http(s) URL", c.Issuer)
	if err == nil && u.Host != "" {
		check(u.RawQuery != "" || u.Fragment != "", "issuer %q must not have a query or fragment", c.Issuer)
		check(strings.HasSuffix(u.Path, "/"), "issuer %q must not end with a slash", c.Issuer)
		check(u.Scheme == "http" && !isLoopbackHost(u.Hostname()) && !c.Dev,
			"issuer %q must use https (http is only for localhost or --dev)", c.Issuer)
	}
	_, _, err = net.SplitHostPort(c.Listen)
	check(err != nil, "listen address %q is not host:port", c.Listen)
	adminHost, _, err := net.SplitHostPort(c.AdminListen)
	check(err != nil, "admin listen address %q is not host:port", c.AdminListen)
	check(err == nil && !isLoopbackHost(adminHost) && c.AdminToken == "",
		"admin token (SIGNET_ADMIN_TOKEN) is required when the admin listener %q is not on loopback", c.AdminListen)
	check(c.AdminToken != "" && len(c.AdminToken) < 16, "admin token must be at least 16 characters")

	check(c.DatabaseURL == "" && !c.Dev, "database URL (SIGNET_DATABASE_URL) is required without --dev")
	if c.DatabaseURL != "" {
		du, err := url.Parse(c.DatabaseURL)
		check(err != nil || (du.Scheme != "postgres" && du.Scheme != "postgresql"),
			"database URL must be a postgres:// URL")
	}
	check(len(c.Secret) < MinSecretLength && !(c.Dev && c.Secret == ""),
		"secret (SIGNET_SECRET) must be at least %d bytes", MinSecretLength)
	for i, s := range c.OldSecrets {
		check(len(s) < MinSecretLength, "old secret #%d must be at least %d bytes", i+1, MinSecretLength)
	}
	check(c.LogFormat != "" && c.LogFormat != "text" && c.LogFormat != "json",
		"log format %q must be text or json", c.LogFormat)
	check(!validLevel(c.LogLevel), "log level %q must be debug, info, warn or error", c.LogLevel)

	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"access token lifespan", c.AccessTokenLifespan},
		{"ID token lifespan", c.IDTokenLifespan},
		{"refresh token lifespan", c.RefreshTokenLifespan},
		{"authorization code lifespan", c.AuthCodeLifespan},
		{"login challenge lifespan", c.LoginChallengeLifespan},
		{"shutdown timeout", c.ShutdownTimeout},
		{"HTTP read timeout", c.HTTPReadTimeout},
		{"HTTP read header timeout", c.HTTPReadHeaderTimeout},
		{"HTTP write timeout", c.HTTPWriteTimeout},
		{"HTTP idle timeout", c.HTTPIdleTimeout},
		{"session remember-me duration", c.SessionRememberFor},
		{"session idle timeout", c.SessionIdleTimeout},
		{"session maximum lifetime", c.SessionMaxLifetime},
		{"connector timeout", c.ConnectorTimeout},
		{"SMTP timeout", c.SMTPTimeout},
		{"verification token lifespan", c.VerificationTokenLifespan},
		{"reset token lifespan", c.ResetTokenLifespan},
	} {
		check(d.v <= 0, "%s must be positive", d.name)
	}
	check(c.ShutdownDrainDelay < 0, "shutdown drain delay must not be negative")

	// Accounts and mail.
	if c.SMTPHost != "" {
		from, err := mail.ParseAddress(c.SMTPFrom)
		check(c.SMTPFrom == "", "SMTP from address (SIGNET_SMTP_FROM) is required with an SMTP host")
		check(c.SMTPFrom != "" && (err != nil || from.Address == ""),
			"SMTP from address %q must be an e-mail address, optionally with a name", c.SMTPFrom)
	}
	check(c.SMTPHost == "" && c.SMTPUsername != "", "SMTP user name is set but no SMTP host")
	check(c.SMTPPassword != "" && c.SMTPUsername == "", "SMTP password is set but no SMTP user name")
	check(c.SMTPPort < 0 || c.SMTPPort > 65535, "SMTP port %d must be 0 (the default) to 65535", c.SMTPPort)
	check(!slices.Contains(smtpTLSModes, c.SMTPStartTLS), "SMTP STARTTLS mode %q must be one of %s",
		c.SMTPStartTLS, strings.Join(smtpTLSModes, ", "))
	check(!defaultRolePattern.MatchString(c.DefaultRole),
		"default role %q must be a role name: lower-case letters, digits, '.', '_', ':' or '-'", c.DefaultRole)
	check(c.Argon2Time < 1 || c.Argon2Time > maxArgon2Time, "argon2 time %d must be 1 to %d", c.Argon2Time, maxArgon2Time)
	check(c.Argon2Parallelism < 1, "argon2 parallelism must be at least 1")
	check(c.Argon2Memory < 8*uint32(max(c.Argon2Parallelism, 1)) || c.Argon2Memory > maxArgon2MemoryKiB,
		"argon2 memory %d KiB must be from 8 KiB per lane to %d KiB", c.Argon2Memory, maxArgon2MemoryKiB)
	check(c.FailedLoginRate < 0, "failed login rate must not be negative (0: no bound)")
	for _, r := range c.MFARequiredRoles {
		check(!defaultRolePattern.MatchString(r),
			"MFA-required role %q must be a role name: lower-case letters, digits, '.', '_', ':' or '-'", r)
	}
	check(c.MFARememberDays < 0 || c.MFARememberDays > 365, "MFA remember days %d must be 0 (off) to 365", c.MFARememberDays)
	check(c.PasswordHashConcurrency < 0 || c.PasswordHashConcurrency > maxPasswordHashConcurrency,
		"password hash concurrency %d must be 0 (one per CPU) to %d", c.PasswordHashConcurrency, maxPasswordHashConcurrency)

	for _, p := range c.TrustedProxies {
		_, _, err := net.ParseCIDR(p)
		check(err != nil, "trusted proxy %q must be a CIDR such as 10.0.0.0/8", p)
	}
	check(c.BrandAccentColor != "" && !hexColor.MatchString(c.BrandAccentColor),
		"brand accent colour %q must be #rgb or #rrggbb", c.BrandAccentColor)
	if c.BrandLogoURL != "" {
		lu, err := url.Parse(c.BrandLogoURL)
		check(err != nil || !(lu.Scheme == "https" && lu.Host != "" || lu.Scheme == "" && lu.Host == "" && strings.HasPrefix(lu.Path, "/")),
			"brand logo URL %q must be an https URL or a path on Signet", c.BrandLogoURL)
	}

	// Signing keys.
	check(c.KeyPrepublishWindow < time.Second, "key prepublication window (JWKS max-age) must be at least 1s")
	check(c.KeyRefreshInterval <= 0 || c.KeyRefreshInterval >= c.KeyPrepublishWindow,
		"key refresh interval must be positive and shorter than the key prepublication window")
	check(c.KeyRotationPeriod < 0 || (c.KeyRotationPeriod > 0 && c.KeyRotationPeriod <= c.KeyPrepublishWindow+c.KeyRefreshInterval),
		"key rotation period must be 0 (no automatic rotation) or longer than the prepublication window plus the refresh interval")
	for _, a := range c.SigningAlgorithms {
		check(!slices.Contains(SupportedSigningAlgorithms, a), "signing algorithm %q must be one of %s",
			a, strings.Join(SupportedSigningAlgorithms, ", "))
	}

	// Database pool and refresh rotation.
	check(c.DBMaxOpenConns < 1, "database max open connections must be at least 1")
	check(c.DBMaxIdleConns < 0 || c.DBMaxIdleConns > c.DBMaxOpenConns,
		"database max idle connections must be from 0 to the max open connections (%d)", c.DBMaxOpenConns)
	check(c.DBConnMaxLifetime < 0, "database connection max lifetime must not be negative (0: no limit)")
	check(c.DBConnMaxIdleTime < 0, "database connection max idle time must not be negative (0: no limit)")
	check(c.ClientCacheTTL < 0 || c.ClientCacheTTL > 5*time.Minute, "client cache TTL must be from 0 (off) to 5m")
	check(c.RefreshGracePeriod < 0 || c.RefreshGracePeriod > time.Minute,
		"refresh grace period must be from 0 (off) to 1m")

	// Outgoing requests.
	for _, p := range c.OutboundAllowCIDRs {
		_, err := netip.ParsePrefix(p)
		check(err != nil, "outbound allow CIDR %q must be a CIDR such as 10.0.0.0/8", p)
	}
	check(c.OutboundTimeout <= 0 || c.OutboundTimeout > time.Minute, "outbound timeout must be from 1ns to 1m")
	check(c.BackchannelLogoutAttempts < 1 || c.BackchannelLogoutAttempts > 20, "back-channel logout attempts must be from 1 to 20")
	check(!slices.Contains([]string{"off", "token", "open"}, c.ClientRegistration),
		"client registration %q must be off, token or open", c.ClientRegistration)
	check(c.BackchannelLogoutBackoff <= 0 || c.BackchannelLogoutBackoff > time.Hour, "back-channel logout backoff must be from 1ns to 1h")
	if _, _, err := ParseRateLimit(c.ClientRegistrationRateLimit); err != nil {
		check(true, "client registration rate limit: %v", err)
	}

	// Protocol extensions.
	check(c.RequirePAR && !c.PAR, "require-par needs the pushed authorization request endpoint (--par)")
	check(c.PARLifespan < time.Second || c.PARLifespan > 10*time.Minute, "PAR lifespan must be from 1s to 10m")
	for _, id := range c.IntrospectionClients {
		check(strings.TrimSpace(id) == "", "introspection clients must not contain an empty client id")
	}

	if len(problems) == 0 {
		return nil
	}
	return errors.New("invalid configuration: " + strings.Join(problems, "; "))
}

var hexColor = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

func validLevel(l string) bool {
	switch l {
	case "debug", "info", "warn", "error":
		return true
	}
	return false
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
