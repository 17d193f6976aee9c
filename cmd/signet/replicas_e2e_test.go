package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/signet-idp/signet/internal/adminclient"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/pgtest"
)

// TestReplicasBehindProxy is issue 10's end-to-end test: three `signet
// serve` processes on one PostgreSQL database behind a round-robin proxy,
// once connected directly and once through PgBouncer in transaction
// pooling mode. Each scenario asserts what clients see: flows hopping
// between replicas, refresh races, replays, a replica killed, the
// database cut away and back, a wrong-password flood, and the login
// throttle under concurrency.
func TestReplicasBehindProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three signet processes and PgBouncer (not with -short)")
	}
	bin := buildSignet(t)
	for _, mode := range []string{"direct", "pgbouncer"} {
		t.Run(mode, func(t *testing.T) {
			c := startCluster(t, bin, mode)
			run := func(name string, scenario func(*cluster, *testing.T)) {
				t.Run(name, func(t *testing.T) { scenario(c.on(t), t) })
			}
			run("flows and refreshes hop between replicas", (*cluster).flowsHop)
			run("concurrent refreshes of one token rotate once", (*cluster).refreshRace)
			run("replay after the grace period revokes the grant", (*cluster).replayAfterGrace)
			run("throttle race admits at most the limit", (*cluster).throttleRace)
			run("wrong passwords from elsewhere do not lock the owner out", (*cluster).noLockout)
			run("replica killed and restarted mid-load", (*cluster).killReplica)
			run("database unreachable and back", (*cluster).databaseOutage)
			// Last: while password hashing is unbounded, the flood's
			// backlog keeps the replicas busy long after it ends.
			run("wrong-password flood leaves the token endpoint alone", (*cluster).passwordFlood)
			t.Logf("requests per replica: %v", c.proxy.hitCounts())
		})
	}
}

// replicaGrace is the refresh grace period of the test replicas: longer
// than the database outage of outageAndBack, so a refresh whose commit
// reached the database just before the cut (answered 503) is answered
// again when retried after the restore, as in production with an outage
// shorter than --refresh-grace-period; short enough to wait out.
const replicaGrace = 8 * time.Second

