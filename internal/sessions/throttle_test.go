package sessions

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
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

func TestPolicyWaits(t *testing.T) {
	got := DefaultAccountPolicy.waits()
	want := []time.Duration{0, 0, 0, 0, 0, 30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute}
	if !slices.Equal(got, want) {
		t.Errorf("waits = %v, want %v", got, want)
	}
}

// TestReserveBacksOffLikeFailures: reserved attempts that turn out wrong
// throttle exactly as recorded failures did (5 per account and address,
// then 30 s doubling), and a refused attempt counts nothing.
func TestReserveBacksOffLikeFailures(t *testing.T) {
	st := newStore(t)
	clk := newClock()
	th := NewThrottle(st, ThrottlePolicy{}, ThrottlePolicy{}, clk.Now)
	ctx := t.Context()
	limits := th.LoginLimits(AccountKey("u1", "alice"), IPKey("192.0.2.7"), "")
	for i := range 5 {
		a, w, err := th.Reserve(ctx, limits...)
		if err != nil || a == nil || w != 0 {
			t.Fatalf("attempt %d: %v, %v, %v", i+1, a, w, err)
		}
		clk.Advance(time.Second)
	}
	a, w, err := th.Reserve(ctx, limits...)
	if err != nil || a != nil || w != 29*time.Second {
		t.Fatalf("sixth attempt: %v, wait %v, %v; want refused for 29s", a, w, err)
	}
	if got, _ := st.GetLoginAttempts(ctx, IPKey("192.0.2.7")); got.Failures != 5 {
		t.Errorf("address counter %d after a refused attempt, want 5", got.Failures)
	}
	clk.Advance(29 * time.Second)
	a, _, err = th.Reserve(ctx, limits...)
	if err != nil || a == nil {
		t.Fatalf("after the wait: %v, %v", a, err)
	}
	// The right password: the account's counter from this address is
	// forgotten, the address and the cap only lose this attempt.
	if err := a.Succeeded(ctx); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]int{limits[0].Key: 0, limits[1].Key: 5, limits[2].Key: 5} {
		if got, _ := st.GetLoginAttempts(ctx, key); got.Failures != want {
			t.Errorf("%s: %d failures after success, want %d", key, got.Failures, want)
		}
	}
	a, _, _ = th.Reserve(ctx, limits...)
	if err := a.Refund(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetLoginAttempts(ctx, limits[1].Key); got.Failures != 5 {
		t.Errorf("address counter %d after a refund, want 5", got.Failures)
	}
}

// TestLoginLimitsSeparateOwnerFromGuessers: failures from one address do
// not touch the account from another address nor from a known device; the
// cap counts attempts from every address.
func TestLoginLimitsSeparateOwnerFromGuessers(t *testing.T) {
	st := newStore(t)
	clk := newClock()
	th := NewThrottle(st, ThrottlePolicy{}, ThrottlePolicy{}, clk.Now).
		WithAccountCap(ThrottlePolicy{Threshold: 8, Window: time.Hour, BaseDelay: time.Minute, MaxDelay: time.Hour})
	ctx := t.Context()
	acct := AccountKey("u1", "")
	for i := range 5 {
		if a, _, _ := th.Reserve(ctx, th.LoginLimits(acct, IPKey("192.0.2.1"), "")...); a == nil {
			t.Fatalf("guess %d refused", i+1)
		}
	}
	if a, _, _ := th.Reserve(ctx, th.LoginLimits(acct, IPKey("192.0.2.1"), "")...); a != nil {
		t.Fatal("sixth guess from one address admitted")
	}
	for name, limits := range map[string][]Limit{
		"another address":         th.LoginLimits(acct, IPKey("198.51.100.2"), ""),
		"a known device, same IP": th.LoginLimits(acct, IPKey("192.0.2.1"), "dev1"),
	} {
		a, w, err := th.Reserve(ctx, limits...)
		if err != nil || a == nil {
			t.Errorf("%s: refused (wait %v, %v)", name, w, err)
		}
	}
	// Guesses from more addresses reach the cap (8): the sixth address's
	// second guess waits, a known device does not.
	for i := range 3 {
		_, _, _ = th.Reserve(ctx, th.LoginLimits(acct, IPKey(fmt.Sprint("203.0.113.", i)), "")...)
	}
	if a, _, _ := th.Reserve(ctx, th.LoginLimits(acct, IPKey("203.0.113.200"), "")...); a != nil {
		t.Error("attempt past the account's cap admitted")
	}
	if a, _, _ := th.Reserve(ctx, th.LoginLimits(acct, IPKey("203.0.113.200"), "dev2")...); a == nil {
		t.Error("known device refused by the cap")
	}
}

