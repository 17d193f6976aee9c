package bench

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Operation names.
const (
	OpDiscovery         = "discovery"
	OpJWKS              = "jwks"
	OpClientCredentials = "client_credentials"
	OpRefresh           = "refresh"
	OpFlow              = "flow"
	OpLogin             = "login"
	OpFlood             = "flood"
)

// AllOps is every operation in the order a full run takes them. The flood
// comes last: its wrong passwords trip the provider's per-address login
// throttle, after which logins from this machine are refused for a while.
var AllOps = []string{OpDiscovery, OpJWKS, OpClientCredentials, OpRefresh, OpFlow, OpLogin, OpFlood}

// Config is one bench run.
type Config struct {
	// Issuer is the provider's issuer URL; its discovery document names
	// every other endpoint.
	Issuer string
	// ClientID, ClientSecret and RedirectURI are a confidential client
	// (client_secret_basic) allowed authorization_code, refresh_token and
	// client_credentials and the scopes in Scopes.
	ClientID     string
	ClientSecret string
	RedirectURI  string
	// Username and Password sign in through the provider's login form.
	Username string
	Password string
	// Scopes of the code flows; offline_access yields the refresh tokens.
	Scopes []string

	// Concurrency is the number of workers of each operation.
	Concurrency int
	// Duration bounds each operation; Requests, when positive, bounds its
	// count too: whichever comes first ends it.
	Duration time.Duration
	Requests int
	// FloodConcurrency is the number of clients posting wrong passwords
	// during the flood operation.
	FloodConcurrency int
	// PID, when positive, is the server's process on this machine: its CPU
	// time during each operation is read from /proc.
	PID int
	// Timeout bounds each HTTP request (default 30s).
	Timeout time.Duration

	// IDTokenAudience and IDTokenIssuer replace what ID tokens must name
	// (default: ClientID and the discovered issuer). They exist to show the
	// verification bites: a wrong value must turn every token into an error.
	IDTokenAudience string
	IDTokenIssuer   string
}

// maxDuration keeps a typo (10h for 10s) from holding a provider under
// load for hours.
const maxDuration = time.Hour

func (c *Config) check() error {
	var errs []error
	need := func(name, v string) {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, fmt.Errorf("%s is required", name))
		}
	}
	need("issuer", c.Issuer)
	need("client id", c.ClientID)
	need("client secret", c.ClientSecret)
	need("redirect URI", c.RedirectURI)
	need("user name", c.Username)
	need("password", c.Password)
	if c.RedirectURI != "" {
		if u, err := url.Parse(c.RedirectURI); err != nil || u.Scheme == "" || u.Host == "" {
			errs = append(errs, fmt.Errorf("redirect URI %q is not an absolute URL", c.RedirectURI))
		}
	}
	if !slices.Contains(c.Scopes, "openid") {
		errs = append(errs, errors.New("scopes must include openid: every flow verifies an ID token"))
	}
	if c.Concurrency < 1 {
		errs = append(errs, errors.New("concurrency must be at least 1"))
	}
	if c.FloodConcurrency < 1 {
		errs = append(errs, errors.New("flood concurrency must be at least 1"))
	}
	if c.Duration <= 0 || c.Duration > maxDuration {
		errs = append(errs, fmt.Errorf("duration must be above 0 and at most %s", maxDuration))
	}
	if c.Requests < 0 {
		errs = append(errs, errors.New("requests must not be negative (0: no limit but the duration)"))
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	return errors.Join(errs...)
}

// ParseOps turns a list of names ("all" or empty: every operation) into
// operations in the order given.
func ParseOps(names []string) ([]string, error) {
	var ops []string
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		switch {
		case n == "":
		case n == "all":
			for _, o := range AllOps {
				if !slices.Contains(ops, o) {
					ops = append(ops, o)
				}
			}
		case slices.Contains(AllOps, n):
			if !slices.Contains(ops, n) {
				ops = append(ops, n)
			}
		default:
			return nil, fmt.Errorf("unknown operation %q (known: %s)", n, strings.Join(AllOps, ", "))
		}
	}
	if len(ops) == 0 {
		return slices.Clone(AllOps), nil
	}
	return ops, nil
}
