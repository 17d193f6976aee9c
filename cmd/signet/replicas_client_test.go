package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/signet-idp/signet/internal/adminclient"
)

// The client side of the replicas test: browsers that log in through the
// HTML forms and relying parties that call the token endpoint, all
// through the round-robin proxy and each from an address of its own
// (X-Forwarded-For, which the replicas trust from the proxy only).

// cluster is three replicas behind the proxy, as relying parties and
// browsers see them.
type cluster struct {
	t        *testing.T
	mode     string
	bin      string
	env      map[string]string
	proxy    *rrProxy
	replicas []*replica
	admin    *adminclient.Client
	provider *gooidc.Provider
	ctx      context.Context
	// dbCut sits between the replicas (or PgBouncer) and PostgreSQL.
	dbCut *tcpCut
	// transport is shared by every simulated client: connections to
	// the proxy are reused as a real client's would be.
	transport *http.Transport
	addrSeq   *atomic.Uint32
	// grace is the refresh grace period the replicas run with.
	grace time.Duration
}

// on returns the cluster for test t: helpers that fail, fail t.
func (c *cluster) on(t *testing.T) *cluster {
	cc := *c
	cc.t = t
	return &cc
}

// newAddr hands out a client address no other simulated client has, so
// the per-address login throttle of one scenario never touches another.
func (c *cluster) newAddr() string {
	n := c.addrSeq.Add(1)
	return net.IPv4(10, byte(n>>16), byte(n>>8), byte(n)).String()
}

// xff sends every request as coming from addr.
type xff struct {
	base http.RoundTripper
	addr string
}

func (x xff) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", x.addr)
	return x.base.RoundTrip(r)
}