// startCluster starts three replicas on a fresh database, directly or
// through PgBouncer, behind a new round-robin proxy.
func startCluster(t *testing.T, bin, mode string) *cluster {
	t.Helper()
	dbURL := pgtest.NewDatabase(t)
	direct, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)

	c := &cluster{t: t, mode: mode, bin: bin, proxy: newRRProxy(t), grace: replicaGrace, addrSeq: new(atomic.Uint32),
		transport: &http.Transport{MaxIdleConnsPerHost: 500, IdleConnTimeout: 30 * time.Second}}
	t.Cleanup(c.transport.CloseIdleConnections)
	c.dbCut = newTCPCut(t, direct.Host)
	c.env = map[string]string{
		"SIGNET_ISSUER":           c.proxy.URL(),
		"SIGNET_SECRET":           testSecret,
		"SIGNET_TRUSTED_PROXIES":  "127.0.0.1/32",
		"SIGNET_LOG_FORMAT":       "json",
		"SIGNET_SHUTDOWN_TIMEOUT": "5s",
		// Cheaper password hashes than the default 64 MiB, so the
		// dozens of logins fit the test's time on two cores; the flood
		// still hashes far more than the machine can absorb unbounded.
		"SIGNET_ARGON2_MEMORY": "16384",
		// Three replicas share this machine's two cores: each gets one
		// hash at a time, as an operator sizes it to a replica's CPU share
		// (the default, one per CPU, assumes a replica has its CPUs alone).
		"SIGNET_PASSWORD_HASH_CONCURRENCY": "1",
		// Likewise the allowance of wrong passwords checked for unknown
		// browsers (default 2/s per replica): the three share it.
		"SIGNET_FAILED_LOGIN_RATE": "0.7",
		// The grace window of refresh token rotation (issue 10); an
		// older binary ignores the variable.
		"SIGNET_REFRESH_GRACE_PERIOD": replicaGrace.String(),
	}
	switch mode {
	case "direct":
		// The replicas migrate at start, all three at once.
		c.env["SIGNET_DATABASE_URL"] = withHost(t, dbURL, c.dbCut.addr, "")
	case "pgbouncer":
		// Migrations hold a session advisory lock: they run on a direct
		// connection, and the replicas behind PgBouncer skip them.
		out := runSignet(t, ctx, bin, map[string]string{"SIGNET_DATABASE_URL": dbURL}, "migrate")
		if !strings.Contains(out, "migrations applied") {
			t.Fatalf("signet migrate: %s", out)
		}
		c.env["SIGNET_DATABASE_URL"] = startPgBouncer(t, dbURL, c.dbCut.addr)
		c.env["SIGNET_SKIP_MIGRATIONS"] = "true"
	}
	var hosts []string
	for i := range 3 {
		r := newReplica(t, bin, fmt.Sprintf("%s-replica-%d", mode, i), c.env)
		c.replicas = append(c.replicas, r)
		hosts = append(hosts, r.listen)
	}
	t.Cleanup(func() {
		for _, r := range c.replicas {
			for _, crash := range r.crashes() {
				t.Errorf("%s\n%s", crash, r.logTail(30))
			}
			if t.Failed() {
				t.Logf("%s: warnings and errors in its log:\n%s", r.name, r.logDigest(8))
			}
		}
	})
	for _, r := range c.replicas {
		r.start()
	}
	for _, r := range c.replicas {
		r.waitReady(60 * time.Second)
	}
	c.proxy.setBackends(hosts)

	if c.admin, err = adminclient.New(c.replicas[0].adminURL(), "", nil); err != nil {
		t.Fatal(err)
	}
	c.ctx = gooidc.ClientContext(ctx, &http.Client{Timeout: 10 * time.Second, Transport: c.transport})
	if c.provider, err = gooidc.NewProvider(c.ctx, c.proxy.URL()); err != nil {
		t.Fatalf("discovery through the proxy: %v", err)
	}
	return c
}

// flowsHop: code flows through the HTML forms and refresh chains, 16 at a
// time, every request to the next replica: zero errors.
func (c *cluster) flowsHop(t *testing.T) {
	const workers, flowsPerWorker, refreshesPerFlow = 16, 1, 4
	first, second := c.newClient(false), c.newClient(true)
	accounts := make([]account, workers)
	for i := range accounts {
		accounts[i] = c.newAccount()
	}
	before := c.proxy.hitCounts()
	st := newStats()
	parallel(workers, func(w int) {
		addr := c.newAddr()
		hc := c.httpClient(addr, false)
		for f := range flowsPerWorker {
			rp := first
			if (w+f)%2 == 1 {
				rp = second // first-party: no consent page
			}
			tok, err := c.loginFlow(rp, accounts[w], addr)
			if err != nil {
				st.fail("worker %d flow %d: %v", w, f, err)
				continue
			}
			st.count("flows")
			rt := tok.RefreshToken
			for i := range refreshesPerFlow {
				ans, err := c.refreshOK(hc, rp, accounts[w], rt)
				if err != nil {
					st.fail("worker %d flow %d refresh %d: %v", w, f, i, err)
					break
				}
				st.count("refreshes")
				rt = ans.RefreshToken
				if i == refreshesPerFlow-1 {
					active, err := c.introspect(hc, rp, ans.AccessToken)
					if err != nil || !active {
						st.fail("worker %d flow %d: last access token active=%t, %v", w, f, active, err)
					}
				}
			}
		}
	})
	if errs := st.errors(); len(errs) > 0 {
		t.Errorf("%d errors in flows hopping between replicas (want 0):\n  %s", len(errs), firstErrors(errs, 10))
	}
	if got, want := st.n("flows"), workers*flowsPerWorker; got != want {
		t.Errorf("%d flows completed, want %d", got, want)
	}
	if got, want := st.n("refreshes"), workers*flowsPerWorker*refreshesPerFlow; got != want {
		t.Errorf("%d refreshes completed, want %d", got, want)
	}
	after := c.proxy.hitCounts()
	for _, r := range c.replicas {
		if after[r.listen]-before[r.listen] == 0 {
			t.Errorf("%s served no request: the proxy did not spread the load", r.name)
		}
	}
}

