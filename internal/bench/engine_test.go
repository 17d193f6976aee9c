package bench

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestLatencyPercentiles(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	var hundred []int
	for i := 100; i >= 1; i-- { // unsorted on purpose
		hundred = append(hundred, i)
	}
	var twenty []int
	for i := 1; i <= 20; i++ {
		twenty = append(twenty, i)
	}
	for _, tc := range []struct {
		name    string
		samples []time.Duration
		want    Latency
	}{
		{"none", nil, Latency{}},
		{"one", ms(7), Latency{P50: 7, P95: 7, P99: 7, Max: 7, Mean: 7}},
		{"1..100", ms(hundred...), Latency{P50: 50, P95: 95, P99: 99, Max: 100, Mean: 50.5}},
		// Nearest rank: 0.95×20 is exactly the 19th sample.
		{"1..20", ms(twenty...), Latency{P50: 10, P95: 19, P99: 20, Max: 20, Mean: 10.5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := latency(tc.samples); got != tc.want {
				t.Errorf("latency = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestMeasureCountBound: with a request bound, exactly that many
// iterations run, however many workers share them.
func TestMeasureCountBound(t *testing.T) {
	var calls atomic.Int64
	it := func(context.Context) error {
		if calls.Add(1)%5 == 0 {
			return failf("odd", "every fifth fails")
		}
		return nil
	}
	its := slices.Repeat([]iteration{it}, 7)
	tl, elapsed := measure(context.Background(), its, time.Minute, 100)
	if calls.Load() != 100 || len(tl.samples) != 80 || tl.errorCount() != 20 || tl.errors["odd"] != 20 {
		t.Errorf("calls %d, ok %d, errors %v", calls.Load(), len(tl.samples), tl.errors)
	}
	if len(tl.msgs) != 1 {
		t.Errorf("messages %q: want the one distinct message", tl.msgs)
	}
	r := newResult("x", 7, tl, elapsed)
	if r.Completed != 80 || r.Errors != 20 || r.Throughput <= 0 {
		t.Errorf("result %+v", r)
	}
}

// TestMeasureDurationBound: without a count bound the duration ends the
// run; an interrupted context ends it too and its cut-short iterations
// are not errors.
func TestMeasureDurationBound(t *testing.T) {
	its := []iteration{func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
			return nil
		}
	}}
	tl, _ := measure(context.Background(), its, 20*time.Millisecond, 0)
	if len(tl.samples) == 0 || tl.errorCount() != 0 {
		t.Errorf("ok %d, errors %v", len(tl.samples), tl.errors)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tl, _ = measure(ctx, its, time.Minute, 0)
	if len(tl.samples) != 0 || tl.errorCount() != 0 {
		t.Errorf("cancelled: ok %d, errors %v", len(tl.samples), tl.errors)
	}
}

func TestPrepareFailsOnAnySetup(t *testing.T) {
	_, err := prepare(context.Background(), 4, func(_ context.Context, i int) (iteration, error) {
		if i == 2 {
			return nil, errors.New("no session")
		}
		return func(context.Context) error { return nil }, nil
	})
	if err == nil || err.Error() != "setup of worker 2: no session" {
		t.Errorf("err = %v", err)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{failf("refresh 400 invalid_grant", "x"), "refresh 400 invalid_grant"},
		{context.DeadlineExceeded, "timeout"},
		{errors.New("connection refused"), "transport"},
	} {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestParseStat(t *testing.T) {
	// The command name may hold spaces and parentheses.
	line := "4281 (signet (x) y) S 1 4281 4281 0 -1 4194560 1234 0 0 0 250 130 0 0 20 0 9 0 100 0 0\n"
	got, err := parseStat([]byte(line))
	if err != nil || got != 3800*time.Millisecond {
		t.Errorf("parseStat = %v, %v; want 3.8s", got, err)
	}
	if _, err := parseStat([]byte("garbage")); err == nil {
		t.Error("a line without ')' parsed")
	}
}

func TestParseOps(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []string
		err  bool
	}{
		{nil, AllOps, false},
		{[]string{"all"}, AllOps, false},
		{[]string{" JWKS", "flow", "jwks"}, []string{OpJWKS, OpFlow}, false},
		{[]string{"flow", "all"}, []string{OpFlow, OpDiscovery, OpJWKS, OpClientCredentials, OpRefresh, OpLogin, OpFlood}, false},
		{[]string{"flow", "nap"}, nil, true},
	} {
		got, err := ParseOps(tc.in)
		if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
			t.Errorf("ParseOps(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
