package outbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// ErrRefused is returned (wrapped) when the policy refuses a target: a
// special-use address outside the allowlist, or a scheme other than http
// and https.
var ErrRefused = errors.New("outbound: target refused by policy")

// ErrBodyTooLarge is returned by ReadBody when a response is larger than
// its cap.
var ErrBodyTooLarge = errors.New("outbound: response body too large")

// Defaults of Options.
const (
	DefaultTimeout      = 5 * time.Second
	DefaultMaxBodyBytes = 256 << 10
)

// Options configures a Client. The zero value is the strict policy with
// the default timeout.
type Options struct {
	// AllowCIDRs are ranges reachable although special-use (internal
	// relying parties: 10.0.0.0/8, 127.0.0.1/32 in tests).
	AllowCIDRs []netip.Prefix
	// Timeout bounds a whole request, from dialling to the end of the
	// body; 0 means DefaultTimeout.
	Timeout time.Duration
}

// ParseCIDRs parses an operator's allowlist (each entry a CIDR), reporting
// every bad entry at once.
func ParseCIDRs(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for _, s := range list {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", s))
			continue
		}
		out = append(out, p.Masked())
	}
	return out, errors.Join(errs...)
}

// Client sends requests under the policy. It is safe for concurrent use.
type Client struct {
	http *http.Client
}

// New builds a Client. Its transport ignores proxy environment variables:
// a proxy would make the dialled address the proxy's, and the check
// meaningless.
func New(opts Options) *Client {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	guard := ssrf.New(ssrf.WithAnyPort())
	allow := opts.AllowCIDRs
	dialer := &net.Dialer{
		Timeout: min(timeout, 3*time.Second),
		Control: func(network, address string, _ syscall.RawConn) error {
			return check(guard, allow, network, address)
		},
	}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    min(timeout, 3*time.Second),
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 32 << 10,
		MaxIdleConns:           32,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
		ForceAttemptHTTP2:      true,
	}
	return &Client{http: &http.Client{
		Transport: transport,
		Timeout:   timeout,
		// The first answer is the answer: a redirect could point anywhere,
		// and the target was checked, not wherever it sends us.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// check is the dialer's Control: it sees the resolved address about to be
// connected, so DNS cannot smuggle a private address past it.
func check(guard *ssrf.Guardian, allow []netip.Prefix, network, address string) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("%w: network %s", ErrRefused, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: address %q", ErrRefused, address)
	}
	ip := ap.Addr().Unmap()
	for _, p := range allow {
		if p.Contains(ip) {
			return nil
		}
	}
	if err := guard.SafeAddr(ip); err != nil {
		return fmt.Errorf("%w: %s is a special-use address (allow it with --outbound-allow-cidrs)", ErrRefused, ip)
	}
	return nil
}

// Do sends req under the policy. Only http and https URLs are sent. A
// redirect is returned as it is (3xx), never followed. The caller closes
// the body; read it with ReadBody.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if req.URL == nil || (req.URL.Scheme != "http" && req.URL.Scheme != "https") {
		return nil, fmt.Errorf("%w: only http and https URLs", ErrRefused)
	}
	return c.http.Do(req)
}

// HTTPClient is the policy's *http.Client, for libraries that take one.
// It refuses the same targets (in its dialer), follows no redirects and
// has the same timeout; bodies are not capped, so read them with ReadBody.
func (c *Client) HTTPClient() *http.Client { return c.http }

// Get fetches url and returns its body, read up to maxBytes, when the
// status is 200; any other status is an error.
func (c *Client) Get(ctx context.Context, url string, maxBytes int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("outbound: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("outbound: GET answered %d", resp.StatusCode)
	}
	return ReadBody(resp, maxBytes)
}

// ReadBody reads resp's body up to maxBytes (DefaultMaxBodyBytes when
// maxBytes <= 0) and returns ErrBodyTooLarge when there is more, without
// reading further. It does not close the body.
func ReadBody(resp *http.Response, maxBytes int64) ([]byte, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBodyBytes
	}
	if resp.ContentLength > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes announced, at most %d", ErrBodyTooLarge, resp.ContentLength, maxBytes)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("outbound: read body: %w", err)
	}
	if int64(len(b)) > maxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, maxBytes)
	}
	return b, nil
}
