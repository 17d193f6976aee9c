// Package mail sends the e-mails Signet writes to people: e-mail address
// verification, password reset links and the notice that an address
// changed.
//
// A Sender delivers a Message. SMTPSender speaks SMTP (through
// github.com/wneessen/go-mail) with STARTTLS required by default;
// LogSender writes the message, link included, to the log instead: it is
// what `serve --dev` and a server without SMTP configuration use. The
// Composer fills the plain-text and HTML bodies from templates/mail, and a
// Postman puts the two together for the accounts service.
package mail

import (
	"context"
	"log/slog"
)

// Message is one e-mail to one recipient. Text is required; HTML, when not
// empty, is sent as the alternative part.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Sender delivers messages. Implementations are safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// LogSender writes each message to the log instead of sending it: the
// recipient, the subject and the plain-text body, which holds the link.
// That is the documented behaviour of `serve --dev`, and of a server with
// no SMTP host configured, where it lets an operator complete a flow from
// the log. Anyone who reads the log can follow the links, so production
// should configure SMTP.
type LogSender struct {
	Logger *slog.Logger
	// IncludeBody writes the text body, links included, to the log. Only
	// for development (--dev): the links carry live verification and reset
	// tokens, and logs must never hold tokens in production.
	IncludeBody bool
}

// Send logs m at info level and never fails.
func (s LogSender) Send(ctx context.Context, m Message) error {
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if s.IncludeBody {
		logger.InfoContext(ctx, "e-mail not sent (development mode); written to the log instead",
			"to", m.To, "subject", m.Subject, "text", m.Text)
		return nil
	}
	logger.WarnContext(ctx, "e-mail dropped: no SMTP server configured (SIGNET_SMTP_HOST)",
		"to", m.To, "subject", m.Subject)
	return nil
}
