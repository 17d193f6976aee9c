package clients

import (
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	jose "github.com/go-jose/go-jose/v4"
)

// FuzzValidateRedirectURI: a redirect URI that passes is absolute, at most
// maxURILength bytes, without fragment, credentials, wildcard host,
// spaces or control characters, in valid UTF-8; its scheme is canonical (lower-case) and
// not a dangerous one; http only to a loopback host, https only with a
// host. Refusals are *ValidationError naming the field.
func FuzzValidateRedirectURI(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com/cb",
		"https://app.example.com/cb?x=1",
		"https://app.example.com:8443/cb",
		"http://localhost:8080/cb",
		"http://127.0.0.1/cb",
		"http://[::1]:9000/cb",
		"http://127.1/cb",
		"http://localhost.evil.example/cb",
		"http://127.0.0.1.evil.example/cb",
		"http://app.example.com/cb",
		"https://app.example.com/cb#frag",
		"https://app.example.com/cb%23frag",
		"https://user:pass@app.example.com/cb",
		"https://@app.example.com/cb",
		"https://app.example.com\\@evil.example/cb",
		"https://*.example.com/cb",
		"HTTPS://app.example.com/cb",
		"com.example.app:/callback",
		"myapp://callback",
		"myapp:",
		"javascript:alert(1)",
		"JavaScript:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		"urn:ietf:wg:oauth:2.0:oob",
		"//app.example.com/cb",
		"/cb",
		"https:///cb",
		"https://app.example.com/c b",
		"https://app.example.com/cb\u00a0",
		"https://app.example.com/cb\u2028",
		"https://xn--pple-43d.com/cb",
		"https://аpple.com/cb",
		"https://[::1/cb",
		"https://app.example.com:99999/cb",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := ValidateRedirectURI("redirect_uris", raw)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != "redirect_uris" {
				t.Fatalf("%q: error %v is not a ValidationError for the field", raw, err)
			}
			return
		}
		fail := func(why string) { t.Fatalf("%q accepted: %s", raw, why) }
		if raw == "" || len(raw) > maxURILength {
			fail("empty or over-long")
		}
		if strings.Contains(raw, "#") {
			fail("it has a fragment")
		}
		if !utf8.ValidString(raw) {
			fail("it is not valid UTF-8 (PostgreSQL would refuse to store it)")
		}
		for _, r := range raw {
			if r <= ' ' || r == 0x7f || unicode.IsSpace(r) || unicode.IsControl(r) {
				fail("it has a space or control character")
			}
		}
		u, err := url.Parse(raw)
		if err != nil {
			fail("it does not parse")
		}
		if u.User != nil || strings.Contains(u.Host, "@") {
			fail("it carries credentials")
		}
		if strings.Contains(u.Host, "*") {
			fail("it has a wildcard")
		}
		if u.Scheme == "" || u.Scheme != strings.ToLower(u.Scheme) || !strings.HasPrefix(raw, u.Scheme+":") {
			fail("the scheme is missing or not canonical")
		}
		if forbiddenSchemes[u.Scheme] {
			fail("the scheme is forbidden")
		}
		switch u.Scheme {
		case "http":
			h := u.Hostname()
			ip := net.ParseIP(h)
			if !strings.EqualFold(h, "localhost") && (ip == nil || !ip.IsLoopback()) {
				fail("http to a host that is not loopback")
			}
		case "https":
			if u.Hostname() == "" {
				fail("https without a host")
			}
		}
	})
}

// FuzzParseJWKS: a client's key set (admin API, dynamic registration, a
// fetched jwks_uri) never panics the parser; a set that passes holds 1 to
// maxJWKSKeys public signing keys, each usable for one of
// AssertionAlgorithms. Refusals are *ValidationError naming jwks.
func FuzzParseJWKS(f *testing.F) {
	for _, s := range []string{
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}`,
		`{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`,
		`{"keys":[{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"RS256","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`,
		`{"keys":[]}`, `{"keys":null}`, `{}`, `[]`, `null`, ``, `{"keys":[{}]}`, `{"keys":[{"kty":"RSA","n":"AQ","e":"AQAB"}]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		set, err := ParseJWKS(raw)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != "jwks" {
				t.Fatalf("refusal %v is not a ValidationError naming jwks", err)
			}
			return
		}
		if len(set.Keys) == 0 || len(set.Keys) > maxJWKSKeys {
			t.Fatalf("accepted %d keys", len(set.Keys))
		}
		for _, k := range set.Keys {
			usable := false
			for _, alg := range AssertionAlgorithms {
				usable = usable || (k.Algorithm == "" || k.Algorithm == alg) && KeyMatchesAlgorithm(jwkWithoutAlg(k), alg)
			}
			if !k.IsPublic() || !usable {
				t.Fatalf("accepted key %+v", k)
			}
		}
	})
}

// jwkWithoutAlg drops the key's alg so KeyMatchesAlgorithm judges the key
// type alone.
func jwkWithoutAlg(k jose.JSONWebKey) jose.JSONWebKey { k.Algorithm = ""; return k }
