package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/bench"
)

// newBenchCmd is `signet bench`, the load generator: it talks to any
// OpenID provider over HTTP only, so the same run compares Signet with
// others.
func newBenchCmd() *cobra.Command {
	var (
		cfg           bench.Config
		ops           []string
		scope         string
		output        string
		passwordStdin bool
		envPassword   string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load-test an OpenID provider (this one or any other): grants, code flows, logins",
		Long: "Runs bounded loads against an OpenID provider found by discovery and prints, per operation,\n" +
			"the completed count, errors, throughput, latency percentiles and (with --pid) the server's CPU.\n\n" +
			"It needs a confidential client (client_secret_basic) allowed authorization_code, refresh_token and\n" +
			"client_credentials with the scopes of --scope, a redirect URI registered for it (nothing needs to\n" +
			"listen there: the bench stops at it) and a user who can sign in with a password.\n\n" +
			"Operations (--ops, in this order by default):\n" +
			"  discovery           GET the discovery document\n" +
			"  jwks                GET the JWKS\n" +
			"  client_credentials  client_credentials grant\n" +
			"  refresh             refresh grant with rotation; each worker signs in once, each ID token verified\n" +
			"  flow                code flow with PKCE on a signed-in session: authorize, consent if asked,\n" +
			"                      code, token, ID token verified (signature, issuer, audience, nonce)\n" +
			"  login               new browser, authorization request and password sign-in through the login form\n" +
			"  flood               refresh measured while --flood-concurrency clients post wrong passwords\n\n" +
			"The flood trips the provider's per-address login throttle: logins from this machine may be refused\n" +
			"for a while after it, which is why it runs last.",
		Example: "  printf '%s' \"$PASSWORD\" | signet bench --issuer http://127.0.0.1:8080 --client-id bench \\\n" +
			"      --redirect-uri http://127.0.0.1:5555/callback --username alice --password-stdin --pid $(pgrep -x signet)",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch output {
			case "", "text", "table":
				output = "text"
			case "json":
			default:
				return fmt.Errorf("output format %q must be text or json", output)
			}
			switch {
			case passwordStdin:
				pw, err := manageReadPassword(cmd.InOrStdin())
				if err != nil {
					return err
				}
				cfg.Password = pw
			case cfg.Password == "":
				cfg.Password = envPassword
			}
			if cfg.Password == "" {
				return errors.New("a password is required: --password-stdin, SIGNET_BENCH_PASSWORD or --password")
			}
			cfg.Scopes = strings.Fields(scope)
			list, err := bench.ParseOps(ops)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			return runBench(ctx, cmd, cfg, list, output == "json")
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Issuer, "issuer", "", "issuer URL of the provider (discovery: <issuer>/.well-known/openid-configuration)")
	f.StringVar(&cfg.ClientID, "client-id", "", "client id of a confidential client")
	f.StringVar(&cfg.ClientSecret, "client-secret", "", "its secret (prefer SIGNET_CLIENT_SECRET)")
	f.StringVar(&cfg.RedirectURI, "redirect-uri", "", "a redirect URI registered for the client")
	f.StringVar(&cfg.Username, "username", "", "user who signs in through the login form")
	f.StringVar(&cfg.Password, "password", "", "the user's password (prefer --password-stdin or SIGNET_BENCH_PASSWORD)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the user's password from standard input")
	// Only for its environment twin, SIGNET_BENCH_PASSWORD: a name that
	// cannot be mistaken for another command's password.
	f.StringVar(&envPassword, "bench-password", "", "the user's password (set SIGNET_BENCH_PASSWORD instead)")
	_ = f.MarkHidden("bench-password")
	f.StringVar(&scope, "scope", "openid offline_access", "scopes of the code flows (space-separated; must include openid)")
	f.IntVar(&cfg.Concurrency, "concurrency", 32, "workers per operation")
	f.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long each operation runs (at most 1h)")
	f.IntVar(&cfg.Requests, "requests", 0, "stop each operation after this many iterations (0: only --duration)")
	f.StringSliceVar(&ops, "ops", nil, "operations to run, comma-separated (default: all)")
	f.IntVar(&cfg.PID, "pid", 0, "PID of the server on this machine: report its CPU time and memory per operation")
	f.IntVar(&cfg.FloodConcurrency, "flood-concurrency", 100, "clients posting wrong passwords during the flood operation")
	f.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "timeout of each HTTP request")
	f.StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func runBench(ctx context.Context, cmd *cobra.Command, cfg bench.Config, ops []string, asJSON bool) error {
	b, err := bench.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer b.Close()
	out := cmd.OutOrStdout()
	report := bench.NewReport(cfg, b.Issuer())
	if !asJSON {
		if err := bench.WriteTextHeader(out, cfg, b.Issuer()); err != nil {
			return err
		}
	}
	bad := 0
	for _, op := range ops {
		if ctx.Err() != nil {
			break
		}
		res, err := b.Run(ctx, op)
		if err != nil {
			bad++
			report.Failed = append(report.Failed, bench.Failure{Op: op, Error: err.Error()})
			if !asJSON {
				fmt.Fprintf(out, "%-18s could not run: %v\n", op, err)
			}
			continue
		}
		if res.Errors > 0 || (res.Flood != nil && res.Flood.Errors > 0) {
			bad++
		}
		report.Results = append(report.Results, res)
		if !asJSON {
			if err := bench.WriteText(out, res); err != nil {
				return err
			}
		}
	}
	if asJSON {
		if err := managePrintJSON(out, report); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d operations had errors or could not run", bad, len(ops))
	}
	return nil
}
