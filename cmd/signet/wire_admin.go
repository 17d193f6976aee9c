package main

import (
	"context"
	"errors"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/connectors"
	"github.com/signet-idp/signet/internal/mail"
	"github.com/signet-idp/signet/internal/mfa"
	"github.com/signet-idp/signet/internal/storage"
	adminapi "github.com/signet-idp/signet/internal/web/admin"
)

// registerAdminAPI mounts the JSON admin API on the admin listener, under
// /admin, behind the admin bearer token when one is configured. It also
// says once, in the log, where e-mails go.
func registerAdminAPI(admin *echo.Echo, d serverDeps, acc accountServices) error {
	logAccountSetup(d)
	cl := clients.NewService(d.store, d.now, clients.WithSigningAlgorithms(d.cfg.SigningAlgorithms))
	api := adminapi.NewAPI(acc.accounts, cl, acc.audit, d.logger).WithConnectors(acc.connectors).WithMFA(acc.mfa).
		WithRegistrationTokens(clients.NewRegistrationTokens(d.store, d.now))
	api.Register(admin.Group("/admin", adminapi.RequireBearer(d.cfg.AdminToken)))
	return nil
}

// accountServices are the accounts service and the audit log, built once
// by serve and shared by every listener.
type accountServices struct {
	accounts   *accounts.Service
	audit      *audit.Service
	connectors *connectors.Service
	mfa        *mfa.Service
}

// newAccounts builds the accounts service and the audit log as every
// listener uses them: the configured password hashing, mail, registration
// switch, default role and link lifetimes, links under the issuer.
func newAccounts(d serverDeps) (accountServices, error) {
	sender, err := newMailSender(d)
	if err != nil {
		return accountServices{}, err
	}
	composer, err := mail.NewComposer(d.cfg.BrandName)
	if err != nil {
		return accountServices{}, err
	}
	hasher := accounts.DefaultPasswordHasher()
	hasher.Memory, hasher.Time, hasher.Parallelism = d.cfg.Argon2Memory, d.cfg.Argon2Time, d.cfg.Argon2Parallelism
	au := audit.New(d.store, d.now, d.logger)
	acc := accounts.NewService(d.store, accounts.Options{
		Hasher:                    &hasher,
		HashLimits:                accounts.HashLimits{Concurrency: d.cfg.PasswordHashConcurrency},
		Now:                       d.now,
		Logger:                    d.logger,
		Issuer:                    d.cfg.Issuer,
		Mailer:                    mail.Postman{Composer: composer, Sender: sender},
		Audit:                     au,
		RegistrationEnabled:       d.cfg.Registration(),
		DefaultRole:               d.cfg.DefaultRole,
		VerificationTokenLifespan: d.cfg.VerificationTokenLifespan,
		ResetTokenLifespan:        d.cfg.ResetTokenLifespan,
	})
	conn := connectors.New(d.store, connectors.Options{
		Secret: d.secret, OldSecrets: d.oldSecrets, Issuer: d.cfg.Issuer, Timeout: d.cfg.ConnectorTimeout,
		Audit: au, Logger: d.logger, Now: d.now,
	})
	factors, err := newMFA(d, au)
	if err != nil {
		return accountServices{}, err
	}
	return accountServices{accounts: acc, audit: au, connectors: conn, mfa: factors}, nil
}

// newMailSender sends by SMTP when a host is configured. With --dev mails,
// links included, go to the log (CONTRACT: "e-mails printed to the log
// instead of sent"); without --dev and without a host they are dropped
// with a warning naming recipient and subject only, since their links
// carry live tokens.
func newMailSender(d serverDeps) (mail.Sender, error) {
	if d.cfg.Dev || !d.cfg.SMTPConfigured() {
		return mail.LogSender{Logger: d.logger, IncludeBody: d.cfg.Dev}, nil
	}
	return mail.NewSMTPSender(mail.SMTPConfig{
		Host:     d.cfg.SMTPHost,
		Port:     d.cfg.SMTPPort,
		Username: d.cfg.SMTPUsername,
		Password: d.cfg.SMTPPassword,
		From:     d.cfg.SMTPFrom,
		TLS:      mail.TLSMode(d.cfg.SMTPStartTLS),
		Timeout:  d.cfg.SMTPTimeout,
	})
}

// logAccountSetup says where mails go (never the SMTP password) and warns
// about a sign-up that cannot work.
func logAccountSetup(d serverDeps) {
	switch {
	case d.cfg.Dev && d.cfg.SMTPConfigured():
		d.logger.Warn("--dev: e-mails are written to the log; the SMTP settings are not used")
	case d.cfg.Dev:
		d.logger.Info("--dev: e-mails, with their links, are written to the log")
	case !d.cfg.SMTPConfigured():
		d.logger.Warn("no SMTP host configured (SIGNET_SMTP_HOST): e-mails are not sent, so e-mail verification " +
			"and password reset links never arrive (their links are not logged either: they carry live tokens)")
	default:
		d.logger.Info("e-mails go out by SMTP", "host", d.cfg.SMTPHost, "port", d.cfg.SMTPPort,
			"starttls", d.cfg.SMTPStartTLS, "auth", d.cfg.SMTPUsername != "", "from", d.cfg.SMTPFrom)
	}
	if !d.cfg.Registration() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := d.store.GetRole(ctx, d.cfg.DefaultRole); errors.Is(err, storage.ErrNotFound) {
		d.logger.Warn("registration is on but its default role does not exist; sign-ups fail until it is created",
			"default_role", d.cfg.DefaultRole)
	}
}

// warnNoAdministrator says, on a fresh database, how to create the first
// administrator: nobody can use the console until one exists, and a
// newcomer would otherwise not know where to start.
func warnNoAdministrator(ctx context.Context, d serverDeps) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ids, err := d.store.ListUsersWithRole(ctx, storage.RoleAdmin)
	if err != nil || len(ids) > 0 {
		return
	}
	d.logger.Warn("no administrator exists yet: create one with "+
		"`signet users create --username NAME --email ADDRESS --password-stdin --email-verified --role admin` "+
		"(the CLI talks to the admin API at --admin-url, default http://127.0.0.1:8081, with SIGNET_ADMIN_TOKEN when one is set); "+
		"see Getting started in the README", "admin_listen", d.cfg.AdminListen)
}
