package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
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
}

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
	} {
		check(d.v <= 0, "%s must be positive", d.name)
	}

	if len(problems) == 0 {
		return nil
	}
	return errors.New("invalid configuration: " + strings.Join(problems, "; "))
}

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
