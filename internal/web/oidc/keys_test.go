package oidc_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-idp/signet/internal/keys"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/web/oidc"
)

func getJWKS(t *testing.T, url, ifNoneMatch string) (*http.Response, jose.JSONWebKeySet) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url+oidc.PathJWKS, nil)
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var set jose.JSONWebKeySet
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &set); err != nil {
			t.Fatalf("JWKS body %s: %v", body, err)
		}
	} else if len(body) != 0 {
		t.Fatalf("%d with a body: %s", resp.StatusCode, body)
	}
	return resp, set
}

// The JWKS carries kid, use and alg on every key, a max-age equal to the
// prepublication window, and a strong ETag that 304s and changes with the
// keys.
func TestJWKSCachingHeaders(t *testing.T) {
	e := newEnv(t, memoryStore(t))
	resp, set := getJWKS(t, e.URL, "")
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=3600" {
		t.Fatalf("Cache-Control %q, want public, max-age=3600 (the prepublication window)", cc)
	}
	etag := resp.Header.Get("ETag")
	if !strings.HasPrefix(etag, `"`) || len(etag) < 10 {
		t.Fatalf("ETag %q is not a strong entity tag", etag)
	}
	var algs []string
	for _, k := range set.Keys {
		if k.KeyID == "" || k.Use != "sig" || !k.IsPublic() {
			t.Fatalf("key %+v", k)
		}
		algs = append(algs, k.Algorithm)
	}
	slices.Sort(algs)
	if !slices.Equal(algs, []string{"ES256", "EdDSA", "RS256"}) {
		t.Fatalf("published algorithms %v", algs)
	}

	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		resp, _ := getJWKS(t, e.URL, inm)
		if resp.StatusCode != http.StatusNotModified || resp.Header.Get("ETag") != etag ||
			resp.Header.Get("Cache-Control") == "" {
			t.Fatalf("If-None-Match %s: %d (ETag %q), want 304 with the headers", inm, resp.StatusCode, resp.Header.Get("ETag"))
		}
	}
	if resp, _ := getJWKS(t, e.URL, `"stale"`); resp.StatusCode != http.StatusOK {
		t.Fatalf("other ETag: %d, want 200", resp.StatusCode)
	}

	if _, err := e.Keys.Rotate(context.Background(), keys.AlgRS256); err != nil {
		t.Fatal(err)
	}
	resp, set = getJWKS(t, e.URL, etag)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == etag || len(set.Keys) != 4 {
		t.Fatalf("after a rotation: %d, ETag %q, %d keys; want 200, a new ETag, the next key", resp.StatusCode, resp.Header.Get("ETag"), len(set.Keys))
	}
}

func TestDiscoveryListsCurrentAlgorithms(t *testing.T) {
	e := newEnv(t, memoryStore(t))
	resp, err := http.Get(e.URL + oidc.PathDiscovery)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Algs, []string{"RS256", "ES256", "EdDSA"}) {
		t.Fatalf("id_token_signing_alg_values_supported = %v", d.Algs)
	}
}

// A client's id_token_signed_response_alg picks the key of its ID tokens,
// at the code exchange and at every refresh; go-oidc verifies them
// (signature against the JWKS, at_hash).
func TestIDTokenSignedWithClientAlgorithm(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			e := newEnv(t, st.open(t))
			u := e.user()
			ctx := context.Background()
			for _, alg := range []string{"", keys.AlgRS256, keys.AlgES256, keys.AlgEdDSA} {
				c := e.client(func(c *storage.Client) { c.IDTokenSignedResponseAlg = alg })
				want := alg
				if want == "" {
					want = keys.AlgRS256
				}
				v := gooidc.NewVerifier(e.URL, gooidc.NewRemoteKeySet(ctx, e.URL+oidc.PathJWKS),
					&gooidc.Config{ClientID: c.ID, SupportedSigningAlgs: []string{want}})
				verify := func(tok map[string]interface{}) {
					t.Helper()
					raw, _ := tok["id_token"].(string)
					idt, err := v.Verify(ctx, raw)
					if err != nil {
						t.Fatalf("client alg %q: go-oidc: %v", alg, err)
					}
					if err := idt.VerifyAccessToken(tok["access_token"].(string)); err != nil {
						t.Fatalf("client alg %q: at_hash: %v", alg, err)
					}
					jws, _ := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
					k, _ := e.Keys.Current(ctx, want)
					if h := jws.Signatures[0].Header; h.Algorithm != want || h.KeyID != k.ID {
						t.Fatalf("client alg %q: token alg %s kid %s, want %s %s", alg, h.Algorithm, h.KeyID, want, k.ID)
					}
				}
				verifier, challenge := pkcePair()
				code := e.codeFor(c, u, authorizeParams(c, challenge))
				status, tok := e.exchange(c, code, verifier)
				if status != http.StatusOK {
					t.Fatalf("exchange: %d %v", status, tok)
				}
				verify(tok)
				status, tok = e.refresh(c, tok["refresh_token"].(string))
				if status != http.StatusOK {
					t.Fatalf("refresh: %d %v", status, tok)
				}
				verify(tok)
			}
		})
	}
}
