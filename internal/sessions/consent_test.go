package sessions

import (
	"testing"
)

func TestConsentSameOrFewerScopesNotAskedAgain(t *testing.T) {
	st := newStore(t)
	c := NewConsents(st, newClock().Now)
	ctx := t.Context()
	covers := func(scopes ...string) bool {
		t.Helper()
		ok, err := c.Covers(ctx, "u1", "app", scopes)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if covers("openid") {
		t.Fatal("covers before any consent")
	}
	if err := c.Remember(ctx, "u1", "app", []string{"openid", "profile"}); err != nil {
		t.Fatal(err)
	}
	if !covers("openid", "profile") || !covers("openid") || !covers() {
		t.Error("same or fewer scopes are not covered")
	}
	if covers("openid", "email") {
		t.Error("a new scope is covered")
	}
	if ok, _ := c.Covers(ctx, "u2", "app", []string{"openid"}); ok {
		t.Error("consent leaks to another user")
	}
	if ok, _ := c.Covers(ctx, "u1", "other", []string{"openid"}); ok {
		t.Error("consent leaks to another client")
	}
	// Allowing more adds to what was allowed.
	if err := c.Remember(ctx, "u1", "app", []string{"openid", "email"}); err != nil {
		t.Fatal(err)
	}
	if !covers("openid", "profile", "email") {
		t.Error("consent not accumulated")
	}
	if err := c.Forget(ctx, "u1", "app"); err != nil {
		t.Fatal(err)
	}
	if covers("openid") {
		t.Error("covers after Forget")
	}
	if err := c.Forget(ctx, "u1", "app"); err != nil {
		t.Errorf("second Forget: %v", err)
	}
}