// TestConcurrentReservationsAdmitFive: 25 attempts at once at one account
// from one address: five get through.
func TestConcurrentReservationsAdmitFive(t *testing.T) {
	st := newStore(t)
	th := NewThrottle(st, ThrottlePolicy{}, ThrottlePolicy{}, nil)
	limits := th.LoginLimits(AccountKey("u1", ""), IPKey("192.0.2.7"), "")
	var admitted atomic.Int32
	var wg sync.WaitGroup
	for range 25 {
		wg.Go(func() {
			a, _, err := th.Reserve(t.Context(), limits...)
			if err != nil {
				t.Error(err)
			}
			if a != nil {
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	if n := admitted.Load(); n != 5 {
		t.Errorf("%d of 25 concurrent attempts admitted, want 5", n)
	}
}

// countingThrottleStore counts reservations that reach storage.
type countingThrottleStore struct {
	storage.ThrottleStore
	reservations int
}

func (s *countingThrottleStore) ReserveLoginAttempts(ctx context.Context, at time.Time, limits []storage.AttemptLimit) (storage.LoginReservation, error) {
	s.reservations++
	return s.ThrottleStore.ReserveLoginAttempts(ctx, at, limits)
}

// TestRefusalsWithinAKnownBackOffSkipStorage: once storage has refused a
// key for its back-off, further attempts on it within a second are
// refused without a round trip; later ones ask storage again.
func TestRefusalsWithinAKnownBackOffSkipStorage(t *testing.T) {
	st := &countingThrottleStore{ThrottleStore: newStore(t)}
	clk := newClock()
	th := NewThrottle(st, ThrottlePolicy{}, ThrottlePolicy{}, clk.Now)
	ctx := t.Context()
	guesser := th.LoginLimits(AccountKey("u1", "alice"), IPKey("192.0.2.7"), "")
	for range 5 {
		if a, _, err := th.Reserve(ctx, guesser...); err != nil || a == nil {
			t.Fatalf("attempt refused early: %v, %v", a, err)
		}
	}
	if a, w, err := th.Reserve(ctx, guesser...); err != nil || a != nil || w != 30*time.Second {
		t.Fatalf("sixth attempt: %v, %v, %v; want refused for 30s", a, w, err)
	}
	before := st.reservations
	clk.Advance(500 * time.Millisecond)
	for range 20 {
		if a, _, err := th.Reserve(ctx, guesser...); err != nil || a != nil {
			t.Fatalf("attempt within the back-off: %v, %v; want refused", a, err)
		}
	}
	if st.reservations != before {
		t.Fatalf("%d reservations reached storage within a second of a refusal, want 0", st.reservations-before)
	}
	clk.Advance(9500 * time.Millisecond)
	if a, w, err := th.Reserve(ctx, guesser...); err != nil || a != nil || w != 20*time.Second {
		t.Fatalf("attempt later in the back-off: %v, %v, %v; want refused for 20s", a, w, err)
	}
	if st.reservations != before+1 {
		t.Fatalf("a refusal a second later did not ask storage again")
	}
	// Other keys are not held by it: the owner from elsewhere.
	owner := th.LoginLimits(AccountKey("u1", "alice"), IPKey("198.51.100.1"), "")
	if a, _, err := th.Reserve(ctx, owner...); err != nil || a == nil {
		t.Fatalf("the owner from another address: %v, %v", a, err)
	}
	clk.Advance(21 * time.Second)
	if a, _, err := th.Reserve(ctx, guesser...); err != nil || a == nil {
		t.Fatalf("after the back-off: %v, %v", a, err)
	}
}

// TestSuccessForgetsARememberedRefusal: attempts still in flight when one
// was refused may succeed; this replica then asks storage again at once
// rather than repeating the refusal.
func TestSuccessForgetsARememberedRefusal(t *testing.T) {
	st := &countingThrottleStore{ThrottleStore: newStore(t)}
	clk := newClock()
	th := NewThrottle(st, ThrottlePolicy{}, ThrottlePolicy{}, clk.Now)
	ctx := t.Context()
	owner := th.LoginLimits(AccountKey("u1", "alice"), IPKey("192.0.2.7"), "")
	var inFlight []*Attempt
	for range 5 {
		a, _, err := th.Reserve(ctx, owner...)
		if err != nil || a == nil {
			t.Fatalf("attempt refused early: %v, %v", a, err)
		}
		inFlight = append(inFlight, a)
	}
	if a, _, _ := th.Reserve(ctx, owner...); a != nil {
		t.Fatal("a sixth concurrent attempt was admitted")
	}
	if err := inFlight[0].Succeeded(ctx); err != nil {
		t.Fatal(err)
	}
	if a, _, err := th.Reserve(ctx, owner...); err != nil || a == nil {
		t.Fatalf("after a success cleared the account's counter: %v, %v; want admitted", a, err)
	}
}
