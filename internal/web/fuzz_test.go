package web

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

// trustSets are the trusted-proxy configurations the fuzzer picks from.
var trustSets = [][]string{
	nil,
	{"10.0.0.0/8"},
	{"10.0.0.0/8", "fd00::/8"},
	{"192.0.2.0/24", "127.0.0.1/32", "::1/128"},
	{"not a cidr", "10.1.0.0/16"},
}

func trustedBy(cidrs []string, s string) bool {
	ip := net.ParseIP(s)
	if ip == nil {
		return false
	}
	for _, c := range cidrs {
		if _, n, err := net.ParseCIDR(c); err == nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// xffEntry normalises one X-Forwarded-For element as a proxy chain is read.
func xffEntry(s string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "["), "]")
}

func sameIP(a, b string) bool {
	x, y := net.ParseIP(a), net.ParseIP(b)
	return x != nil && y != nil && x.Equal(y)
}

// FuzzClientIP: the client address (the login throttle's and the audit
// log's) comes from X-Forwarded-For only through trusted proxies. Without
// trusted proxies, or from an untrusted peer, it is the peer's address
// whatever the header says; otherwise it is an address of the header
// that only trusted hops stand behind, so a client cannot forge past an
// untrusted hop.
func FuzzClientIP(f *testing.F) {
	f.Add(uint8(0), "203.0.113.7:5555", "1.2.3.4")
	f.Add(uint8(1), "203.0.113.7:5555", "1.2.3.4")
	f.Add(uint8(1), "10.0.0.1:5555", "1.2.3.4")
	f.Add(uint8(1), "10.0.0.1:5555", "1.2.3.4, 10.0.0.2")
	f.Add(uint8(1), "10.0.0.1:5555", "6.6.6.6, 1.2.3.4, 10.0.0.2")
	f.Add(uint8(1), "10.0.0.1:5555", "10.9.9.9, 10.0.0.2")
	f.Add(uint8(1), "10.0.0.1:5555", "garbage, 10.0.0.2")
	f.Add(uint8(1), "10.0.0.1:5555", "1.2.3.4\n5.6.7.8")
	f.Add(uint8(1), "10.0.0.1:5555", "::ffff:10.0.0.9")
	f.Add(uint8(1), "10.0.0.1:5555", "[2001:db8::1]")
	f.Add(uint8(1), "10.0.0.1:5555", "")
	f.Add(uint8(2), "[fd00::1]:443", "2001:db8::1, fd12::3")
	f.Add(uint8(2), "[::ffff:10.0.0.1]:443", "1.2.3.4")
	f.Add(uint8(3), "127.0.0.1:1", "127.0.0.2")
	f.Add(uint8(3), "[::1]:1", " 1.2.3.4 ")
	f.Add(uint8(4), "10.1.2.3:9", "1.2.3.4")
	f.Add(uint8(1), "10.0.0.1", "1.2.3.4")
	f.Add(uint8(1), "not-an-address", "1.2.3.4")
	f.Fuzz(func(t *testing.T, set uint8, remoteAddr, xff string) {
		trusted := trustSets[int(set)%len(trustSets)]
		r := &http.Request{RemoteAddr: remoteAddr, Header: http.Header{}}
		if xff != "" {
			r.Header["X-Forwarded-For"] = strings.Split(xff, "\n")
		}
		got := ipExtractor(trusted)(r)

		host, _, err := net.SplitHostPort(remoteAddr)
		if err != nil || net.ParseIP(host) == nil {
			// net/http sets RemoteAddr from the connection, always
			// ip:port; for anything else it is enough not to panic.
			return
		}
		direct := host
		if len(trusted) == 0 || !trustedBy(trusted, direct) {
			if got != direct && !sameIP(got, direct) && !(got == "" && net.ParseIP(direct) == nil) {
				t.Fatalf("peer %q (trusted %v) with X-Forwarded-For %q: got %q, want the peer", remoteAddr, trusted, xff, got)
			}
			return
		}
		if sameIP(got, direct) {
			return
		}
		// got must be an element of the header with only trusted
		// addresses to its right.
		var entries []string
		if xff != "" {
			entries = strings.Split(strings.ReplaceAll(xff, "\n", ","), ",")
		}
		for i := len(entries) - 1; i >= 0; i-- {
			e := xffEntry(entries[i])
			if sameIP(e, got) || e == got {
				return
			}
			if !trustedBy(trusted, e) {
				t.Fatalf("peer %q, X-Forwarded-For %q: got %q, from behind the untrusted hop %q", remoteAddr, xff, got, e)
			}
		}
		t.Fatalf("peer %q, X-Forwarded-For %q: got %q, which is neither the peer nor in the header", remoteAddr, xff, got)
	})
}
