package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLSMode says how the SMTP connection is protected.
type TLSMode string

// TLS modes.
const (
	// TLSRequired upgrades the connection with STARTTLS and refuses to
	// send when the server does not offer it (the default).
	TLSRequired TLSMode = "required"
	// TLSOpportunistic uses STARTTLS when the server offers it and sends
	// in clear otherwise.
	TLSOpportunistic TLSMode = "opportunistic"
	// TLSImplicit speaks TLS from the first byte (SMTPS, usually port 465).
	TLSImplicit TLSMode = "implicit"
	// TLSNone never encrypts (a relay on the same host or network).
	TLSNone TLSMode = "none"
)

// TLSModes lists every mode, for flag help and validation.
var TLSModes = []TLSMode{TLSRequired, TLSOpportunistic, TLSImplicit, TLSNone}

// Valid reports whether m is one of TLSModes.
func (m TLSMode) Valid() bool {
	switch m {
	case TLSRequired, TLSOpportunistic, TLSImplicit, TLSNone:
		return true
	}
	return false
}

// DefaultTimeout bounds one delivery (connect, TLS, authentication and the
// transfer) when SMTPConfig.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// SMTPConfig says where and how to send.
type SMTPConfig struct {
	Host string
	// Port 0 means 465 for TLSImplicit and 587 otherwise.
	Port int
	// Username and Password authenticate when Username is not empty, with
	// the strongest mechanism the server offers. PLAIN and LOGIN are used
	// only over TLS, so with TLSNone (or TLSOpportunistic to a server
	// without STARTTLS) authentication fails rather than send the password
	// in clear. The password is never logged.
	Username string
	Password string
	// From is the sender address, bare or with a name
	// ("Signet <no-reply@example.com>").
	From string
	// TLS is the connection's protection; "" means TLSRequired.
	TLS TLSMode
	// Timeout bounds one delivery; 0 means DefaultTimeout.
	Timeout time.Duration
	// TLSConfig replaces the default (system roots, server name Host), for
	// a relay with a private CA; tests use it to trust their own server.
	TLSConfig *tls.Config
	// HELO is the name the client introduces itself with; "" means the
	// host name.
	HELO string
}

// SMTPSender sends messages over SMTP, one connection per message.
type SMTPSender struct {
	cfg     SMTPConfig
	from    *mail.Address
	options []gomail.Option
}

// NewSMTPSender checks cfg and returns a sender. It does not connect.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtp: host is required")
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSRequired
	}
	if !cfg.TLS.Valid() {
		return nil, fmt.Errorf("smtp: TLS mode %q must be required, opportunistic, implicit or none", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.TLS == TLSImplicit {
			cfg.Port = 465
		}
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("smtp: port %d out of range 1..65535", cfg.Port)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: from address %q: %v", cfg.From, err)
	}
	tlsConf := cfg.TLSConfig
	if tlsConf == nil {
		tlsConf = &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	}
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(tlsConf),
	}
	switch cfg.TLS {
	case TLSRequired:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSOpportunistic:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if cfg.Username != "" {
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username),
			gomail.WithPassword(cfg.Password),
		)
	}
	if cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(cfg.HELO))
	}
	return &SMTPSender{cfg: cfg, from: from, options: opts}, nil
}

// String describes the sender for logs, without the password.
func (s *SMTPSender) String() string {
	return fmt.Sprintf("smtp://%s:%d (tls %s, auth %t)", s.cfg.Host, s.cfg.Port, s.cfg.TLS, s.cfg.Username != "")
}

// Send delivers m, within the configured timeout and ctx.
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	if m.Text == "" {
		return errors.New("smtp: message has no text body")
	}
	msg := gomail.NewMsg()
	if err := msg.FromFormat(s.from.Name, s.from.Address); err != nil {
		return fmt.Errorf("smtp: from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("smtp: recipient %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	// RFC 3834: an automatic message; well-behaved autoresponders stay
	// quiet.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	client, err := gomail.NewClient(s.cfg.Host, s.options...)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp: send to %s via %s:%d: %w", m.To, s.cfg.Host, s.cfg.Port, err)
	}
	return nil
}
