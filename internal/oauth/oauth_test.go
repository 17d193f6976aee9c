package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/signet-idp/signet/internal/keys"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

const secret = "test-secret-0123456789-abcdefghijklmnop"

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestProvider(t testing.TB) (*Provider, *memory.Store, *fakeClock) {
	t.Helper()
	s := memory.New()
	ck := &fakeClock{t: time.Now()}
	km, err := keys.Open(context.Background(), s, keys.Options{Secret: []byte(secret), Now: ck.Now,
		Algorithms: keys.SupportedAlgorithms()})
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Options{
		Issuer: "https://id.example.com", AccessTokenLifespan: time.Hour, IDTokenLifespan: time.Hour,
		RefreshTokenLifespan: 24 * time.Hour, AuthCodeLifespan: 10 * time.Minute,
		Secret: []byte(secret), Store: s, Keys: km, Now: ck.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, s, ck
}

func TestNewRefusesShortSecrets(t *testing.T) {
	s := memory.New()
	km, err := keys.Open(context.Background(), s, keys.Options{Secret: []byte(secret)})
	if err != nil {
		t.Fatal(err)
	}
	base := Options{Issuer: "https://id.example.com", AccessTokenLifespan: time.Hour, IDTokenLifespan: time.Hour,
		RefreshTokenLifespan: time.Hour, AuthCodeLifespan: time.Minute, Store: s, Keys: km}
	o := base
	o.Secret = []byte("short")
	if _, err := New(o); err == nil {
		t.Fatal("short secret accepted")
	}
	o = base
	o.Secret, o.OldSecrets = []byte(secret), [][]byte{[]byte("short")}
	if _, err := New(o); err == nil {
		t.Fatal("short old secret accepted")
	}
}

func TestDeriveKeySeparatesPurposes(t *testing.T) {
	a, _ := DeriveKey([]byte(secret), hmacInfo)
	b, _ := DeriveKey([]byte(secret), "signet/keys/aes-256-gcm/v1")
	if len(a) != 32 || string(a) == string(b) || strings.Contains(string(a), secret) {
		t.Fatal("derived keys are not separate 32-byte keys")
	}
}

func sampleSession() *Session {
	s := NewSession()
	s.Subject, s.Username, s.SessionID = "u1", "alice", "sid1"
	s.User = &UserClaims{Username: "alice", Name: "Alice", Email: "a@example.com", EmailVerified: true, Roles: []string{"admin"}}
	s.IDTokenClaims().Subject = "u1"
	s.SetExpiresAt(fosite.AccessToken, time.Now().Add(time.Hour).UTC().Round(time.Second))
	return s
}

func TestSessionJSONAndClone(t *testing.T) {
	s := sampleSession()
	s.setClaims(fosite.Arguments{"openid", "roles"})
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got := NewSession()
	if err := json.Unmarshal(b, got); err != nil {
		t.Fatal(err)
	}
	if got.Subject != "u1" || got.SessionID != "sid1" || got.User.Roles[0] != "admin" ||
		!got.GetExpiresAt(fosite.AccessToken).Equal(s.GetExpiresAt(fosite.AccessToken)) {
		t.Fatalf("round trip lost data: %+v", got)
	}
	c := s.Clone().(*Session)
	c.User.Roles[0] = "changed"
	c.IDTokenClaims().Extra["sid"] = "changed"
	if s.User.Roles[0] != "admin" || s.IDTokenClaims().Extra["sid"] != "sid1" {
		t.Fatal("Clone shares memory with the original")
	}
	if len(s.GetExtraClaims()) != 0 {
		t.Fatal("introspection would expose ID token claims")
	}
}

func TestUserClaimsFollowScopes(t *testing.T) {
	u := &UserClaims{Username: "alice", Name: "Alice", Email: "a@example.com", EmailVerified: true}
	for _, tc := range []struct {
		scopes []string
		want   []string
	}{
		{[]string{"openid"}, nil},
		{[]string{"openid", "profile"}, []string{"preferred_username", "name"}},
		{[]string{"openid", "email"}, []string{"email", "email_verified"}},
		{[]string{"openid", "roles"}, []string{"roles"}},
	} {
		got := userClaimsFor(u, tc.scopes)
		if len(got) != len(tc.want) {
			t.Errorf("%v: claims %v, want keys %v", tc.scopes, got, tc.want)
		}
		for _, k := range tc.want {
			if _, ok := got[k]; !ok {
				t.Errorf("%v: claim %s missing", tc.scopes, k)
			}
		}
	}
	// No roles: an empty array, not null or absent.
	b, _ := json.Marshal(userClaimsFor(u, []string{"roles"}))
	if string(b) != `{"roles":[]}` {
		t.Fatalf("roles without any: %s", b)
	}
}

func request(c *Client, id string, sess *Session) *fosite.Request {
	r := fosite.NewRequest()
	r.ID, r.Client, r.Session = id, c, sess
	r.RequestedAt = time.Now().UTC()
	r.Form = url.Values{"redirect_uri": {"https://app/cb"}, "client_secret": {"s3cret"}, "code_verifier": {"v"}, "scope": {"openid"}}
	r.GrantScope("openid")
	return r
}

func TestAdapterReuseContracts(t *testing.T) {
	p, s, ck := newTestProvider(t)
	a := p.adapter
	ctx := context.Background()
	sc := storage.Client{ID: "app", Name: "App", RedirectURIs: []string{"https://app/cb"}, TokenEndpointAuthMethod: "client_secret_basic"}
	if err := s.CreateClient(ctx, sc); err != nil {
		t.Fatal(err)
	}
	c := &Client{Client: sc}
	sess := sampleSession()
	sess.SetExpiresAt(fosite.AuthorizeCode, time.Now().Add(time.Minute))
	sess.SetExpiresAt(fosite.RefreshToken, time.Now().Add(time.Hour))

	if err := a.CreateAuthorizeCodeSession(ctx, "codesig", request(c, "req1", sess)); err != nil {
		t.Fatal(err)
	}
	row, err := s.GetOAuthRequest(ctx, storage.KindAuthorizeCode, "codesig")
	if err != nil {
		t.Fatal(err)
	}
	form, _ := url.ParseQuery(row.Form)
	if form.Has("client_secret") || form.Has("code_verifier") || form.Get("redirect_uri") == "" {
		t.Fatalf("stored form %q: secrets kept or redirect_uri lost", row.Form)
	}
	if err := a.InvalidateAuthorizeCodeSession(ctx, "codesig"); err != nil {
		t.Fatal(err)
	}
	got, err := a.GetAuthorizeCodeSession(ctx, "codesig", NewSession())
	if !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) || got == nil || got.GetID() != "req1" {
		t.Fatalf("used code: %v, %v; want the request with ErrInvalidatedAuthorizeCode", got, err)
	}
	if err := a.InvalidateAuthorizeCodeSession(ctx, "codesig"); !errors.Is(err, fosite.ErrSerializationFailure) {
		t.Fatalf("second invalidation: %v, want ErrSerializationFailure", err)
	}

	// Refresh rotation: the rotated row stays, inactive, with its request.
	if err := a.CreateRefreshTokenSession(ctx, "rt1", "at1", request(c, "req1", sess)); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateAccessTokenSession(ctx, "at1", request(c, "req1", sess)); err != nil {
		t.Fatal(err)
	}
	if err := a.RotateRefreshToken(ctx, "req1", "rt1"); err != nil {
		t.Fatal(err)
	}
	got, err = a.GetRefreshTokenSession(ctx, "rt1", nil)
	if !errors.Is(err, fosite.ErrInactiveToken) || got == nil || got.GetID() != "req1" {
		t.Fatalf("rotated refresh token: %v, %v; want the request with ErrInactiveToken", got, err)
	}
	if _, err := a.GetAccessTokenSession(ctx, "at1", nil); !errors.Is(err, fosite.ErrInactiveToken) {
		t.Fatalf("access token after rotation: %v, want inactive", err)
	}
	if err := a.RotateRefreshToken(ctx, "req1", "rt1"); !errors.Is(err, fosite.ErrSerializationFailure) {
		t.Fatalf("second rotation: %v, want ErrSerializationFailure", err)
	}
	if err := a.CreateAccessTokenSession(ctx, "at1", request(c, "req1", sess)); !errors.Is(err, fosite.ErrSerializationFailure) {
		t.Fatalf("duplicate access token: %v, want ErrSerializationFailure", err)
	}

	// The OpenID Connect session is keyed by the code's signature (like
	// the code row), never by the code; rows of older versions, keyed by
	// the code's hash, are still found.
	const rawCode = "ory_ac_cmF3LWNvZGUta2V5.codesig2"
	if err := a.CreateOpenIDConnectSession(ctx, rawCode, request(c, "req1", sess)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetOAuthRequest(ctx, storage.KindOpenIDConnect, rawCode); !errors.Is(err, storage.ErrNotFound) {
		t.Fatal("the raw code reached storage")
	}
	if _, err := s.GetOAuthRequest(ctx, storage.KindOpenIDConnect, "codesig2"); err != nil {
		t.Fatalf("OpenID Connect row under the code signature: %v", err)
	}
	const oldCode = "ory_ac_b2xkLWNvZGU.codesig3"
	if err := s.CreateOAuthRequest(ctx, storage.OAuthRequest{Kind: storage.KindOpenIDConnect, Signature: HashCode(oldCode),
		RequestID: "req0", ClientID: c.ID, RequestedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour), Active: true}); err != nil {
		t.Fatal(err)
	}
	if got, err := a.GetOpenIDConnectSession(ctx, oldCode, nil); err != nil || got.GetID() != "req0" {
		t.Fatalf("OpenID Connect row of an older version: %v, %v", got, err)
	}

	// Expired rows read as not found (by our clock).
	ck.Add(2 * time.Hour)
	if _, err := a.GetRefreshTokenSession(ctx, "rt1", nil); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("expired row: %v, want not found", err)
	}
	// An unknown client is fosite.ErrNotFound (answered invalid_client).
	if _, err := a.GetClient(ctx, "nope"); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("unknown client: %v", err)
	}
}

