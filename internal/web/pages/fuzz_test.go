package pages

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

// FuzzSafeReturnTo: a return_to that passes is returned unchanged and,
// resolved by a browser against any page of Signet, stays on Signet:
// same scheme and host, no credentials.
func FuzzSafeReturnTo(f *testing.F) {
	for _, s := range []string{
		"/account", "/account?tab=apps#x", "/", "//evil.example", "/\\evil.example", "\\\\evil.example",
		"/.//evil.example", "https://evil.example/", "javascript:alert(1)", "/%2F%2Fevil.example",
		"/\t/evil.example", "/\r\n/evil.example", "/a/../../evil", "/@evil.example", "/x:y", "/%zz",
		"/" + strings.Repeat("a", 1000), "", " /account", "/account\x7f",
	} {
		f.Add(s)
	}
	base, err := url.Parse("https://signet.example/login?login_challenge=x")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := SafeReturnTo(raw)
		if got == "" {
			return
		}
		if got != raw {
			t.Fatalf("SafeReturnTo(%q) = %q: changed", raw, got)
		}
		if len(raw) > 1000 || !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") ||
			strings.ContainsAny(raw, "\\\t\r\n") {
			t.Fatalf("SafeReturnTo let %q through", raw)
		}
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("SafeReturnTo let %q through, which does not parse", raw)
		}
		to := base.ResolveReference(u)
		if to.Scheme != base.Scheme || to.Host != base.Host || to.User != nil {
			t.Fatalf("SafeReturnTo let %q through: it leads to %s", raw, to)
		}
	})
}

// FuzzFormActionSource: what formActionSource makes of a registered
// redirect URI goes into the Content-Security-Policy header as one
// source: it is empty, an http(s) origin of the URI itself, or a bare
// scheme; never anything that could end the source or the directive, or
// widen it to a wildcard.
func FuzzFormActionSource(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com/cb", "http://127.0.0.1:9999/cb", "http://[::1]:8080/cb", "HTTPS://APP.example/cb",
		"com.example.app:/cb", "myapp://callback", "https://app.example.com;script-src *",
		"https://app.example.com cb", "https://*.example.com/cb", "https://app.example.com:99999999/cb",
		"https://user@app.example.com/cb", "https://'unsafe-inline'/", "javascript:alert(1)", "x;y:z", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		src := formActionSource(uri)
		if src == "" {
			return
		}
		if strings.ContainsAny(src, " \t\r\n;,'\"*") || strings.ContainsFunc(src, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			t.Fatalf("formActionSource(%q) = %q: not a single CSP source", uri, src)
		}
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatalf("formActionSource(%q) = %q for a URI that does not parse", uri, src)
		}
		scheme := strings.ToLower(u.Scheme)
		switch scheme {
		case "http", "https":
			if src != scheme+"://"+u.Host || u.Host == "" {
				t.Fatalf("formActionSource(%q) = %q: not the URI's origin", uri, src)
			}
		default:
			if src != scheme+":" {
				t.Fatalf("formActionSource(%q) = %q: not the URI's scheme", uri, src)
			}
		}
	})
}

