package pages

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/sessions"
)

// TestLoginRaceChecksAtMostFivePasswords: 25 wrong passwords posted at
// once for one account from one address get five passwords verified,
// counted at the hasher, and twenty 429s; the right password right after
// is refused too, without a hash.
func TestLoginRaceChecksAtMostFivePasswords(t *testing.T) {
	e := newEnv(t)
	const n = 25
	forms := make([]url.Values, n)
	browsers := make([]*browser, n)
	for i := range n {
		browsers[i] = e.browser()
		forms[i] = url.Values{CSRFField: {csrfOf(t, browsers[i].get(LoginPath))}, "username": {"alice"}, "password": {"wrong password"}}
	}
	e.hashes.Store(0)
	statuses := make([]int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			statuses[i] = browsers[i].post(LoginPath, forms[i]).status
		})
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if h := e.hashes.Load(); h != 5 {
		t.Errorf("%d passwords verified, want 5 (answers %v)", h, count)
	}
	if count[http.StatusUnauthorized] != 5 || count[http.StatusTooManyRequests] != n-5 {
		t.Errorf("answers %v: want 5 × 401 and %d × 429", count, n-5)
	}
	wantStatus(t, e.browser().login("", "alice", alicePassword, false), http.StatusTooManyRequests)
	if h := e.hashes.Load(); h != 5 {
		t.Errorf("the throttled right password was verified (%d hashes)", h)
	}
}

// TestLockoutSparesTheOwner: five wrong passwords from address A throttle
// further guesses from A (429, no hash), but lock out neither the owner
// from address B nor the owner's known browser on A.
func TestLockoutSparesTheOwner(t *testing.T) {
	e := newEnv(t)
	const a, b = "192.0.2.66", "198.51.100.7"
	owner := e.browser()
	owner.ip = a
	wantRedirect(t, owner.login("", "alice", alicePassword, false), HomePath) // the browser is now known
	dropCookie(t, owner, sessions.DefaultCookieName)

	attacker := e.browser()
	attacker.ip = a
	for range 5 {
		wantStatus(t, attacker.login("", "alice", "guess guess", false), http.StatusUnauthorized)
	}
	e.hashes.Store(0)
	for _, password := range []string{"guess again", alicePassword} {
		p := attacker.login("", "alice", password, false)
		wantStatus(t, p, http.StatusTooManyRequests)
		wantBody(t, p, "Too many failed attempts")
		if p.header.Get("Retry-After") == "" {
			t.Error("throttled login without Retry-After")
		}
	}
	if h := e.hashes.Load(); h != 0 {
		t.Errorf("throttled logins verified %d passwords", h)
	}

	elsewhere := e.browser()
	elsewhere.ip = b
	wantRedirect(t, elsewhere.login("", "alice", alicePassword, false), HomePath)
	dropCookie(t, elsewhere, sessions.DefaultCookieName)
	wantRedirect(t, owner.login("", "alice", alicePassword, false), HomePath)
	dropCookie(t, owner, sessions.DefaultCookieName)

	// The known browser's own guesses are throttled for it alone.
	for range 5 {
		wantStatus(t, owner.login("", "alice", "my typo", false), http.StatusUnauthorized)
	}
	wantStatus(t, owner.login("", "alice", alicePassword, false), http.StatusTooManyRequests)
	wantRedirect(t, elsewhere.login("", "alice", alicePassword, false), HomePath)
}

// TestAccountPasswordChecksAreReservedAndSpareTheOwner: the account page's
// current-password checks count like logins: a signed-in attacker's
// guesses throttle that browser, while the owner's known browser still
// confirms with the right password.
func TestAccountPasswordChecksAreReservedAndSpareTheOwner(t *testing.T) {
	e := selfEnv(t)
	owner := e.browser()
	wantRedirect(t, owner.login("", "alice", alicePassword, false), HomePath)
	// Say a session leaked to another browser at the same address.
	thief := e.browser()
	wantRedirect(t, thief.login("", "alice", alicePassword, false), HomePath)
	dropCookie(t, thief, sessions.DeviceCookieName)
	for range 5 {
		wantStatus(t, accountPost(t, thief, AccountDeletePath, url.Values{"current_password": {"guess guess"}}), http.StatusUnprocessableEntity)
	}
	wantStatus(t, accountPost(t, thief, AccountDeletePath, url.Values{"current_password": {"guess again"}}), http.StatusTooManyRequests)
	p := accountPost(t, owner, AccountPasswordPath, url.Values{"current_password": {alicePassword},
		"password": {"a brand new passphrase"}, "password_confirm": {"a brand new passphrase"}})
	wantRedirect(t, p, AccountPath)
}

