package bench

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Bench runs operations against one provider.
type Bench struct {
	cfg       Config
	discovery string // the discovery document's URL
	endpoints endpoints
	redirect  *url.URL
	verifier  *oidc.IDTokenVerifier
	// transport is shared by every worker of the operations, so
	// connections are kept alive between iterations.
	transport *http.Transport
	// client is for requests without cookies (token endpoint, GETs).
	client *http.Client
}

type endpoints struct {
	Issuer        string `json:"issuer"`
	Authorization string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
	JWKS          string `json:"jwks_uri"`
}

// New checks cfg and discovers the provider.
func New(ctx context.Context, cfg Config) (*Bench, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	b := &Bench{cfg: cfg}
	b.redirect, _ = url.Parse(cfg.RedirectURI)
	b.transport = newTransport(max(cfg.Concurrency, cfg.FloodConcurrency))
	b.client = b.httpClient(nil)

	// The key set outlives this call (keys are fetched again on rotation),
	// so its context must not end with ctx.
	keyCtx := oidc.ClientContext(context.WithoutCancel(ctx), b.client)
	provider, err := oidc.NewProvider(keyCtx, strings.TrimSuffix(cfg.Issuer, "/"))
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	if err := provider.Claims(&b.endpoints); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	b.discovery = strings.TrimSuffix(cfg.Issuer, "/") + "/.well-known/openid-configuration"
	for name, v := range map[string]string{"authorization_endpoint": b.endpoints.Authorization,
		"token_endpoint": b.endpoints.Token, "jwks_uri": b.endpoints.JWKS} {
		if v == "" {
			return nil, fmt.Errorf("discovery: the document has no %s", name)
		}
	}
	aud := orDefault(cfg.IDTokenAudience, cfg.ClientID)
	if cfg.IDTokenIssuer == "" {
		b.verifier = provider.Verifier(&oidc.Config{ClientID: aud})
	} else {
		b.verifier = oidc.NewVerifier(cfg.IDTokenIssuer, oidc.NewRemoteKeySet(keyCtx, b.endpoints.JWKS), &oidc.Config{ClientID: aud})
	}
	return b, nil
}

// Close drops the kept-alive connections.
func (b *Bench) Close() { b.transport.CloseIdleConnections() }

// Issuer is the issuer the discovery document names.
func (b *Bench) Issuer() string { return b.endpoints.Issuer }

