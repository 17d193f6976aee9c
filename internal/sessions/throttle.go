package sessions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// ThrottlePolicy says when failed logins slow a key down: after Threshold
// failures within Window, each further attempt must wait BaseDelay,
// doubling with every failure, up to MaxDelay.
type ThrottlePolicy struct {
	Threshold int
	Window    time.Duration
	BaseDelay time.Duration
	MaxDelay  time.Duration
}

// Default policies. An account is what a guesser aims at, so it is
// throttled early; an address may be shared by a whole office, so it gets
// more room before it is slowed down.
//
// DefaultAccountCapPolicy is the soft cap on all attempts at one account
// from browsers it does not know, wherever they come from: high enough
// that nobody reaches it by mistyping, low enough that guessers spread
// over many addresses are still slowed down.
var (
	DefaultAccountPolicy    = ThrottlePolicy{Threshold: 5, Window: time.Hour, BaseDelay: 30 * time.Second, MaxDelay: 15 * time.Minute}
	DefaultIPPolicy         = ThrottlePolicy{Threshold: 20, Window: time.Hour, BaseDelay: 30 * time.Second, MaxDelay: 15 * time.Minute}
	DefaultAccountCapPolicy = ThrottlePolicy{Threshold: 100, Window: time.Hour, BaseDelay: 30 * time.Second, MaxDelay: 15 * time.Minute}
)

// Delay is how long after the last of failures the next attempt must
// wait: zero below the threshold.
func (p ThrottlePolicy) Delay(failures int) time.Duration {
	if failures < p.Threshold {
		return 0
	}
	d := p.BaseDelay
	for i := p.Threshold; i < failures && d < p.MaxDelay; i++ {
		d *= 2
	}
	return min(d, p.MaxDelay)
}

// waits lists Delay for 0, 1, … failures up to the first that reaches
// MaxDelay, the schedule storage applies (the last entry holds beyond).
func (p ThrottlePolicy) waits() []time.Duration {
	var w []time.Duration
	for n := 0; n <= p.Threshold+64; n++ {
		d := p.Delay(n)
		w = append(w, d)
		if n >= p.Threshold && (d >= p.MaxDelay || d <= 0) {
			break
		}
	}
	return w
}

// Throttle counts failed logins per account and per client address in
// storage, so every replica sees the same counts.
type Throttle struct {
	store   storage.ThrottleStore
	account ThrottlePolicy
	ip      ThrottlePolicy
	cap     ThrottlePolicy
	now     func() time.Time

	// waiting remembers, on this replica, the keys the database found in
	// their back-off, for at most rememberFor, so a flood of attempts on
	// them is refused without a database round trip each. It only ever
	// refuses, and briefly: attempts still in flight when the database
	// refused may yet succeed and clear or refund the counter (this
	// replica then forgets the key at once; another replica's success is
	// seen within rememberFor).
	mu      sync.Mutex
	waiting map[string]time.Time
}

// rememberFor bounds how long a refusal is repeated without asking the
// database.
const rememberFor = time.Second

// maxWaiting bounds the remembered back-offs (the map starts over when
// full; the database still refuses what it forgets).
const maxWaiting = 10000

// NewThrottle returns a Throttle; zero policies take the defaults and a
// nil clock means time.Now.
func NewThrottle(store storage.ThrottleStore, account, ip ThrottlePolicy, now func() time.Time) *Throttle {
	if account.Threshold <= 0 {
		account = DefaultAccountPolicy
	}
	if ip.Threshold <= 0 {
		ip = DefaultIPPolicy
	}
	if now == nil {
		now = time.Now
	}
	return &Throttle{store: store, account: account, ip: ip, cap: DefaultAccountCapPolicy, now: now, waiting: map[string]time.Time{}}
}

// WithAccountCap replaces DefaultAccountCapPolicy (tests use a low one).
func (t *Throttle) WithAccountCap(p ThrottlePolicy) *Throttle {
	t.cap = p
	return t
}

// AccountKey names the throttle counter of a login. Pass the user's id
// when the login names a user, otherwise what was typed: unknown names are
// throttled exactly like known ones, so the throttle tells nothing about
// which accounts exist. Typed text is kept only as a hash.
func AccountKey(userID, typed string) string {
	if userID != "" {
		return "user:" + userID
	}
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(typed))))
	return "login:" + hex.EncodeToString(sum[:16])
}

// IPKey names the throttle counter of a client address. IPv6 addresses
// count per /64, the block one subscriber usually holds.
func IPKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil {
		return "ip:" + truncate(addr, 64)
	}
	if v4 := ip.To4(); v4 != nil {
		return "ip:" + v4.String()
	}
	return "ip:" + ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// Wait reports how long the action must wait before it may be tried: zero
// when it may be tried now. Both keys are checked; the longer wait wins.
// Wait then Failed is not atomic, which is fine for what it counts (sign-up
// and mail forms); password checks use Reserve, which is.
func (t *Throttle) Wait(ctx context.Context, accountKey, ipKey string) (time.Duration, error) {
	a, err := t.wait(ctx, accountKey, t.account)
	if err != nil {
		return 0, err
	}
	b, err := t.wait(ctx, ipKey, t.ip)
	if err != nil {
		return 0, err
	}
	return max(a, b), nil
}

func (t *Throttle) wait(ctx context.Context, key string, p ThrottlePolicy) (time.Duration, error) {
	if key == "" {
		return 0, nil
	}
	att, err := t.store.GetLoginAttempts(ctx, key)
	if err != nil {
		return 0, fmt.Errorf("login throttle: %w", err)
	}
	now := t.now()
	if att.Failures == 0 || now.Sub(att.LastFailure) >= p.Window {
		return 0, nil
	}
	if left := att.LastFailure.Add(p.Delay(att.Failures)).Sub(now); left > 0 {
		return left, nil
	}
	return 0, nil
}

