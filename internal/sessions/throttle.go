package sessions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"strings"
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
var (
	DefaultAccountPolicy = ThrottlePolicy{Threshold: 5, Window: time.Hour, BaseDelay: 30 * time.Second, MaxDelay: 15 * time.Minute}
	DefaultIPPolicy      = ThrottlePolicy{Threshold: 20, Window: time.Hour, BaseDelay: 30 * time.Second, MaxDelay: 15 * time.Minute}
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

// Throttle counts failed logins per account and per client address in
// storage, so every replica sees the same counts.
type Throttle struct {
	store   storage.ThrottleStore
	account ThrottlePolicy
	ip      ThrottlePolicy
	now     func() time.Time
}

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
	return &Throttle{store: store, account: account, ip: ip, now: now}
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

// Wait reports how long the login must wait before it may be tried: zero
// when it may be tried now. Both keys are checked; the longer wait wins.
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

// Succeeded forgets the account's failures. The address keeps its count:
// otherwise a guesser could reset it by logging in to an account of their
// own between guesses.
func (t *Throttle) Succeeded(ctx context.Context, accountKey string) error {
	if err := t.store.ClearLoginAttempts(ctx, accountKey); err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	return nil
}
