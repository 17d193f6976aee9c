package oidc_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/signet-idp/signet/internal/storage"
)

// The token endpoint against PostgreSQL, end to end over HTTP (set
// SIGNET_TEST_DATABASE_URL or run PostgreSQL on 127.0.0.1:5432):
//
//	go test -run '^$' -bench . ./internal/web/oidc/

// BenchmarkCodeExchange measures authorization_code + PKCE exchanges (ID
// token signed, access and refresh tokens stored in one transaction). The
// authorization and login that make each code are not timed.
func BenchmarkCodeExchange(b *testing.B) {
	e := newEnv(b, postgresStore(b))
	c := e.client(nil)
	u := e.user("admin")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		v, ch := pkcePair()
		code := e.codeFor(c, u, authorizeParams(c, ch))
		b.StartTimer()
		if st, body := e.exchange(c, code, v); st != http.StatusOK {
			b.Fatalf("exchange: %d %v", st, body)
		}
	}
}

// BenchmarkRefresh measures refresh grants with rotation (roles re-read,
// ID token signed), each using the refresh token the previous one issued.
func BenchmarkRefresh(b *testing.B) {
	e := newEnv(b, postgresStore(b))
	c := e.client(nil)
	u := e.user("admin")
	v, ch := pkcePair()
	st, tok := e.exchange(c, e.codeFor(c, u, authorizeParams(c, ch)), v)
	if st != http.StatusOK {
		b.Fatalf("exchange: %d %v", st, tok)
	}
	rt := tok["refresh_token"].(string)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, tok := e.refresh(c, rt)
		if st != http.StatusOK {
			b.Fatalf("refresh: %d %v", st, tok)
		}
		rt = tok["refresh_token"].(string)
	}
}

// BenchmarkClientCredentials measures client_credentials grants from
// parallel clients (one stored access token each; no transaction).
func BenchmarkClientCredentials(b *testing.B) {
	e := newEnv(b, postgresStore(b))
	c := e.client(func(c *storage.Client) { c.GrantTypes = []string{"client_credentials"} })
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, e.URL+"/oauth2/token", strings.NewReader("grant_type=client_credentials"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(c.ID, c.Secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("client_credentials: %d", resp.StatusCode)
				return
			}
		}
	})
}
