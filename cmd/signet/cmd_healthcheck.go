package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/config"
)

// newHealthcheckCmd asks the server running next to it whether it is
// ready, for container health checks: the distroless image has no shell,
// curl or wget, only this binary.
func newHealthcheckCmd() *cobra.Command {
	adminListen := config.Default().AdminListen
	var target string
	timeout := 3 * time.Second
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the local server is ready (GET /health/ready on its admin listener), 1 otherwise",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if target == "" {
				target = "http://" + localAddr(adminListen) + "/health/ready"
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("not ready: %w", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("not ready: %s answered %d", target, resp.StatusCode)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), "ready")
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&adminListen, "admin-listen", adminListen, "the server's admin listener address (as given to serve)")
	f.StringVar(&target, "url", "", "readiness URL to ask instead (default: /health/ready on --admin-listen)")
	f.DurationVar(&timeout, "timeout", timeout, "how long to wait for the answer")
	return cmd
}

// localAddr is where a process on the same host reaches a listener bound
// to addr: an empty or unspecified host (":8081", "0.0.0.0:8081") is
// loopback.
func localAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