// refreshRace: 20 requests present one refresh token at once. Exactly one
// rotation happens (every success carries the same new refresh token),
// the others answer invalid_grant without revoking, and the session lives
// on: the new tokens work.
func (c *cluster) refreshRace(t *testing.T) {
	const racers, rounds = 20, 3
	rp := c.newClient(true)
	for round := range rounds {
		a := c.newAccount()
		addr := c.newAddr()
		hc := c.httpClient(addr, false)
		tok := c.mustLogin(rp, a, addr)

		answers := make([]tokenAnswer, racers)
		errs := make([]error, racers)
		start := make(chan struct{})
		var ready sync.WaitGroup
		ready.Add(racers)
		go func() { ready.Wait(); close(start) }()
		parallel(racers, func(i int) {
			ready.Done()
			<-start
			answers[i], errs[i] = c.refresh(hc, rp, tok.RefreshToken)
		})

		winners := map[string]tokenAnswer{}
		var other []string
		for i, ans := range answers {
			switch {
			case errs[i] != nil:
				other = append(other, errs[i].Error())
			case ans.Status == http.StatusOK && ans.RefreshToken != "":
				winners[ans.RefreshToken] = ans
			case ans.Status == http.StatusBadRequest && ans.Error == "invalid_grant":
			default:
				other = append(other, ans.String())
			}
		}
		if len(other) > 0 {
			t.Errorf("round %d: answers other than success or invalid_grant: %v", round, other)
		}
		if len(winners) != 1 {
			t.Fatalf("round %d: %d distinct new refresh tokens from %d racing refreshes, want exactly 1 rotation", round, len(winners), racers)
		}
		var win tokenAnswer
		for _, w := range winners {
			win = w
		}
		if err := c.checkIDToken(rp, a, win, ""); err != nil {
			t.Errorf("round %d: winner's ID token: %v", round, err)
		}
		// The session survives the race: the winner's access token is
		// active and its refresh token refreshes.
		if active, err := c.introspect(hc, rp, win.AccessToken); err != nil || !active {
			t.Errorf("round %d: the new access token after the race: active=%t, %v (want active: the race must not revoke the grant)", round, active, err)
		}
		next, err := c.refreshOK(hc, rp, a, win.RefreshToken)
		if err != nil {
			t.Errorf("round %d: refreshing with the race's new refresh token: %v (want success: the session must survive the race)", round, err)
			continue
		}
		if active, err := c.introspect(hc, rp, next.AccessToken); err != nil || !active {
			t.Errorf("round %d: access token after the next refresh: active=%t, %v", round, active, err)
		}
	}
}

