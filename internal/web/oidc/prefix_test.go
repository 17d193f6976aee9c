package oidc_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/signet-idp/signet/internal/web/oidc"
)

// legacy turns a token into the form fosite's prefix gave it before: the
// same token an older Signet issued.
func legacy(tok string) string {
	for _, part := range []string{"ac", "at", "rt"} {
		if rest, ok := strings.CutPrefix(tok, "signet_"+part+"_"); ok {
			return "ory_" + part + "_" + rest
		}
	}
	return tok
}

// TestTokenPrefixes: codes and tokens start with signet_ac_, signet_at_
// and signet_rt_ (refreshed ones too); ones with fosite's ory_ prefix,
// issued before, keep working at every endpoint.
func TestTokenPrefixes(t *testing.T) {
	e := newEnv(t, memoryStore(t))
	c := e.client(nil)
	u := e.user()

	v, ch := pkcePair()
	code := e.codeFor(c, u, authorizeParams(c, ch))
	if !strings.HasPrefix(code, "signet_ac_") {
		t.Fatalf("code %q, want the signet_ac_ prefix", code)
	}
	st, tok := e.exchange(c, code, v)
	if st != http.StatusOK {
		t.Fatalf("exchange: %d %v", st, tok)
	}
	at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
	if !strings.HasPrefix(at, "signet_at_") || !strings.HasPrefix(rt, "signet_rt_") {
		t.Fatalf("tokens %q, %q: want signet_at_ and signet_rt_", at, rt)
	}
	st, tok = e.refresh(c, rt)
	if st != http.StatusOK || !strings.HasPrefix(tok["access_token"].(string), "signet_at_") ||
		!strings.HasPrefix(tok["refresh_token"].(string), "signet_rt_") {
		t.Fatalf("refresh: %d %v; want signet_ prefixes", st, tok)
	}

	// Tokens from before the change: a code, then the tokens it gives.
	v, ch = pkcePair()
	old := legacy(e.codeFor(c, u, authorizeParams(c, ch)))
	st, tok = e.exchange(c, old, v)
	if st != http.StatusOK {
		t.Fatalf("exchange of an ory_ code: %d %v", st, tok)
	}
	oldAT, oldRT := legacy(tok["access_token"].(string)), legacy(tok["refresh_token"].(string))
	if !strings.HasPrefix(oldAT, "ory_at_") || !strings.HasPrefix(oldRT, "ory_rt_") {
		t.Fatalf("legacy forms %q, %q", oldAT, oldRT)
	}
	if got := e.introspect(c, oldAT); got["active"] != true {
		t.Fatalf("introspection of an ory_ access token: %v", got)
	}
	req, _ := http.NewRequest(http.MethodGet, e.URL+oidc.PathUserinfo, nil)
	req.Header.Set("Authorization", "Bearer "+oldAT)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo with an ory_ access token: %d", resp.StatusCode)
	}
	// A token's prefix must match its kind, whatever the prefix family.
	if got := e.introspect(c, "ory_rt_"+strings.TrimPrefix(oldAT, "ory_at_")); got["active"] == true {
		t.Fatalf("an access token relabelled as a refresh token is active: %v", got)
	}
	st, tok = e.refresh(c, oldRT)
	if st != http.StatusOK || !strings.HasPrefix(tok["refresh_token"].(string), "signet_rt_") {
		t.Fatalf("refresh with an ory_ refresh token: %d %v", st, tok)
	}
	// Revoking by the old form revokes the grant.
	st, body, _ := e.postForm(oidc.PathRevoke, url.Values{"token": {legacy(tok["refresh_token"].(string))}}, c.ID, c.Secret)
	if st != http.StatusOK {
		t.Fatalf("revoke with an ory_ refresh token: %d %v", st, body)
	}
	if got := e.introspect(c, tok["access_token"].(string)); got["active"] == true {
		t.Fatalf("access token active after revoking its grant by the ory_ refresh token: %v", got)
	}
}

// TestErrorsInOurWords: protocol errors fosite detects are described in
// Signet's words, at the authorization and the token endpoint.
func TestErrorsInOurWords(t *testing.T) {
	e := newEnv(t, memoryStore(t))
	c := e.client(nil)
	u := e.user()
	_, ch := pkcePair()
	q := authorizeParams(c, ch)
	q.Set("state", "short")
	resp, err := noRedirect().Get(e.URL + oidc.PathAuthorize + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if got := loc.Query().Get("error_description"); got != "The state parameter is not valid. The state parameter must be at least 8 characters long." {
		t.Fatalf("short state: error_description %q (redirect %s)", got, loc)
	}

	_, ch = pkcePair()
	code := e.codeFor(c, u, authorizeParams(c, ch))
	wrong, _ := pkcePair()
	st, body := e.exchange(c, code, wrong)
	if st != http.StatusBadRequest || body["error"] != "invalid_grant" ||
		body["error_description"] != "The authorization code or refresh token is not valid. The code_verifier does not match the code_challenge." {
		t.Fatalf("wrong verifier: %d %v", st, body)
	}
	st, body, _ = e.postForm(oidc.PathToken, url.Values{"grant_type": {"client_credentials"}}, c.ID, c.Secret)
	if st != http.StatusBadRequest || body["error_description"] != "The client may not make this request. This client may not use the client_credentials grant." {
		t.Fatalf("client_credentials for a client without it: %d %v", st, body)
	}
}
