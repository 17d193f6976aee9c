package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/signet-idp/signet/internal/adminapi"
	"github.com/signet-idp/signet/internal/adminclient"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/storage"
)

// formPostFields reads the hidden inputs of a response_mode=form_post page.
func formPostFields(t *testing.T, body string) url.Values {
	t.Helper()
	out := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(body, -1) {
		out.Add(m[1], m[2])
	}
	return out
}

// TestProtocolE2EAuthorizationResponseIssuer: RFC 9207. Discovery says so,
// and every authorization response — code or error, query or form_post —
// names the issuer; the relying party (x/oauth2) still redeems the code.
func TestProtocolE2EAuthorizationResponseIssuer(t *testing.T) {
	x := newE2E(t)
	var d map[string]any
	if err := x.provider.Claims(&d); err != nil {
		t.Fatal(err)
	}
	if d["authorization_response_iss_parameter_supported"] != true {
		t.Fatalf("discovery: authorization_response_iss_parameter_supported = %v", d["authorization_response_iss_parameter_supported"])
	}
	u := x.newUser("user")
	r := x.newRP(adminclient.ClientRegistration{})

	t.Run("code, query", func(t *testing.T) {
		f := r.authorize()
		loc, _ := r.complete(f, u, r.conf.Scopes, true)
		if loc.Query().Get("iss") != x.ts.PublicURL || loc.Query().Get("code") == "" {
			t.Fatalf("callback %s: want code and iss %s", loc, x.ts.PublicURL)
		}
		if _, err := r.conf.Exchange(x.ctx, loc.Query().Get("code"), oauth2.VerifierOption(f.verifier)); err != nil {
			t.Fatalf("exchange: %v", err)
		}
	})
	t.Run("access_denied, query", func(t *testing.T) {
		f := r.authorize()
		loc, _ := r.complete(f, u, nil, false)
		if loc.Query().Get("error") != "access_denied" || loc.Query().Get("iss") != x.ts.PublicURL || loc.Query().Get("state") != f.state {
			t.Fatalf("callback %s: want access_denied, state and iss", loc)
		}
	})
	t.Run("code, form_post", func(t *testing.T) {
		f := r.authorize(oauth2.SetAuthURLParam("response_mode", "form_post"))
		ch := x.challenges()
		s := r.signIn(u)
		if err := ch.AcceptLogin(x.ctx, f.challenge, u.ID, s.ID, s.AuthTime); err != nil {
			t.Fatal(err)
		}
		if err := ch.DecideConsent(x.ctx, f.challenge, r.conf.Scopes, true); err != nil {
			t.Fatal(err)
		}
		resp := r.get(x.ts.PublicURL + "/oauth2/auth/resume?login_challenge=" + url.QueryEscape(f.challenge))
		body := readBody(resp)
		v := formPostFields(t, body)
		if resp.StatusCode != http.StatusOK || v.Get("iss") != x.ts.PublicURL || v.Get("code") == "" || v.Get("state") != f.state {
			t.Fatalf("form_post answer %d %v: want code, state and iss", resp.StatusCode, v)
		}
	})
	t.Run("login_required, form_post", func(t *testing.T) {
		fresh := x.newRP(adminclient.ClientRegistration{})
		resp := fresh.get(fresh.conf.AuthCodeURL("state-formpost1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("response_mode", "form_post")))
		v := formPostFields(t, readBody(resp))
		if v.Get("error") != "login_required" || v.Get("iss") != x.ts.PublicURL || v.Get("state") != "state-formpost1" {
			t.Fatalf("form_post error %d %v: want login_required, state and iss", resp.StatusCode, v)
		}
	})
}

// storeClient registers a confidential client with a chosen id directly in
// the store (the server's flags must name some clients before they exist)
// and returns it as a relying party.
func (x *e2e) storeClient(id string, mod func(*storage.Client)) *rp {
	x.t.Helper()
	secret, err := clients.NewSecret()
	if err != nil {
		x.t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	c := storage.Client{
		ID: id, SecretHash: clients.HashSecret(secret), Name: "Stored " + id,
		RedirectURIs: []string{rpRedirect}, GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"},
		ResponseTypes: []string{"code"}, Scopes: clients.DefaultScopes(), Audience: []string{},
		TokenEndpointAuthMethod: storage.AuthMethodClientSecretBasic, CreatedAt: now, UpdatedAt: now,
	}
	if mod != nil {
		mod(&c)
	}
	if err := x.ts.Store.CreateClient(x.ctx, c); err != nil {
		x.t.Fatal(err)
	}
	r := x.newRPFor(adminclient.OAuthClient{ClientID: id, ClientSecret: secret, RedirectURIs: c.RedirectURIs,
		TokenEndpointAuthMethod: c.TokenEndpointAuthMethod})
	return r
}

// TestProtocolE2EIntrospectionScope: a client sees only its own tokens as
// active; a resource server named in --introspection-clients sees every
// token.
func TestProtocolE2EIntrospectionScope(t *testing.T) {
	x := newE2E(t, func(c *config.Config) { c.IntrospectionClients = []string{"resource-server-1"} })
	u := x.newUser("user")
	app := x.newRP(adminclient.ClientRegistration{})
	other := x.newRP(adminclient.ClientRegistration{})
	rs := x.storeClient("resource-server-1", nil)
	tok, _, _ := app.login(u)

	for _, tc := range []struct {
		name   string
		caller *rp
		active bool
	}{{"the client itself", app, true}, {"another client", other, false}, {"the resource server", rs, true}} {
		for kind, token := range map[string]string{"access": tok.AccessToken, "refresh": tok.RefreshToken} {
			in := tc.caller.introspect(token)
			if in["active"] != tc.active {
				t.Errorf("%s introspecting the %s token: %v, want active %v", tc.name, kind, in, tc.active)
			}
			if !tc.active && len(in) != 1 {
				t.Errorf("%s learns more than active=false: %v", tc.name, in)
			}
			if tc.active && (in["client_id"] != app.client.ClientID || in["sub"] != u.ID) {
				t.Errorf("%s: %v", tc.name, in)
			}
		}
	}
}

// push sends an authorization request to the PAR endpoint (authenticated
// like the token endpoint) and returns the request_uri; f is the flow the
// request belongs to.
func (r *rp) push(extra url.Values) (string, flow, int, map[string]any) {
	r.x.t.Helper()
	f := flow{state: "st-" + randomName(), nonce: "nonce-" + randomName(), verifier: oauth2.GenerateVerifier()}
	u, _ := url.Parse(r.conf.AuthCodeURL(f.state, oauth2.S256ChallengeOption(f.verifier), gooidc.Nonce(f.nonce)))
	form := u.Query()
	for k, v := range extra {
		form[k] = v
	}
	basic := r.client.TokenEndpointAuthMethod == storage.AuthMethodClientSecretBasic
	if basic {
		form.Del("client_id")
	}
	if r.client.TokenEndpointAuthMethod == storage.AuthMethodClientSecretPost {
		form.Set("client_secret", r.client.ClientSecret)
	}
	st, body, _ := r.post("/oauth2/par", form, basic)
	uri, _ := body["request_uri"].(string)
	return uri, f, st, body
}

// authorizePushed sends the browser to the authorization endpoint with a
// request_uri and returns the parked login challenge.
func (r *rp) authorizePushed(f flow, requestURI string) flow {
	r.x.t.Helper()
	resp := r.get(r.x.ts.PublicURL + "/oauth2/auth?" + url.Values{"client_id": {r.client.ClientID}, "request_uri": {requestURI}}.Encode())
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Path != "/login" {
		r.x.t.Fatalf("authorize with request_uri: %d %s %s", resp.StatusCode, loc, readBody(resp))
	}
	f.challenge = loc.Query().Get("login_challenge")
	return f
}

// TestProtocolE2EPushedAuthorizationRequests: RFC 9126 with x/oauth2 and
// go-oidc: a pushed request goes through login and consent to a code whose
// ID token carries the pushed nonce; a request_uri works once and not after
// its lifespan; a client that requires PAR is refused without it.
func TestProtocolE2EPushedAuthorizationRequests(t *testing.T) {
	x := newE2E(t)
	var d map[string]any
	if err := x.provider.Claims(&d); err != nil {
		t.Fatal(err)
	}
	if d["pushed_authorization_request_endpoint"] != x.ts.PublicURL+"/oauth2/par" || d["require_pushed_authorization_requests"] != nil {
		t.Fatalf("discovery: PAR endpoint %v, required %v", d["pushed_authorization_request_endpoint"], d["require_pushed_authorization_requests"])
	}
	u := x.newUser("user")

	for _, method := range []string{"client_secret_basic", "client_secret_post", "none"} {
		t.Run("round trip, "+method, func(t *testing.T) {
			r := x.newRP(adminclient.ClientRegistration{TokenEndpointAuthMethod: method})
			uri, f, st, body := r.push(nil)
			if st != http.StatusCreated || !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || body["expires_in"] != float64(90) {
				t.Fatalf("PAR: %d %v", st, body)
			}
			f = r.authorizePushed(f, uri)
			loc, _ := r.complete(f, u, r.conf.Scopes, true)
			if loc.Query().Get("state") != f.state || loc.Query().Get("iss") != x.ts.PublicURL || loc.Query().Get("code") == "" {
				t.Fatalf("callback %s", loc)
			}
			tok, err := r.conf.Exchange(x.ctx, loc.Query().Get("code"), oauth2.VerifierOption(f.verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			idt, _, _ := r.verify(tok)
			if idt.Nonce != f.nonce || idt.Subject != u.ID {
				t.Fatalf("ID token nonce %q sub %q", idt.Nonce, idt.Subject)
			}
			// Used once: the same request_uri again is refused on a page
			// (its redirect URI is unknown without the pushed request).
			resp := r.get(x.ts.PublicURL + "/oauth2/auth?" + url.Values{"client_id": {r.client.ClientID}, "request_uri": {uri}}.Encode())
			if b := readBody(resp); resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(b, "invalid_request_uri") {
				t.Fatalf("request_uri reused: %d %s", resp.StatusCode, b)
			}
		})
	}

	r := x.newRP(adminclient.ClientRegistration{})
	t.Run("refused pushes", func(t *testing.T) {
		for name, tc := range map[string]struct {
			form url.Values
			code string
		}{
			"unregistered redirect_uri": {url.Values{"redirect_uri": {"http://127.0.0.1:7777/elsewhere"}}, "invalid_request"},
			"request_uri inside":        {url.Values{"request_uri": {"urn:ietf:params:oauth:request_uri:abc"}}, "invalid_request"},
			"PKCE plain":                {url.Values{"code_challenge_method": {"plain"}}, "invalid_request"},
			"scope not allowed":         {url.Values{"scope": {"openid admin"}}, "invalid_scope"},
		} {
			if _, _, st, body := r.push(tc.form); st != http.StatusBadRequest || body["error"] != tc.code {
				t.Errorf("%s: %d %v, want 400 %s", name, st, body, tc.code)
			}
		}
		bad := *r
		bad.client.ClientSecret = "wrong"
		if _, _, st, body := bad.push(nil); st != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("wrong secret: %d %v", st, body)
		}
	})
	t.Run("parameters beside request_uri are ignored", func(t *testing.T) {
		uri, f, _, _ := r.push(nil)
		resp := r.get(x.ts.PublicURL + "/oauth2/auth?" + url.Values{"client_id": {r.client.ClientID}, "request_uri": {uri},
			"state": {"forged-state"}, "redirect_uri": {"http://127.0.0.1:7777/elsewhere"}}.Encode())
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("authorize: %d %s", resp.StatusCode, readBody(resp))
		}
		loc, _ := url.Parse(resp.Header.Get("Location"))
		f.challenge = loc.Query().Get("login_challenge")
		back, _ := r.complete(f, u, r.conf.Scopes, true)
		if back.Query().Get("state") != f.state || !strings.HasPrefix(back.String(), rpRedirect) {
			t.Fatalf("callback %s: want the pushed state and redirect URI", back)
		}
	})
	t.Run("client requires PAR", func(t *testing.T) {
		strict := x.newRP(adminclient.ClientRegistration{RequirePushedAuthorizationRequests: true})
		if !strict.client.RequirePushedAuthorizationRequests {
			t.Fatal("admin API did not keep require_pushed_authorization_requests")
		}
		resp := strict.get(strict.conf.AuthCodeURL("state-strict1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || loc.Query().Get("error") != "invalid_request" || !strings.HasPrefix(loc.String(), rpRedirect) ||
			!strings.Contains(loc.Query().Get("error_description"), "pushed") {
			t.Fatalf("unpushed request of a PAR client: %d %s", resp.StatusCode, loc)
		}
		uri, f, st, _ := strict.push(nil)
		if st != http.StatusCreated {
			t.Fatal(st)
		}
		f = strict.authorizePushed(f, uri)
		if back, _ := strict.complete(f, u, strict.conf.Scopes, true); back.Query().Get("code") == "" {
			t.Fatalf("pushed request of a PAR client: %s", back)
		}
	})
	// Last: the clock moves (later logins would be in fosite's future).
	t.Run("expired request_uri", func(t *testing.T) {
		uri, _, st, _ := r.push(nil)
		if st != http.StatusCreated {
			t.Fatal(st)
		}
		x.ts.Clock.Advance(91 * time.Second)
		resp := r.get(x.ts.PublicURL + "/oauth2/auth?" + url.Values{"client_id": {r.client.ClientID}, "request_uri": {uri}}.Encode())
		if b := readBody(resp); resp.StatusCode != http.StatusBadRequest || !strings.Contains(b, "invalid_request_uri") {
			t.Fatalf("expired request_uri: %d %s", resp.StatusCode, b)
		}
	})
}

// TestProtocolE2ERequirePAR: --require-par refuses every unpushed request
// and says so in discovery; --par=false removes the endpoint.
func TestProtocolE2ERequirePAR(t *testing.T) {
	x := newE2E(t, withMemoryStore(), func(c *config.Config) { c.RequirePAR = true })
	var d map[string]any
	if err := x.provider.Claims(&d); err != nil {
		t.Fatal(err)
	}
	if d["require_pushed_authorization_requests"] != true {
		t.Fatalf("discovery: require_pushed_authorization_requests = %v", d["require_pushed_authorization_requests"])
	}
	r := x.newRP(adminclient.ClientRegistration{})
	resp := r.get(r.conf.AuthCodeURL("state-strict1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Query().Get("error") != "invalid_request" {
		t.Fatalf("unpushed request: %d %s", resp.StatusCode, loc)
	}
	uri, f, _, _ := r.push(nil)
	r.authorizePushed(f, uri)

	off := newE2E(t, withMemoryStore(), func(c *config.Config) { c.PAR = false })
	d = map[string]any{}
	if err := off.provider.Claims(&d); err != nil {
		t.Fatal(err)
	}
	if _, ok := d["pushed_authorization_request_endpoint"]; ok || routeExists(t, off.ts.PublicURL+"/oauth2/par") {
		t.Fatalf("PAR off: discovery %v", d["pushed_authorization_request_endpoint"])
	}
}

// resourceServer checks access tokens as an API would with RFC 9068: the
// issuer's JWKS (fetched once, from discovery) and nothing else.
type resourceServer struct {
	t        *testing.T
	issuer   string
	audience string
	keys     jose.JSONWebKeySet
}

func newResourceServer(t *testing.T, x *e2e, audience string) *resourceServer {
	t.Helper()
	var d struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := x.provider.Claims(&d); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(d.JWKSURI)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rs := &resourceServer{t: t, issuer: x.ts.PublicURL, audience: audience}
	if err := json.NewDecoder(resp.Body).Decode(&rs.keys); err != nil {
		t.Fatal(err)
	}
	return rs
}

// atClaims are the RFC 9068 claims the tests look at.
type atClaims struct {
	josejwt.Claims
	ClientID string   `json:"client_id"`
	Scope    string   `json:"scope"`
	Roles    []string `json:"roles"`
}

// check verifies the token's signature with the JWKS, its typ, issuer,
// audience and lifetime, and returns its claims.
func (rs *resourceServer) check(token string) (atClaims, error) {
	tok, err := josejwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		return atClaims{}, err
	}
	if typ := tok.Headers[0].ExtraHeaders[jose.HeaderType]; typ != "at+jwt" {
		return atClaims{}, fmt.Errorf("typ %v, want at+jwt", typ)
	}
	keys := rs.keys.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		return atClaims{}, fmt.Errorf("kid %q is not in the JWKS", tok.Headers[0].KeyID)
	}
	var c atClaims
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		return atClaims{}, err
	}
	if err := c.Claims.Validate(josejwt.Expected{Issuer: rs.issuer, AnyAudience: josejwt.Audience{rs.audience}, Time: time.Now()}); err != nil {
		return atClaims{}, err
	}
	if c.ID == "" || c.IssuedAt == nil || c.Expiry == nil || c.Subject == "" {
		return atClaims{}, fmt.Errorf("claims %+v lack jti, iat, exp or sub", c)
	}
	return c, nil
}

// TestProtocolE2EJWTAccessTokens: a client registered for JWT access
// tokens gets RFC 9068 tokens that a resource server validates with the
// JWKS alone (aud from the resource asked for, else the client's
// audience); introspection and revocation still decide, while the JWT
// itself stays valid to an offline check until it expires. Other clients
// keep opaque tokens.
func TestProtocolE2EJWTAccessTokens(t *testing.T) {
	x := newE2E(t)
	u := x.newUser("admin", "user")
	const api, other = "https://api.example.com", "https://reports.example.com/v1"
	r := x.newRP(adminclient.ClientRegistration{AccessTokenFormat: "jwt", Audience: []string{api, other},
		GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"}})
	if r.client.AccessTokenFormat != "jwt" || !slices.Equal(r.client.Audience, []string{api, other}) {
		t.Fatalf("admin API: %+v", r.client)
	}
	rs := newResourceServer(t, x, api)

	t.Run("code flow with a resource", func(t *testing.T) {
		code, f, _ := r.code(u, oauth2.SetAuthURLParam("resource", api))
		tok, err := r.conf.Exchange(x.ctx, code, oauth2.VerifierOption(f.verifier))
		if err != nil {
			t.Fatal(err)
		}
		c, err := rs.check(tok.AccessToken)
		if err != nil {
			t.Fatalf("resource server refuses the access token: %v", err)
		}
		if c.Subject != u.ID || c.ClientID != r.client.ClientID || !slices.Equal([]string(c.Audience), []string{api}) ||
			c.Scope != "openid profile email roles offline_access" || !slices.Equal(c.Roles, []string{"admin", "user"}) {
			t.Fatalf("claims %+v", c)
		}
		r.verify(tok) // the ID token's at_hash matches the JWT
		if in := r.introspect(tok.AccessToken); in["active"] != true || in["sub"] != u.ID {
			t.Fatalf("introspection: %v", in)
		}
		// Userinfo takes it like an opaque token.
		if _, err := x.provider.UserInfo(x.ctx, oauth2.StaticTokenSource(tok)); err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		// A refresh makes a new JWT for the same resource.
		next, err := r.refresh(tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if c2, err := rs.check(next.AccessToken); err != nil || c2.ID == c.ID {
			t.Fatalf("refreshed token: %v %+v", err, c2)
		}
		// Revocation: introspection says inactive at once; the JWT itself
		// still passes an offline check (lifetime-bound, as documented).
		if st, body, _ := r.post("/oauth2/revoke", url.Values{"token": {next.RefreshToken}}, true); st != http.StatusOK {
			t.Fatalf("revoke: %d %v", st, body)
		}
		if in := r.introspect(next.AccessToken); in["active"] != false {
			t.Fatalf("introspection after revocation: %v", in)
		}
		if _, err := rs.check(next.AccessToken); err != nil {
			t.Fatalf("offline check after revocation: %v", err)
		}
	})
	t.Run("no resource: the client's audiences", func(t *testing.T) {
		tok, _, _ := r.login(u)
		c, err := rs.check(tok.AccessToken)
		if err != nil || !slices.Equal([]string(c.Audience), []string{api, other}) {
			t.Fatalf("claims %+v, %v", c, err)
		}
	})
	t.Run("client_credentials", func(t *testing.T) {
		cfg := clientcredentialsConfig(r, "")
		cfg.EndpointParams = url.Values{"resource": {other}}
		tok, err := cfg.Token(x.ctx)
		if err != nil {
			t.Fatal(err)
		}
		c, err := (&resourceServer{t: t, issuer: rs.issuer, audience: other, keys: rs.keys}).check(tok.AccessToken)
		if err != nil || c.Subject != r.client.ClientID || c.ClientID != r.client.ClientID || c.Roles != nil {
			t.Fatalf("claims %+v, %v", c, err)
		}
		cfg.EndpointParams = url.Values{"resource": {"https://elsewhere.example.com"}}
		_, err = cfg.Token(x.ctx)
		wantRetrieveError(t, err, http.StatusBadRequest, "invalid_request")
	})
	t.Run("opaque stays the default", func(t *testing.T) {
		plain := x.newRP(adminclient.ClientRegistration{})
		tok, _, _ := plain.login(u)
		if plain.client.AccessTokenFormat != "opaque" || strings.Count(tok.AccessToken, ".") != 1 {
			t.Fatalf("format %q, token %q", plain.client.AccessTokenFormat, tok.AccessToken)
		}
	})
}

// clientKey is one private key of a private_key_jwt client.
type clientKey struct {
	alg jose.SignatureAlgorithm
	kid string
	key crypto.Signer
}

func newClientKeys(t *testing.T) []clientKey {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return []clientKey{{jose.RS256, "rs", rsaKey}, {jose.ES256, "es", ecKey}, {jose.EdDSA, "ed", edKey}}
}

// publicJWKS is the public key set of keys, as a client registers or
// publishes it.
func publicJWKS(t *testing.T, keys ...clientKey) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.key.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assertion signs a client assertion (RFC 7523) for clientID to aud.
func assertion(t *testing.T, k clientKey, clientID, aud string, exp time.Duration) string {
	t.Helper()
	sg, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: jose.JSONWebKey{Key: k.key, KeyID: k.kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	raw, err := josejwt.Signed(sg).Claims(josejwt.Claims{
		Issuer: clientID, Subject: clientID, Audience: josejwt.Audience{aud}, ID: "jti-" + randomName() + randomName(),
		IssuedAt: josejwt.NewNumericDate(now), Expiry: josejwt.NewNumericDate(now.Add(exp)),
	}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func assertionParams(a string) url.Values {
	return url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}
}

// ccWithAssertion runs client_credentials (x/oauth2) authenticated by a.
func ccWithAssertion(x *e2e, clientID, a string) (*oauth2.Token, error) {
	cfg := &clientcredentials.Config{ClientID: clientID, TokenURL: x.provider.Endpoint().TokenURL,
		AuthStyle: oauth2.AuthStyleInParams, EndpointParams: assertionParams(a)}
	return cfg.Token(x.ctx)
}

// TestProtocolE2EPrivateKeyJWT: RFC 7523 client authentication with keys
// published at a jwks_uri (fetched through the outbound policy, loopback
// allowed here) or registered inline; RS256, ES256 and EdDSA assertions
// are accepted at the token and PAR endpoints, a replayed assertion is
// refused (also by another replica on the same database), and so is one
// signed with a key the client did not publish, or naming another
// audience, or of another algorithm than the client registered.
func TestProtocolE2EPrivateKeyJWT(t *testing.T) {
	keys := newClientKeys(t)
	jwksSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(publicJWKS(t, keys...))
	}))
	defer jwksSrv.Close()
	x := newE2E(t, func(c *config.Config) { c.OutboundAllowCIDRs = []string{"127.0.0.0/8"} })
	var d map[string]any
	if err := x.provider.Claims(&d); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(d["token_endpoint_auth_methods_supported"].([]any), any("private_key_jwt")) ||
		len(d["token_endpoint_auth_signing_alg_values_supported"].([]any)) != 3 {
		t.Fatalf("discovery: %v %v", d["token_endpoint_auth_methods_supported"], d["token_endpoint_auth_signing_alg_values_supported"])
	}
	tokenURL := x.provider.Endpoint().TokenURL
	u := x.newUser("user")
	byURI := x.newRP(adminclient.ClientRegistration{TokenEndpointAuthMethod: "private_key_jwt", JWKSURI: jwksSrv.URL,
		GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"}})
	if byURI.client.ClientSecret != "" || byURI.client.JWKSURI != jwksSrv.URL {
		t.Fatalf("registered: %+v", byURI.client)
	}
	inline := x.newRP(adminclient.ClientRegistration{TokenEndpointAuthMethod: "private_key_jwt", JWKS: publicJWKS(t, keys[2]),
		TokenEndpointAuthSigningAlg: "EdDSA", GrantTypes: []string{"client_credentials"}, RedirectURIs: []string{}})

	for _, k := range keys {
		t.Run("client_credentials "+string(k.alg), func(t *testing.T) {
			if _, err := ccWithAssertion(x, byURI.client.ClientID, assertion(t, k, byURI.client.ClientID, tokenURL, 5*time.Minute)); err != nil {
				t.Fatalf("assertion refused: %v", err)
			}
		})
	}
	t.Run("code flow", func(t *testing.T) {
		byURI.conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
		code, f, _ := byURI.code(u)
		a := assertion(t, keys[1], byURI.client.ClientID, tokenURL, time.Minute)
		tok, err := byURI.conf.Exchange(x.ctx, code, oauth2.VerifierOption(f.verifier),
			oauth2.SetAuthURLParam("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
			oauth2.SetAuthURLParam("client_assertion", a))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		byURI.verify(tok)
		// PAR authenticates the same way (aud: the issuer).
		form := url.Values{"client_id": {byURI.client.ClientID}, "response_type": {"code"}, "redirect_uri": {rpRedirect},
			"scope": {"openid"}, "state": {"state-par-pkjwt"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
			"code_challenge_method": {"S256"}}
		for k, v := range assertionParams(assertion(t, keys[0], byURI.client.ClientID, x.ts.PublicURL, time.Minute)) {
			form[k] = v
		}
		if st, body, _ := byURI.post("/oauth2/par", form, false); st != http.StatusCreated {
			t.Fatalf("PAR with an assertion: %d %v", st, body)
		}
	})
	t.Run("replay", func(t *testing.T) {
		a := assertion(t, keys[0], byURI.client.ClientID, tokenURL, 5*time.Minute)
		if _, err := ccWithAssertion(x, byURI.client.ClientID, a); err != nil {
			t.Fatal(err)
		}
		_, err := ccWithAssertion(x, byURI.client.ClientID, a)
		wantRetrieveError(t, err, http.StatusUnauthorized, "invalid_client")
		// Another replica on the same database knows it too.
		other := startTestServer(t, withDatabase(x.ts.Deps.cfg.DatabaseURL),
			func(c *config.Config) { c.OutboundAllowCIDRs = []string{"127.0.0.0/8"}; c.Issuer = x.ts.PublicURL })
		b := assertion(t, keys[2], byURI.client.ClientID, tokenURL, 5*time.Minute)
		if _, err := ccWithAssertion(x, byURI.client.ClientID, b); err != nil {
			t.Fatal(err)
		}
		cfg := &clientcredentials.Config{ClientID: byURI.client.ClientID, TokenURL: other.PublicURL + "/oauth2/token",
			AuthStyle: oauth2.AuthStyleInParams, EndpointParams: assertionParams(b)}
		_, err = cfg.Token(x.ctx)
		wantRetrieveError(t, err, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("refused assertions", func(t *testing.T) {
		stranger := newClientKeys(t)
		for name, a := range map[string]string{
			"wrong key, same kid":  assertion(t, stranger[0], byURI.client.ClientID, tokenURL, time.Minute),
			"wrong EdDSA key":      assertion(t, stranger[2], byURI.client.ClientID, tokenURL, time.Minute),
			"other audience":       assertion(t, keys[0], byURI.client.ClientID, "https://other.example/token", time.Minute),
			"expired":              assertion(t, keys[0], byURI.client.ClientID, tokenURL, -2*time.Minute),
			"expires in a day":     assertion(t, keys[0], byURI.client.ClientID, tokenURL, 24*time.Hour),
			"not the client's alg": assertion(t, keys[0], inline.client.ClientID, tokenURL, time.Minute),
			"another client's sub": assertion(t, keys[0], inline.client.ClientID, tokenURL, time.Minute),
			"garbage":              "a.b.c",
		} {
			id := byURI.client.ClientID
			if strings.HasPrefix(name, "not the client's") {
				id = inline.client.ClientID
			}
			_, err := ccWithAssertion(x, id, a)
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
				t.Errorf("%s: %v, want invalid_client", name, err)
			}
		}
		// The inline client with its own key and alg is fine.
		if _, err := ccWithAssertion(x, inline.client.ClientID, assertion(t, keys[2], inline.client.ClientID, tokenURL, time.Minute)); err != nil {
			t.Errorf("inline EdDSA client: %v", err)
		}
		// Replays and forged signatures are in the audit log.
		events, err := x.ts.Store.ListAudit(x.ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		reasons := map[string]bool{}
		for _, e := range events {
			if e.Action == "client.assertion_refused" && e.Target == byURI.client.ClientID {
				reasons[e.Details["reason"]] = true
			}
		}
		if !reasons["replay"] || !reasons["bad_signature"] {
			t.Errorf("audit reasons %v, want replay and bad_signature", reasons)
		}
		// No assertion, no way in (a private_key_jwt client has no secret).
		st, body, _ := byURI.post("/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {byURI.client.ClientID}}, false)
		if st != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("without an assertion: %d %v", st, body)
		}
	})
}

// TestManageClientsProtocolFlags: the CLI registers the metadata of issue
// 13 part A and shows it back; the server refuses what is invalid.
func TestManageClientsProtocolFlags(t *testing.T) {
	store := startAdminAPI(t)
	keyFile := t.TempDir() + "/keys.json"
	if err := os.WriteFile(keyFile, publicJWKS(t, newClientKeys(t)[2]), 0o600); err != nil {
		t.Fatal(err)
	}
	var c adminapi.OAuthClient
	mustJSON(t, mustRun(t, "", "clients", "create", "--name", "Backend", "--grant-type", "client_credentials",
		"--token-endpoint-auth-method", "private_key_jwt", "--jwks", "@"+keyFile, "--token-endpoint-auth-signing-alg", "EdDSA",
		"--access-token-format", "jwt", "--audience", "https://api.example.com", "--audience", "https://b.example.com",
		"--require-par", "-o", "json"), &c)
	if c.ClientSecret != "" || c.TokenEndpointAuthMethod != "private_key_jwt" || c.TokenEndpointAuthSigningAlg != "EdDSA" ||
		c.AccessTokenFormat != "jwt" || len(c.Audience) != 2 || !c.RequirePushedAuthorizationRequests || len(c.JWKS) == 0 {
		t.Fatalf("clients create printed %+v", c)
	}
	stored, err := store.GetClient(context.Background(), c.ClientID)
	if err != nil || stored.SecretHash != nil || !strings.Contains(stored.JWKS, `"crv":"Ed25519"`) || stored.AccessTokenFormat != "jwt" {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	if table := mustRun(t, "", "clients", "get", c.ClientID); !strings.Contains(table, "access_token_format") || !strings.Contains(table, "https://api.example.com") {
		t.Fatalf("clients get (table):\n%s", table)
	}
	for _, args := range [][]string{
		{"--token-endpoint-auth-method", "private_key_jwt"},
		{"--token-endpoint-auth-method", "private_key_jwt", "--jwks-uri", "http://keys.example.com/jwks"},
		{"--access-token-format", "paseto"},
		{"--audience", "not-a-uri"},
	} {
		_, err := runCLI(t, "", append([]string{"clients", "create", "--name", "Bad", "--redirect-uri", "https://bad.example.com/cb"}, args...)...)
		if err == nil || !strings.Contains(err.Error(), "HTTP 400") {
			t.Errorf("%v: %v, want a 400", args, err)
		}
	}
}

// TestProtocolE2EJWTAccessTokenRefreshRace: two refreshes of one refresh
// token within the grace window both succeed for a JWT client (each with
// a valid JWT), and the pushed request honours form_post.
func TestProtocolE2EJWTAccessTokenRefreshRace(t *testing.T) {
	x := newE2E(t)
	u := x.newUser("user")
	r := x.newRP(adminclient.ClientRegistration{AccessTokenFormat: "jwt"})
	tok, _, _ := r.login(u)
	first, err := r.refresh(tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	second, err := r.refresh(tok.RefreshToken)
	if err != nil {
		t.Fatalf("repeat within the grace window: %v", err)
	}
	if first.RefreshToken != second.RefreshToken {
		t.Fatal("the repeat got another refresh token")
	}
	rs := newResourceServer(t, x, r.client.ClientID)
	for _, at := range []string{first.AccessToken, second.AccessToken} {
		if _, err := rs.check(at); err != nil {
			t.Fatalf("access token: %v", err)
		}
		if in := r.introspect(at); in["active"] != true {
			t.Fatalf("introspection: %v", in)
		}
	}

	uri, f, st, _ := r.push(url.Values{"response_mode": {"form_post"}})
	if st != http.StatusCreated {
		t.Fatal(st)
	}
	f = r.authorizePushed(f, uri)
	ch := x.challenges()
	s := r.signIn(u)
	if err := ch.AcceptLogin(x.ctx, f.challenge, u.ID, s.ID, s.AuthTime); err != nil {
		t.Fatal(err)
	}
	if err := ch.DecideConsent(x.ctx, f.challenge, r.conf.Scopes, true); err != nil {
		t.Fatal(err)
	}
	resp := r.get(x.ts.PublicURL + "/oauth2/auth/resume?login_challenge=" + url.QueryEscape(f.challenge))
	v := formPostFields(t, readBody(resp))
	if resp.StatusCode != http.StatusOK || v.Get("code") == "" || v.Get("iss") != x.ts.PublicURL || v.Get("state") != f.state {
		t.Fatalf("pushed form_post: %d %v", resp.StatusCode, v)
	}
}
