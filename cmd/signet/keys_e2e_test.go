package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/signet-idp/signet/internal/adminclient"
	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/postgres"
)

// Key rotation end to end: real servers on PostgreSQL, relying parties
// that cache the JWKS exactly as long as the advertised max-age, the server
// clock moved by the test and the rotation step run by each server's own
// background loop (every keyTestRefresh of real time).
//
// fosite stamps tokens and code expiries with the real time while the
// server judges stored rows with its (moved) clock, so after the clock has
// moved new ID tokens come from the refresh grant (refresh tokens are made
// to outlive the moves) rather than from new logins.

const keyTestRefresh = 200 * time.Millisecond

// withKeyTest sets a short key refresh interval (the background rotation
// step runs that often), the given signing algorithms, and refresh tokens
// that outlive the clock moves.
func withKeyTest(algs ...string) testServerOption {
	return func(c *config.Config) {
		c.KeyRefreshInterval = keyTestRefresh
		c.RefreshTokenLifespan = 400 * 24 * time.Hour
		if len(algs) > 0 {
			c.SigningAlgorithms = algs
		}
	}
}

// withSecrets sets the global secret and the old secrets.
func withSecrets(secret string, old ...string) testServerOption {
	return func(c *config.Config) { c.Secret, c.OldSecrets = secret, old }
}

// cachingKeySet is a relying party's JWKS cache: it fetches the JWKS only
// when it has none or its copy is older than the max-age the server
// advertised (by the RP's clock, here the server's moved clock), and never
// on an unknown kid. A token whose key is not in the cached copy fails.
type cachingKeySet struct {
	url string
	now func() time.Time

	mu        sync.Mutex
	set       jose.JSONWebKeySet
	fetchedAt time.Time
	maxAge    time.Duration
	fetches   int
}

var _ gooidc.KeySet = (*cachingKeySet)(nil)

func newCachingKeySet(issuer string, now func() time.Time) *cachingKeySet {
	return &cachingKeySet{url: issuer + "/.well-known/jwks.json", now: now}
}

var maxAgePattern = regexp.MustCompile(`(?:^|[ ,])max-age=(\d+)`)

func (k *cachingKeySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fetches == 0 || !k.now().Before(k.fetchedAt.Add(k.maxAge)) {
		if err := k.fetch(ctx); err != nil {
			return nil, err
		}
	}
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		return nil, err
	}
	kid := jws.Signatures[0].Header.KeyID
	found := k.set.Key(kid)
	if len(found) == 0 {
		return nil, fmt.Errorf("kid %s is not in the JWKS cached %v ago (max-age %v)", kid, k.now().Sub(k.fetchedAt), k.maxAge)
	}
	return jws.Verify(found[0])
}

func (k *cachingKeySet) fetch(ctx context.Context) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	m := maxAgePattern.FindStringSubmatch(resp.Header.Get("Cache-Control"))
	if resp.StatusCode != http.StatusOK || m == nil {
		return fmt.Errorf("JWKS: %d, Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	secs, _ := strconv.Atoi(m[1])
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return err
	}
	k.set, k.maxAge, k.fetchedAt = set, time.Duration(secs)*time.Second, k.now()
	k.fetches++
	return nil
}

func (k *cachingKeySet) fetchCount() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.fetches
}

// jwksKids fetches the JWKS afresh and returns its kids.
func jwksKids(t *testing.T, issuer string) []string {
	t.Helper()
	resp, err := http.Get(issuer + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		if k.KeyID == "" || k.Use != "sig" || k.Algorithm == "" || !k.IsPublic() {
			t.Fatalf("JWKS key %+v lacks kid, use or alg, or is not public", k)
		}
		kids = append(kids, k.KeyID)
	}
	return kids
}

// rpSession is a relying party's grant: it gets new ID tokens from the
// refresh grant at a server's token endpoint.
type rpSession struct {
	r  *rp
	rt string
}

func (r *rp) session(u adminclient.User) *rpSession {
	r.x.t.Helper()
	tok, _, _ := r.login(u)
	return &rpSession{r: r, rt: tok.RefreshToken}
}