// FuzzIDTokenHint: id_token_hint is verified against the keys in storage:
// only a token signed by one of them, for our issuer, with sub and aud,
// verifies, and then to exactly the claims that were signed. Nothing
// else does (other keys, alg none, HMAC with the public key as secret,
// tampering), and nothing panics.
func FuzzIDTokenHint(f *testing.F) {
	const issuer = "https://signet.example"
	seed := func(s string) []byte { sum := sha256.Sum256([]byte(s)); return sum[:] }
	// Fixed keys: the fuzzing workers are separate processes and must
	// agree on what was signed.
	edKey := ed25519.NewKeyFromSeed(seed("ed"))
	ecKey, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), seed("ec"))
	if err != nil {
		f.Fatal(err)
	}
	otherKey := ed25519.NewKeyFromSeed(seed("other"))
	st := memory.New()
	for _, k := range []struct {
		kid, alg string
		pub      crypto.PublicKey
	}{{"k-ed", "EdDSA", edKey.Public()}, {"k-ec", "ES256", ecKey.Public()}} {
		pub, err := json.Marshal(jose.JSONWebKey{Key: k.pub, KeyID: k.kid, Algorithm: k.alg, Use: "sig"})
		if err != nil {
			f.Fatal(err)
		}
		if err := st.CreateKey(f.Context(), storage.SigningKey{ID: k.kid, Algorithm: k.alg, State: storage.KeyCurrent,
			PrivateKey: []byte("x"), PublicKey: pub, CreatedAt: time.Now()}); err != nil {
			f.Fatal(err)
		}
	}
	v := KeyStoreHintVerifier{Keys: st, Issuer: issuer}

	type claims struct {
		jwt.Claims
		AuthorizedParty string `json:"azp,omitempty"`
		SessionID       string `json:"sid,omitempty"`
	}
	// signed are the claims Signet's keys ever signed in this test.
	signed := []HintClaims{
		{Subject: "u1", Audience: []string{"photo"}, SessionID: "s1"},
		{Subject: "u2", Audience: []string{"a", "b"}, AuthorizedParty: "a"},
	}
	sign := func(alg jose.SignatureAlgorithm, key any, kid string, c claims) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
		if err != nil {
			f.Fatal(err)
		}
		raw, err := jwt.Signed(s).Claims(c).Serialize()
		if err != nil {
			f.Fatal(err)
		}
		return raw
	}
	toClaims := func(h HintClaims) claims {
		return claims{Claims: jwt.Claims{Issuer: issuer, Subject: h.Subject, Audience: h.Audience,
			Expiry: jwt.NewNumericDate(time.Unix(1700000000, 0))}, AuthorizedParty: h.AuthorizedParty, SessionID: h.SessionID}
	}
	good := sign(jose.EdDSA, edKey, "k-ed", toClaims(signed[0]))
	goodEC := sign(jose.ES256, ecKey, "k-ec", toClaims(signed[1]))
	for _, raw := range []string{good, goodEC} {
		if _, err := v.VerifyIDTokenHint(f.Context(), raw); err != nil {
			f.Fatalf("a genuine hint does not verify: %v", err)
		}
	}
	f.Add(good)
	f.Add(goodEC)
	f.Add(sign(jose.EdDSA, otherKey, "k-ed", toClaims(signed[0])))
	f.Add(sign(jose.EdDSA, edKey, "k-ec", toClaims(signed[0])))
	f.Add(sign(jose.EdDSA, edKey, "nope", toClaims(signed[0])))
	f.Add(sign(jose.EdDSA, edKey, "", toClaims(signed[0])))
	evil := toClaims(signed[0])
	evil.Issuer = "https://evil.example"
	f.Add(sign(jose.EdDSA, otherKey, "k-ed", evil))
	// HMAC keyed with the public key's bytes: the classic algorithm confusion.
	f.Add(sign(jose.HS256, []byte(edKey.Public().(ed25519.PublicKey)), "k-ed", toClaims(signed[0])))
	parts := strings.Split(good, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"k-ed"}`))
	f.Add(none + "." + parts[1] + ".")
	f.Add(parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+issuer+`","sub":"admin","aud":"photo"}`)) + "." + parts[2])
	f.Add(parts[0] + "." + parts[1] + "." + parts[2] + "A")
	f.Add(parts[0] + "." + parts[1])
	f.Add("")
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := v.VerifyIDTokenHint(t.Context(), raw)
		if err != nil {
			return
		}
		for _, want := range signed {
			if got.Subject == want.Subject && slices.Equal(got.Audience, want.Audience) &&
				got.AuthorizedParty == want.AuthorizedParty && got.SessionID == want.SessionID {
				return
			}
		}
		t.Fatalf("hint %q verified to claims %+v that no key of ours signed", raw, got)
	})
}
