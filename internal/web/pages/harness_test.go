package pages

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/mail"
	"github.com/signet-idp/signet/internal/mail/mailtest"
	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
	"github.com/signet-idp/signet/internal/web"
	"github.com/signet-idp/signet/internal/web/render"
)

const (
	alicePassword = "correct horse battery"
	photoLogout   = "https://photo.example/signed-out"
)

// fakeChallenges stands in for the authorization side.
type fakeChallenges struct {
	mu        sync.Mutex
	byValue   map[string]*Challenge
	decisions map[string]decision
	// reject makes AcceptLogin refuse these challenges.
	reject map[string]bool
}

type decision struct {
	allow   bool
	granted []string
}

func (f *fakeChallenges) add(value string, ch Challenge) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byValue[value] = &ch
}

func (f *fakeChallenges) get(value string) Challenge {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.byValue[value]
}

func (f *fakeChallenges) decision(value string) (decision, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.decisions[value]
	return d, ok
}

func (f *fakeChallenges) Challenge(_ context.Context, value string) (Challenge, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch, ok := f.byValue[value]
	if !ok {
		return Challenge{}, ErrChallengeNotFound
	}
	return *ch, nil
}

func (f *fakeChallenges) AcceptLogin(_ context.Context, value, subject, sessionID string, authTime time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch, ok := f.byValue[value]
	if !ok {
		return ErrChallengeNotFound
	}
	if f.reject[value] || ch.IDTokenHintSubject != "" && ch.IDTokenHintSubject != subject {
		return ErrLoginRejected
	}
	if ch.Subject != subject {
		ch.ConsentGiven = false
	}
	ch.Subject, ch.SessionID, ch.AuthTime = subject, sessionID, authTime
	return nil
}

func (f *fakeChallenges) DecideConsent(_ context.Context, value string, granted []string, allow bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.byValue[value]; !ok {
		return ErrChallengeNotFound
	}
	if f.decisions == nil {
		f.decisions = map[string]decision{}
	}
	f.decisions[value] = decision{allow: allow, granted: slices.Clone(granted)}
	return nil
}

// fakeHints accepts hints of the form "hint:<sub>:<aud>[:<sid>]".
type fakeHints struct{}

