package main

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/adminapi"
	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/mail/smtptest"
	"github.com/signet-idp/signet/internal/storage"
)

// TestManageAccountCommands drives verify-email, send-reset, logout and
// audit tail through the admin API wired as serve wires it, with mail
// going out by SMTP to a real server in the test.
func TestManageAccountCommands(t *testing.T) {
	smtp := smtptest.Start(t, smtptest.Options{})
	store := startAdminAPI(t, func(c *config.Config) {
		c.Issuer = "https://id.example.com"
		c.SMTPHost, c.SMTPPort, c.SMTPStartTLS = smtp.Host, smtp.Port, "none"
		c.SMTPFrom = "Example ID <no-reply@id.example.com>"
	})
	ctx := context.Background()
	mustRun(t, "alice's passphrase", "users", "create", "--username", "alice", "--email", "alice@example.com",
		"--password-stdin", "--role", "admin", "--email-verified")
	var bob adminapi.User
	mustJSON(t, mustRun(t, "bob's passphrase", "users", "create", "--username", "bob", "--email", "bob@example.com",
		"--password-stdin", "--role", "user", "-o", "json"), &bob)
	if bob.EmailVerified {
		t.Fatal("bob starts verified")
	}

	var got adminapi.User
	mustJSON(t, mustRun(t, "", "users", "verify-email", "bob", "-o", "json"), &got)
	if got.ID != bob.ID || !got.EmailVerified {
		t.Fatalf("verify-email printed %+v", got)
	}
	if rec, _ := store.GetUser(ctx, bob.ID); !rec.EmailVerified {
		t.Fatal("not verified in the store")
	}

	out := mustRun(t, "", "users", "send-reset", "bob")
	if !strings.Contains(out, "reset link sent to bob@example.com") {
		t.Fatalf("send-reset printed %q", out)
	}
	msg := smtp.Wait(t, "bob@example.com", 1, 10*time.Second)
	if msg.Subject != "Reset your Signet password" || msg.From != "no-reply@id.example.com" {
		t.Fatalf("reset mail: subject %q from %q", msg.Subject, msg.From)
	}
	link := msg.Link("/reset-password")
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(link, "https://id.example.com/reset-password?token=") {
		t.Fatalf("link %q", link)
	}
	// The mailed link works: a person following it sets a new password.
	svc := accounts.NewService(store, accounts.Options{})
	if _, err := svc.ResetPassword(ctx, u.Query().Get("token"), "bob's new passphrase"); err != nil {
		t.Fatalf("ResetPassword with the mailed token: %v", err)
	}
	if _, err := svc.Authenticate(ctx, "bob", "bob's new passphrase"); err != nil {
		t.Fatal(err)
	}

	now := time.Now().UTC()
	if err := store.CreateSession(ctx, storage.Session{ID: "s1", TokenHash: "h1", UserID: bob.ID, AuthTime: now,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var res adminapi.LogoutResult
	mustJSON(t, mustRun(t, "", "users", "logout", bob.ID, "-o", "json"), &res)
	if res.SessionsEnded != 1 {
		t.Fatalf("logout ended %d sessions", res.SessionsEnded)
	}
	if out := mustRun(t, "", "users", "logout", "bob"); !strings.Contains(out, "0 sessions ended") {
		t.Fatalf("logout printed %q", out)
	}

	var events []adminapi.AuditEvent
	mustJSON(t, mustRun(t, "", "audit", "tail", "--limit", "4", "-o", "json"), &events)
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action)
	}
	// (the reset above went through a service of the test, which audits nothing)
	want := []string{"session.revoke_all", "session.revoke_all", "password.reset_request", "email.verify"}
	if !slices.Equal(actions, want) {
		t.Fatalf("audit tail actions %v; want %v", actions, want)
	}
	if events[0].Actor != "admin-api" || events[0].IP != "127.0.0.1" || events[0].Target != bob.ID {
		t.Fatalf("newest event %+v", events[0])
	}
	table := mustRun(t, "", "audit", "tail")
	for _, s := range []string{"ACTION", "ACTOR", "user.create", "email.verify", "sessions_ended=1"} {
		if !strings.Contains(table, s) {
			t.Fatalf("audit tail (table) lacks %q:\n%s", s, table)
		}
	}

	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"users", "send-reset", "ghost"}, "not found"},
		{[]string{"users", "verify-email", "ghost"}, "not found"},
		{[]string{"users", "logout", "ghost"}, "not found"},
		{[]string{"users", "logout"}, "accepts 1 arg"},
		{[]string{"audit", "tail", "--limit", "0"}, "1 to 1000"},
		{[]string{"audit", "tail", "--limit", "5000"}, "1 to 1000"},
		{[]string{"users", "disable", "alice"}, "administrator"},
	}
	for _, tt := range tests {
		if _, err := runCLI(t, "", tt.args...); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("signet %s: %v; want an error mentioning %q", strings.Join(tt.args, " "), err, tt.wantErr)
		}
	}
}

