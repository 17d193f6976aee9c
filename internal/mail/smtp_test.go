package mail_test

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/mail"
	"github.com/signet-idp/signet/internal/mail/smtptest"
)

const testLink = "https://id.example.com/verify-email?token=AbC-dEf_0123456789abcdefghijklmnopqrstuvwxyz0"

func testMessage(t *testing.T) mail.Message {
	t.Helper()
	c, err := mail.NewComposer("Example ID")
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.VerifyEmail(mail.VerifyEmailData{Username: "alice", Email: "alice@example.com",
		Link: testLink, ExpiresIn: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSMTPSenderDelivers(t *testing.T) {
	tests := []struct {
		name     string
		server   smtptest.Options
		mode     mail.TLSMode
		user     string
		pass     string
		wantTLS  bool
		wantAuth bool
	}{
		{"plain relay, no TLS", smtptest.Options{}, mail.TLSNone, "", "", false, false},
		{"STARTTLS required with auth", smtptest.Options{StartTLS: true, Username: "signet", Password: "smtp-pässword"},
			mail.TLSRequired, "signet", "smtp-pässword", true, true},
		{"opportunistic, server offers STARTTLS", smtptest.Options{StartTLS: true}, mail.TLSOpportunistic, "", "", true, false},
		{"opportunistic, server without TLS", smtptest.Options{}, mail.TLSOpportunistic, "", "", false, false},
		{"implicit TLS with auth", smtptest.Options{Implicit: true, Username: "signet", Password: "pw"}, mail.TLSImplicit, "signet", "pw", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, tt.server)
			s, err := mail.NewSMTPSender(mail.SMTPConfig{
				Host: srv.Host, Port: srv.Port, Username: tt.user, Password: tt.pass,
				From: "Example ID <no-reply@id.example.com>", TLS: tt.mode, Timeout: 10 * time.Second,
				TLSConfig: srv.TLSConfig(),
			})
			if err != nil {
				t.Fatal(err)
			}
			if tt.pass != "" && strings.Contains(s.String(), tt.pass) {
				t.Fatalf("String() %q shows the password", s.String())
			}
			if err := s.Send(context.Background(), testMessage(t)); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Messages()
			if len(got) != 1 || len(srv.Errors()) != 0 {
				t.Fatalf("server received %d messages (errors %v); want 1", len(got), srv.Errors())
			}
			m := got[0]
			if m.From != "no-reply@id.example.com" || len(m.To) != 1 || m.To[0] != "alice@example.com" {
				t.Fatalf("envelope from %q to %v", m.From, m.To)
			}
			if m.TLS != tt.wantTLS {
				t.Fatalf("connection TLS = %v; want %v", m.TLS, tt.wantTLS)
			}
			if tt.wantAuth && (m.AuthUser != tt.user || m.AuthPass != tt.pass) {
				t.Fatalf("server saw credentials %q/%q", m.AuthUser, m.AuthPass)
			}
			if m.Subject != "Confirm your e-mail address for Example ID" {
				t.Fatalf("Subject %q", m.Subject)
			}
			if ct := m.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
				t.Fatalf("Content-Type %q; want multipart/alternative", ct)
			}
			from, err := m.Header.AddressList("From")
			if err != nil || len(from) != 1 || from[0].Address != "no-reply@id.example.com" || from[0].Name != "Example ID" {
				t.Fatalf("From %v (%v)", from, err)
			}
			to, err := m.Header.AddressList("To")
			if err != nil || len(to) != 1 || to[0].Address != "alice@example.com" {
				t.Fatalf("To %v (%v)", to, err)
			}
			for _, h := range []string{"Date", "Message-Id", "Mime-Version"} {
				if m.Header.Get(h) == "" {
					t.Errorf("header %s missing", h)
				}
			}
			if m.Header.Get("Auto-Submitted") != "auto-generated" {
				t.Errorf("Auto-Submitted = %q", m.Header.Get("Auto-Submitted"))
			}
			if m.Link("/verify-email") != testLink || !strings.Contains(m.Text, "24 hours") {
				t.Errorf("text part lacks the link or the expiry:\n%s", m.Text)
			}
			if !strings.Contains(m.HTML, `href="`+testLink+`"`) {
				t.Errorf("HTML part lacks the link:\n%s", m.HTML)
			}
		})
	}
}

