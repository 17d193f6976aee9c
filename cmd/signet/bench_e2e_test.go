package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/adminclient"
	"github.com/signet-idp/signet/internal/bench"
	"github.com/signet-idp/signet/internal/config"
)

// benchTarget is a test server (PostgreSQL) with a client and a user made
// for `signet bench`, as an operator would register them.
type benchTarget struct {
	cfg bench.Config
}

func newBenchTarget(t *testing.T) benchTarget {
	t.Helper()
	// Cheap password hashes: login and flood hash on every post, and the
	// default 64 MiB makes the test crawl under -race.
	x := newE2E(t, func(c *config.Config) { c.Argon2Memory = 1024 })
	r := x.newRP(adminclient.ClientRegistration{
		GrantTypes: []string{"authorization_code", "refresh_token", "client_credentials"},
		Scope:      "openid offline_access",
	})
	n := strings.NewReplacer("-", "x", "_", "y").Replace(randomName())
	password := "bench password " + n
	if _, err := x.admin.CreateUser(x.ctx, adminclient.NewUser{Username: "bench" + n, Email: "bench" + n + "@example.com",
		Password: password, EmailVerified: true}); err != nil {
		t.Fatalf("create user: %v", err)
	}
	return benchTarget{cfg: bench.Config{
		Issuer: x.ts.PublicURL, ClientID: r.client.ClientID, ClientSecret: r.client.ClientSecret,
		RedirectURI: rpRedirect, Username: "bench" + n, Password: password,
		Scopes: []string{"openid", "offline_access"}, Concurrency: 4, Duration: time.Minute, Requests: 20,
		FloodConcurrency: 4, Timeout: 30 * time.Second,
	}}
}

// runBenchCmd runs `signet bench … -o json` as a person would, the
// password on standard input and the secret in the environment.
func runBenchCmd(t *testing.T, cfg bench.Config, ops string) (bench.Report, error) {
	t.Helper()
	t.Setenv("SIGNET_CLIENT_SECRET", cfg.ClientSecret)
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(cfg.Password + "\n"))
	root.SetArgs([]string{"bench", "--issuer", cfg.Issuer, "--client-id", cfg.ClientID, "--redirect-uri", cfg.RedirectURI,
		"--username", cfg.Username, "--password-stdin", "--concurrency", "4", "--requests", "20", "--duration", "1m",
		"--flood-concurrency", "4", "--ops", ops, "-o", "json"})
	err := root.ExecuteContext(context.Background())
	var rep bench.Report
	if jerr := json.Unmarshal(out.Bytes(), &rep); jerr != nil {
		t.Fatalf("bench output is not a JSON report (%v; err %v):\n%s", jerr, err, out.String())
	}
	if strings.Contains(out.String(), cfg.Password) || strings.Contains(out.String(), cfg.ClientSecret) {
		t.Error("the report holds the password or the client secret")
	}
	return rep, err
}

// TestBenchE2E runs every operation of `signet bench` against a real
// server: each must finish exactly the requested count without an error,
// ID tokens verified on the way.
func TestBenchE2E(t *testing.T) {
	bt := newBenchTarget(t)
	rep, err := runBenchCmd(t, bt.cfg, strings.Join(bench.AllOps, ","))
	if err != nil {
		t.Fatalf("bench: %v (report %+v)", err, rep)
	}
	if rep.Issuer != bt.cfg.Issuer || rep.ClientID != bt.cfg.ClientID || rep.Concurrency != 4 || rep.Requests != 20 {
		t.Errorf("report header = %+v", rep)
	}
	if len(rep.Failed) != 0 {
		t.Fatalf("operations that could not run: %+v", rep.Failed)
	}
	var ran []string
	for _, r := range rep.Results {
		ran = append(ran, r.Op)
		t.Run(r.Op, func(t *testing.T) {
			if r.Errors != 0 || len(r.ErrorKinds) != 0 {
				t.Errorf("errors = %d %v %q", r.Errors, r.ErrorKinds, r.ErrorSamples)
			}
			if r.Completed != 20 {
				t.Errorf("completed = %d, want 20", r.Completed)
			}
			if r.Concurrency != 4 {
				t.Errorf("concurrency = %d", r.Concurrency)
			}
			l := r.Latency
			if !(0 < l.P50 && l.P50 <= l.P95 && l.P95 <= l.P99 && l.P99 <= l.Max) || l.Mean <= 0 || l.Mean > l.Max {
				t.Errorf("latency = %+v: want 0 < p50 ≤ p95 ≤ p99 ≤ max", l)
			}
			if r.Throughput <= 0 || r.Seconds <= 0 {
				t.Errorf("throughput %.1f over %.3fs", r.Throughput, r.Seconds)
			}
			if r.Server != nil {
				t.Errorf("server usage without --pid: %+v", r.Server)
			}
			if (r.Op == bench.OpFlood) != (r.Flood != nil) {
				t.Fatalf("flood part = %+v", r.Flood)
			}
			if f := r.Flood; f != nil {
				t.Logf("flood: %+v", *f)
				// Every answered wrong password is refused: 401, or 429 once
				// the throttle holds this address back.
				if f.Concurrency != 4 || f.Errors != 0 {
					t.Errorf("flood = %+v", f)
				}
				total := 0
				for code, n := range f.Statuses {
					if code != "401" && code != "429" {
						t.Errorf("flood got %d answers with status %s", n, code)
					}
					total += n
				}
				if total != f.Posts {
					t.Errorf("flood posts = %d, statuses add up to %d", f.Posts, total)
				}
			}
		})
	}
	if strings.Join(ran, ",") != strings.Join(bench.AllOps, ",") {
		t.Errorf("ran %v, want %v", ran, bench.AllOps)
	}
}

