package main

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"golang.org/x/oauth2"

	"github.com/signet-idp/signet/internal/adminclient"
)

// formPostFields reads the hidden inputs of a response_mode=form_post page.
func formPostFields(t *testing.T, body string) url.Values {
	t.Helper()
	out := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(body, -1) {
		out.Add(m[1], m[2])
	}
	return out
}

// TestProtocolE2EAuthorizationResponseIssuer: RFC 9207. Discovery says so,
// and every authorization response — code or error, query or form_post —
// names the issuer; the relying party (x/oauth2) still redeems the code.
func TestProtocolE2EAuthorizationResponseIssuer(t *testing.T) {
	x := newE2E(t)
	var d map[string]any
	if err := x.provider.Claims(&d); err != nil {
		t.Fatal(err)
	}
	if d["authorization_response_iss_parameter_supported"] != true {
		t.Fatalf("discovery: authorization_response_iss_parameter_supported = %v", d["authorization_response_iss_parameter_supported"])
	}
	u := x.newUser("user")
	r := x.newRP(adminclient.ClientRegistration{})

	t.Run("code, query", func(t *testing.T) {
		f := r.authorize()
		loc, _ := r.complete(f, u, r.conf.Scopes, true)
		if loc.Query().Get("iss") != x.ts.PublicURL || loc.Query().Get("code") == "" {
			t.Fatalf("callback %s: want code and iss %s", loc, x.ts.PublicURL)
		}
		if _, err := r.conf.Exchange(x.ctx, loc.Query().Get("code"), oauth2.VerifierOption(f.verifier)); err != nil {
			t.Fatalf("exchange: %v", err)
		}
	})
	t.Run("access_denied, query", func(t *testing.T) {
		f := r.authorize()
		loc, _ := r.complete(f, u, nil, false)
		if loc.Query().Get("error") != "access_denied" || loc.Query().Get("iss") != x.ts.PublicURL || loc.Query().Get("state") != f.state {
			t.Fatalf("callback %s: want access_denied, state and iss", loc)
		}
	})
	t.Run("code, form_post", func(t *testing.T) {
		f := r.authorize(oauth2.SetAuthURLParam("response_mode", "form_post"))
		ch := x.challenges()
		s := r.signIn(u)
		if err := ch.AcceptLogin(x.ctx, f.challenge, u.ID, s.ID, s.AuthTime); err != nil {
			t.Fatal(err)
		}
		if err := ch.DecideConsent(x.ctx, f.challenge, r.conf.Scopes, true); err != nil {
			t.Fatal(err)
		}
		resp := r.get(x.ts.PublicURL + "/oauth2/auth/resume?login_challenge=" + url.QueryEscape(f.challenge))
		body := readBody(resp)
		v := formPostFields(t, body)
		if resp.StatusCode != http.StatusOK || v.Get("iss") != x.ts.PublicURL || v.Get("code") == "" || v.Get("state") != f.state {
			t.Fatalf("form_post answer %d %v: want code, state and iss", resp.StatusCode, v)
		}
	})
	t.Run("login_required, form_post", func(t *testing.T) {
		fresh := x.newRP(adminclient.ClientRegistration{})
		resp := fresh.get(fresh.conf.AuthCodeURL("state-formpost1", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
			oauth2.SetAuthURLParam("prompt", "none"), oauth2.SetAuthURLParam("response_mode", "form_post")))
		v := formPostFields(t, readBody(resp))
		if v.Get("error") != "login_required" || v.Get("iss") != x.ts.PublicURL || v.Get("state") != "state-formpost1" {
			t.Fatalf("form_post error %d %v: want login_required, state and iss", resp.StatusCode, v)
		}
	})
}
