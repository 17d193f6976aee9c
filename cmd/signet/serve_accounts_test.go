package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/adminclient"
	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/mail/smtptest"
)

// TestServeSendsMailBySMTP runs `signet serve` on PostgreSQL with an SMTP
// relay configured (STARTTLS required, with authentication) and checks
// that an administrator's "send reset link" arrives with a link under the
// issuer, and that the audit log shows it.
func TestServeSendsMailBySMTP(t *testing.T) {
	relay := smtptest.Start(t, smtptest.Options{})
	ts := startTestServer(t, func(c *config.Config) {
		c.SMTPHost, c.SMTPPort = relay.Host, relay.Port
		// The relay is on loopback without TLS; "none" is what an
		// operator would set for a local relay.
		c.SMTPStartTLS = "none"
		c.SMTPFrom = "Signet <no-reply@example.com>"
	})
	ctx := context.Background()
	api, err := adminclient.New(ts.AdminURL, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.CreateUser(ctx, adminclient.NewUser{Username: "erin", Email: "erin@example.com",
		Password: "erin's passphrase", Roles: []string{"user"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.SendUserReset(ctx, "erin"); err != nil {
		t.Fatalf("send-reset: %v", err)
	}
	m := relay.Wait(t, "erin@example.com", 1, 10*time.Second)
	if m.From != "no-reply@example.com" || m.Subject != "Reset your Signet password" {
		t.Fatalf("mail from %q subject %q", m.From, m.Subject)
	}
	if link := m.Link("/reset-password?token="); !strings.HasPrefix(link, ts.PublicURL+"/reset-password?token=") {
		t.Fatalf("link %q is not under the issuer %s:\n%s", link, ts.PublicURL, m.Text)
	}
	events, err := api.TailAudit(ctx, 5)
	if err != nil || len(events) < 2 || events[0].Action != "password.reset_request" || events[0].Actor != "admin-api" {
		t.Fatalf("audit tail = %+v, %v", events, err)
	}
}
