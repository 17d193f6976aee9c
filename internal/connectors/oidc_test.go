package connectors

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// fakeOP is a minimal OpenID provider: discovery, JWKS, a token endpoint
// that checks PKCE and answers an ID token with the claims the test sets,
// and userinfo.
type fakeOP struct {
	t      *testing.T
	srv    *httptest.Server
	signer jose.Signer
	key    *rsa.PrivateKey

	mu       sync.Mutex
	claims   map[string]any // ID token claims (iss, aud, exp added)
	userinfo map[string]any
	codes    map[string]string // code → PKCE challenge
	nonces   map[string]string // code → nonce from the authorization request
}

func newFakeOP(t *testing.T) *fakeOP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	op := &fakeOP{t: t, signer: signer, key: key, codes: map[string]string{}, nonces: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		u := op.srv.URL
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": u, "authorization_endpoint": u + "/auth", "token_endpoint": u + "/token",
			"jwks_uri": u + "/jwks", "userinfo_endpoint": u + "/userinfo", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /token", op.token)
	mux.HandleFunc("GET /userinfo", func(w http.ResponseWriter, r *http.Request) {
		op.mu.Lock()
		defer op.mu.Unlock()
		_ = json.NewEncoder(w).Encode(op.userinfo)
	})
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

// authorize plays the browser at the authorization endpoint: it returns
// the code the provider would send back for authURL.
func (op *fakeOP) authorize(authURL string) string {
	u, _ := url.Parse(authURL)
	q := u.Query()
	code := randomTokenT(op.t)
	op.mu.Lock()
	op.codes[code] = q.Get("code_challenge")
	op.nonces[code] = q.Get("nonce")
	op.mu.Unlock()
	return code
}

func randomTokenT(t *testing.T) string {
	s, err := randomToken()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (op *fakeOP) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	op.mu.Lock()
	defer op.mu.Unlock()
	challenge, ok := op.codes[r.Form.Get("code")]
	sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
	if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
		return
	}
	claims := map[string]any{"iss": op.srv.URL, "aud": "rp", "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
		"nonce": op.nonces[r.Form.Get("code")]}
	for k, v := range op.claims {
		claims[k] = v
	}
	raw, err := jwt.Signed(op.signer).Claims(claims).Serialize()
	if err != nil {
		op.t.Error(err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "id_token": raw})
}

func (op *fakeOP) set(claims, userinfo map[string]any) {
	op.mu.Lock()
	op.claims, op.userinfo = claims, userinfo
	op.mu.Unlock()
}

// TestOIDCUpstream drives the oidc connector (and the google preset's hd
// check) against the fake provider.
func TestOIDCUpstream(t *testing.T) {
	op := newFakeOP(t)
	ctx := context.Background()
	svc, _ := newService(t, nil)
	// The google preset's issuer is fixed; its checks are the oidc
	// connector's with google set, tested here on the fake issuer.
	up := func(google bool, hd ...string) *oidcUpstream {
		return &oidcUpstream{id: "x", clientID: "rp", clientSecret: "s", google: google, client: svc.client, providers: svc.providers,
			s: Settings{Issuer: op.srv.URL, HostedDomains: hd}}
	}
	run := func(u *oidcUpstream, mutate func(*Flow)) (Identity, error) {
		f := Flow{State: randomTokenT(t), Nonce: randomTokenT(t), Verifier: randomTokenT(t)}
		authURL, err := u.authURL(ctx, f, "https://id.example.com/cb")
		if err != nil {
			t.Fatal(err)
		}
		code := op.authorize(authURL)
		if mutate != nil {
			mutate(&f)
		}
		return u.identify(ctx, f, code, "https://id.example.com/cb")
	}
	base := map[string]any{"sub": "u1", "email": "ann@corp.example", "email_verified": true, "hd": "corp.example"}

	op.set(base, map[string]any{"sub": "u1", "name": "Ann", "groups": []string{"sre"}})
	id, err := run(up(false), nil)
	if err != nil || id.Subject != "u1" || id.Name != "Ann" || !id.EmailVerified || id.Claims["groups"][0] != "sre" {
		t.Fatalf("identify: %+v, %v", id, err)
	}
	if _, err := run(up(true, "corp.example"), nil); err != nil {
		t.Fatalf("allowed hosted domain: %v", err)
	}
	if _, err := run(up(true, "other.example"), nil); KindOf(err) != KindNotAllowed {
		t.Fatalf("other hosted domain: %v", err)
	}
	noHD := map[string]any{"sub": "u1", "email": "ann@gmail.com", "email_verified": true}
	op.set(noHD, map[string]any{"sub": "u1"})
	if _, err := run(up(true, "corp.example"), nil); KindOf(err) != KindNotAllowed {
		t.Fatalf("a consumer account (no hd) with a hosted-domain restriction: %v", err)
	}
	op.set(base, map[string]any{"sub": "u1"})
	if _, err := run(up(false), func(f *Flow) { f.Nonce = "another" }); KindOf(err) != KindNonce {
		t.Fatalf("nonce mismatch: %v", err)
	}
	if _, err := run(up(false), func(f *Flow) { f.Verifier = randomTokenT(t) }); KindOf(err) != KindRefused {
		t.Fatalf("PKCE verifier mismatch: %v", err)
	}
	op.set(base, map[string]any{"sub": "someone-else"})
	if _, err := run(up(false), nil); KindOf(err) != KindInvalid {
		t.Fatalf("userinfo for another subject: %v", err)
	}
	wrongAud := map[string]any{"sub": "u1", "aud": "another-rp"}
	op.set(wrongAud, map[string]any{"sub": "u1"})
	if _, err := run(up(false), nil); KindOf(err) != KindInvalid {
		t.Fatalf("ID token for another audience: %v", err)
	}
	expired := map[string]any{"sub": "u1", "exp": time.Now().Add(-time.Hour).Unix()}
	op.set(expired, map[string]any{"sub": "u1"})
	if _, err := run(up(false), nil); KindOf(err) != KindInvalid {
		t.Fatalf("expired ID token: %v", err)
	}
}