// httpClient is a client from addr that does not follow redirects, with
// a cookie jar when jar is set (a browser).
func (c *cluster) httpClient(addr string, jar bool) *http.Client {
	hc := &http.Client{
		Timeout:       20 * time.Second,
		Transport:     xff{base: c.transport, addr: addr},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if jar {
		hc.Jar, _ = cookiejar.New(nil)
	}
	return hc
}

// rpClient is a registered confidential client.
type rpClient struct {
	id, secret string
	conf       oauth2.Config
}

func (c *cluster) newClient(firstParty bool) rpClient {
	c.t.Helper()
	reg, err := c.admin.CreateClient(c.ctx, adminclient.ClientRegistration{
		ClientName: "RP " + randomName(), RedirectURIs: []string{rpRedirect}, FirstParty: firstParty,
	})
	if err != nil {
		c.t.Fatalf("register client: %v", err)
	}
	return rpClient{id: reg.ClientID, secret: reg.ClientSecret, conf: oauth2.Config{
		ClientID: reg.ClientID, ClientSecret: reg.ClientSecret, Endpoint: c.provider.Endpoint(), RedirectURL: rpRedirect,
		Scopes: []string{"openid", "profile", "email", "offline_access"},
	}}
}

// account is a user with the password that logs them in.
type account struct {
	id, username, password string
}

func (c *cluster) newAccount() account {
	c.t.Helper()
	n := strings.NewReplacer("-", "x", "_", "y").Replace(randomName())
	a := account{username: "r" + n, password: "correct horse battery " + n}
	u, err := c.admin.CreateUser(c.ctx, adminclient.NewUser{Username: a.username, Email: a.username + "@example.com",
		Name: "Replica User " + n, Password: a.password, EmailVerified: true, Roles: []string{"user"}})
	if err != nil {
		c.t.Fatalf("create user: %v", err)
	}
	a.id = u.ID
	return a
}

// tokenAnswer is a token endpoint answer.
type tokenAnswer struct {
	Status           int    `json:"-"`
	AccessToken      string `json:"access_token"`
	RefreshToken     string `json:"refresh_token"`
	IDToken          string `json:"id_token"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func (a tokenAnswer) String() string {
	if a.Error != "" {
		return fmt.Sprintf("%d %s (%s)", a.Status, a.Error, a.ErrorDescription)
	}
	return fmt.Sprintf("%d", a.Status)
}

// tokenRequest posts form to the token endpoint as client rp. A transport
// failure or a body that is not JSON is an error; an OAuth error is an
// answer.
func (c *cluster) tokenRequest(hc *http.Client, rp rpClient, form url.Values) (tokenAnswer, error) {
	req, err := http.NewRequest(http.MethodPost, c.proxy.URL()+"/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return tokenAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(rp.id), url.QueryEscape(rp.secret))
	resp, err := hc.Do(req)
	if err != nil {
		return tokenAnswer{}, fmt.Errorf("token request: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return tokenAnswer{}, fmt.Errorf("token answer: %w", err)
	}
	a := tokenAnswer{Status: resp.StatusCode}
	if err := json.Unmarshal(body, &a); err != nil {
		return a, fmt.Errorf("token endpoint answered %d with non-JSON: %.200s", resp.StatusCode, body)
	}
	return a, nil
}

func (c *cluster) refresh(hc *http.Client, rp rpClient, rt string) (tokenAnswer, error) {
	return c.tokenRequest(hc, rp, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
}

// refreshOK refreshes and checks the answer is a full, valid token set.
func (c *cluster) refreshOK(hc *http.Client, rp rpClient, a account, rt string) (tokenAnswer, error) {
	ans, err := c.refresh(hc, rp, rt)
	if err != nil {
		return ans, err
	}
	if ans.Status != http.StatusOK {
		return ans, fmt.Errorf("refresh: %s", ans)
	}
	if ans.RefreshToken == "" || ans.RefreshToken == rt {
		return ans, fmt.Errorf("refresh did not rotate the refresh token")
	}
	return ans, c.checkIDToken(rp, a, ans, "")
}

// checkIDToken verifies the ID token with go-oidc (signature by a key of
// the JWKS, issuer, audience, expiry, at_hash) and its subject.
func (c *cluster) checkIDToken(rp rpClient, a account, ans tokenAnswer, nonce string) error {
	if ans.IDToken == "" {
		return fmt.Errorf("no id_token in the answer")
	}
	idt, err := c.provider.Verifier(&gooidc.Config{ClientID: rp.id}).Verify(c.ctx, ans.IDToken)
	if err != nil {
		return fmt.Errorf("go-oidc rejects the ID token: %w", err)
	}
	if err := idt.VerifyAccessToken(ans.AccessToken); err != nil {
		return fmt.Errorf("at_hash: %w", err)
	}
	if idt.Subject != a.id {
		return fmt.Errorf("ID token sub %q, want %q", idt.Subject, a.id)
	}
	if nonce != "" && idt.Nonce != nonce {
		return fmt.Errorf("ID token nonce %q, want %q", idt.Nonce, nonce)
	}
	return nil
}

// introspect reports whether token is active.
func (c *cluster) introspect(hc *http.Client, rp rpClient, token string) (bool, error) {
	req, err := http.NewRequest(http.MethodPost, c.proxy.URL()+"/oauth2/introspect",
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(rp.id), url.QueryEscape(rp.secret))
	resp, err := hc.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var out struct {
		Active bool `json:"active"`
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return false, fmt.Errorf("introspect: %d %.200s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return false, fmt.Errorf("introspect: %w", err)
	}
	return out.Active, nil
}

var csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// htmlPage is an HTML answer.
type htmlPage struct {
	status   int
	location string
	body     string
}

func (c *cluster) get(hc *http.Client, u string) (htmlPage, error) {
	resp, err := hc.Get(c.abs(u))
	if err != nil {
		return htmlPage{}, err
	}
	return readPage(resp)
}

func (c *cluster) postForm(hc *http.Client, u string, form url.Values) (htmlPage, error) {
	resp, err := hc.PostForm(c.abs(u), form)
	if err != nil {
		return htmlPage{}, err
	}
	return readPage(resp)
}

func readPage(resp *http.Response) (htmlPage, error) {
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return htmlPage{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(b)}, err
}

// abs resolves a path (or an absolute URL) against the proxy.
func (c *cluster) abs(u string) string {
	if strings.HasPrefix(u, "/") {
		return c.proxy.URL() + u
	}
	return u
}

func csrfToken(p htmlPage) (string, error) {
	m := csrfInput.FindStringSubmatch(p.body)
	if m == nil {
		return "", fmt.Errorf("no CSRF token in the page (%d)", p.status)
	}
	return m[1], nil
}

// tokens are what a finished login flow gives the relying party.
type tokens struct {
	tokenAnswer
	nonce string
}

// loginFlow runs an authorization code flow (PKCE, nonce) as a browser
// from addr would: the login form with a's password, the consent form
// when asked, the code exchange, and the ID token check.
func (c *cluster) loginFlow(rp rpClient, a account, addr string) (tokens, error) {
	browser := c.httpClient(addr, true)
	state, nonce, verifier := "st-"+randomName(), "n-"+randomName(), oauth2.GenerateVerifier()
	next := rp.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), gooidc.Nonce(nonce))
	var code string
	for step := 0; code == ""; step++ {
		if step > 10 {
			return tokens{}, fmt.Errorf("no code after 10 steps (at %s)", next)
		}
		p, err := c.get(browser, next)
		if err != nil {
			return tokens{}, err
		}
		loc, err := url.Parse(p.location)
		if err != nil {
			return tokens{}, err
		}
		switch {
		case p.status == http.StatusSeeOther || p.status == http.StatusFound:
			if strings.HasPrefix(p.location, rpRedirect) {
				if loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
					return tokens{}, fmt.Errorf("callback without code or with another state: %s", loc.Query())
				}
				code = loc.Query().Get("code")
				continue
			}
			next = p.location
			continue
		case p.status != http.StatusOK:
			return tokens{}, fmt.Errorf("GET %s: %d %.300s", pathOf(next), p.status, p.body)
		}
		// A form: the login page or the consent page.
		csrf, err := csrfToken(p)
		if err != nil {
			return tokens{}, fmt.Errorf("GET %s: %w", pathOf(next), err)
		}
		u, _ := url.Parse(c.abs(next))
		form := url.Values{"csrf_token": {csrf}, "login_challenge": {u.Query().Get("login_challenge")}}
		action := u.Path
		switch action {
		case "/login":
			form.Set("username", a.username)
			form.Set("password", a.password)
		case "/consent":
			form.Set("decision", "allow")
		default:
			return tokens{}, fmt.Errorf("unexpected page %s", action)
		}
		p, err = c.postPatiently(browser, action, form)
		if err != nil {
			return tokens{}, err
		}
		if p.status != http.StatusSeeOther {
			return tokens{}, fmt.Errorf("POST %s: %d %.300s", action, p.status, p.body)
		}
		next = p.location
		if strings.HasPrefix(next, rpRedirect) {
			loc, _ := url.Parse(next)
			if loc.Query().Get("state") != state || loc.Query().Get("code") == "" {
				return tokens{}, fmt.Errorf("callback without code or with another state: %s", loc.Query())
			}
			code = loc.Query().Get("code")
		}
	}
	ans, err := c.tokenRequest(c.httpClient(addr, false), rp, url.Values{"grant_type": {"authorization_code"},
		"code": {code}, "redirect_uri": {rpRedirect}, "code_verifier": {verifier}})
	if err != nil {
		return tokens{}, err
	}
	if ans.Status != http.StatusOK || ans.RefreshToken == "" {
		return tokens{}, fmt.Errorf("code exchange: %s (refresh token: %t)", ans, ans.RefreshToken != "")
	}
	if err := c.checkIDToken(rp, a, ans, nonce); err != nil {
		return tokens{}, err
	}
	return tokens{tokenAnswer: ans, nonce: nonce}, nil
}

func pathOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "?"
	}
	return p.Path
}

// mustLogin is loginFlow for the test goroutine.
func (c *cluster) mustLogin(rp rpClient, a account, addr string) tokens {
	c.t.Helper()
	tok, err := c.loginFlow(rp, a, addr)
	if err != nil {
		c.t.Fatalf("login flow: %v", err)
	}
	return tok
}

// loginAttempt posts the login form without an authorization request (a
// person signing in to their account page) from browser, which must hold
// a CSRF token from a GET of /login.
type loginAttempt struct {
	browser *http.Client
	csrf    string
}

func (c *cluster) prepareLogin(addr string) (loginAttempt, error) {
	return c.prepareLoginWith(c.httpClient(addr, true))
}

func (c *cluster) prepareLoginWith(browser *http.Client) (loginAttempt, error) {
	p, err := c.get(browser, "/login")
	if err != nil {
		return loginAttempt{}, err
	}
	if p.status != http.StatusOK {
		return loginAttempt{}, fmt.Errorf("GET /login: %d %.200s", p.status, p.body)
	}
	csrf, err := csrfToken(p)
	return loginAttempt{browser: browser, csrf: csrf}, err
}

// signOut ends browser's session through the logout page; its other
// cookies stay, as they do in a real browser.
func (c *cluster) signOut(browser *http.Client) error {
	p, err := c.get(browser, "/logout")
	if err != nil {
		return err
	}
	if p.status != http.StatusOK {
		return fmt.Errorf("GET /logout: %d", p.status)
	}
	csrf, err := csrfToken(p)
	if err != nil {
		return err
	}
	p, err = c.postForm(browser, "/logout", url.Values{"csrf_token": {csrf}, "decision": {"logout"}})
	if err != nil {
		return err
	}
	if p.status != http.StatusOK && p.status != http.StatusSeeOther {
		return fmt.Errorf("POST /logout: %d %.200s", p.status, p.body)
	}
	return nil
}

func (c *cluster) submitLogin(la loginAttempt, username, password string) (htmlPage, error) {
	return c.postForm(la.browser, "/login", url.Values{"csrf_token": {la.csrf}, "username": {username}, "password": {password}})
}

// submitLoginPatiently is submitLogin for a person, who tries again when
// told that sign-ins are busy (password hashing full, on a machine shared
// with the rest of the test suite).
func (c *cluster) submitLoginPatiently(la loginAttempt, username, password string) (htmlPage, error) {
	return c.postPatiently(la.browser, "/login", url.Values{"csrf_token": {la.csrf}, "username": {username}, "password": {password}})
}

// busyMarker is in the login page that asks to try again because password
// hashing is busy (not the throttle's page, which a retry does not help).
const busyMarker = "Too many people are signing in"

// postPatiently posts a form, and again after the Retry-After while the
// answer is the busy page (at most ten times).
func (c *cluster) postPatiently(browser *http.Client, path string, form url.Values) (htmlPage, error) {
	for i := 0; ; i++ {
		p, err := c.postForm(browser, path, form)
		if err != nil || p.status != http.StatusTooManyRequests || !strings.Contains(p.body, busyMarker) || i == 9 {
			return p, err
		}
		time.Sleep(time.Second)
	}
}

// stats collects outcomes and latencies of concurrent requests.
type stats struct {
	mu   sync.Mutex
	lat  []time.Duration
	errs []string
	// counts counts outcomes by a label (status, error code).
	counts map[string]int
}

func newStats() *stats { return &stats{counts: map[string]int{}} }

func (s *stats) ok(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lat = append(s.lat, d)
	s.counts["ok"]++
}

func (s *stats) fail(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, fmt.Sprintf(format, args...))
}

func (s *stats) count(label string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[label]++
}

func (s *stats) errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.errs)
}

func (s *stats) n(label string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[label]
}

// p99 is the 99th percentile of the recorded latencies.
func (s *stats) p99() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lat) == 0 {
		return 0
	}
	l := slices.Clone(s.lat)
	slices.Sort(l)
	return l[min(len(l)-1, (len(l)*99+99)/100-1)]
}

func (s *stats) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("%v, %d errors", s.counts, len(s.errs))
}

// firstErrors formats up to n errors for a failure message.
func firstErrors(errs []string, n int) string {
	if len(errs) > n {
		return strings.Join(errs[:n], "\n  ") + fmt.Sprintf("\n  … and %d more", len(errs)-n)
	}
	return strings.Join(errs, "\n  ")
}

// parallel runs fn(i) for i in [0, n) at once and waits.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i)
		}()
	}
	wg.Wait()
}