func TestAdapterTransactionsJoinInTx(t *testing.T) {
	p, s, _ := newTestProvider(t)
	ctx := context.Background()
	sentinel := errors.New("stop")
	err := p.InTx(ctx, func(ctx context.Context) error {
		// fosite's own begin/commit inside ours must not end ours.
		tctx, err := p.adapter.BeginTX(ctx)
		if err != nil {
			return err
		}
		if err := s.CreateOAuthRequest(tctx, storage.OAuthRequest{Kind: storage.KindAccessToken, Signature: "x", RequestID: "r",
			ExpiresAt: time.Now().Add(time.Hour), Active: true}); err != nil {
			return err
		}
		if err := p.adapter.Commit(tctx); err != nil {
			return err
		}
		return sentinel
	})
	if !errors.Is(err, sentinel) {
		t.Fatal(err)
	}
	if _, err := s.GetOAuthRequest(ctx, storage.KindAccessToken, "x"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatal("fosite's Commit inside InTx committed; the outer rollback must win")
	}
}

func TestSignerPutsKidAndVerifies(t *testing.T) {
	p, _, _ := newTestProvider(t)
	ctx := context.Background()
	k, _ := p.signer.keys.Current(ctx, "")
	tok, _, err := p.signer.Generate(ctx, jwt.MapClaims{"sub": "u1", "iss": "https://id.example.com",
		"exp": time.Now().Add(-time.Minute).Unix()}, &jwt.Headers{Extra: map[string]interface{}{"kid": "stale"}})
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if kid := jws.Signatures[0].Header.KeyID; kid != k.ID {
		t.Fatalf("kid %q, want the signing key %q", kid, k.ID)
	}
	pub, _ := p.signer.keys.PublicKeys(ctx)
	set := jose.JSONWebKeySet{Keys: pub}
	if found := set.Key(k.ID); len(found) != 1 {
		t.Fatalf("signing key %s not published", k.ID)
	} else if _, err := jws.Verify(found[0]); err != nil {
		t.Fatalf("not verifiable with the published key: %v", err)
	}
	// Expired hints are still hints.
	sub, err := p.DecodeIDTokenHint(ctx, tok)
	if err != nil || sub != "u1" {
		t.Fatalf("DecodeIDTokenHint: %q, %v", sub, err)
	}
	if _, err := p.DecodeIDTokenHint(ctx, tok[:len(tok)-4]+"AAAA"); err == nil {
		t.Fatal("tampered hint accepted")
	}
}