// TestBenchRejectsBadIDTokens shows the verification bites: ID tokens
// checked against another audience or issuer fail every code flow, and
// the refresh workers cannot even start.
func TestBenchRejectsBadIDTokens(t *testing.T) {
	bt := newBenchTarget(t)
	for _, tc := range []struct {
		name   string
		adjust func(*bench.Config)
	}{
		{"wrong audience", func(c *bench.Config) { c.IDTokenAudience = "some-other-client" }},
		{"wrong issuer", func(c *bench.Config) { c.IDTokenIssuer = c.Issuer + "/elsewhere" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := bt.cfg
			cfg.Requests = 8
			tc.adjust(&cfg)
			b, err := bench.New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			res, err := b.Run(context.Background(), bench.OpFlow)
			if err != nil {
				t.Fatalf("flow: %v", err)
			}
			if res.Completed != 0 || res.Errors != 8 || res.ErrorKinds["id_token invalid"] != 8 {
				t.Errorf("flow with a wrong %s: completed %d, errors %d %v %q", tc.name, res.Completed, res.Errors, res.ErrorKinds, res.ErrorSamples)
			}
			if _, err := b.Run(context.Background(), bench.OpRefresh); err == nil || !strings.Contains(err.Error(), "id_token invalid") {
				t.Errorf("refresh with a wrong %s: err = %v, want the setup to fail on the ID token", tc.name, err)
			}
		})
	}
}

// TestBenchCommandErrors: bad input is refused before any load.
func TestBenchCommandErrors(t *testing.T) {
	// Environment twins of the caller's shell must not fill in what the
	// cases leave out.
	for _, k := range []string{"SIGNET_ISSUER", "SIGNET_PASSWORD", "SIGNET_BENCH_PASSWORD", "SIGNET_OUTPUT", "SIGNET_OPS", "SIGNET_SCOPE", "SIGNET_DURATION"} {
		t.Setenv(k, "") // restores the value after the test
		os.Unsetenv(k)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no password", []string{"--issuer", "http://127.0.0.1:1", "--client-id", "c", "--client-secret", "s", "--redirect-uri", "http://127.0.0.1:2/cb", "--username", "u"}, "password is required"},
		{"unknown op", []string{"--password", "p", "--ops", "jwks,nap"}, `unknown operation "nap"`},
		{"bad output", []string{"--password", "p", "-o", "yaml"}, "must be text or json"},
		{"missing issuer", []string{"--password", "p", "--client-id", "c", "--client-secret", "s", "--redirect-uri", "http://127.0.0.1:2/cb", "--username", "u"}, "issuer is required"},
		{"no openid", []string{"--issuer", "http://127.0.0.1:1", "--password", "p", "--client-id", "c", "--client-secret", "s", "--redirect-uri", "http://127.0.0.1:2/cb", "--username", "u", "--scope", "offline_access"}, "must include openid"},
		{"endless", []string{"--issuer", "http://127.0.0.1:1", "--password", "p", "--client-id", "c", "--client-secret", "s", "--redirect-uri", "http://127.0.0.1:2/cb", "--username", "u", "--duration", "0s"}, "duration must be above 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := newRootCmd()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(append([]string{"bench"}, tc.args...))
			err := root.Execute()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestBenchPasswordFromEnvironment: SIGNET_BENCH_PASSWORD is the
// password's environment twin.
func TestBenchPasswordFromEnvironment(t *testing.T) {
	bt := newBenchTarget(t)
	t.Setenv("SIGNET_BENCH_PASSWORD", bt.cfg.Password)
	t.Setenv("SIGNET_CLIENT_SECRET", bt.cfg.ClientSecret)
	root := newRootCmd()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"bench", "--issuer", bt.cfg.Issuer, "--client-id", bt.cfg.ClientID, "--redirect-uri", bt.cfg.RedirectURI,
		"--username", bt.cfg.Username, "--concurrency", "2", "--requests", "4", "--ops", "flow"})
	if err := root.Execute(); err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "flow") || strings.Contains(out.String(), bt.cfg.Password) {
		t.Errorf("output:\n%s", out.String())
	}
}