// Failed records a failed login against both keys.
func (t *Throttle) Failed(ctx context.Context, accountKey, ipKey string) error {
	now := t.now().UTC()
	if accountKey != "" {
		if _, err := t.store.RecordLoginFailure(ctx, accountKey, now, t.account.Window); err != nil {
			return fmt.Errorf("login throttle: %w", err)
		}
	}
	if ipKey != "" {
		if _, err := t.store.RecordLoginFailure(ctx, ipKey, now, t.ip.Window); err != nil {
			return fmt.Errorf("login throttle: %w", err)
		}
	}
	return nil
}

// Limit is one counter a password attempt is counted against.
type Limit struct {
	Key    string
	Policy ThrottlePolicy
	// ClearOnSuccess: a right password forgets the counter's failures
	// (the counters of one account from one place). Otherwise it only
	// takes its own attempt back: an address or a cap keeps counting the
	// failures of others.
	ClearOnSuccess bool
}

// LoginLimits are the counters of a password attempt at an account (the
// lockout policy; README "Failed logins"). A browser that has signed in to
// the account before (deviceID, from Devices.Known) answers only for
// itself: its attempts count against the account on that device, so
// failures from anywhere else never lock the owner out. Any other browser
// counts against the account from its address (the back-off a single
// guesser meets), its address across accounts, and the account's soft cap
// across addresses (which slows guessers spread over many addresses).
func (t *Throttle) LoginLimits(accountKey, ipKey, deviceID string) []Limit {
	if deviceID != "" {
		return []Limit{{Key: accountKey + "|device:" + deviceID, Policy: t.account, ClearOnSuccess: true}}
	}
	return []Limit{
		{Key: accountKey + "|" + ipKey, Policy: t.account, ClearOnSuccess: true},
		{Key: ipKey, Policy: t.ip},
		{Key: "cap:" + accountKey, Policy: t.cap},
	}
}

// Attempt is a password attempt counted by Reserve. It already counts as a
// failure: a wrong password needs nothing more, a right one calls
// Succeeded, and one that was never checked calls Refund.
type Attempt struct {
	t        *Throttle
	at       time.Time
	limits   []Limit
	previous []time.Time
}

// Reserve counts an attempt against every limit before the password is
// checked, atomically and across replicas, so that concurrent attempts
// cannot all get past the same count. When a limit makes the attempt wait,
// nothing is counted and Reserve returns the wait (and a nil Attempt).
func (t *Throttle) Reserve(ctx context.Context, limits ...Limit) (*Attempt, time.Duration, error) {
	now := t.now().UTC()
	if wait := t.knownWait(limits, now); wait > 0 {
		return nil, max(wait, time.Second), nil
	}
	req := make([]storage.AttemptLimit, len(limits))
	for i, l := range limits {
		req[i] = storage.AttemptLimit{Key: l.Key, Window: l.Policy.Window, Waits: l.Policy.waits()}
	}
	r, err := t.store.ReserveLoginAttempts(ctx, now, req)
	if err != nil {
		return nil, 0, fmt.Errorf("login throttle: %w", err)
	}
	if !r.Admitted {
		t.rememberWaits(req, r.Counters, now)
		return nil, max(r.Wait, time.Second), nil
	}
	return &Attempt{t: t, at: now, limits: limits, previous: r.Previous}, 0, nil
}

// Remembered reports whether this replica is repeating a refusal of one of
// the limits' keys without asking the database: the refusal was already
// logged and audited when the database made it, so a flood of attempts
// need not write a line and an audit row each.
func (t *Throttle) Remembered(limits ...Limit) bool {
	return t.knownWait(limits, t.now().UTC()) > 0
}

// knownWait is the longest back-off this replica already knows one of the
// limits' keys to be in (0: none known; the database decides).
func (t *Throttle) knownWait(limits []Limit, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, l := range limits {
		if until, ok := t.waiting[l.Key]; ok {
			if until.After(now) {
				wait = max(wait, until.Sub(now))
			} else {
				delete(t.waiting, l.Key)
			}
		}
	}
	return wait
}

// rememberWaits notes the keys a refused reservation found in back-off.
func (t *Throttle) rememberWaits(req []storage.AttemptLimit, counters []storage.LoginAttempts, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, l := range req {
		if i >= len(counters) {
			break
		}
		if w := l.Wait(counters[i], now); w > 0 {
			if len(t.waiting) >= maxWaiting {
				clear(t.waiting)
			}
			t.waiting[l.Key] = now.Add(min(w, rememberFor))
		}
	}
}

// Succeeded records that the password was right: the counters of the
// account from this place forget their failures, the others take the
// attempt back. It goes on when the request's context ends, since a
// success left counted would throttle the next login.
func (a *Attempt) Succeeded(ctx context.Context) error {
	return a.settle(ctx, true)
}

// Refund takes the attempt back from every counter: the password was not
// checked (too busy, or an error), or was right for another purpose.
func (a *Attempt) Refund(ctx context.Context) error {
	return a.settle(ctx, false)
}

func (a *Attempt) settle(ctx context.Context, success bool) error {
	ctx = context.WithoutCancel(ctx)
	a.t.mu.Lock()
	for _, l := range a.limits {
		delete(a.t.waiting, l.Key)
	}
	a.t.mu.Unlock()
	var errs []error
	for i, l := range a.limits {
		var err error
		if success && l.ClearOnSuccess {
			err = a.t.store.ClearLoginAttempts(ctx, l.Key)
		} else {
			err = a.t.store.RefundLoginAttempt(ctx, l.Key, a.at, a.previous[i])
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	return nil
}