// idToken refreshes at ts and returns the ID token, the access token and
// the kid that signed it.
func (s *rpSession) idToken(t *testing.T, ts *testServer) (raw, accessToken, kid string) {
	t.Helper()
	conf := s.r.conf
	conf.Endpoint.TokenURL = ts.PublicURL + "/oauth2/token"
	tok, err := conf.TokenSource(s.r.x.ctx, &oauth2.Token{RefreshToken: s.rt, Expiry: time.Now().Add(-time.Hour)}).Token()
	if err != nil {
		t.Fatalf("refresh at %s: %v", ts.PublicURL, err)
	}
	s.rt = tok.RefreshToken
	raw, _ = tok.Extra("id_token").(string)
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	return raw, tok.AccessToken, jws.Signatures[0].Header.KeyID
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// keysByState lists the stored keys through the admin API.
func adminKeys(t *testing.T, admin *adminclient.Client) []adminclient.SigningKey {
	t.Helper()
	ks, err := admin.ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func findKey(ks []adminclient.SigningKey, match func(adminclient.SigningKey) bool) (adminclient.SigningKey, bool) {
	for _, k := range ks {
		if match(k) {
			return k, true
		}
	}
	return adminclient.SigningKey{}, false
}

func keyState(alg, state string) func(adminclient.SigningKey) bool {
	return func(k adminclient.SigningKey) bool { return k.Algorithm == alg && k.State == state }
}

func kidIs(kid string) func(adminclient.SigningKey) bool {
	return func(k adminclient.SigningKey) bool { return k.KID == kid }
}

// TestKeysE2ERelyingPartyAcrossTwoRotations: a relying party that caches
// the JWKS for its max-age validates every ID token (signed before and
// after) through a scheduled rotation and one started by hand; retired
// keys leave the JWKS once every token they signed has expired.
func TestKeysE2ERelyingPartyAcrossTwoRotations(t *testing.T) {
	x := newE2E(t, withKeyTest())
	ts, cfg := x.ts, x.ts.Deps.cfg
	lead := cfg.KeyPrepublishWindow + cfg.KeyRefreshInterval
	u := x.newUser()
	r := x.newRP(adminclient.ClientRegistration{})
	sess := r.session(u)

	rpKeys := newCachingKeySet(ts.PublicURL, ts.Clock.Now)
	verifier := gooidc.NewVerifier(ts.PublicURL, rpKeys, &gooidc.Config{ClientID: r.client.ClientID})
	type minted struct {
		raw, kid string
		at       time.Time
	}
	var tokens []minted
	verify := func(raw string) error {
		_, err := verifier.Verify(context.Background(), raw)
		return err
	}
	// mint gets an ID token, which the RP must validate at once.
	mint := func() string {
		t.Helper()
		raw, at, kid := sess.idToken(t, ts)
		idt, err := verifier.Verify(context.Background(), raw)
		if err != nil {
			t.Fatalf("relying party rejects a new ID token: %v", err)
		}
		if err := idt.VerifyAccessToken(at); err != nil {
			t.Fatalf("at_hash: %v", err)
		}
		tokens = append(tokens, minted{raw, kid, ts.Clock.Now()})
		return kid
	}
	// checkAll: every ID token not yet expired (by the server clock)
	// still validates at the relying party.
	checkAll := func(stage string) {
		t.Helper()
		n := 0
		for _, tok := range tokens {
			if ts.Clock.Now().Sub(tok.at) >= cfg.IDTokenLifespan {
				continue
			}
			if err := verify(tok.raw); err != nil {
				t.Fatalf("%s: an unexpired ID token signed by %s no longer validates: %v", stage, tok.kid, err)
			}
			n++
		}
		t.Logf("%s: %d live ID tokens validate (JWKS fetched %d times)", stage, n, rpKeys.fetchCount())
	}
	advanceTo := func(at time.Time) {
		if d := at.Sub(ts.Clock.Now()); d > 0 {
			ts.Clock.Advance(d)
		}
	}
	mustMint := func(want string) {
		t.Helper()
		if kid := mint(); kid != want {
			t.Fatalf("signed with %s, want %s", kid, want)
		}
	}

	k1, ok := findKey(adminKeys(t, x.admin), keyState("RS256", "current"))
	if !ok || k1.ActivateAt == nil {
		t.Fatalf("no current RS256 key: %+v", adminKeys(t, x.admin))
	}
	mustMint(k1.KID)
	if rpKeys.maxAge != cfg.KeyPrepublishWindow {
		t.Fatalf("JWKS max-age %v, want the prepublication window %v", rpKeys.maxAge, cfg.KeyPrepublishWindow)
	}

	// 1. The scheduled rotation. A minute before the next key is due the
	// relying party fetches the JWKS (only K1 in it).
	createAt := k1.ActivateAt.Add(cfg.KeyRotationPeriod - lead)
	advanceTo(createAt.Add(-time.Minute))
	time.Sleep(3 * keyTestRefresh)
	if ks := adminKeys(t, x.admin); len(ks) != 1 {
		t.Fatalf("keys before the schedule: %+v", ks)
	}
	mustMint(k1.KID)
	fetches := rpKeys.fetchCount()
	ts.Clock.Advance(time.Minute)
	var k2 adminclient.SigningKey
	waitFor(t, "the scheduled next key", func() bool {
		k2, ok = findKey(adminKeys(t, x.admin), keyState("RS256", "next"))
		return ok
	})
	// It activates one period after the first key (or one step later:
	// the step runs every refresh interval), and never less than the
	// window plus a refresh after it was published.
	if rotateAt := k1.ActivateAt.Add(cfg.KeyRotationPeriod); k2.ActivateAt.Before(rotateAt) ||
		k2.ActivateAt.After(rotateAt.Add(2*time.Second)) || k2.ActivateAt.Sub(k2.CreatedAt) < lead {
		t.Fatalf("next key created %v activates at %v; want one period after the first (%v), and at least %v after it was made",
			k2.CreatedAt, k2.ActivateAt, rotateAt, lead)
	}
	waitFor(t, "the next key in the JWKS", func() bool { return slices.Contains(jwksKids(t, ts.PublicURL), k2.KID) })
	mustMint(k1.KID) // the next key is published, not signing
	// Five minutes before activation the RP's copy (without K2) is still
	// fresh; K1 still signs, so that is fine.
	advanceTo(k2.ActivateAt.Add(-5 * time.Minute))
	time.Sleep(2 * keyTestRefresh)
	mustMint(k1.KID)
	checkAll("before activation")
	if rpKeys.fetchCount() != fetches {
		t.Fatal("the relying party refetched a JWKS younger than its max-age")
	}
	ts.Clock.Advance(5*time.Minute + time.Second)
	waitFor(t, "the next key to sign", func() bool { return mint() == k2.KID })
	checkAll("after the scheduled rotation")
	if rpKeys.fetchCount() != fetches+1 {
		t.Fatalf("JWKS fetched %d more times, want once after max-age", rpKeys.fetchCount()-fetches)
	}
	k1r, _ := findKey(adminKeys(t, x.admin), kidIs(k1.KID))
	if k1r.State != "retired" || k1r.DeleteAfter == nil || k1r.DeleteAfter.Sub(*k1r.RetiredAt) < cfg.IDTokenLifespan {
		t.Fatalf("old key after rotation: %+v; want retired, kept at least one ID token lifetime", k1r)
	}

	// 2. A rotation started by hand (signet keys rotate).
	checkAll("before the manual rotation") // the RP's copy holds K1 and K2
	rotated, err := x.admin.RotateKeys(context.Background(), "")
	if err != nil || len(rotated) != 1 || rotated[0].State != "next" {
		t.Fatalf("rotate: %+v, %v", rotated, err)
	}
	k3 := rotated[0]
	if d := k3.ActivateAt.Sub(ts.Clock.Now()); d < lead-5*time.Second || d > lead {
		t.Fatalf("manual rotation activates in %v, want the prepublication window plus a refresh (%v)", d, lead)
	}
	mustMint(k2.KID)
	advanceTo(k3.ActivateAt.Add(-5 * time.Minute))
	time.Sleep(2 * keyTestRefresh)
	mustMint(k2.KID)
	checkAll("before the second activation")
	ts.Clock.Advance(5*time.Minute + time.Second)
	waitFor(t, "the manual next key to sign", func() bool { return mint() == k3.KID })
	checkAll("after the second rotation")

	// 3. Retired keys leave once every token they signed has expired.
	if !slices.Contains(jwksKids(t, ts.PublicURL), k1.KID) {
		t.Fatal("K1 left the JWKS before its DeleteAfter")
	}
	advanceTo(k1r.DeleteAfter.Add(time.Second))
	waitFor(t, "K1 to leave the JWKS", func() bool { return !slices.Contains(jwksKids(t, ts.PublicURL), k1.KID) })
	if _, ok := findKey(adminKeys(t, x.admin), kidIs(k1.KID)); ok {
		t.Fatal("K1 still stored after its DeleteAfter")
	}
	if !slices.Contains(jwksKids(t, ts.PublicURL), k2.KID) {
		t.Fatal("K2 left with K1, before its own tokens expired")
	}
	mustMint(k3.KID)
	checkAll("after K1's deletion")
	k2r, _ := findKey(adminKeys(t, x.admin), kidIs(k2.KID))
	advanceTo(k2r.DeleteAfter.Add(time.Second))
	waitFor(t, "K2 to leave the JWKS", func() bool { return !slices.Contains(jwksKids(t, ts.PublicURL), k2.KID) })
	if kids := jwksKids(t, ts.PublicURL); !slices.Equal(kids, []string{k3.KID}) {
		t.Fatalf("JWKS after both deletions: %v, want only %s", kids, k3.KID)
	}
	mustMint(k3.KID)
	checkAll("at the end")
}

// TestKeysE2ETwoServersOneDatabase: two servers on one database rotate
// (by hand, on schedule, for two algorithms) and neither ever signs with a
// key the other does not publish: every ID token's kid is checked against
// both JWKS right after it is issued, including while one server has
// noticed a change and the other not yet.
func TestKeysE2ETwoServersOneDatabase(t *testing.T) {
	x := newE2E(t, withKeyTest("RS256", "ES256"))
	a := x.ts
	b := startTestServer(t, withDatabase(a.Deps.cfg.DatabaseURL), withKeyTest("RS256", "ES256"))
	servers := []*testServer{a, b}
	cfg := a.Deps.cfg
	lead := cfg.KeyPrepublishWindow + cfg.KeyRefreshInterval
	ctx := context.Background()

	u := x.newUser()
	var sessions []*rpSession
	for _, alg := range []string{"", "ES256"} {
		r := x.newRP(adminclient.ClientRegistration{})
		setClientAlg(t, a.Store, r.client.ClientID, alg)
		sessions = append(sessions, r.session(u))
	}
	issued := map[string]int{}
	// burst issues ID tokens on both servers for d (real time) and checks
	// each kid against both servers' JWKS.
	burst := func(stage string, d time.Duration) {
		t.Helper()
		for end := time.Now().Add(d); ; {
			for i, ts := range servers {
				for _, s := range sessions {
					_, _, kid := s.idToken(t, ts)
					issued[kid]++
					for j, other := range servers {
						if !slices.Contains(jwksKids(t, other.PublicURL), kid) {
							t.Fatalf("%s: server %d signed with %s, which server %d does not publish", stage, i, kid, j)
						}
					}
				}
			}
			if time.Now().After(end) {
				return
			}
		}
	}
	advance := func(d time.Duration) {
		for _, ts := range servers {
			ts.Clock.Advance(d)
		}
	}
	currentKids := func() map[string]string {
		out := map[string]string{}
		for _, k := range adminKeys(t, x.admin) {
			if k.State == "current" {
				if out[k.Algorithm] != "" {
					t.Fatalf("two current %s keys", k.Algorithm)
				}
				out[k.Algorithm] = k.KID
			}
		}
		return out
	}
	// signsWith: both servers sign every session's tokens with the
	// current keys in the database.
	signsWith := func(want map[string]string) bool {
		for _, ts := range servers {
			for i, s := range sessions {
				_, _, kid := s.idToken(t, ts)
				alg := []string{"RS256", "ES256"}[i]
				if kid != want[alg] {
					return false
				}
			}
		}
		return true
	}

	first := currentKids()
	burst("start", time.Second)

	// Rotation by hand on A: B learns of the next keys at its next
	// refresh; nobody signs with them before the window has passed.
	next, err := x.admin.RotateKeys(ctx, "")
	if err != nil || len(next) != 2 {
		t.Fatalf("rotate: %+v, %v", next, err)
	}
	burst("next keys published", time.Second)
	advance(lead + time.Second)
	burst("promotion", 2*time.Second) // one server may promote before the other notices
	second := currentKids()
	for _, n := range next {
		if second[n.Algorithm] != n.KID {
			t.Fatalf("after the window, current %s is %s, want %s", n.Algorithm, second[n.Algorithm], n.KID)
		}
	}
	waitFor(t, "both servers to sign with the new keys", func() bool { return signsWith(second) })

	// Scheduled rotation, on its own.
	k, _ := findKey(adminKeys(t, x.admin), kidIs(second["RS256"]))
	advance(k.ActivateAt.Add(cfg.KeyRotationPeriod-lead).Sub(a.Clock.Now()) + time.Second)
	burst("scheduled next keys", time.Second)
	advance(lead)
	burst("scheduled promotion", 2*time.Second)
	third := currentKids()
	if third["RS256"] == second["RS256"] || third["ES256"] == second["ES256"] {
		t.Fatalf("scheduled rotation did not happen: %v → %v", second, third)
	}
	waitFor(t, "both servers to sign with the scheduled keys", func() bool { return signsWith(third) })

	// Retired keys past DeleteAfter leave both JWKS; nobody signs with them.
	var deleteAfter time.Time
	for _, k := range adminKeys(t, x.admin) {
		if k.State == "retired" && k.DeleteAfter.After(deleteAfter) {
			deleteAfter = *k.DeleteAfter
		}
	}
	advance(deleteAfter.Sub(a.Clock.Now()) + time.Second)
	waitFor(t, "retired keys to go", func() bool { return len(adminKeys(t, x.admin)) == 2 })
	waitFor(t, "both JWKS to drop them", func() bool {
		return len(jwksKids(t, a.PublicURL)) == 2 && len(jwksKids(t, b.PublicURL)) == 2
	})
	burst("after deletions", time.Second)
	for _, old := range []map[string]string{first, second} {
		for _, kid := range old {
			if slices.Contains(jwksKids(t, a.PublicURL), kid) {
				t.Fatalf("deleted key %s still published", kid)
			}
		}
	}
	t.Logf("ID tokens per key: %v", issued)
}

// setClientAlg sets a client's id_token_signed_response_alg in the store
// (the admin API field is another issue's).
func setClientAlg(t *testing.T, s storage.Store, id, alg string) {
	t.Helper()
	c, err := s.GetClient(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	c.IDTokenSignedResponseAlg = alg
	if err := s.UpdateClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

// TestKeysE2ESecretRotation: start with secret A; restart with B and old A
// (still signs with the same keys, now encrypted under B); restart with B
// alone (works). A wrong or missing secret then refuses to start, on one
// line, and writes no key.
func TestKeysE2ESecretRotation(t *testing.T) {
	const secretB = "second-secret-0123456789-abcdefghijklmno"
	x := newE2E(t, withKeyTest("RS256", "EdDSA"))
	dbURL := x.ts.Deps.cfg.DatabaseURL
	u := x.newUser()
	r := x.newRP(adminclient.ClientRegistration{})
	sess := r.session(u)
	_, _, kid := sess.idToken(t, x.ts)
	rowsA, _ := x.ts.Store.ListKeys(context.Background())
	x.ts.Stop()

	check := func(ts *testServer, stage string) []storage.SigningKey {
		t.Helper()
		raw, _, got := sess.idToken(t, ts) // refresh token from the previous server
		if got != kid {
			t.Fatalf("%s: signed with %s, want the same key %s", stage, got, kid)
		}
		if err := verifyWithJWKS(ts.PublicURL, raw); err != nil {
			t.Fatalf("%s: %v", stage, err)
		}
		rows, err := ts.Store.ListKeys(context.Background())
		if err != nil || len(rows) != len(rowsA) {
			t.Fatalf("%s: %d keys, %v; want %d", stage, len(rows), err, len(rowsA))
		}
		return rows
	}

	tsB := startTestServer(t, withDatabase(dbURL), withKeyTest("RS256", "EdDSA"), withSecrets(secretB, testSecret))
	rowsB := check(tsB, "secret B, old A")
	for i := range rowsB {
		if rowsB[i].ID != rowsA[i].ID || bytes.Equal(rowsB[i].PrivateKey, rowsA[i].PrivateKey) {
			t.Fatalf("key %s was not re-encrypted at start", rowsB[i].ID)
		}
	}
	tsB.Stop()

	tsB2 := startTestServer(t, withDatabase(dbURL), withKeyTest("RS256", "EdDSA"), withSecrets(secretB))
	rowsB2 := check(tsB2, "secret B alone")
	for i := range rowsB2 {
		if !bytes.Equal(rowsB2[i].PrivateKey, rowsB[i].PrivateKey) {
			t.Fatal("keys re-encrypted again under the same secret")
		}
	}
	tsB2.Stop()

	cfg := tsB2.Deps.cfg
	for name, edit := range map[string]func(*config.Config){
		"wrong secret":      func(c *config.Config) { c.Secret, c.OldSecrets = "a-third-secret-0123456789-abcdefghijklmn", nil },
		"old secret alone":  func(c *config.Config) { c.Secret, c.OldSecrets = testSecret, nil },
		"missing, with dev": func(c *config.Config) { c.Secret, c.OldSecrets, c.Dev = "", nil, true },
	} {
		c := cfg
		edit(&c)
		pub, _ := netListen(t)
		adm, _ := netListen(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := serve(ctx, c, discardLogger(), serveHooks{publicListener: pub, adminListener: adm})
		cancel()
		if err == nil || !strings.Contains(err.Error(), "SIGNET_SECRET") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%s: serve: %v; want one line naming SIGNET_SECRET", name, err)
		}
		s, err := postgres.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := s.ListKeys(context.Background())
		s.Close()
		if err != nil || len(rows) != len(rowsA) {
			t.Fatalf("%s: %d keys after the refusal, want %d (no new keys)", name, len(rows), len(rowsA))
		}
		for i := range rows {
			if !bytes.Equal(rows[i].PrivateKey, rowsB[i].PrivateKey) || rows[i].State != rowsB[i].State {
				t.Fatalf("%s: key %s changed", name, rows[i].ID)
			}
		}
	}
}

// verifyWithJWKS checks raw's signature against the server's JWKS.
func verifyWithJWKS(issuer, raw string) error {
	ks := newCachingKeySet(issuer, time.Now)
	_, err := ks.VerifySignature(context.Background(), raw)
	return err
}

// syncBuffer collects log lines from concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serveLogged runs serve with cfg, logging to w, until the test ends.
func serveLogged(t *testing.T, cfg config.Config, w io.Writer) (publicURL, adminURL string) {
	t.Helper()
	pub, _ := netListen(t)
	adm, _ := netListen(t)
	cfg.Issuer = "http://" + pub.Addr().String()
	cfg.Listen, cfg.AdminListen = pub.Addr().String(), adm.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, slog.New(slog.NewTextHandler(w, nil)), serveHooks{publicListener: pub, adminListener: adm,
			console: io.Discard, started: func(string, string, serverDeps) { close(ready) }})
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("server did not start: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start within 60s")
	}
	return cfg.Issuer, "http://" + adm.Addr().String()
}

// TestKeysE2ECorruptedKeyRow: the current RS256 key's row is damaged while
// the server is down. At start it is skipped with an error log naming it,
// a new RS256 key is made under the lock, the ES256 key is untouched, and
// the server signs ID tokens that verify.
func TestKeysE2ECorruptedKeyRow(t *testing.T) {
	ts := startTestServer(t, withKeyTest("RS256", "ES256"))
	cfg := ts.Deps.cfg
	ctx := context.Background()
	all, _ := ts.Store.ListKeys(ctx)
	var rs, es storage.SigningKey
	for _, k := range all {
		switch k.Algorithm {
		case "RS256":
			rs = k
		case "ES256":
			es = k
		}
	}
	ts.Stop()
	s, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	rs.PrivateKey[len(rs.PrivateKey)/2] ^= 0x5a
	if err := s.UpdateKey(ctx, rs); err != nil {
		t.Fatal(err)
	}
	s.Close()

	var logs syncBuffer
	publicURL, adminURL := serveLogged(t, cfg, &logs)
	if !regexp.MustCompile(`level=ERROR msg="signing key skipped[^\n]*kid=` + rs.ID).MatchString(logs.String()) {
		t.Fatalf("no error log naming the corrupted key %s:\n%s", rs.ID, logs.String())
	}
	admin, _ := adminclient.New(adminURL, "", nil)
	ks := adminKeys(t, admin)
	old, _ := findKey(ks, kidIs(rs.ID))
	if old.State != "retired" || old.Problem == "" {
		t.Fatalf("corrupted key listed as %+v; want retired, with its problem", old)
	}
	cur, ok := findKey(ks, keyState("RS256", "current"))
	if !ok || cur.KID == rs.ID {
		t.Fatalf("no new current RS256 key: %+v", ks)
	}
	if k, _ := findKey(ks, keyState("ES256", "current")); k.KID != es.ID {
		t.Fatal("the ES256 key was replaced too")
	}

	// Still signing: a relying party logs in and verifies.
	x := &e2e{t: t, ts: &testServer{PublicURL: publicURL, AdminURL: adminURL}, admin: admin}
	st, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	x.ts.Store = st
	x.ts.Deps = serverDeps{cfg: cfg, store: st, now: time.Now}
	x.ts.Deps.cfg.Issuer = publicURL
	x.ctx = gooidc.ClientContext(ctx, &http.Client{Timeout: 10 * time.Second})
	if x.provider, err = gooidc.NewProvider(x.ctx, publicURL); err != nil {
		t.Fatal(err)
	}
	r := x.newRP(adminclient.ClientRegistration{})
	tok, _, _ := r.login(x.newUser())
	idt, _, _ := r.verify(tok)
	raw, _ := tok.Extra("id_token").(string)
	jws, _ := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if idt == nil || jws.Signatures[0].Header.KeyID != cur.KID {
		t.Fatalf("ID token signed by %s, want the new key %s", jws.Signatures[0].Header.KeyID, cur.KID)
	}
}

// TestKeysE2EAlgorithmsVerifyWithGoOIDC: with ES256 and EdDSA configured,
// discovery offers them, the JWKS serves one key each (kid, use, alg, the
// cache headers), and a client registered for each algorithm gets ID
// tokens go-oidc verifies (signature, at_hash) at login and at refresh.
func TestKeysE2EAlgorithmsVerifyWithGoOIDC(t *testing.T) {
	x := newE2E(t, withKeyTest("RS256", "ES256", "EdDSA"))
	var d struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := x.provider.Claims(&d); err != nil || !slices.Equal(d.Algs, []string{"RS256", "ES256", "EdDSA"}) {
		t.Fatalf("id_token_signing_alg_values_supported = %v, %v", d.Algs, err)
	}
	resp, err := http.Get(x.ts.PublicURL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=3600" || !strings.HasPrefix(etag, `"`) {
		t.Fatalf("JWKS Cache-Control %q, ETag %q", cc, etag)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil || len(set.Keys) != 3 {
		t.Fatalf("JWKS %s: %v", body, err)
	}
	req, _ := http.NewRequest(http.MethodGet, x.ts.PublicURL+"/.well-known/jwks.json", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match with the ETag: %d, want 304", resp.StatusCode)
	}

	u := x.newUser("admin")
	for _, alg := range []string{"ES256", "EdDSA", "RS256"} {
		r := x.newRP(adminclient.ClientRegistration{})
		setClientAlg(t, x.ts.Store, r.client.ClientID, alg)
		k, _ := findKey(adminKeys(t, x.admin), keyState(alg, "current"))
		v := x.provider.Verifier(&gooidc.Config{ClientID: r.client.ClientID, SupportedSigningAlgs: []string{alg}})
		check := func(tok *oauth2.Token, stage string) {
			t.Helper()
			raw, _ := tok.Extra("id_token").(string)
			idt, err := v.Verify(x.ctx, raw)
			if err != nil {
				t.Fatalf("%s %s: go-oidc rejects the ID token: %v", alg, stage, err)
			}
			if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
				t.Fatalf("%s %s: at_hash: %v", alg, stage, err)
			}
			var c idClaims
			if err := idt.Claims(&c); err != nil || c.Sub != u.ID || !slices.Equal(c.Roles, []string{"admin"}) {
				t.Fatalf("%s %s: claims %+v, %v", alg, stage, c, err)
			}
			jws, _ := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if jws == nil || jws.Signatures[0].Header.KeyID != k.KID {
				t.Fatalf("%s %s: not signed by the current %s key %s", alg, stage, alg, k.KID)
			}
		}
		tok, _, _ := r.login(u)
		check(tok, "login")
		tok, err := r.refresh(tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		check(tok, "refresh")
	}
}

// TestKeysE2EDefaultOffersRS256Only: by default discovery offers RS256
// alone and the JWKS holds one RSA key.
func TestKeysE2EDefaultOffersRS256Only(t *testing.T) {
	x := newE2E(t)
	var d struct {
		Algs []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := x.provider.Claims(&d); err != nil || !slices.Equal(d.Algs, []string{"RS256"}) {
		t.Fatalf("id_token_signing_alg_values_supported = %v, %v", d.Algs, err)
	}
	if kids := jwksKids(t, x.ts.PublicURL); len(kids) != 1 {
		t.Fatalf("JWKS has %d keys", len(kids))
	}
	// Registration refuses a client asking for an algorithm not offered.
	if _, err := x.admin.CreateClient(x.ctx, adminclient.ClientRegistration{ClientName: "Edge",
		RedirectURIs: []string{rpRedirect}, IDTokenSignedResponseAlg: "EdDSA"}); err == nil ||
		!strings.Contains(err.Error(), "--signing-algorithms") {
		t.Fatalf("registering an EdDSA client on an RS256 server: %v; want a refusal naming --signing-algorithms", err)
	}
	// A client stored that way anyway (before registration checked, or
	// the algorithm left --signing-algorithms since) is refused up front:
	// the browser goes back to the client with unauthorized_client, not to
	// the login page, and never gets an ID token in another algorithm.
	r := x.newRP(adminclient.ClientRegistration{})
	u := x.newUser()
	code, f, _ := r.code(u)
	setClientAlg(t, x.ts.Store, r.client.ClientID, "EdDSA")
	resp := r.get(r.conf.AuthCodeURL("state-alg-check", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), gooidc.Nonce("nonce-alg-1")))
	readBody(resp)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc.Path != "/callback" || loc.Query().Get("error") != "unauthorized_client" ||
		!strings.Contains(loc.Query().Get("error_description"), "EdDSA") || loc.Query().Get("state") != "state-alg-check" {
		t.Fatalf("authorize for an EdDSA client: %d to %s; want a redirect to the client with unauthorized_client naming EdDSA",
			resp.StatusCode, loc)
	}
	// A code issued before the change: the exchange is refused (400, not
	// 500) and the code is not spent.
	_, err := r.conf.Exchange(x.ctx, code, oauth2.VerifierOption(f.verifier))
	wantRetrieveError(t, err, http.StatusBadRequest, "unauthorized_client")
	if !strings.Contains(err.Error(), "EdDSA") {
		t.Fatalf("error %v does not name the algorithm", err)
	}
	setClientAlg(t, x.ts.Store, r.client.ClientID, "")
	if _, err := r.conf.Exchange(x.ctx, code, oauth2.VerifierOption(f.verifier)); err != nil {
		t.Fatalf("the code was spent by the refused exchange: %v", err)
	}
}
