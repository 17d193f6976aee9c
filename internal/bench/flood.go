package bench

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"time"
)

// FloodResult is the wrong-password load that ran beside the refresh
// grants of the flood operation.
type FloodResult struct {
	Concurrency int `json:"concurrency"`
	// Posts counts login form posts that got an answer, by status code.
	Posts    int            `json:"posts"`
	Statuses map[string]int `json:"statuses"`
	// CutShort counts posts still unanswered when the measured grants
	// ended; they were abandoned.
	CutShort int `json:"cut_short"`
	// Throughput is posts per second; Latency is over the posts.
	Throughput float64 `json:"throughput_per_s"`
	Latency    Latency `json:"latency"`
	// Errors are failures other than a refusal: the network, an unexpected
	// page, or a wrong password accepted.
	Errors       int            `json:"errors"`
	ErrorKinds   map[string]int `json:"error_kinds,omitempty"`
	ErrorSamples []string       `json:"error_samples,omitempty"`
}

// flood measures refresh grants (as the refresh operation does) while
// FloodConcurrency clients post wrong passwords to the login form. The
// refresh workers sign in before the flood starts: once it has run, the
// provider's per-address throttle may refuse logins from this machine.
func (b *Bench) flood(ctx context.Context) (Result, error) {
	its, err := prepare(ctx, b.cfg.Concurrency, b.refreshWorker)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %w", OpFlood, err)
	}
	// The flood has its own connections, so it competes with the grants
	// for the server and not for the bench's connection pool.
	fb := *b
	fb.transport = newTransport(b.cfg.FloodConcurrency)
	defer fb.transport.CloseIdleConnections()

	stop := make(chan struct{})
	floodCtx, cancelFlood := context.WithCancel(ctx)
	defer cancelFlood()
	workers := make([]*floodWorker, b.cfg.FloodConcurrency)
	var wg sync.WaitGroup
	var floodStart time.Time
	var res Result
	err = b.withServerUsage(&res, func() {
		floodStart = time.Now()
		for i := range workers {
			w := &floodWorker{b: &fb, statuses: map[int]int{}, user: fmt.Sprintf("bench-flood-%d-%d", time.Now().UnixNano(), i)}
			workers[i] = w
			wg.Go(func() { w.run(floodCtx, stop) })
		}
		t, elapsed := measure(ctx, its, b.cfg.Duration, b.cfg.Requests)
		close(stop)
		res = newResult(OpFlood, b.cfg.Concurrency, t, elapsed)
		// Posts under way when the grants are done are not waited for:
		// their answers no longer overlap the measured grants.
		cancelFlood()
		wg.Wait()
	})
	floodTime := time.Since(floodStart)
	fr := &FloodResult{Concurrency: b.cfg.FloodConcurrency, Statuses: map[string]int{}}
	tallies := make([]*tally, len(workers))
	for i, w := range workers {
		tallies[i] = &w.tally
		fr.CutShort += w.cutShort
		for code, n := range w.statuses {
			fr.Statuses[strconv.Itoa(code)] += n
			fr.Posts += n
		}
	}
	t := merge(tallies)
	fr.Latency = latency(t.samples)
	fr.Errors = t.errorCount()
	if fr.Errors > 0 {
		fr.ErrorKinds = maps.Clone(t.errors)
	}
	fr.ErrorSamples = t.msgs
	if floodTime > 0 {
		fr.Throughput = float64(fr.Posts) / floodTime.Seconds()
	}
	res.Flood = fr
	return res, err
}

// floodWorker is one client guessing passwords: it loads a login form,
// then posts wrong passwords, each time to the form the answer shows
// again (a new authorization request when it does not).
type floodWorker struct {
	b        *Bench
	user     string
	statuses map[int]int
	cutShort int
	tally    tally
}

func (w *floodWorker) run(ctx context.Context, stop <-chan struct{}) {
	var (
		br   *browser
		form *LoginForm
	)
	for {
		select {
		case <-stop:
			return
		default:
		}
		if form == nil {
			br = w.b.newBrowser()
			ar, err := newAuthRequest()
			if err != nil {
				w.fail(ctx, err)
				continue
			}
			res, err := br.navigate(ctx, w.b.authorizeURL(ar), navLoginForm)
			if err != nil {
				w.fail(ctx, err)
				continue
			}
			form = &res.login
		}
		// A different wrong password each time, as a guesser sends.
		guess, err := randomString()
		if err != nil {
			w.fail(ctx, err)
			continue
		}
		t0 := time.Now()
		resp, body, err := br.submit(ctx, form.Fill(w.user, guess))
		d := time.Since(t0)
		if err != nil {
			if ctx.Err() != nil {
				w.cutShort++
				return
			}
			w.fail(ctx, err)
			form = nil
			continue
		}
		w.statuses[resp.StatusCode]++
		w.tally.ok(d)
		form = nil
		switch {
		case isRedirect(resp.StatusCode):
			w.fail(ctx, failf("wrong password accepted", "the login form accepted a wrong password (%d)", resp.StatusCode))
		case resp.StatusCode >= 500:
			w.fail(ctx, failf(fmt.Sprintf("login %d", resp.StatusCode), "the login form answered %d", resp.StatusCode))
		default:
			if l, ok, err := FindLoginForm(resp.Request.URL, body); ok && err == nil {
				form = &l
			}
		}
	}
}

// fail counts a failure, unless the flood is being stopped (a post cut
// short then is not the server's fault).
func (w *floodWorker) fail(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	w.tally.fail(err)
	// A provider that refuses connections must not turn this loop into a
	// busy spin.
	if classify(err) == "transport" {
		time.Sleep(10 * time.Millisecond)
	}
}
