package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Text output: one line per operation, printed as each finishes, then
// the errors and the flood under it.

// WriteTextHeader writes the run's parameters and the column heads.
func WriteTextHeader(w io.Writer, cfg Config, issuer string) error {
	limit := "no request limit"
	if cfg.Requests > 0 {
		limit = fmt.Sprintf("at most %d requests", cfg.Requests)
	}
	_, err := fmt.Fprintf(w, "signet bench: %s, client %s, user %s\nconcurrency %d, %s or %s per operation\n\n%-18s %9s %7s %10s %9s %9s %9s %9s  %s\n",
		issuer, cfg.ClientID, cfg.Username, cfg.Concurrency, cfg.Duration, limit,
		"operation", "completed", "errors", "per second", "p50", "p95", "p99", "max", "server CPU")
	return err
}

// WriteText writes one result.
func WriteText(w io.Writer, r Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%-18s %9d %7d %10.1f %9s %9s %9s %9s  %s\n", r.Op, r.Completed, r.Errors, r.Throughput,
		ms(r.Latency.P50), ms(r.Latency.P95), ms(r.Latency.P99), ms(r.Latency.Max), serverText(r.Server))
	if f := r.Flood; f != nil {
		fmt.Fprintf(&b, "  beside it %d clients posted wrong passwords: %d answered (%.1f/s, p50 %s, p99 %s), %d cut short at the end; status %s\n",
			f.Concurrency, f.Posts, f.Throughput, ms(f.Latency.P50), ms(f.Latency.P99), f.CutShort, orDefault(countsText(f.Statuses), "-"))
		writeErrors(&b, "  flood ", f.ErrorKinds, f.ErrorSamples)
	}
	writeErrors(&b, "  ", r.ErrorKinds, r.ErrorSamples)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeErrors(b *strings.Builder, indent string, kinds map[string]int, samples []string) {
	if len(kinds) == 0 {
		return
	}
	fmt.Fprintf(b, "%serrors: %s\n", indent, countsText(kinds))
	for _, s := range samples {
		fmt.Fprintf(b, "%s  %s\n", indent, s)
	}
}

func countsText(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+" ×"+strconv.Itoa(m[k]))
	}
	return strings.Join(parts, ", ")
}

func serverText(u *ServerUsage) string {
	if u == nil {
		return "-"
	}
	return fmt.Sprintf("%.2fs %.0f%% %.2fms/op, RSS %.0f MB", u.CPUSeconds, u.CPUPercent, u.CPUMsPerOp, float64(u.RSSBytes)/(1<<20))
}

// ms formats milliseconds with about three significant digits.
func ms(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v < 10:
		return fmt.Sprintf("%.2fms", v)
	case v < 100:
		return fmt.Sprintf("%.1fms", v)
	default:
		return fmt.Sprintf("%.0fms", v)
	}
}

// Report is a whole run, as `signet bench -o json` prints it. It holds no
// secret: neither the client secret nor the password.
type Report struct {
	Issuer           string    `json:"issuer"`
	ClientID         string    `json:"client_id"`
	Username         string    `json:"username"`
	Concurrency      int       `json:"concurrency"`
	DurationSeconds  float64   `json:"duration_seconds"`
	Requests         int       `json:"requests"`
	FloodConcurrency int       `json:"flood_concurrency"`
	Results          []Result  `json:"results"`
	Failed           []Failure `json:"failed,omitempty"`
}

// Failure is an operation that could not run (its setup failed).
type Failure struct {
	Op    string `json:"op"`
	Error string `json:"error"`
}

// NewReport starts the report of a run.
func NewReport(cfg Config, issuer string) Report {
	return Report{Issuer: issuer, ClientID: cfg.ClientID, Username: cfg.Username, Concurrency: cfg.Concurrency,
		DurationSeconds: cfg.Duration.Seconds(), Requests: cfg.Requests, FloodConcurrency: cfg.FloodConcurrency,
		Results: []Result{}}
}
