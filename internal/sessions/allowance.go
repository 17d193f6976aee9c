package sessions

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Allowance bounds how many wrong passwords a replica checks for browsers
// not known to the account: perSecond on average, in bursts of up to
// burst. A flood of wrong passwords must not take the CPU (password hashes)
// and database connections the token endpoint needs; right passwords spend
// nothing, so any number of people may sign in from new browsers.
//
// A check is admitted only when what is left of the allowance covers it and
// every check still running, since each of those may yet turn out wrong.
// So the wrong passwords checked never exceed the allowance, however many
// attempts arrive at once.
type Allowance struct {
	mu       sync.Mutex
	limiter  *rate.Limiter
	inFlight int
}

// NewAllowance returns an allowance of perSecond wrong passwords a second
// in bursts of up to burst (at least 1), or nil (no bound) when perSecond
// is not positive. A nil *Allowance admits everything.
func NewAllowance(perSecond float64, burst int) *Allowance {
	if perSecond <= 0 {
		return nil
	}
	return &Allowance{limiter: rate.NewLimiter(rate.Limit(perSecond), max(1, burst))}
}

// Check is a password check admitted by Admit; Done must follow it.
type Check struct {
	a    *Allowance
	done bool
}

// Admit reports whether a password may be checked now; when it may, the
// caller reports the outcome with Done.
func (a *Allowance) Admit(now time.Time) (*Check, bool) {
	if a == nil {
		return &Check{}, true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.limiter.TokensAt(now)-float64(a.inFlight) < 1 {
		return nil, false
	}
	a.inFlight++
	return &Check{a: a}, true
}

// Done ends the check: a wrong password spends one of the allowance, any
// other outcome (right, or not checked after all) spends nothing. Calls
// after the first do nothing.
func (c *Check) Done(now time.Time, wrong bool) {
	if c == nil || c.a == nil || c.done {
		return
	}
	c.done = true
	a := c.a
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inFlight--
	if wrong {
		a.limiter.ReserveN(now, 1)
	}
}
