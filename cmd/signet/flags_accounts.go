package main

import (
	"strconv"

	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/config"
)

// addAccountFlags binds the accounts and mail settings (registration,
// links, SMTP, password hashing). Each has its environment twin like every
// flag: --smtp-host ↔ SIGNET_SMTP_HOST.
func addAccountFlags(cmd *cobra.Command, cfg *config.Config) {
	f := cmd.Flags()
	f.StringVar(&cfg.SMTPHost, "smtp-host", cfg.SMTPHost, "SMTP relay host (empty: e-mails, links included, are written to the log)")
	f.IntVar(&cfg.SMTPPort, "smtp-port", cfg.SMTPPort, "SMTP port (0: 587, or 465 with --smtp-starttls implicit)")
	f.StringVar(&cfg.SMTPUsername, "smtp-username", cfg.SMTPUsername, "SMTP user name (empty: no authentication)")
	// Like the admin token, the password belongs in the environment
	// (SIGNET_SMTP_PASSWORD), not in shell history or ps output.
	f.StringVar(&cfg.SMTPPassword, "smtp-password", cfg.SMTPPassword, "SMTP password (prefer SIGNET_SMTP_PASSWORD)")
	f.StringVar(&cfg.SMTPFrom, "smtp-from", cfg.SMTPFrom, `sender address, e.g. "Example ID <no-reply@example.com>" (required with --smtp-host)`)
	f.StringVar(&cfg.SMTPStartTLS, "smtp-starttls", cfg.SMTPStartTLS, "required, opportunistic, implicit (TLS from the first byte) or none")
	f.DurationVar(&cfg.SMTPTimeout, "smtp-timeout", cfg.SMTPTimeout, "time limit of one e-mail delivery")
	f.Var(&optionalBool{&cfg.RegistrationEnabled}, "registration", "let people sign up (default: on with --dev, off otherwise)")
	f.Lookup("registration").NoOptDefVal = "true"
	f.StringVar(&cfg.DefaultRole, "default-role", cfg.DefaultRole, "role given to people who sign up (it must exist)")
	f.DurationVar(&cfg.VerificationTokenLifespan, "verification-token-lifespan", cfg.VerificationTokenLifespan, "how long an e-mail verification link works")
	f.DurationVar(&cfg.ResetTokenLifespan, "reset-token-lifespan", cfg.ResetTokenLifespan, "how long a password reset link works")
	f.Uint32Var(&cfg.Argon2Memory, "argon2-memory", cfg.Argon2Memory, "argon2id memory of new password hashes, in KiB")
	f.Uint32Var(&cfg.Argon2Time, "argon2-time", cfg.Argon2Time, "argon2id passes of new password hashes")
	f.Uint8Var(&cfg.Argon2Parallelism, "argon2-parallelism", cfg.Argon2Parallelism, "argon2id lanes of new password hashes")
	f.Float64Var(&cfg.FailedLoginRate, "failed-login-rate", cfg.FailedLoginRate, "wrong passwords from unknown browsers checked per second per replica before such logins get 429 (0: no bound)")
	f.BoolVar(&cfg.MFARequired, "mfa-required", cfg.MFARequired, "every user must set up and use a second factor (authenticator app or passkey)")
	f.StringSliceVar(&cfg.MFARequiredRoles, "mfa-required-roles", cfg.MFARequiredRoles, "users with any of these roles must set up and use a second factor, e.g. admin")
	f.IntVar(&cfg.MFARememberDays, "mfa-remember-days", cfg.MFARememberDays, "offer \"don't ask again on this device\" for the second factor, for this many days (0: off)")
	f.IntVar(&cfg.PasswordHashConcurrency, "password-hash-concurrency", cfg.PasswordHashConcurrency, "password hashes run at once (0: one per CPU); more logins briefly queue, then get 429")
}

// optionalBool is a boolean flag that remembers whether it was given at
// all: nil means "not set", so the configuration can pick a default that
// depends on another flag (--registration follows --dev).
type optionalBool struct{ p **bool }

func (o *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	*o.p = &v
	return nil
}

func (o *optionalBool) String() string {
	if o.p == nil || *o.p == nil {
		return ""
	}
	return strconv.FormatBool(**o.p)
}

func (o *optionalBool) Type() string { return "bool" }

// IsBoolFlag lets the flag stand alone: --registration means true.
func (o *optionalBool) IsBoolFlag() bool { return true }
