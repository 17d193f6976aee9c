package bench

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// iteration is one unit of an operation (one grant, one flow, one login);
// it reports failures as *opError where it can name the kind.
type iteration func(ctx context.Context) error

// opError is a failed iteration with the kind it is counted under.
type opError struct {
	kind string
	msg  string
}

func (e *opError) Error() string { return e.kind + ": " + e.msg }

func failf(kind, format string, args ...any) error {
	return &opError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// classify names the kind of a failure: the opError's own, else whether
// the network timed out or failed otherwise.
func classify(err error) string {
	var oe *opError
	var ne net.Error
	switch {
	case errors.As(err, &oe):
		return oe.kind
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	default:
		return "transport"
	}
}

// maxErrorSamples is how many distinct error messages a result keeps.
const maxErrorSamples = 5

// tally counts the outcomes of one worker; workers never share one, so
// recording takes no lock.
type tally struct {
	samples []time.Duration
	errors  map[string]int
	msgs    []string
}

func (t *tally) ok(d time.Duration) { t.samples = append(t.samples, d) }

func (t *tally) fail(err error) {
	if t.errors == nil {
		t.errors = map[string]int{}
	}
	t.errors[classify(err)]++
	if len(t.msgs) < maxErrorSamples && !slices.Contains(t.msgs, err.Error()) {
		t.msgs = append(t.msgs, err.Error())
	}
}

// merge folds worker tallies into one.
func merge(ts []*tally) *tally {
	out := &tally{errors: map[string]int{}}
	for _, t := range ts {
		out.samples = append(out.samples, t.samples...)
		for k, n := range t.errors {
			out.errors[k] += n
		}
		for _, m := range t.msgs {
			if len(out.msgs) < maxErrorSamples && !slices.Contains(out.msgs, m) {
				out.msgs = append(out.msgs, m)
			}
		}
	}
	return out
}

func (t *tally) errorCount() int {
	n := 0
	for _, c := range t.errors {
		n += c
	}
	return n
}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	P50  float64 `json:"p50_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

// latency computes exact percentiles (nearest rank) over every sample.
func latency(samples []time.Duration) Latency {
	if len(samples) == 0 {
		return Latency{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	// Nearest rank, in integers so 0.95×20 is 19 and not 19.000000000000004.
	rank := func(perMille int) time.Duration {
		i := (perMille*len(s)+999)/1000 - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return Latency{P50: ms(rank(500)), P95: ms(rank(950)), P99: ms(rank(990)), Max: ms(s[len(s)-1]),
		Mean: ms(sum / time.Duration(len(s)))}
}

// setupParallelism bounds how many workers set up at once. Setups sign
// in with a password; all of them at once would be a login flood of its
// own, slow enough on a provider with costly hashes to time out, and it is
// not what is being measured.
const setupParallelism = 4

// prepare runs setup for n workers, a few at a time, and returns their
// iterations; the first setup error fails them all.
func prepare(ctx context.Context, n int, setup func(ctx context.Context, worker int) (iteration, error)) ([]iteration, error) {
	its := make([]iteration, n)
	errs := make([]error, n)
	sem := make(chan struct{}, setupParallelism)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			its[i], errs[i] = setup(ctx, i)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("setup of worker %d: %w", i, err)
		}
	}
	return its, nil
}

// measure runs the iterations, one worker each, until duration has passed
// or requests iterations (when positive) have started, and returns the
// merged tally and the wall time the run took. An iteration under way when
// the time is up finishes and counts; one cut short by ctx (the person
// pressed Ctrl-C) does not.
func measure(ctx context.Context, its []iteration, duration time.Duration, requests int) (*tally, time.Duration) {
	start := time.Now()
	deadline := start.Add(duration)
	var tickets atomic.Int64
	tallies := make([]*tally, len(its))
	var wg sync.WaitGroup
	for i, it := range its {
		t := &tally{}
		tallies[i] = t
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				if requests > 0 && tickets.Add(1) > int64(requests) {
					return
				}
				t0 := time.Now()
				err := it(ctx)
				d := time.Since(t0)
				switch {
				case ctx.Err() != nil:
					return
				case err != nil:
					t.fail(err)
				default:
					t.ok(d)
				}
			}
		})
	}
	wg.Wait()
	return merge(tallies), time.Since(start)
}

// Result is the outcome of one operation.
type Result struct {
	Op          string `json:"op"`
	Concurrency int    `json:"concurrency"`
	// Completed counts iterations that succeeded; Errors those that failed,
	// by kind in ErrorKinds, with the first distinct messages.
	Completed    int            `json:"completed"`
	Errors       int            `json:"errors"`
	ErrorKinds   map[string]int `json:"error_kinds,omitempty"`
	ErrorSamples []string       `json:"error_samples,omitempty"`
	// Seconds is the wall time of the measured run (setup excluded).
	Seconds float64 `json:"seconds"`
	// Throughput is completed iterations per second.
	Throughput float64 `json:"throughput_per_s"`
	// Latency is over the completed iterations.
	Latency Latency `json:"latency"`
	// Server is the server's CPU and memory, when its PID was given.
	Server *ServerUsage `json:"server,omitempty"`
	// Flood is the wrong-password load of the flood operation; the fields
	// above are then the refresh grants measured under it.
	Flood *FloodResult `json:"flood,omitempty"`
}

func newResult(op string, concurrency int, t *tally, elapsed time.Duration) Result {
	r := Result{Op: op, Concurrency: concurrency, Completed: len(t.samples), Errors: t.errorCount(),
		ErrorSamples: t.msgs, Seconds: elapsed.Seconds(), Latency: latency(t.samples)}
	if len(t.errors) > 0 {
		r.ErrorKinds = maps.Clone(t.errors)
	}
	if elapsed > 0 {
		r.Throughput = float64(r.Completed) / elapsed.Seconds()
	}
	return r
}
