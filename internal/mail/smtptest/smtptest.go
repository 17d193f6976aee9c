// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp)
// on a loopback port for tests, keeps what it receives and takes the
// messages apart (headers, plain-text and HTML parts, links), so a test
// can follow a mailed link the way a person would.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options shape the server.
type Options struct {
	// StartTLS offers STARTTLS with a self-signed certificate for
	// 127.0.0.1 (trust it with Server.TLSConfig).
	StartTLS bool
	// Implicit speaks TLS from the first byte (SMTPS).
	Implicit bool
	// Username and Password, when Username is set, are required (AUTH
	// PLAIN) before any mail is accepted.
	Username string
	Password string
	// InsecureAuth offers AUTH on a connection without TLS (a relay on
	// the same host).
	InsecureAuth bool
}

// Message is one received message.
type Message struct {
	// Envelope.
	From string
	To   []string
	// What the client proved: the TLS state and the credentials.
	TLS      bool
	AuthUser string
	AuthPass string
	// Raw is the message as received; Header, Text and HTML are it taken
	// apart (quoted-printable and base64 decoded, subject decoded).
	Raw     []byte
	Header  netmail.Header
	Subject string
	Text    string
	HTML    string
}

// Server is a running SMTP server.
type Server struct {
	// Host and Port are where it listens (127.0.0.1).
	Host string
	Port int

	pool *x509.CertPool
	mu   sync.Mutex
	msgs []Message
	errs []error
	cond *sync.Cond
}

// Start runs a server until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	cert, pool, err := selfSigned()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Host: "127.0.0.1", pool: pool}
	s.cond = sync.NewCond(&s.mu)
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s, opts: o, conn: c}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = o.InsecureAuth
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	tlsConf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if o.StartTLS {
		srv.TLSConfig = tlsConf
	}
	var ln net.Listener
	if o.Implicit {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", tlsConf)
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	s.Port = ln.Addr().(*net.TCPAddr).Port
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// TLSConfig trusts the server's certificate, for the client side.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.pool, ServerName: s.Host, MinVersion: tls.VersionTLS12}
}

// Messages returns what was received, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// To returns the messages whose envelope names addr, oldest first.
func (s *Server) To(addr string) []Message {
	var out []Message
	for _, m := range s.Messages() {
		for _, r := range m.To {
			if strings.EqualFold(r, addr) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// Wait returns the n-th message (1-based) to addr, waiting up to timeout
// for it (mails may be sent after the request that caused them answered).
func (s *Server) Wait(t testing.TB, addr string, n int, timeout time.Duration) Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if got := s.To(addr); len(got) >= n {
			return got[n-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("smtptest: no message #%d to %s within %v (received %d in all)", n, addr, timeout, len(s.Messages()))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Errors returns messages that arrived but could not be taken apart.
func (s *Server) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

var linkPattern = regexp.MustCompile(`https?://[^\s"<>]+`)

// Link returns the first link in the plain-text body that contains
// substr ("" when there is none).
func (m Message) Link(substr string) string {
	for _, l := range linkPattern.FindAllString(m.Text, -1) {
		if strings.Contains(l, substr) {
			return l
		}
	}
	return ""
}

type session struct {
	srv    *Server
	opts   Options
	conn   *smtp.Conn
	authed bool
	user   string
	pass   string
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string {
	if s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.opts.Username || pass != s.opts.Password {
			return errors.New("invalid credentials")
		}
		s.authed, s.user, s.pass = true, user, pass
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.opts.Username != "" && !s.authed {
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
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.conn.TLSConnectionState()
	m := Message{From: s.from, To: append([]string(nil), s.to...), TLS: isTLS, AuthUser: s.user, AuthPass: s.pass, Raw: raw}
	perr := parse(&m)
	s.srv.mu.Lock()
	defer s.srv.mu.Unlock()
	s.srv.msgs = append(s.srv.msgs, m)
	if perr != nil {
		s.srv.errs = append(s.srv.errs, perr)
	}
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// parse fills Header, Subject, Text and HTML from Raw.
func parse(m *Message) error {
	msg, err := netmail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return fmt.Errorf("smtptest: message does not parse: %w", err)
	}
	m.Header = msg.Header
	if m.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return fmt.Errorf("smtptest: subject: %w", err)
	}
	return parsePart(m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
}

func parsePart(m *Message, contentType, encoding string, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("smtptest: content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("smtptest: part: %w", err)
			}
			// multipart.Reader decodes quoted-printable itself.
			if err := parsePart(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	b, err := io.ReadAll(decoder(encoding, body))
	if err != nil {
		return fmt.Errorf("smtptest: body: %w", err)
	}
	switch mt {
	case "text/plain":
		m.Text = string(b)
	case "text/html":
		m.HTML = string(b)
	}
	return nil
}

func decoder(encoding string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "base64":
		return base64Reader(r)
	case "quoted-printable":
		return qpReader(r)
	}
	return r
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
