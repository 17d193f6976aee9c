package sessions

import (
	"testing"
	"time"
)

func TestPolicyDelay(t *testing.T) {
	p := ThrottlePolicy{Threshold: 5, Window: time.Hour, BaseDelay: 30 * time.Second, MaxDelay: 5 * time.Minute}
	for failures, want := range map[int]time.Duration{
		0: 0, 4: 0, 5: 30 * time.Second, 6: time.Minute, 7: 2 * time.Minute, 8: 4 * time.Minute, 9: 5 * time.Minute, 50: 5 * time.Minute,
	} {
		if got := p.Delay(failures); got != want {
			t.Errorf("Delay(%d) = %v, want %v", failures, got, want)
		}
	}
}

func TestThrottleBacksOffAfterFiveFailures(t *testing.T) {
	st := newStore(t)
	clk := newClock()
	th := NewThrottle(st, ThrottlePolicy{}, ThrottlePolicy{}, clk.Now)
	ctx := t.Context()
	acct, ip := AccountKey("u1", "alice"), IPKey("192.0.2.7")
	for i := range 4 {
		if err := th.Failed(ctx, acct, ip); err != nil {
			t.Fatal(err)
		}
		if w, err := th.Wait(ctx, acct, ip); err != nil || w != 0 {
			t.Fatalf("after %d failures: wait %v, %v", i+1, w, err)
		}
	}
	if err := th.Failed(ctx, acct, ip); err != nil {
		t.Fatal(err)
	}
	w, err := th.Wait(ctx, acct, ip)
	if err != nil || w != 30*time.Second {
		t.Fatalf("after 5 failures: wait %v, %v; want 30s", w, err)
	}
	// Another address gets the same answer for the account.
	if w, _ := th.Wait(ctx, acct, IPKey("198.51.100.1")); w != 30*time.Second {
		t.Errorf("account throttle from another address: %v", w)
	}
	clk.Advance(31 * time.Second)
	if w, _ := th.Wait(ctx, acct, ip); w != 0 {
		t.Fatalf("after the delay: wait %v", w)
	}
	if err := th.Failed(ctx, acct, ip); err != nil {
		t.Fatal(err)
	}
	if w, _ := th.Wait(ctx, acct, ip); w != time.Minute {
		t.Errorf("after 6 failures: wait %v, want 1m (doubled)", w)
	}
	// Success forgets the account's failures but not the address's.
	clk.Advance(2 * time.Minute)
	if err := th.Succeeded(ctx, acct); err != nil {
		t.Fatal(err)
	}
	if a, _ := st.GetLoginAttempts(ctx, acct); a.Failures != 0 {
		t.Errorf("account failures after success = %d", a.Failures)
	}
	if a, _ := st.GetLoginAttempts(ctx, ip); a.Failures != 6 {
		t.Errorf("address failures after success = %d, want 6", a.Failures)
	}
	// Old failures age out of the window.
	for range 5 {
		_ = th.Failed(ctx, acct, "")
	}
	clk.Advance(2 * time.Hour)
	if w, _ := th.Wait(ctx, acct, ""); w != 0 {
		t.Errorf("failures older than the window still throttle: %v", w)
	}
}

func TestIPThrottleAllowsMoreRoom(t *testing.T) {
	st := newStore(t)
	clk := newClock()
	th := NewThrottle(st, ThrottlePolicy{}, ThrottlePolicy{}, clk.Now)
	ctx := t.Context()
	ip := IPKey("2001:db8:1:2:3:4:5:6")
	if ip != IPKey("2001:db8:1:2:ffff::1") {
		t.Errorf("IPv6 addresses of one /64 have different keys: %s", ip)
	}
	// Twenty different accounts from one address.
	for i := range 20 {
		if w, _ := th.Wait(ctx, AccountKey("", string(rune('a'+i))), ip); w != 0 {
			t.Fatalf("attempt %d throttled by address too early", i+1)
		}
		_ = th.Failed(ctx, AccountKey("", string(rune('a'+i))), ip)
	}
	if w, _ := th.Wait(ctx, AccountKey("", "zz"), ip); w == 0 {
		t.Error("address not throttled after 20 failures")
	}
}

func TestAccountKeyHidesTypedText(t *testing.T) {
	k := AccountKey("", "  Alice@Example.com ")
	if k != AccountKey("", "alice@example.com") {
		t.Error("typed login keys are case or space sensitive")
	}
	if len(k) > 64 || k == "login:alice@example.com" {
		t.Errorf("key %q", k)
	}
	if AccountKey("u1", "whatever") != "user:u1" {
		t.Error("user id key")
	}
}
