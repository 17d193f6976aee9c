package clients

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Grant types, response types and scopes a client may be registered with.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"

	ResponseTypeCode = "code"
)

// Defaults applied when a registration leaves a list empty (CONTRACT.md).
var (
	defaultGrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
	defaultScopes     = []string{"openid", "profile", "email", "roles", "offline_access"}
)

// DefaultGrantTypes returns the grant types of a registration that names
// none.
func DefaultGrantTypes() []string { return append([]string(nil), defaultGrantTypes...) }

// DefaultScopes returns the scopes of a registration that names none; they
// are also every scope Signet knows.
func DefaultScopes() []string { return append([]string(nil), defaultScopes...) }

const (
	maxNameLength = 200
	maxURILength  = 2000
	maxURIs       = 50
)

// schemePattern is RFC 3986's scheme syntax.
var schemePattern = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)

// forbiddenSchemes can run code or read local data in a browser or app, or
// name flows we do not support (urn: covers the deprecated
// urn:ietf:wg:oauth:2.0:oob), so they are never redirect targets.
var forbiddenSchemes = map[string]bool{
	"javascript": true, "data": true, "vbscript": true, "file": true, "about": true,
	"blob": true, "filesystem": true, "urn": true, "mailto": true, "ftp": true, "ws": true, "wss": true,
}

// ValidateRedirectURI checks one redirect URI (or post-logout redirect URI):
// absolute, no fragment, no wildcard, no credentials; https anywhere, http
// only for loopback hosts (localhost, 127.0.0.0/8, [::1], as RFC 8252 allows
// for native apps); a private-use scheme (com.example.app:/cb) for native
// apps. field names the input in the error.
func ValidateRedirectURI(field, raw string) error {
	bad := func(format string, args ...any) error {
		return invalid(field, "%q: %s", raw, fmt.Sprintf(format, args...))
	}
	if raw == "" {
		return invalid(field, "must not contain an empty URI")
	}
	if len(raw) > maxURILength {
		return invalid(field, "URIs must be at most %d characters", maxURILength)
	}
	// Ranging over invalid UTF-8 yields U+FFFD, a valid rune, so the
	// string as a whole is checked (PostgreSQL refuses to store it).
	if !utf8.ValidString(raw) {
		return bad("must be valid UTF-8")
	}
	for _, r := range raw {
		if r <= ' ' || unicode.IsControl(r) || unicode.IsSpace(r) {
			return bad("must not contain spaces or control characters")
		}
	}
	if strings.Contains(raw, "#") {
		return bad("must not contain a fragment (#)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("is not a valid URI")
	}
	if u.Scheme == "" {
		return bad("must be an absolute URI with a scheme")
	}
	// Redirect URIs match exactly, so only the canonical lower-case scheme
	// is accepted (url.Parse would lower-case it silently).
	if !strings.HasPrefix(raw, u.Scheme+":") || !schemePattern.MatchString(u.Scheme) {
		return bad("the scheme must be lower-case letters, digits, '+', '-' or '.'")
	}
	if u.User != nil {
		return bad("must not contain user credentials")
	}
	if strings.Contains(u.Host, "*") {
		return bad("wildcards are not supported: redirect URIs match exactly")
	}
	switch {
	case u.Scheme == "https":
		if u.Hostname() == "" {
			return bad("must name a host")
		}
	case u.Scheme == "http":
		if u.Hostname() == "" {
			return bad("must name a host")
		}
		if !isLoopback(u.Hostname()) {
			return bad("http is allowed only for loopback hosts (localhost, 127.0.0.1, [::1]); use https")
		}
	case forbiddenSchemes[u.Scheme]:
		return bad("the scheme %q is not allowed", u.Scheme)
	default:
		// Private-use scheme of a native app: com.example.app:/callback
		// or myapp://callback. It must lead somewhere.
		if u.Host == "" && u.Path == "" && u.Opaque == "" {
			return bad("must have a path after the scheme")
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// cleanURIs validates and de-duplicates a URI list, keeping its order.
func cleanURIs(field string, uris []string) ([]string, error) {
	if len(uris) > maxURIs {
		return nil, invalid(field, "at most %d URIs", maxURIs)
	}
	out := make([]string, 0, len(uris))
	seen := make(map[string]bool, len(uris))
	for _, u := range uris {
		u = strings.TrimSpace(u)
		if err := ValidateRedirectURI(field, u); err != nil {
			return nil, err
		}
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out, nil
}

// cleanSet de-duplicates values and checks each is allowed, keeping order.
func cleanSet(field string, values []string, allowed []string) ([]string, error) {
	out := make([]string, 0, len(values))
	seen := make(map[string]bool, len(values))
	for _, v := range values {
		v = strings.TrimSpace(v)
		if !slices.Contains(allowed, v) {
			return nil, invalid(field, "%q is not supported (one of: %s)", v, strings.Join(allowed, ", "))
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out, nil
}

// printable reports valid UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
