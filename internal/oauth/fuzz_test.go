package oauth

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

// FuzzChallengeValue: the login challenge value travels in URLs, so any
// string can come back. Exactly the value Park returned finds the parked
// request; every other value, however close, long or broken, is
// ErrChallengeNotFound and nothing else.
func FuzzChallengeValue(f *testing.F) {
	s := memory.New()
	ctx := context.Background()
	if err := s.CreateClient(ctx, storage.Client{ID: "app", Name: "The App", RedirectURIs: []string{"https://app/cb"}}); err != nil {
		f.Fatal(err)
	}
	c := NewChallenges(s, time.Hour, nil)
	// Parked by hand under a fixed value (Park draws a random one): the
	// fuzzing workers are separate processes and must agree on it.
	const value = "Zml4ZWQgY2hhbGxlbmdlIHZhbHVlIGZvciBmdXp6aW5n"
	now := time.Now().UTC()
	if err := s.CreateLoginChallenge(ctx, storage.LoginChallenge{ID: ChallengeID(value), ClientID: "app",
		Form: "client_id=app&max_age=60", RequestedScopes: []string{"openid"}, CreatedAt: now,
		ExpiresAt: now.Add(time.Hour)}); err != nil {
		f.Fatal(err)
	}
	f.Add(value)
	f.Add(value + "=")
	f.Add(value[:len(value)-1])
	f.Add(strings.ToUpper(value))
	f.Add(ChallengeID(value))
	f.Add(url.QueryEscape(value + "+/"))
	f.Add(strings.Repeat("A", 129))
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		info, err := c.Challenge(ctx, v)
		switch {
		case v == value && err != nil:
			t.Fatalf("the parked value is not found: %v", err)
		case v == value && (info.ClientID != "app" || !info.HasMaxAge || info.MaxAge != time.Minute):
			t.Fatalf("the parked value finds %+v", info)
		case v != value && !errors.Is(err, ErrChallengeNotFound):
			t.Fatalf("Challenge(%q) = %+v, %v; want ErrChallengeNotFound", v, info, err)
		}
	})
}

// FuzzMaxAge: whatever max_age a request carries, a login satisfies it
// exactly when it happened at most max_age seconds before the request
// (OpenID Connect Core §3.1.2.1); a value that is not a decimal number from
// 0 to MaxAgeLimit is ignored (the authorization endpoint refuses it). No
// value, however large, turns into a negative or wrapped-around age.
func FuzzMaxAge(f *testing.F) {
	for _, s := range []string{"0", "1", "60", "300", "-1", "+5", "1e3", "0x10", " 5", "5 ",
		"9223372036854775807", "9223372036854775808", "9223372036", "9223372037", "18446744073",
		"9999999999999999", "00000000000000000000060", ""} {
		f.Add(s, uint32(30))
	}
	f.Add("60", uint32(60))
	f.Add("60", uint32(61))
	f.Add("9999999999999999", uint32(1<<31))
	requestedAt := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, maxAge string, authAgo uint32) {
		form := url.Values{"max_age": {maxAge}}
		login := Login{Subject: "alice", AuthTime: requestedAt.Add(-time.Duration(authAgo) * time.Second)}
		got := SatisfiesRequest(form, requestedAt, login, "")

		// The model: a decimal number of seconds from 0 to MaxAgeLimit
		// (what a time.Duration holds); anything else is ignored.
		want := true
		if n, err := strconv.ParseInt(maxAge, 10, 64); err == nil && n >= 0 && n <= MaxAgeLimit {
			want = uint64(authAgo) <= uint64(n)
		}
		if got != want {
			t.Fatalf("max_age=%q, login %ds before the request: satisfied=%v, want %v", maxAge, authAgo, got, want)
		}
		if d, ok := parseMaxAge(form); ok && d < 0 {
			t.Fatalf("max_age=%q parsed as a negative age %v", maxAge, d)
		}
	})
}
