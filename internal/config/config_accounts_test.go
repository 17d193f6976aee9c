package config

import (
	"testing"
)

func TestValidateAccountsAndMail(t *testing.T) {
	runValidateCases(t, []validateCase{
		{name: "no SMTP is fine", mutate: func(*Config) {}},
		{name: "SMTP with from", mutate: func(c *Config) { c.SMTPHost = "smtp.example.com"; c.SMTPFrom = "Example <id@example.com>" }},
		{name: "SMTP with auth", mutate: func(c *Config) {
			c.SMTPHost, c.SMTPFrom, c.SMTPUsername, c.SMTPPassword, c.SMTPPort = "smtp.example.com", "id@example.com", "u", "hunter2-smtp", 465
			c.SMTPStartTLS = "implicit"
		}},
		{name: "SMTP without from", mutate: func(c *Config) { c.SMTPHost = "smtp.example.com" }, wantErr: []string{"SMTP from address"}},
		{name: "bad from", mutate: func(c *Config) { c.SMTPHost = "smtp.example.com"; c.SMTPFrom = "no address" }, wantErr: []string{"must be an e-mail address"}},
		{name: "user without host", mutate: func(c *Config) { c.SMTPUsername = "u" }, wantErr: []string{"no SMTP host"}},
		{name: "password without user", mutate: func(c *Config) { c.SMTPPassword = "hunter2-smtp" }, wantErr: []string{"no SMTP user name"}},
		{name: "bad port", mutate: func(c *Config) { c.SMTPPort = 70000 }, wantErr: []string{"SMTP port"}},
		{name: "bad TLS mode", mutate: func(c *Config) { c.SMTPStartTLS = "maybe" }, wantErr: []string{"STARTTLS mode"}},
		{name: "zero SMTP timeout", mutate: func(c *Config) { c.SMTPTimeout = 0 }, wantErr: []string{"SMTP timeout"}},
		{name: "bad default role", mutate: func(c *Config) { c.DefaultRole = "Editors" }, wantErr: []string{"default role"}},
		{name: "empty default role", mutate: func(c *Config) { c.DefaultRole = "" }, wantErr: []string{"default role"}},
		{name: "zero link lifespans", mutate: func(c *Config) { c.VerificationTokenLifespan = 0; c.ResetTokenLifespan = -1 },
			wantErr: []string{"verification token lifespan", "reset token lifespan"}},
		{name: "argon2 out of range", mutate: func(c *Config) { c.Argon2Time = 0; c.Argon2Parallelism = 0; c.Argon2Memory = 4 },
			wantErr: []string{"argon2 time", "argon2 parallelism", "argon2 memory"}},
		{name: "argon2 too much memory", mutate: func(c *Config) { c.Argon2Memory = 1 << 22 }, wantErr: []string{"argon2 memory"}},
		{name: "argon2 too many passes", mutate: func(c *Config) { c.Argon2Time = 65 }, wantErr: []string{"argon2 time"}},
		{name: "password hash concurrency set", mutate: func(c *Config) { c.PasswordHashConcurrency = 4 }},
		{name: "negative password hash concurrency", mutate: func(c *Config) { c.PasswordHashConcurrency = -1 }, wantErr: []string{"password hash concurrency"}},
		{name: "huge password hash concurrency", mutate: func(c *Config) { c.PasswordHashConcurrency = 10000 }, wantErr: []string{"password hash concurrency"}},
		{
			name: "every problem at once, with the others",
			mutate: func(c *Config) {
				c.Secret = ""
				c.SMTPHost = "smtp.example.com"
				c.SMTPStartTLS = "sometimes"
				c.DefaultRole = "Bad Role"
			},
			wantErr: []string{"secret", "SMTP from address", "STARTTLS mode", "default role"},
		},
	})
}

func TestRegistrationDefault(t *testing.T) {
	on, off := true, false
	tests := []struct {
		name string
		dev  bool
		set  *bool
		want bool
	}{
		{"dev, unset", true, nil, true},
		{"production, unset", false, nil, false},
		{"production, switched on", false, &on, true},
		{"dev, switched off", true, &off, false},
	}
	for _, tt := range tests {
		c := Default()
		c.Dev, c.RegistrationEnabled = tt.dev, tt.set
		if got := c.Registration(); got != tt.want {
			t.Errorf("%s: Registration() = %v, want %v", tt.name, got, tt.want)
		}
	}
}
