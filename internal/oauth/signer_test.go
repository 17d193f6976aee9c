package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/signet-idp/signet/internal/keys"
	"github.com/signet-idp/signet/internal/storage"
)

func idTokenClaims(aud string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": "https://id.example.com", "sub": "user-1", "aud": []string{aud},
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "auth_time": now.Unix(),
		"nonce": "nonce-0123456789", "sid": "session-1", "preferred_username": "alice",
		"email": "alice@example.com", "email_verified": true, "roles": []string{"admin", "user"},
	}
}

// tokenEndpointContext is the context fosite's token endpoint hands the
// ID token strategy: the access response (with the access token) and the
// access request (with the client) in it.
func tokenEndpointContext(c storage.Client, accessToken string) context.Context {
	resp := fosite.NewAccessResponse()
	resp.SetAccessToken(accessToken)
	req := fosite.NewAccessRequest(NewSession())
	req.Client = &Client{Client: c}
	ctx := context.WithValue(context.Background(), fosite.AccessResponseContextKey, resp)
	return context.WithValue(ctx, fosite.AccessRequestContextKey, req)
}

// Every algorithm signs with its own current key, names it in kid, and
// the token verifies with go-oidc against the published keys, at_hash
// included (SHA-512 for EdDSA, SHA-256 otherwise).
func TestSignerPerAlgorithm(t *testing.T) {
	p, _, _ := newTestProvider(t)
	const accessToken = "opaque-access-token.signature"
	pub, _ := p.signer.keys.PublicKeys(context.Background())
	ks := &gooidc.StaticKeySet{}
	for _, k := range pub {
		ks.PublicKeys = append(ks.PublicKeys, k.Key)
	}
	for _, alg := range keys.SupportedAlgorithms() {
		t.Run(alg, func(t *testing.T) {
			ctx := tokenEndpointContext(storage.Client{ID: "rp-1", IDTokenSignedResponseAlg: alg}, accessToken)
			ctx = withAlg(ctx, alg)
			claims := idTokenClaims("rp-1")
			sum := sha256.Sum256([]byte(accessToken)) // what fosite computes
			claims["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:16])
			raw, sig, err := p.signer.Generate(ctx, claims, &jwt.Headers{})
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := p.signer.GetSignature(ctx, raw); got != sig {
				t.Fatal("signature part mismatch")
			}
			jws, err := jose.ParseSigned(raw, idTokenAlgorithms)
			if err != nil {
				t.Fatal(err)
			}
			h := jws.Signatures[0].Header
			k, _ := p.signer.keys.Current(ctx, alg)
			if h.Algorithm != alg || h.KeyID != k.ID || h.ExtraHeaders["typ"] != "JWT" {
				t.Fatalf("header alg=%s kid=%s typ=%v; want %s, %s, JWT", h.Algorithm, h.KeyID, h.ExtraHeaders["typ"], alg, k.ID)
			}
			v := gooidc.NewVerifier("https://id.example.com", ks, &gooidc.Config{ClientID: "rp-1", SupportedSigningAlgs: []string{alg}})
			idt, err := v.Verify(context.Background(), raw)
			if err != nil {
				t.Fatalf("go-oidc: %v", err)
			}
			if err := idt.VerifyAccessToken(accessToken); err != nil {
				t.Fatalf("at_hash: %v", err)
			}
			if alg == keys.AlgEdDSA {
				sum := sha512.Sum512([]byte(accessToken))
				if claims["at_hash"] != base64.RawURLEncoding.EncodeToString(sum[:32]) {
					t.Fatal("EdDSA at_hash is not the left half of SHA-512")
				}
			}
			// id_token_hint goes through Decode: every algorithm reads back.
			tok, err := p.signer.Decode(ctx, raw)
			if err != nil || tok.Claims["sub"] != "user-1" || tok.Header["kid"] != k.ID {
				t.Fatalf("Decode: %+v, %v", tok, err)
			}
			if _, err := p.signer.Validate(ctx, raw); err != nil {
				t.Fatal(err)
			}
			if _, err := p.signer.Decode(ctx, raw[:len(raw)-6]+"AAAAAA"); err == nil {
				t.Fatal("tampered token decoded")
			}
		})
	}
}

// The strategy takes the algorithm from the client the token endpoint
// authenticated; no registration means RS256.
func TestIDTokenStrategyPicksClientAlgorithm(t *testing.T) {
	var seen string
	s := idTokenStrategy{inner: strategyFunc(func(ctx context.Context) { seen = algFrom(ctx) })}
	for reg, want := range map[string]string{"": keys.AlgRS256, keys.AlgES256: keys.AlgES256, keys.AlgEdDSA: keys.AlgEdDSA} {
		ctx := tokenEndpointContext(storage.Client{ID: "c", IDTokenSignedResponseAlg: reg}, "at")
		if _, err := s.GenerateIDToken(ctx, time.Hour, fosite.NewAccessRequest(NewSession())); err != nil {
			t.Fatal(err)
		}
		if seen != want {
			t.Fatalf("client alg %q: signed with %s, want %s", reg, seen, want)
		}
	}
}

type strategyFunc func(ctx context.Context)

func (f strategyFunc) GenerateIDToken(ctx context.Context, _ time.Duration, _ fosite.Requester) (string, error) {
	f(ctx)
	return "", nil
}

// An algorithm without a current key is an error, not an RS256 token the
// client would reject.
func TestSignerRefusesAlgorithmWithoutKey(t *testing.T) {
	p, _, _ := newTestProvider(t)
	p.signer.keys = onlyRS256{p.signer.keys}
	if _, _, err := p.signer.Generate(withAlg(context.Background(), keys.AlgES256), idTokenClaims("c"), &jwt.Headers{}); err == nil {
		t.Fatal("signed ES256 without an ES256 key")
	}
}

type onlyRS256 struct{ keys.Provider }

func (o onlyRS256) Current(ctx context.Context, alg string) (keys.SigningKey, error) {
	if alg != keys.AlgRS256 && alg != "" {
		return keys.SigningKey{}, keys.ErrNoKey
	}
	return o.Provider.Current(ctx, alg)
}

// BenchmarkIDTokenSigning signs a realistic ID token with each algorithm's
// current key, as the token endpoint does.
func BenchmarkIDTokenSigning(b *testing.B) {
	p, _, _ := newTestProvider(b)
	for _, alg := range keys.SupportedAlgorithms() {
		b.Run(alg, func(b *testing.B) {
			ctx := withAlg(tokenEndpointContext(storage.Client{ID: "rp-1"}, "opaque-access-token.sig"), alg)
			b.ReportAllocs()
			for b.Loop() {
				claims := idTokenClaims("rp-1")
				claims["at_hash"] = "x"
				if _, _, err := p.signer.Generate(ctx, claims, &jwt.Headers{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
