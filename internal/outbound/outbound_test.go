package outbound

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"code.dny.dev/ssrf"
)

func loopbackOnly(t *testing.T) []netip.Prefix {
	t.Helper()
	p, err := ParseCIDRs([]string{"127.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRefusesLoopbackTarget(t *testing.T) {
	hit := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit = true }))
	defer srv.Close()
	c := New(Options{})
	// By address and by a name that resolves to loopback: the check is on
	// the dialled address.
	for _, u := range []string{srv.URL, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)} {
		_, err := c.Get(context.Background(), u, 0)
		if !errors.Is(err, ErrRefused) {
			t.Errorf("GET %s: err = %v, want ErrRefused", u, err)
		}
	}
	if hit {
		t.Fatal("the refused server was reached")
	}
}

func TestAllowlistedTargetWorks(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	c := New(Options{AllowCIDRs: loopbackOnly(t)})
	b, err := c.Get(context.Background(), srv.URL, 0)
	if err != nil || string(b) != "ok" {
		t.Fatalf("GET = %q, %v; want ok", b, err)
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	followed := false
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed = true }))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	}))
	defer srv.Close()
	c := New(Options{AllowCIDRs: loopbackOnly(t)})
	req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || followed {
		t.Fatalf("status %d, followed %v; want 302 returned as is", resp.StatusCode, followed)
	}
	if _, err := c.Get(context.Background(), srv.URL, 0); err == nil {
		t.Fatal("Get of a redirect succeeded")
	}
}

func TestOversizeBodyRefused(t *testing.T) {
	body := strings.Repeat("x", 2048)
	for _, chunked := range []bool{false, true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if chunked {
				w.(http.Flusher).Flush() // no Content-Length: the cap must hold while reading
			}
			w.Write([]byte(body))
		}))
		c := New(Options{AllowCIDRs: loopbackOnly(t)})
		if _, err := c.Get(context.Background(), srv.URL, 1024); !errors.Is(err, ErrBodyTooLarge) {
			t.Errorf("chunked=%v: err = %v, want ErrBodyTooLarge", chunked, err)
		}
		if b, err := c.Get(context.Background(), srv.URL, 2048); err != nil || len(b) != 2048 {
			t.Errorf("chunked=%v: at the cap: %d bytes, %v", chunked, len(b), err)
		}
		srv.Close()
	}
}

func TestTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer srv.Close()
	c := New(Options{AllowCIDRs: loopbackOnly(t), Timeout: 200 * time.Millisecond})
	start := time.Now()
	if _, err := c.Get(context.Background(), srv.URL, 0); err == nil {
		t.Fatal("a hanging server answered")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %v despite a 200ms timeout", d)
	}
}

func TestCheck(t *testing.T) {
	guard := ssrf.New(ssrf.WithAnyPort())
	allow, err := ParseCIDRs([]string{"10.1.0.0/16", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		network, addr string
		ok            bool
	}{
		{"tcp4", "93.184.216.34:443", true},
		{"tcp6", "[2606:2800:220:1::1]:443", true},
		{"tcp4", "127.0.0.1:80", false},
		{"tcp4", "0.0.0.0:80", false},
		{"tcp4", "10.0.0.1:80", false},
		{"tcp4", "10.1.2.3:80", true}, // allowlisted
		{"tcp4", "172.16.0.1:80", false},
		{"tcp4", "192.168.1.1:80", false},
		{"tcp4", "169.254.169.254:80", false}, // cloud metadata
		{"tcp4", "100.64.0.1:80", false},
		{"tcp4", "224.0.0.1:80", false},
		{"tcp4", "255.255.255.255:80", false},
		{"tcp6", "[::1]:80", false},
		{"tcp6", "[::]:80", false},
		{"tcp6", "[fe80::1]:80", false},
		{"tcp6", "[fc00::1]:80", false},
		{"tcp6", "[fd12::1]:80", true}, // allowlisted
		{"tcp6", "[ff02::1]:80", false},
		{"tcp6", "[::ffff:127.0.0.1]:80", false}, // IPv4-mapped loopback
		{"tcp6", "[::ffff:10.1.0.9]:80", true},   // IPv4-mapped, allowlisted
		{"udp4", "93.184.216.34:53", false},
	} {
		err := check(guard, allow, tc.network, tc.addr)
		if (err == nil) != tc.ok {
			t.Errorf("%s %s: err = %v, want ok=%v", tc.network, tc.addr, err, tc.ok)
		}
	}
}

func TestSchemeRefused(t *testing.T) {
	c := New(Options{})
	for _, u := range []string{"file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/"} {
		if _, err := c.Get(context.Background(), u, 0); !errors.Is(err, ErrRefused) {
			t.Errorf("GET %s: err = %v, want ErrRefused", u, err)
		}
	}
}

func TestParseCIDRs(t *testing.T) {
	if _, err := ParseCIDRs([]string{"10.0.0.0/8", "nonsense", "1.2.3.4"}); err == nil ||
		!strings.Contains(err.Error(), "nonsense") || !strings.Contains(err.Error(), "1.2.3.4") {
		t.Fatalf("err = %v, want both bad entries named", err)
	}
}