func TestSMTPSenderRefuses(t *testing.T) {
	tests := []struct {
		name   string
		server smtptest.Options
		mode   mail.TLSMode
		user   string
		pass   string
		trust  bool
	}{
		{"STARTTLS required, server without it", smtptest.Options{}, mail.TLSRequired, "", "", true},
		{"STARTTLS required, untrusted certificate", smtptest.Options{StartTLS: true}, mail.TLSRequired, "", "", false},
		{"wrong password", smtptest.Options{StartTLS: true, Username: "signet", Password: "right"}, mail.TLSRequired, "signet", "wrong", true},
		{"auth required but none configured", smtptest.Options{StartTLS: true, Username: "signet", Password: "right"}, mail.TLSRequired, "", "", true},
		{"no AUTH offered without TLS", smtptest.Options{Username: "signet", Password: "right"}, mail.TLSNone, "signet", "right", true},
		{"credentials never sent in clear", smtptest.Options{Username: "signet", Password: "right", InsecureAuth: true},
			mail.TLSNone, "signet", "right", true},
		{"opportunistic without TLS keeps credentials", smtptest.Options{Username: "signet", Password: "right", InsecureAuth: true},
			mail.TLSOpportunistic, "signet", "right", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, tt.server)
			tlsConf := &tls.Config{ServerName: srv.Host, MinVersion: tls.VersionTLS12}
			if tt.trust {
				tlsConf = srv.TLSConfig()
			}
			s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, Username: tt.user,
				Password: tt.pass, From: "no-reply@id.example.com", TLS: tt.mode, Timeout: 5 * time.Second, TLSConfig: tlsConf})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), testMessage(t))
			if err == nil {
				t.Fatal("Send succeeded; want an error")
			}
			if tt.pass != "" && strings.Contains(err.Error(), tt.pass) {
				t.Fatalf("error %q shows the password", err)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Fatalf("server received %d messages", n)
			}
		})
	}
}

func TestSMTPSenderTimesOut(t *testing.T) {
	// A server that accepts and never greets.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { <-done; c.Close() }()
		}
	}()
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port,
		From: "no-reply@id.example.com", TLS: mail.TLSNone, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := s.Send(context.Background(), testMessage(t)); err == nil {
		t.Fatal("Send to a silent server succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Send took %v; the timeout is 300ms", d)
	}
}

func TestNewSMTPSenderChecksConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  mail.SMTPConfig
	}{
		{"no host", mail.SMTPConfig{From: "a@example.com"}},
		{"bad from", mail.SMTPConfig{Host: "smtp.example.com", From: "not an address"}},
		{"bad mode", mail.SMTPConfig{Host: "smtp.example.com", From: "a@example.com", TLS: "sometimes"}},
		{"bad port", mail.SMTPConfig{Host: "smtp.example.com", From: "a@example.com", Port: 70000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := mail.NewSMTPSender(tt.cfg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: "smtp.example.com", From: "a@example.com", TLS: mail.TLSImplicit})
	if err != nil || !strings.Contains(s.String(), ":465") {
		t.Fatalf("implicit TLS default port: %v %v", s, err)
	}
	s, err = mail.NewSMTPSender(mail.SMTPConfig{Host: "smtp.example.com", From: "a@example.com"})
	if err != nil || !strings.Contains(s.String(), ":587") || !strings.Contains(s.String(), "tls required") {
		t.Fatalf("defaults: %v %v", s, err)
	}
}