func (fakeHints) VerifyIDTokenHint(_ context.Context, raw string) (HintClaims, error) {
	parts := strings.Split(raw, ":")
	if len(parts) < 3 || parts[0] != "hint" {
		return HintClaims{}, errors.New("bad hint")
	}
	c := HintClaims{Subject: parts[1], Audience: []string{parts[2]}}
	if len(parts) > 3 {
		c.SessionID = parts[3]
	}
	return c, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// flakyStore is the memory store with a switch that makes the reads the
// pages do fail as a database outage does.
type flakyStore struct {
	*memory.Store
	down atomic.Bool
}

func (f *flakyStore) err() error {
	if f.down.Load() {
		return fmt.Errorf("dial: %w", storage.ErrUnavailable)
	}
	return nil
}

func (f *flakyStore) GetSessionByTokenHash(ctx context.Context, h string) (storage.Session, error) {
	if err := f.err(); err != nil {
		return storage.Session{}, err
	}
	return f.Store.GetSessionByTokenHash(ctx, h)
}

func (f *flakyStore) GetUserByLogin(ctx context.Context, login string) (storage.User, error) {
	if err := f.err(); err != nil {
		return storage.User{}, err
	}
	return f.Store.GetUserByLogin(ctx, login)
}

func (f *flakyStore) GetClient(ctx context.Context, id string) (storage.Client, error) {
	if err := f.err(); err != nil {
		return storage.Client{}, err
	}
	return f.Store.GetClient(ctx, id)
}

type env struct {
	t     *testing.T
	srv   *httptest.Server
	flaky *flakyStore
	store *memory.Store
	acc   *accounts.Service
	ch    *fakeChallenges
	clock *clock
	alice accounts.User
	// outbox receives the accounts service's mails.
	outbox *mailtest.Outbox
	// hashes counts password hashes and verifications since the users
	// above were created.
	hashes *atomic.Int32
	// hold, when set, makes every password hash wait until the channel
	// is closed.
	hold *atomic.Pointer[chan struct{}]
}

// envOptions switch on the self-service pages (sign-up, reset, account).
type envOptions struct {
	selfService  bool
	registration bool
	// hashLimits bound the accounts service's password hashing.
	hashLimits accounts.HashLimits
	// failedLogins is the allowance of wrong passwords from unknown
	// browsers (nil: none).
	failedLogins *sessions.Allowance
}

func newEnv(t *testing.T, opts ...envOptions) *env {
	t.Helper()
	var o envOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	st := memory.New()
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	h := accounts.PasswordHasher{Memory: 64, Time: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	outbox := &mailtest.Outbox{}
	composer, err := mail.NewComposer("")
	if err != nil {
		t.Fatal(err)
	}
	hashes := &atomic.Int32{}
	hold := &atomic.Pointer[chan struct{}]{}
	onHash := func() {
		hashes.Add(1)
		if c := hold.Load(); c != nil {
			<-*c
		}
	}
	acc := accounts.NewService(st, accounts.Options{
		Hasher: &h, Now: clk.Now, OnPasswordHash: onHash, HashLimits: o.hashLimits, Issuer: "https://id.example", RegistrationEnabled: o.registration,
		Mailer: mail.Postman{Composer: composer, Sender: outbox}, Audit: audit.New(st, clk.Now, nil),
	})
	ctx := t.Context()
	alice, err := acc.CreateUser(ctx, accounts.NewUser{Username: "alice", Email: "alice@example.com", Name: "Alice", Password: alicePassword, Roles: []string{"user"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acc.CreateUser(ctx, accounts.NewUser{Username: "mallory", Email: "mallory@example.com", Password: alicePassword}); err != nil {
		t.Fatal(err)
	}
	if _, err := acc.DisableUser(ctx, "mallory"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []storage.Client{
		{ID: "photo", Name: "Photo App", RedirectURIs: []string{"https://photo.example/cb"}, PostLogoutRedirectURIs: []string{photoLogout}},
		{ID: "notes", Name: "Notes", RedirectURIs: []string{"https://notes.example/cb"}},
		{ID: "portal", Name: "Portal", FirstParty: true, RedirectURIs: []string{"https://portal.example/cb"}},
	} {
		if err := st.CreateClient(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	rd, err := render.New(render.Branding{})
	if err != nil {
		t.Fatal(err)
	}
	fc := &fakeChallenges{byValue: map[string]*Challenge{}}
	flaky := &flakyStore{Store: st}
	devices, err := sessions.NewDevices([][]byte{[]byte("device cookie key for page tests!")}, false, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Render:     rd,
		Sessions:   sessions.NewManager(flaky, sessions.Options{Now: clk.Now}),
		Throttle:   sessions.NewThrottle(st, sessions.ThrottlePolicy{}, sessions.ThrottlePolicy{}, clk.Now),
		Devices:    devices,
		Consents:   sessions.NewConsents(st, clk.Now),
		Challenges: fc,
		Accounts:   acc,
		Users:      flaky,
		Clients:    flaky,
		Hints:      fakeHints{},
		Audit:      st,
		Now:        clk.Now,

		FailedLogins: o.failedLogins,
	}
	// Browsers may claim an address (browser.ip), so tests can log in
	// from several.
	cfg.ClientIP = func(r *http.Request) string {
		if ip := r.Header.Get(testClientIPHeader); ip != "" {
			return ip
		}
		return echo.ExtractIPDirect()(r)
	}
	if o.selfService {
		cfg.Signup, cfg.Recovery, cfg.Account = acc, acc, acc
		cfg.IsAdmin = func(ctx context.Context, id string) bool {
			roles, err := st.ListUserRoles(ctx, id)
			return err == nil && slices.Contains(roles, storage.RoleAdmin)
		}
	}
	h2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := web.New(web.Options{Name: "public"})
	h2.Register(e)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	hashes.Store(0)
	return &env{t: t, srv: srv, flaky: flaky, store: st, acc: acc, ch: fc, clock: clk, alice: alice, outbox: outbox, hashes: hashes, hold: hold}
}

// testClientIPHeader carries the address a test browser claims.
const testClientIPHeader = "X-Test-Client-IP"

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	env *env
	c   *http.Client
	// ip is the client address the browser claims ("" the real one).
	ip string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{env: e, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type page struct {
	status   int
	body     string
	header   http.Header
	location string
	cookies  []*http.Cookie
}

func (b *browser) do(req *http.Request) page {
	b.env.t.Helper()
	if b.ip != "" {
		req.Header.Set(testClientIPHeader, b.ip)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.env.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, body: string(body), header: resp.Header, location: resp.Header.Get("Location"), cookies: resp.Cookies()}
}

func (b *browser) get(path string) page {
	b.env.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.env.srv.URL+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, hdr ...string) page {
	b.env.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.env.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF field on page (status %d):\n%s", p.status, p.body)
	}
	return m[1]
}

// login walks the login form for challenge (may be "") and returns the
// answer to the POST.
func (b *browser) login(challenge, username, password string, remember bool) page {
	b.env.t.Helper()
	path := LoginPath
	if challenge != "" {
		path += "?" + url.Values{ChallengeParam: {challenge}}.Encode()
	}
	form := b.get(path)
	if form.status != http.StatusOK {
		b.env.t.Fatalf("GET %s = %d (location %q)", path, form.status, form.location)
	}
	v := url.Values{CSRFField: {csrfOf(b.env.t, form)}, "username": {username}, "password": {password}}
	if challenge != "" {
		v.Set(ChallengeParam, challenge)
	}
	if remember {
		v.Set("remember", "1")
	}
	return b.post(LoginPath, v)
}

func (b *browser) sessionCookie() *http.Cookie {
	u, _ := url.Parse(b.env.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == sessions.DefaultCookieName {
			return c
		}
	}
	return nil
}

func resumeURL(challenge string) string {
	return DefaultResumePath + "?" + url.Values{ChallengeParam: {challenge}}.Encode()
}

func consentURL(challenge string) string {
	return ConsentPath + "?" + url.Values{ChallengeParam: {challenge}}.Encode()
}

func wantStatus(t *testing.T, p page, status int) {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d (location %q), want %d; body:\n%s", p.status, p.location, status, p.body)
	}
}

func wantRedirect(t *testing.T, p page, location string) {
	t.Helper()
	if p.status != http.StatusSeeOther || p.location != location {
		t.Fatalf("answer %d to %q, want 303 to %q; body:\n%s", p.status, p.location, location, p.body)
	}
}
