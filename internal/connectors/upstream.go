package connectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// Identity is who the upstream says signed in.
type Identity struct {
	// Subject is the upstream's stable id of the person.
	Subject       string `json:"sub"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified,omitempty"`
	Name          string `json:"name,omitempty"`
	Username      string `json:"username,omitempty"`
	// Claims are the values role rules match: every claim of the ID token
	// and userinfo (oidc; the groups claim also as "groups"), or "orgs"
	// and "teams" (github).
	Claims map[string][]string `json:"claims,omitempty"`
}

// upstream is one type of provider.
type upstream interface {
	// authURL is where the browser goes to sign in at the upstream.
	authURL(ctx context.Context, f Flow, redirectURL string) (string, error)
	// identify redeems the code (with the flow's PKCE verifier) and says
	// who signed in, after the type's own checks (nonce, hd, orgs).
	identify(ctx context.Context, f Flow, code, redirectURL string) (Identity, error)
}

// classify turns an error of a call to the upstream into a Kind: the
// upstream refused (an OAuth error answer), or could not be reached.
func classify(connector string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		if re.Response != nil && re.Response.StatusCode >= 500 {
			return fail(KindUnreachable, connector, err)
		}
		return fail(KindRefused, connector, err)
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
		return fail(KindUnreachable, connector, err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fail(KindUnreachable, connector, err)
	}
	var se *statusError
	if errors.As(err, &se) {
		if se.status >= 500 {
			return fail(KindUnreachable, connector, err)
		}
		return fail(KindRefused, connector, err)
	}
	return fail(KindInvalid, connector, err)
}

// statusError is an upstream API answer that was not 200.
type statusError struct {
	url    string
	status int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("GET %s: status %d", e.url, e.status)
}

// getJSON reads a JSON answer of an upstream API with the bearer token.
func getJSON(ctx context.Context, client *http.Client, rawURL, token string, v any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.github+json, application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{url: rawURL, status: resp.StatusCode}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(v); err != nil {
		return nil, fmt.Errorf("GET %s: %w", rawURL, err)
	}
	return resp.Header, nil
}

// claimValues turns a claim into the strings role rules compare: a
// string, a list of strings, a boolean or a number.
func claimValues(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case bool:
		return []string{strconv.FormatBool(x)}
	case float64:
		return []string{strconv.FormatFloat(x, 'f', -1, 64)}
	case json.Number:
		return []string{x.String()}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, claimValues(e)...)
		}
		return out
	}
	return nil
}

func firstString(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return strings.TrimSpace(s)
}
