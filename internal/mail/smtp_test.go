package mail_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/signet-idp/signet/internal/mail"
)

// received is one message as the test SMTP server got it.
type received struct {
	from     string
	to       []string
	data     []byte
	authUser string
	authPass string
	tls      bool
}

// smtpServer is a real SMTP server (github.com/emersion/go-smtp) on a
// loopback port that keeps what it receives.
type smtpServer struct {
	addr string
	port int
	// pool trusts the server's self-signed certificate.
	pool *x509.CertPool

	mu   sync.Mutex
	msgs []received
}

type serverOpts struct {
	startTLS bool // offer STARTTLS
	implicit bool // TLS from the first byte
	user     string
	pass     string // required credentials when user != ""
}

func startSMTP(t *testing.T, o serverOpts) *smtpServer {
	t.Helper()
	cert, pool := selfSigned(t)
	s := &smtpServer{pool: pool}
	be := smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{srv: s, opts: o, tls: isTLS, conn: c}, nil
	})
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if o.startTLS {
		srv.TLSConfig = tlsConf
	}
	var ln net.Listener
	var err error
	if o.implicit {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", tlsConf)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.port = ln.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

func (s *smtpServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

type session struct {
	srv    *smtpServer
	opts   serverOpts
	conn   *smtp.Conn
	tls    bool
	authed bool
	user   string
	pass   string
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string {
	if s.opts.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.opts.user || pass != s.opts.pass {
			return errors.New("invalid credentials")
		}
		s.authed, s.user, s.pass = true, user, pass
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.opts.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.msgs = append(s.srv.msgs, received{from: s.from, to: s.to, data: b, authUser: s.user, authPass: s.pass, tls: isTLS})
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// parsed is a received message taken apart.
type parsed struct {
	header netmail.Header
	parts  map[string]string // media type → decoded body
}

func parse(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, data)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q; want multipart/alternative", m.Header.Get("Content-Type"))
	}
	out := parsed{header: m.Header, parts: map[string]string{}}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pt, pp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if pp["charset"] != "" && !strings.EqualFold(pp["charset"], "utf-8") {
			t.Errorf("part %s has charset %s; want UTF-8", pt, pp["charset"])
		}
		b, err := io.ReadAll(p) // quoted-printable is decoded by the reader
		if err != nil {
			t.Fatal(err)
		}
		out.parts[pt] = string(b)
	}
	return out
}

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
		server   serverOpts
		mode     mail.TLSMode
		user     string
		pass     string
		wantTLS  bool
		wantAuth bool
	}{
		{"plain relay, no TLS", serverOpts{}, mail.TLSNone, "", "", false, false},
		{"STARTTLS required with auth", serverOpts{startTLS: true, user: "signet", pass: "smtp-pässword"},
			mail.TLSRequired, "signet", "smtp-pässword", true, true},
		{"opportunistic, server offers STARTTLS", serverOpts{startTLS: true}, mail.TLSOpportunistic, "", "", true, false},
		{"opportunistic, server without TLS", serverOpts{}, mail.TLSOpportunistic, "", "", false, false},
		{"implicit TLS with auth", serverOpts{implicit: true, user: "signet", pass: "pw"}, mail.TLSImplicit, "signet", "pw", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTP(t, tt.server)
			s, err := mail.NewSMTPSender(mail.SMTPConfig{
				Host: "127.0.0.1", Port: srv.port, Username: tt.user, Password: tt.pass,
				From: "Example ID <no-reply@id.example.com>", TLS: tt.mode, Timeout: 10 * time.Second,
				TLSConfig: &tls.Config{RootCAs: srv.pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12},
			})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(s.String(), tt.pass) && tt.pass != "" {
				t.Fatalf("String() %q shows the password", s.String())
			}
			if err := s.Send(context.Background(), testMessage(t)); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.received()
			if len(got) != 1 {
				t.Fatalf("server received %d messages; want 1", len(got))
			}
			r := got[0]
			if r.from != "no-reply@id.example.com" || len(r.to) != 1 || r.to[0] != "alice@example.com" {
				t.Fatalf("envelope from %q to %v", r.from, r.to)
			}
			if r.tls != tt.wantTLS {
				t.Fatalf("connection TLS = %v; want %v", r.tls, tt.wantTLS)
			}
			if tt.wantAuth && (r.authUser != tt.user || r.authPass != tt.pass) {
				t.Fatalf("server saw credentials %q/%q", r.authUser, r.authPass)
			}
			p := parse(t, r.data)
			dec := new(mime.WordDecoder)
			subject, err := dec.DecodeHeader(p.header.Get("Subject"))
			if err != nil || subject != "Confirm your e-mail address for Example ID" {
				t.Fatalf("Subject %q (%v)", subject, err)
			}
			from, err := p.header.AddressList("From")
			if err != nil || len(from) != 1 || from[0].Address != "no-reply@id.example.com" || from[0].Name != "Example ID" {
				t.Fatalf("From %v (%v)", from, err)
			}
			to, err := p.header.AddressList("To")
			if err != nil || len(to) != 1 || to[0].Address != "alice@example.com" {
				t.Fatalf("To %v (%v)", to, err)
			}
			for _, h := range []string{"Date", "Message-Id", "Mime-Version"} {
				if p.header.Get(h) == "" {
					t.Errorf("header %s missing", h)
				}
			}
			if p.header.Get("Auto-Submitted") != "auto-generated" {
				t.Errorf("Auto-Submitted = %q", p.header.Get("Auto-Submitted"))
			}
			text, html := p.parts["text/plain"], p.parts["text/html"]
			if !strings.Contains(text, testLink) || !strings.Contains(text, "24 hours") {
				t.Errorf("text part lacks the link or the expiry:\n%s", text)
			}
			if !strings.Contains(html, `href="`+testLink+`"`) {
				t.Errorf("HTML part lacks the link:\n%s", html)
			}
		})
	}
}

func TestSMTPSenderRefuses(t *testing.T) {
	tests := []struct {
		name   string
		server serverOpts
		mode   mail.TLSMode
		user   string
		pass   string
		trust  bool
	}{
		{"STARTTLS required, server without it", serverOpts{}, mail.TLSRequired, "", "", true},
		{"STARTTLS required, untrusted certificate", serverOpts{startTLS: true}, mail.TLSRequired, "", "", false},
		{"wrong password", serverOpts{startTLS: true, user: "signet", pass: "right"}, mail.TLSRequired, "signet", "wrong", true},
		{"auth required but none configured", serverOpts{startTLS: true, user: "signet", pass: "right"}, mail.TLSRequired, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTP(t, tt.server)
			tlsConf := &tls.Config{ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
			if tt.trust {
				tlsConf.RootCAs = srv.pool
			}
			s, err := mail.NewSMTPSender(mail.SMTPConfig{Host: "127.0.0.1", Port: srv.port, Username: tt.user,
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
			if n := len(srv.received()); n != 0 {
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
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
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