func TestJanitorDeletesExpiredInBatches(t *testing.T) {
	s := memory.New()
	ctx := context.Background()
	now := time.Now().UTC()
	for i := range 25 {
		exp := now.Add(-time.Minute)
		if i%5 == 0 {
			exp = now.Add(time.Hour)
		}
		if err := s.CreateOAuthRequest(ctx, storage.OAuthRequest{Kind: storage.KindAccessToken, Signature: string(rune('a' + i)),
			RequestID: "r", RequestedAt: now, ExpiresAt: exp, Active: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateLoginChallenge(ctx, storage.LoginChallenge{ID: "c1", ClientID: "x", CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, storage.User{ID: "u1", Username: "u1", Email: "u1@example.com", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for i, exp := range []time.Time{now.Add(-time.Second), now.Add(time.Hour)} {
		if err := s.CreateSession(ctx, storage.Session{ID: fmt.Sprint("s", i), TokenHash: fmt.Sprint("h", i), UserID: "u1",
			AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	for i, exp := range []time.Time{now.Add(-time.Second), now.Add(time.Hour)} {
		if err := s.CreateActionToken(ctx, storage.ActionToken{Hash: fmt.Sprint("t", i), Purpose: storage.PurposeResetPassword,
			UserID: "u1", Email: "u1@example.com", CreatedAt: now, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	for i, last := range []time.Time{now.Add(-StaleLoginAttemptsAfter - time.Minute), now.Add(-time.Hour)} {
		if _, err := s.RecordLoginFailure(ctx, fmt.Sprint("ip:", i), last, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	j := &Janitor{Store: s, Now: func() time.Time { return now }, BatchSize: 7}
	if got, want := j.Sweep(ctx), (Swept{Requests: 20, Challenges: 1, Sessions: 1, ActionTokens: 1, LoginAttempts: 1}); got != want {
		t.Fatalf("swept %+v; want %+v", got, want)
	}
	if _, err := s.GetSession(ctx, "s1"); err != nil {
		t.Fatalf("live session swept: %v", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { j.Run(runCtx); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("janitor did not stop with its context")
	}
}
