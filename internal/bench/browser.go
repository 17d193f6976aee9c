package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
)

// browser is one person's browser: a cookie jar on the shared transport.
type browser struct {
	b      *Bench
	client *http.Client
}

func (b *Bench) newBrowser() *browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &browser{b: b, client: b.httpClient(jar)}
}

// navMode says how far a navigation goes and what it may do on the way.
type navMode int

const (
	// navComplete signs in if asked, consents and returns the code.
	navComplete navMode = iota
	// navSSO is navComplete on an existing session: a login form is an
	// error.
	navSSO
	// navLoginForm stops at the first login form and returns it.
	navLoginForm
)

// navResult is where a navigation ended: the redirect URI's query, or (for
// navLoginForm) the login form.
type navResult struct {
	callback url.Values
	login    LoginForm
}

// maxHops bounds a navigation: authorize → login → consent → resume →
// redirect URI takes about six.
const maxHops = 20

// navigate follows an authorization request from start as a browser would,
// submitting the login and consent forms it meets, and stops at the
// redirect URI without requesting it.
func (br *browser) navigate(ctx context.Context, start string, mode navMode) (navResult, error) {
	req, err := http.NewRequest(http.MethodGet, start, nil)
	if err != nil {
		return navResult{}, err
	}
	loggedIn, consented := false, false
	for range maxHops {
		resp, body, err := do(ctx, br.client, req)
		if err != nil {
			return navResult{}, err
		}
		here := resp.Request.URL
		if isRedirect(resp.StatusCode) {
			loc, err := resp.Location()
			if err != nil {
				return navResult{}, failf("bad redirect", "%d from %s without a usable Location: %v", resp.StatusCode, here.Path, err)
			}
			if br.b.isRedirectURI(loc) {
				if mode == navLoginForm {
					return navResult{}, failf("no login form", "the provider sent the browser back to the app without asking for a password")
				}
				return navResult{callback: loc.Query()}, nil
			}
			if req, err = http.NewRequest(http.MethodGet, loc.String(), nil); err != nil {
				return navResult{}, err
			}
			continue
		}
		login, isLogin, err := FindLoginForm(here, body)
		if err != nil {
			return navResult{}, failf("login form", "%s: %v", here.Path, err)
		}
		switch {
		case isLogin && mode == navLoginForm:
			return navResult{login: login}, nil
		case isLogin && mode == navSSO:
			return navResult{}, failf("login form on SSO", "the provider asked for the password again although the browser has a session (%s)", here.Path)
		case isLogin && loggedIn:
			return navResult{}, failf(fmt.Sprintf("login %d", resp.StatusCode), "the login form came back after the password was sent (%d, %q): wrong user name or password, or throttled", resp.StatusCode, pageTitle(body))
		case isLogin:
			loggedIn = true
			if req, err = login.Fill(br.b.cfg.Username, br.b.cfg.Password).Request(); err != nil {
				return navResult{}, err
			}
			continue
		}
		if resp.StatusCode == http.StatusOK && !consented {
			consent, ok, err := FindConsentForm(here, body)
			if err != nil {
				return navResult{}, failf("consent form", "%s: %v", here.Path, err)
			}
			if ok {
				consented = true
				if req, err = consent.Request(); err != nil {
					return navResult{}, err
				}
				continue
			}
		}
		return navResult{}, failf(fmt.Sprintf("page %d", resp.StatusCode), "unexpected page at %s: %d %q", here.Path, resp.StatusCode, pageTitle(body))
	}
	return navResult{}, failf("too many redirects", "more than %d steps without reaching the redirect URI", maxHops)
}

// submit sends a form and reads the answer, without following redirects.
func (br *browser) submit(ctx context.Context, f Form) (*http.Response, []byte, error) {
	req, err := f.Request()
	if err != nil {
		return nil, nil, err
	}
	return do(ctx, br.client, req)
}

// codeFlow runs an authorization code flow with PKCE to the token
// endpoint and verifies the ID token (with the request's nonce).
func (br *browser) codeFlow(ctx context.Context, mode navMode) (tokenResponse, error) {
	b := br.b
	ar, err := newAuthRequest()
	if err != nil {
		return tokenResponse{}, err
	}
	res, err := br.navigate(ctx, b.authorizeURL(ar), mode)
	if err != nil {
		return tokenResponse{}, err
	}
	q := res.callback
	if e := q.Get("error"); e != "" {
		return tokenResponse{}, failf("authorize "+truncate(e, 40), "the provider answered the authorization request with %s: %s",
			truncate(e, 40), truncate(q.Get("error_description"), 200))
	}
	if q.Get("state") != ar.state {
		return tokenResponse{}, failf("state mismatch", "the redirect carries another state than the request")
	}
	code := q.Get("code")
	if code == "" {
		return tokenResponse{}, failf("no code", "the redirect carries no code")
	}
	tr, err := b.token(ctx, "code", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {b.cfg.RedirectURI}, "code_verifier": {ar.verifier}})
	if err != nil {
		return tokenResponse{}, err
	}
	return tr, b.verify(ctx, tr, ar.nonce)
}

// isRedirectURI reports whether u is the client's redirect URI (query
// aside), where a browser would hand the code to the app.
func (b *Bench) isRedirectURI(u *url.URL) bool {
	r := b.redirect
	return u.Scheme == r.Scheme && u.Host == r.Host && u.Path == r.Path
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}