// TestAccountFlags checks the accounts and mail flags and their
// environment twins.
func TestAccountFlags(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		check func(t *testing.T, c config.Config)
	}{
		{"defaults", nil, nil, func(t *testing.T, c config.Config) {
			if c.RegistrationEnabled != nil || c.Registration() || c.SMTPStartTLS != "required" || c.DefaultRole != "user" ||
				c.ResetTokenLifespan != time.Hour || c.VerificationTokenLifespan != 24*time.Hour || c.Argon2Memory != 65536 {
				t.Fatalf("defaults %+v", c)
			}
		}},
		{"bare --registration", []string{"--registration"}, nil, func(t *testing.T, c config.Config) {
			if !c.Registration() {
				t.Fatal("registration off")
			}
		}},
		{"--registration=false with --dev", []string{"--registration=false"}, nil, func(t *testing.T, c config.Config) {
			c.Dev = true
			if c.Registration() {
				t.Fatal("registration on")
			}
		}},
		{"environment twins", nil, map[string]string{
			"SIGNET_SMTP_HOST": "smtp.example.com", "SIGNET_SMTP_PORT": "2525", "SIGNET_SMTP_USERNAME": "u",
			"SIGNET_SMTP_PASSWORD": "pw", "SIGNET_SMTP_FROM": "id@example.com", "SIGNET_SMTP_STARTTLS": "implicit",
			"SIGNET_REGISTRATION": "true", "SIGNET_DEFAULT_ROLE": "member", "SIGNET_RESET_TOKEN_LIFESPAN": "30m",
			"SIGNET_VERIFICATION_TOKEN_LIFESPAN": "48h", "SIGNET_ARGON2_MEMORY": "19456", "SIGNET_ARGON2_TIME": "2",
			"SIGNET_ARGON2_PARALLELISM": "1", "SIGNET_SMTP_TIMEOUT": "5s",
		}, func(t *testing.T, c config.Config) {
			if c.SMTPHost != "smtp.example.com" || c.SMTPPort != 2525 || c.SMTPUsername != "u" || c.SMTPPassword != "pw" ||
				c.SMTPFrom != "id@example.com" || c.SMTPStartTLS != "implicit" || !c.Registration() || c.DefaultRole != "member" ||
				c.ResetTokenLifespan != 30*time.Minute || c.VerificationTokenLifespan != 48*time.Hour ||
				c.Argon2Memory != 19456 || c.Argon2Time != 2 || c.Argon2Parallelism != 1 || c.SMTPTimeout != 5*time.Second {
				t.Fatalf("from the environment: %+v", c)
			}
		}},
		{"flag beats environment", []string{"--registration=false"}, map[string]string{"SIGNET_REGISTRATION": "true"},
			func(t *testing.T, c config.Config) {
				if c.RegistrationEnabled == nil || *c.RegistrationEnabled {
					t.Fatal("the environment won over the flag")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cmd := &cobra.Command{Use: "x"}
			addServerFlags(cmd, &cfg)
			if err := cmd.Flags().Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if err := applyEnv(cmd.Flags(), func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }); err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg)
		})
	}
}