// replayAfterGrace: presenting a rotated refresh token after the grace
// period is a replay: invalid_grant, and the whole grant is revoked.
func (c *cluster) replayAfterGrace(t *testing.T) {
	rp := c.newClient(true)
	a := c.newAccount()
	addr := c.newAddr()
	hc := c.httpClient(addr, false)
	tok := c.mustLogin(rp, a, addr)
	second, err := c.refreshOK(hc, rp, a, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	// A protocol window, not a speed assertion: wait it out.
	time.Sleep(c.grace + time.Second)

	replay, err := c.refresh(hc, rp, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if replay.Status != http.StatusBadRequest || replay.Error != "invalid_grant" {
		t.Errorf("replay after the grace period: %s, want 400 invalid_grant", replay)
	}
	if active, err := c.introspect(hc, rp, second.AccessToken); err != nil || active {
		t.Errorf("access token of the grant after a replay: active=%t, %v; want revoked", active, err)
	}
	after, err := c.refresh(hc, rp, second.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != http.StatusBadRequest || after.Error != "invalid_grant" {
		t.Errorf("current refresh token after a replay: %s, want 400 invalid_grant (grant revoked)", after)
	}
}

// throttleRace: 25 wrong passwords for one account from one address at
// once. The throttle reserves an attempt before the password is checked,
// across replicas, so at most the account limit (5) are checked (401,
// audited login.failure) and the rest answer 429.
func (c *cluster) throttleRace(t *testing.T) {
	const attempts, accountLimit = 25, 5
	a := c.newAccount()
	addr := c.newAddr()
	prepared := make([]loginAttempt, attempts)
	for i := range prepared {
		var err error
		if prepared[i], err = c.prepareLogin(addr); err != nil {
			t.Fatal(err)
		}
	}
	pages := make([]htmlPage, attempts)
	errs := make([]error, attempts)
	start := make(chan struct{})
	var ready sync.WaitGroup
	ready.Add(attempts)
	go func() { ready.Wait(); close(start) }()
	parallel(attempts, func(i int) {
		ready.Done()
		<-start
		pages[i], errs[i] = c.submitLogin(prepared[i], a.username, "wrong password "+randomName())
	})
	statuses := map[int]int{}
	for i, p := range pages {
		if errs[i] != nil {
			t.Errorf("attempt %d: %v", i, errs[i])
			continue
		}
		statuses[p.status]++
	}
	if statuses[http.StatusUnauthorized] > accountLimit {
		t.Errorf("%d of %d concurrent wrong passwords were checked (401), want at most %d (statuses %v)",
			statuses[http.StatusUnauthorized], attempts, accountLimit, statuses)
	}
	if statuses[http.StatusUnauthorized]+statuses[http.StatusTooManyRequests] != attempts {
		t.Errorf("statuses %v: want only 401 and 429", statuses)
	}
	events, err := c.admin.TailAudit(c.ctx, 500)
	if err != nil {
		t.Fatal(err)
	}
	failures := 0
	for _, e := range events {
		if e.Action == audit.LoginFailure && e.Actor == a.id {
			failures++
		}
	}
	if failures > accountLimit {
		t.Errorf("audit log: %d login failures (password checks) for the account, want at most %d", failures, accountLimit)
	}
	if failures != statuses[http.StatusUnauthorized] {
		t.Errorf("audit log: %d login failures, but %d answers said wrong password", failures, statuses[http.StatusUnauthorized])
	}
}

// noLockout: someone who knows a user name and floods it with wrong
// passwords from their address is slowed down, but the owner, on a device
// that signed in before and from their own address, still signs in.
func (c *cluster) noLockout(t *testing.T) {
	a := c.newAccount()
	owner := c.newAddr()
	device := c.httpClient(owner, true)
	la, err := c.prepareLoginWith(device)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := c.submitLoginPatiently(la, a.username, a.password); err != nil || p.status != http.StatusSeeOther {
		t.Fatalf("owner's first login: %d, %v", p.status, err)
	}
	if err := c.signOut(device); err != nil {
		t.Fatalf("owner's sign-out: %v", err)
	}

	attacker := c.newAddr()
	statuses := map[int]int{}
	for i := range 10 {
		la, err := c.prepareLogin(attacker)
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.submitLogin(la, a.username, fmt.Sprintf("guess %d", i))
		if err != nil {
			t.Fatal(err)
		}
		statuses[p.status]++
	}
	if statuses[http.StatusTooManyRequests] == 0 || statuses[http.StatusUnauthorized] > 5 {
		t.Errorf("10 wrong passwords from one address: %v, want at most 5 checked (401) and the rest slowed down (429)", statuses)
	}

	la, err = c.prepareLoginWith(device)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.submitLoginPatiently(la, a.username, a.password)
	if err != nil {
		t.Fatal(err)
	}
	if p.status != http.StatusSeeOther {
		t.Errorf("owner's login with the right password from a known device after someone else's guesses: %d, want 303 (not locked out)", p.status)
	}
}

// passwordFlood: 100 clients post wrong passwords for a few seconds while
// relying parties refresh tokens. Nothing fails, the wrong passwords that
// are actually checked stay within the replicas' allowance, and the
// refresh p99 during the flood stays within 8x of before, both floored at
// 100 ms. What keeps the flood cheap is the allowance, asserted exactly;
// the latency bound only catches starvation like issue 10's (45x, refresh
// throughput down to a twentieth). On an idle machine the ratio is 1-3x;
// on two cores also running PostgreSQL, three replicas and other builds
// it reached 5.6x, so a tighter bound would test the machine, not Signet.
// It must hold in one of two rounds for the same reason; speed itself is
// measured with signet bench (README, Performance), not here.
func (c *cluster) passwordFlood(t *testing.T) {
	const (
		refreshers    = 4
		baselineCount = 40 // refreshes per refresher before the flood
		floodClients  = 100
		floodFor      = 5 * time.Second
		floodPeriod   = time.Second
		floor         = 100 * time.Millisecond
		maxRatio      = 8.0
		rounds        = 2
	)
	rp := c.newClient(true)
	targets := make([]account, 10)
	for i := range targets {
		targets[i] = c.newAccount()
	}
	type chain struct {
		a  account
		hc *http.Client
		rt string
	}
	chains := make([]*chain, refreshers)
	for i := range chains {
		a := c.newAccount()
		addr := c.newAddr()
		chains[i] = &chain{a: a, hc: c.httpClient(addr, false), rt: c.mustLogin(rp, a, addr).RefreshToken}
	}
	refreshOnce := func(ch *chain, st *stats) {
		t0 := time.Now()
		ans, err := c.refreshOK(ch.hc, rp, ch.a, ch.rt)
		if err != nil {
			st.fail("refresh: %v", err)
			return
		}
		st.ok(time.Since(t0))
		ch.rt = ans.RefreshToken
	}

	round := func() float64 {
		before := newStats()
		parallel(refreshers, func(i int) {
			for range baselineCount {
				refreshOnce(chains[i], before)
			}
		})
		if errs := before.errors(); len(errs) > 0 {
			t.Fatalf("refreshes before the flood failed:\n  %s", firstErrors(errs, 5))
		}

		during := newStats()
		flood := newStats()
		var stop atomic.Bool
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			parallel(refreshers, func(i int) {
				for !stop.Load() {
					refreshOnce(chains[i], during)
				}
			})
		}()
		deadline := time.Now().Add(floodFor)
		parallel(floodClients, func(i int) {
			addr := c.newAddr()
			target := targets[i%len(targets)]
			la, err := c.prepareLogin(addr)
			if err != nil {
				flood.fail("flood client %d: %v", i, err)
				return
			}
			// About one attempt per second per client, spread over the
			// second: some 100 logins a second, the rate of issue 10's flood.
			// The flood is about what a wrong password costs, not about
			// out-requesting two cores.
			time.Sleep(time.Duration(i) * floodPeriod / floodClients)
			for next := time.Now(); time.Now().Before(deadline); time.Sleep(time.Until(next)) {
				next = next.Add(floodPeriod)
				p, err := c.submitLogin(la, target.username, "wrong "+randomName())
				switch {
				case err != nil:
					flood.fail("flood client %d: %v", i, err)
				case p.status == http.StatusUnauthorized || p.status == http.StatusTooManyRequests:
					flood.count(fmt.Sprint(p.status))
				default:
					flood.fail("flood client %d: login answered %d", i, p.status)
				}
			}
		})
		stop.Store(true)
		wg.Wait()

		base, got := before.p99(), during.p99()
		t.Logf("refresh p99 %v before the flood, %v during it (%s); flood answers %s",
			base, got, during.summary(), flood.summary())
		if errs := during.errors(); len(errs) > 0 {
			t.Errorf("%d refreshes failed during the flood (want 0):\n  %s", len(errs), firstErrors(errs, 5))
		}
		if errs := flood.errors(); len(errs) > 0 {
			t.Errorf("%d flood requests failed (want every one answered 401 or 429):\n  %s", len(errs), firstErrors(errs, 5))
		}
		if during.n("ok") == 0 {
			t.Errorf("no refresh completed during the flood")
		}
		ratio := float64(max(got, floor)) / float64(max(base, floor))
		t.Logf("refresh p99 ratio during/before the flood: %.1fx (both floored at %v)", ratio, floor)
		// Three replicas with an allowance of 0.7 wrong passwords a second
		// (burst 1) for floodFor and the last posts' second: checks in
		// flight count against it, so none overlap past it. Unbounded,
		// the flood had some 150 checked.
		allowance := int(3 * (1 + 0.7*(floodFor+floodPeriod).Seconds()))
		if checked := flood.n("401"); checked > allowance {
			t.Errorf("%d wrong passwords were checked during the flood, want at most %d (the replicas' allowance)", checked, allowance)
		}
		return ratio
	}
	for r := 1; ; r++ {
		ratio := round()
		if t.Failed() || ratio <= maxRatio {
			return
		}
		if r == rounds {
			t.Errorf("refresh p99 during the flood was %.1fx of before in each of %d rounds, want at most %.0fx", ratio, rounds, maxRatio)
			return
		}
	}
}

// killReplica: under load (16 refresh chains), one replica is killed with
// SIGKILL and restarted. Only requests in flight at the kill fail (at
// most one per client); nothing started while it is down or after it is
// back fails.
func (c *cluster) killReplica(t *testing.T) {
	const workers = 16
	rp := c.newClient(true)
	victim := c.replicas[1]

	// phase: 0 before the kill, 1 while it is being killed, 2 from its
	// death until it is ready again, 3 after. Requests count by
	// killBucket.
	var phase atomic.Int32
	var stop atomic.Bool
	byPhase := [4]*stats{newStats(), newStats(), newStats(), newStats()}
	var afterCount atomic.Int32
	const afterWant = workers * 6
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := c.newAccount()
			addr := c.newAddr()
			hc := c.httpClient(addr, false)
			rt := ""
			for !stop.Load() {
				start := phase.Load()
				if rt == "" {
					// A new chain: a whole login flow, also through the proxy.
					tok, err := c.loginFlow(rp, a, addr)
					if err != nil {
						byPhase[killBucket(start, phase.Load())].fail("worker %d login: %v", w, err)
						continue
					}
					rt = tok.RefreshToken
					continue
				}
				t0 := time.Now()
				ans, err := c.refreshOK(hc, rp, a, rt)
				ph := killBucket(start, phase.Load())
				if err != nil {
					// The answer was lost or refused: start over with a
					// new login rather than replaying the token.
					byPhase[ph].fail("worker %d refresh: %v", w, err)
					rt = ""
					continue
				}
				byPhase[ph].ok(time.Since(t0))
				rt = ans.RefreshToken
				if ph == 3 && afterCount.Add(1) >= afterWant {
					stop.Store(true)
				}
			}
		}()
	}
	waitFor := func(what string, cond func() bool) {
		deadline := time.Now().Add(60 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				stop.Store(true)
				wg.Wait()
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("load before the kill", func() bool { return byPhase[0].n("ok") >= 3*workers })
	phase.Store(1)
	victim.kill()
	phase.Store(2)
	waitFor("load while the replica is down", func() bool { return byPhase[2].n("ok") >= 2*workers })
	hitsBefore := c.proxy.hitCounts()[victim.listen]
	victim.start()
	victim.waitReady(60 * time.Second)
	phase.Store(3)
	wg.Wait()

	t.Logf("before the kill %s; in flight at the kill %s; started while down %s; after the restart %s",
		byPhase[0].summary(), byPhase[1].summary(), byPhase[2].summary(), byPhase[3].summary())
	for i, what := range []string{"before the kill", "", "started while the replica was down", "after the restart"} {
		if errs := byPhase[i].errors(); what != "" && len(errs) > 0 {
			t.Errorf("%d errors %s (want 0: only requests in flight at the kill may fail):\n  %s", len(errs), what, firstErrors(errs, 5))
		}
	}
	if errs := byPhase[1].errors(); len(errs) > workers {
		t.Errorf("%d errors in flight at the kill, want at most one per client (%d):\n  %s", len(errs), workers, firstErrors(errs, 5))
	}
	if c.proxy.hitCounts()[victim.listen] == hitsBefore {
		t.Errorf("the restarted replica served no request")
	}
}

// databaseOutage: the database becomes unreachable under load and comes
// back. Meanwhile token requests answer 503 temporarily_unavailable and
// pages 503 — never invalid_client or invalid_grant, which would make
// clients drop their tokens — and once it is back, full service returns
// within seconds, without restarting anything.
func (c *cluster) databaseOutage(t *testing.T) {
	const refreshers, pagers = 6, 2
	const recoveryBound = 10 * time.Second
	rp := c.newClient(false)

	// phase: 0 before the cut, 1 cut, 2 restored, 3 every client was
	// served again. 503 is the right answer in phases 1 and 2 only.
	var phase atomic.Int32
	var stop atomic.Bool
	st := [4]*stats{newStats(), newStats(), newStats(), newStats()}
	// recovered is when each worker first succeeded after the restore.
	var recMu sync.Mutex
	var recovered []time.Time
	var restoredAt time.Time
	markRecovered := func(first *bool) {
		if *first {
			return
		}
		*first = true
		recMu.Lock()
		recovered = append(recovered, time.Now())
		recMu.Unlock()
	}

	var wg sync.WaitGroup
	for w := range refreshers {
		a := c.newAccount()
		addr := c.newAddr()
		hc := c.httpClient(addr, false)
		rt := c.mustLogin(rp, a, addr).RefreshToken
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := false
			unavailable := 0 // 503 answers for the current token
			for !stop.Load() {
				start := phase.Load()
				ans, err := c.refresh(hc, rp, rt)
				ph := outageBucket(start, phase.Load())
				switch {
				case err != nil:
					st[ph].fail("refresher %d: %v", w, err)
				case ans.Status == http.StatusBadRequest || ans.Status == http.StatusUnauthorized:
					// The client drops its tokens, as real ones do, and
					// signs the person in again once it can.
					st[ph].fail("refresher %d: token endpoint answered %s after %d answers 503 for this token", w, ans, unavailable)
					unavailable = 0
					for !stop.Load() {
						tok, err := c.loginFlow(rp, a, addr)
						if err == nil {
							rt = tok.RefreshToken
							break
						}
						time.Sleep(100 * time.Millisecond)
					}
				case ans.Status == http.StatusOK:
					rt, unavailable = ans.RefreshToken, 0
					st[ph].ok(0)
					if ph >= 2 {
						markRecovered(&first)
					}
				case ans.Status == http.StatusServiceUnavailable && ans.Error == "temporarily_unavailable" && (ph == 1 || ph == 2):
					st[ph].count("503")
					unavailable++
				default:
					st[ph].fail("refresher %d: token endpoint answered %s", w, ans)
				}
				if ph > 0 && (err != nil || ans.Status != http.StatusOK) {
					time.Sleep(50 * time.Millisecond) // a client's retry pause
				}
			}
		}()
	}
	for w := range pagers {
		addr := c.newAddr()
		a := c.newAccount()
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := false
			browser := c.httpClient(addr, true)
			for !stop.Load() {
				// An authorization request: the client is looked up and
				// the login page parks a challenge, both in the database.
				start := phase.Load()
				p, err := c.get(browser, rp.conf.AuthCodeURL("st-"+randomName()))
				if err == nil && p.status == http.StatusSeeOther {
					p, err = c.get(browser, p.location)
				}
				ph := outageBucket(start, phase.Load())
				switch {
				case err != nil:
					st[ph].fail("pager %d: %v", w, err)
				case p.status == http.StatusOK:
					st[ph].ok(0)
					if ph >= 2 {
						markRecovered(&first)
					}
				case p.status == http.StatusServiceUnavailable && (ph == 1 || ph == 2):
					st[ph].count("503")
				default:
					st[ph].fail("pager %d (%s): page answered %d %.200s", w, a.username, p.status, p.body)
				}
				if ph > 0 && (err != nil || p.status != http.StatusOK) {
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(time.Second)
	phase.Store(1)
	c.dbCut.cut()
	// Longer than PgBouncer's query_wait_timeout, so clients behind it
	// see the outage too rather than only waiting.
	time.Sleep(4 * time.Second)
	readyDuringCut := c.readyStatuses()
	restoredAt = time.Now()
	c.dbCut.restore()
	phase.Store(2)
	deadline := time.Now().Add(recoveryBound)
	for time.Now().Before(deadline) {
		recMu.Lock()
		n := len(recovered)
		recMu.Unlock()
		if n == refreshers+pagers {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	recMu.Lock()
	var slowest time.Duration
	for _, at := range recovered {
		slowest = max(slowest, at.Sub(restoredAt))
	}
	nRecovered := len(recovered)
	recMu.Unlock()
	// Then a stretch of full service.
	phase.Store(3)
	time.Sleep(2 * time.Second)
	stop.Store(true)
	wg.Wait()
	readyAfter := c.readyStatuses()

	t.Logf("before %s; during the cut %s; restored %s; then %s; every client served again %v after the restore",
		st[0].summary(), st[1].summary(), st[2].summary(), st[3].summary(), slowest)
	if errs := st[0].errors(); len(errs) > 0 {
		t.Errorf("%d errors before the cut (want 0):\n  %s", len(errs), firstErrors(errs, 5))
	}
	if errs := st[1].errors(); len(errs) > 0 {
		t.Errorf("%d answers during the cut other than 503/temporarily_unavailable (want none):\n  %s", len(errs), firstErrors(errs, 10))
	}
	if st[1].n("503") == 0 {
		t.Errorf("no 503 during the cut: the outage did not reach the clients (%s)", st[1].summary())
	}
	if nRecovered < refreshers+pagers {
		t.Errorf("only %d of %d clients were served again within %v of the restore", nRecovered, refreshers+pagers, recoveryBound)
	}
	for i, s := range readyDuringCut {
		if s != http.StatusServiceUnavailable {
			t.Errorf("%s readiness during the cut: %d, want 503", c.replicas[i].name, s)
		}
	}
	for i, s := range readyAfter {
		if s != http.StatusOK {
			t.Errorf("%s readiness after the restore: %d, want 200", c.replicas[i].name, s)
		}
	}
	if errs := st[2].errors(); len(errs) > 0 {
		t.Errorf("%d answers after the restore other than success or 503 (want none):\n  %s", len(errs), firstErrors(errs, 10))
		// An invalid_grant "already used" here comes from a refresh whose
		// COMMIT reached PostgreSQL just before the cut: it committed, the
		// client got 503 and retried the old token after the grace
		// period, which counted as a replay.
		if strings.Contains(strings.Join(errs, "\n"), "already used") {
			t.Logf("hint: a refresh answered 503 may have committed (its COMMIT reached the database before the cut); its retry after the outage must not count as a replay")
		}
	}
	if errs := st[3].errors(); len(errs) > 0 || st[3].n("ok") == 0 {
		t.Errorf("once every client was served again: %d errors, %d successes (want 0 errors):\n  %s",
			len(errs), st[3].n("ok"), firstErrors(errs, 10))
	}
}

// killBucket is where a request of the kill scenario counts: 0 before
// the kill, 1 in flight at the kill (started before the replica was dead,
// ended after the kill began), 2 started while it was down, 3 started
// after it was back.
func killBucket(start, end int32) int32 {
	switch {
	case start == 0 && end == 0:
		return 0
	case start <= 1:
		return 1
	}
	return start
}

// outageBucket is the phase of the outage scenario a request counts in:
// its phase when it started and ended in the same one; a request in
// flight across the cut or the restore counts in the outage (1 or 2),
// where 503 is a right answer.
func outageBucket(start, end int32) int32 {
	if start == end {
		return start
	}
	return min(max(start, 1), 2)
}

// readyStatuses asks every replica's readiness probe directly.
func (c *cluster) readyStatuses() []int {
	out := make([]int, len(c.replicas))
	hc := &http.Client{Timeout: 10 * time.Second}
	parallel(len(c.replicas), func(i int) {
		resp, err := hc.Get(c.replicas[i].url() + "/health/ready")
		if err != nil {
			out[i] = -1
			return
		}
		resp.Body.Close()
		out[i] = resp.StatusCode
	})
	return out
}