func newTransport(conns int) *http.Transport {
	return &http.Transport{
		Proxy:       http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		// Enough idle connections for every worker, so the figures are not
		// about TCP (and TLS) handshakes.
		MaxIdleConns:        2 * conns,
		MaxIdleConnsPerHost: 2 * conns,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
}

// httpClient never follows redirects: the browser steps look at each one
// (and must stop at the redirect URI, which nothing listens on).
func (b *Bench) httpClient(jar http.CookieJar) *http.Client {
	return &http.Client{
		Transport:     b.transport,
		Jar:           jar,
		Timeout:       b.cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Run measures one operation.
func (b *Bench) Run(ctx context.Context, op string) (Result, error) {
	switch op {
	case OpDiscovery:
		return b.run(ctx, op, b.cfg.Concurrency, b.getter(b.discovery, "discovery"))
	case OpJWKS:
		return b.run(ctx, op, b.cfg.Concurrency, b.getter(b.endpoints.JWKS, "jwks"))
	case OpClientCredentials:
		return b.run(ctx, op, b.cfg.Concurrency, b.clientCredentials)
	case OpRefresh:
		return b.run(ctx, op, b.cfg.Concurrency, b.refreshWorker)
	case OpFlow:
		return b.run(ctx, op, b.cfg.Concurrency, b.flowWorker)
	case OpLogin:
		return b.run(ctx, op, b.cfg.Concurrency, b.loginWorker)
	case OpFlood:
		return b.flood(ctx)
	}
	return Result{}, fmt.Errorf("unknown operation %q", op)
}

// run prepares the workers, then measures them with the server's CPU.
func (b *Bench) run(ctx context.Context, op string, n int, setup func(context.Context, int) (iteration, error)) (Result, error) {
	its, err := prepare(ctx, n, setup)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", op, err)
	}
	var res Result
	err = b.withServerUsage(&res, func() {
		t, elapsed := measure(ctx, its, b.cfg.Duration, b.cfg.Requests)
		res = newResult(op, n, t, elapsed)
	})
	return res, err
}

// withServerUsage runs f and sets res.Server from /proc when a PID was
// given (f sets the rest of res).
func (b *Bench) withServerUsage(res *Result, f func()) error {
	if b.cfg.PID <= 0 {
		f()
		return nil
	}
	before, err := procCPU(b.cfg.PID)
	if err != nil {
		return err
	}
	start := time.Now()
	f()
	wall := time.Since(start)
	after, err := procCPU(b.cfg.PID)
	if err != nil {
		return err
	}
	rss, err := procRSS(b.cfg.PID)
	if err != nil {
		return err
	}
	u := &ServerUsage{CPUSeconds: (after - before).Seconds(), RSSBytes: rss}
	if wall > 0 {
		u.CPUPercent = 100 * u.CPUSeconds / wall.Seconds()
	}
	if res.Completed > 0 {
		u.CPUMsPerOp = 1000 * u.CPUSeconds / float64(res.Completed)
	}
	res.Server = u
	return nil
}

// maxBody bounds what is read of any answer.
const maxBody = 1 << 20

// do sends req and reads the whole answer (so the connection is reused).
func do(ctx context.Context, c *http.Client, req *http.Request) (*http.Response, []byte, error) {
	resp, err := c.Do(req.WithContext(ctx))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp, body, nil
}

// getter is an operation of plain GETs of a JSON document.
func (b *Bench) getter(u, what string) func(context.Context, int) (iteration, error) {
	return func(context.Context, int) (iteration, error) {
		return func(ctx context.Context) error {
			req, err := http.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				return err
			}
			resp, body, err := do(ctx, b.client, req)
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return failf(fmt.Sprintf("%s %d", what, resp.StatusCode), "GET %s answered %d", u, resp.StatusCode)
			}
			if !json.Valid(body) {
				return failf(what+" not JSON", "GET %s answered with something else than JSON", u)
			}
			return nil
		}, nil
	}
}

