package mail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/mail"
	"github.com/signet-idp/signet/internal/mail/mailtest"
)

func TestComposer(t *testing.T) {
	c, err := mail.NewComposer("")
	if err != nil {
		t.Fatal(err)
	}
	const link = "https://id.example.com/reset-password?token=abc&x=<y>"
	tests := []struct {
		name        string
		compose     func() (mail.Message, error)
		to, subject string
		text        []string
		html        []string
	}{
		{"verify", func() (mail.Message, error) {
			return c.VerifyEmail(mail.VerifyEmailData{Username: "alice", Email: "alice@example.com", Link: link, ExpiresIn: 24 * time.Hour})
		}, "alice@example.com", "Confirm your e-mail address for Signet",
			[]string{"Hello alice,", link, "expires in 24 hours"},
			[]string{`href="https://id.example.com/reset-password?token=abc&amp;x=%3cy%3e"`, "alice@example.com"}},
		{"reset", func() (mail.Message, error) {
			return c.ResetPassword("bob@example.com", mail.ResetPasswordData{Username: "bob", Link: link, ExpiresIn: time.Hour})
		}, "bob@example.com", "Reset your Signet password",
			[]string{"Hello bob,", link, "expires in 1 hour", "signs you out everywhere"},
			[]string{"Choose a new password", "1 hour"}},
		{"changed", func() (mail.Message, error) {
			return c.EmailChanged(mail.EmailChangedData{Username: "carol", OldEmail: "old@example.com", NewEmail: "new@example.com"})
		}, "old@example.com", "Your Signet e-mail address was changed",
			[]string{"from old@example.com to new@example.com"},
			[]string{"<strong>old@example.com</strong>", "<strong>new@example.com</strong>"}},
		{"exists", func() (mail.Message, error) {
			return c.AccountExists("dan@example.com", mail.AccountExistsData{Username: "dan", SignInLink: "https://id.example.com/login",
				ForgotLink: "https://id.example.com/forgot-password"})
		}, "dan@example.com", "Your Signet account",
			[]string{"tried to create a Signet account", "https://id.example.com/login"},
			[]string{"tried to create a Signet account", "Sign in"}},
		{"exists, e-mail change", func() (mail.Message, error) {
			return c.AccountExists("dan@example.com", mail.AccountExistsData{Username: "dan", SignInLink: "https://id.example.com/login",
				ForgotLink: "https://id.example.com/forgot-password", EmailChange: true})
		}, "dan@example.com", "Your Signet account",
			[]string{"asked to change its e-mail address to this one", "nothing was changed", "https://id.example.com/login"},
			[]string{"asked to change its e-mail address to this one", "Sign in"}},
		{"escaping", func() (mail.Message, error) {
			return c.EmailChanged(mail.EmailChangedData{Username: "<script>x</script>", OldEmail: "o@example.com", NewEmail: "n@example.com"})
		}, "o@example.com", "Your Signet e-mail address was changed",
			[]string{"Hello <script>x</script>,"}, []string{"Hello &lt;script&gt;x&lt;/script&gt;,"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.compose()
			if err != nil {
				t.Fatal(err)
			}
			if m.To != tt.to || m.Subject != tt.subject {
				t.Fatalf("to %q subject %q", m.To, m.Subject)
			}
			if strings.HasPrefix(m.Text, "\n") || strings.Contains(m.Text, "subject") {
				t.Errorf("text body starts with the subject block:\n%q", m.Text)
			}
			for _, s := range tt.text {
				if !strings.Contains(m.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, m.Text)
				}
			}
			for _, s := range tt.html {
				if !strings.Contains(m.HTML, s) {
					t.Errorf("HTML lacks %q:\n%s", s, m.HTML)
				}
			}
		})
	}
}

func TestLogSender(t *testing.T) {
	msg := mail.Message{To: "alice@example.com", Subject: "Hi",
		Text: "open https://id.example.com/verify-email?token=T\n", HTML: "<p>secret html</p>"}
	for _, tt := range []struct {
		name        string
		includeBody bool
		wantLink    bool
	}{
		{"development writes the link", true, true},
		{"production never logs the token", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			s := mail.LogSender{Logger: slog.New(slog.NewJSONHandler(&buf, nil)), IncludeBody: tt.includeBody}
			if err := s.Send(context.Background(), msg); err != nil {
				t.Fatal(err)
			}
			var line map[string]any
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("log %q: %v", buf.String(), err)
			}
			if line["to"] != "alice@example.com" || line["subject"] != "Hi" {
				t.Fatalf("log line %v", line)
			}
			if got := strings.Contains(buf.String(), "token=T"); got != tt.wantLink {
				t.Fatalf("log contains the link = %v, want %v: %s", got, tt.wantLink, buf.String())
			}
			if strings.Contains(buf.String(), "secret html") {
				t.Fatalf("log contains the HTML body: %s", buf.String())
			}
		})
	}
}

func TestPostman(t *testing.T) {
	c, err := mail.NewComposer("Acme")
	if err != nil {
		t.Fatal(err)
	}
	box := &mailtest.Outbox{}
	p := mail.Postman{Composer: c, Sender: box}
	ctx := context.Background()
	if err := p.SendVerifyEmail(ctx, mail.VerifyEmailData{Username: "a", Email: "a@example.com", Link: "https://x/v?token=1", ExpiresIn: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := p.SendResetPassword(ctx, "b@example.com", mail.ResetPasswordData{Username: "b", Link: "https://x/r?token=2", ExpiresIn: 30 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := p.SendEmailChanged(ctx, mail.EmailChangedData{Username: "c", OldEmail: "c@example.com", NewEmail: "d@example.com"}); err != nil {
		t.Fatal(err)
	}
	got := box.Messages()
	if len(got) != 3 || got[0].To != "a@example.com" || got[1].To != "b@example.com" || got[2].To != "c@example.com" ||
		!strings.Contains(got[1].Text, "30 minutes") || !strings.Contains(got[0].Subject, "Acme") {
		t.Fatalf("outbox %+v", got)
	}
}