// dropCookie deletes a cookie from the browser's jar.
func dropCookie(t *testing.T, b *browser, name string) {
	t.Helper()
	u, err := url.Parse(b.env.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Path: "/", MaxAge: -1}})
}

// TestBusyHashingAnswers429WithoutCounting: while the only hashing slot is
// taken, a login waits at most MaxWait, then gets the "busy" 429 with
// Retry-After, hashing nothing and leaving no failure counted.
func TestBusyHashingAnswers429WithoutCounting(t *testing.T) {
	e := newEnv(t, envOptions{hashLimits: accounts.HashLimits{Concurrency: 1, Queue: 1, MaxWait: time.Millisecond}})
	release := make(chan struct{})
	e.hold.Store(&release)
	first, second := e.browser(), e.browser()
	second.ip = "198.51.100.20"
	firstForm := url.Values{CSRFField: {csrfOf(t, first.get(LoginPath))}, "username": {"alice"}, "password": {"wrong password"}}
	done := make(chan page)
	go func() { done <- first.post(LoginPath, firstForm) }()
	for e.hashes.Load() == 0 {
		time.Sleep(time.Millisecond) // until the first holds the slot
	}
	p := second.login("", "alice", alicePassword, false)
	wantStatus(t, p, http.StatusTooManyRequests)
	wantBody(t, p, "Too many people are signing in")
	if p.header.Get("Retry-After") == "" {
		t.Error("busy answer without Retry-After")
	}
	close(release)
	wantStatus(t, <-done, http.StatusUnauthorized)
	if n := e.hashes.Load(); n != 1 {
		t.Errorf("%d hashes, want 1 (the busy login hashes nothing)", n)
	}
	for key, want := range map[string]int{
		sessions.AccountKey(e.alice.ID, "") + "|" + sessions.IPKey("198.51.100.20"): 0,
		sessions.IPKey("198.51.100.20"):                                             0,
		"cap:" + sessions.AccountKey(e.alice.ID, ""):                                1,
	} {
		if a, _ := e.store.GetLoginAttempts(t.Context(), key); a.Failures != want {
			t.Errorf("%s: %d failures, want %d", key, a.Failures, want)
		}
	}
}

// TestFailedLoginAllowance: once wrong passwords from unknown browsers,
// spread over many addresses and accounts, have used up the replica's
// allowance, further unknown browsers get the busy page without a hash;
// the owner's known browser still signs in, and right passwords never use
// the allowance up.
func TestFailedLoginAllowance(t *testing.T) {
	// A burst of 3 and next to no refill during the test.
	e := newEnv(t, envOptions{failedLogins: sessions.NewAllowance(1.0/3600, 3)})
	owner := e.browser()
	owner.ip = "198.51.100.1"
	wantRedirect(t, owner.login("", "alice", alicePassword, false), HomePath)
	dropCookie(t, owner, sessions.DefaultCookieName)

	// Right passwords from new browsers do not spend it.
	for i := range 4 {
		b := e.browser()
		b.ip = fmt.Sprintf("198.51.100.%d", 10+i)
		wantRedirect(t, b.login("", "alice", alicePassword, false), HomePath)
	}
	// Three wrong ones, each from its own address, do.
	for i := range 3 {
		b := e.browser()
		b.ip = fmt.Sprintf("203.0.113.%d", i+1)
		wantStatus(t, b.login("", "alice", "wrong guess", false), http.StatusUnauthorized)
	}
	e.hashes.Store(0)
	for i, password := range []string{"another guess", alicePassword} {
		b := e.browser()
		b.ip = fmt.Sprintf("203.0.113.%d", 100+i)
		p := b.login("", "alice", password, false)
		wantStatus(t, p, http.StatusTooManyRequests)
		wantBody(t, p, "Too many people are signing in")
		if p.header.Get("Retry-After") == "" {
			t.Error("busy login without Retry-After")
		}
	}
	if h := e.hashes.Load(); h != 0 {
		t.Errorf("%d passwords hashed past the allowance, want 0", h)
	}
	// The owner's known browser is not held by it.
	wantRedirect(t, owner.login("", "alice", alicePassword, false), HomePath)
}