// tokenResponse is a token endpoint answer (RFC 6749 5.1 and 5.2).
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	RefreshToken     string `json:"refresh_token"`
	IDToken          string `json:"id_token"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// token posts a grant with the client's credentials in HTTP Basic
// (client_secret_basic: each part form-encoded first, RFC 6749 2.3.1).
func (b *Bench) token(ctx context.Context, grant string, form url.Values) (tokenResponse, error) {
	req, err := http.NewRequest(http.MethodPost, b.endpoints.Token, strings.NewReader(form.Encode()))
	if err != nil {
		return tokenResponse{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(b.cfg.ClientID), url.QueryEscape(b.cfg.ClientSecret))
	resp, body, err := do(ctx, b.client, req)
	if err != nil {
		return tokenResponse{}, err
	}
	var tr tokenResponse
	jsonErr := json.Unmarshal(body, &tr)
	if resp.StatusCode != http.StatusOK {
		kind := fmt.Sprintf("%s %d", grant, resp.StatusCode)
		if tr.Error != "" {
			kind += " " + truncate(tr.Error, 40)
		}
		return tokenResponse{}, failf(kind, "token endpoint answered %d %s: %s", resp.StatusCode,
			truncate(tr.Error, 40), truncate(tr.ErrorDescription, 200))
	}
	if jsonErr != nil {
		return tokenResponse{}, failf(grant+" not JSON", "token endpoint answer: %v", jsonErr)
	}
	if tr.AccessToken == "" {
		return tokenResponse{}, failf(grant+" no access_token", "the token response has no access_token")
	}
	return tr, nil
}

// verify checks an ID token as a relying party must: signature against
// the JWKS, issuer, audience and expiry (go-oidc), then the nonce of the
// request (when one was sent) and at_hash (when present).
func (b *Bench) verify(ctx context.Context, tr tokenResponse, nonce string) error {
	if tr.IDToken == "" {
		return failf("no id_token", "the token response has no id_token")
	}
	idt, err := b.verifier.Verify(ctx, tr.IDToken)
	if err != nil {
		return failf("id_token invalid", "%v", err)
	}
	if nonce != "" && idt.Nonce != nonce {
		return failf("id_token nonce", "the ID token's nonce is not the one sent")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tr.AccessToken); err != nil {
			return failf("id_token at_hash", "%v", err)
		}
	}
	return nil
}

// clientCredentials is the client_credentials grant (no scope: any client
// allowed the grant may ask for its default).
func (b *Bench) clientCredentials(context.Context, int) (iteration, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	return func(ctx context.Context) error {
		_, err := b.token(ctx, "client_credentials", form)
		return err
	}, nil
}

// refreshWorker obtains its own refresh token through one full code flow,
// then refreshes, always with the newest token (rotation), verifying each
// new ID token.
func (b *Bench) refreshWorker(ctx context.Context, _ int) (iteration, error) {
	tr, err := b.newBrowser().codeFlow(ctx, navComplete)
	if err != nil {
		return nil, err
	}
	if tr.RefreshToken == "" {
		return nil, fmt.Errorf("no refresh token from the code flow: the client needs the refresh_token grant and the %q scope", "offline_access")
	}
	rt := tr.RefreshToken
	return func(ctx context.Context) error {
		tr, err := b.token(ctx, "refresh", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		if err != nil {
			return err
		}
		if tr.RefreshToken != "" {
			rt = tr.RefreshToken
		}
		// No nonce: a refreshed ID token need not repeat it.
		return b.verify(ctx, tr, "")
	}, nil
}

// flowWorker signs in once through the login form; each iteration is then
// a whole code flow on that session, ID token verified.
func (b *Bench) flowWorker(ctx context.Context, _ int) (iteration, error) {
	br := b.newBrowser()
	// Only the sign-in (and a first consent): the code is left unused, so
	// ID token checks happen in the measured iterations alone.
	ar, err := newAuthRequest()
	if err != nil {
		return nil, err
	}
	res, err := br.navigate(ctx, b.authorizeURL(ar), navComplete)
	if err != nil {
		return nil, err
	}
	if e := res.callback.Get("error"); e != "" {
		return nil, fmt.Errorf("sign-in: the provider answered the authorization request with %s", truncate(e, 40))
	}
	return func(ctx context.Context) error {
		_, err := br.codeFlow(ctx, navSSO)
		return err
	}, nil
}

// loginWorker: each iteration is a new browser (no cookies) with a fresh
// authorization request that signs in through the login form; it
// succeeds when the provider accepts the password and sends the browser
// on.
func (b *Bench) loginWorker(context.Context, int) (iteration, error) {
	return func(ctx context.Context) error {
		br := b.newBrowser()
		ar, err := newAuthRequest()
		if err != nil {
			return err
		}
		res, err := br.navigate(ctx, b.authorizeURL(ar), navLoginForm)
		if err != nil {
			return err
		}
		resp, body, err := br.submit(ctx, res.login.Fill(b.cfg.Username, b.cfg.Password))
		if err != nil {
			return err
		}
		if !isRedirect(resp.StatusCode) {
			return failf(fmt.Sprintf("login %d", resp.StatusCode), "the login form answered %d (%s)", resp.StatusCode, pageTitle(body))
		}
		return nil
	}, nil
}

// authRequest is one authorization request's secrets.
type authRequest struct {
	state, nonce, verifier string
}

func newAuthRequest() (authRequest, error) {
	var a authRequest
	for _, p := range []*string{&a.state, &a.nonce, &a.verifier} {
		v, err := randomString()
		if err != nil {
			return authRequest{}, err
		}
		*p = v
	}
	return a, nil
}

func randomString() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// authorizeURL is the authorization request with PKCE (S256).
func (b *Bench) authorizeURL(a authRequest) string {
	sum := sha256.Sum256([]byte(a.verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {b.cfg.ClientID},
		"redirect_uri":          {b.cfg.RedirectURI},
		"scope":                 {strings.Join(b.cfg.Scopes, " ")},
		"state":                 {a.state},
		"nonce":                 {a.nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	sep := "?"
	if strings.Contains(b.endpoints.Authorization, "?") {
		sep = "&"
	}
	return b.endpoints.Authorization + sep + q.Encode()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
