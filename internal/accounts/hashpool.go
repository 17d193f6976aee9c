package accounts

import (
	"context"
	"errors"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// ErrBusy: too many passwords are being hashed at once, so this one was not
// checked; try again shortly. Pages answer it with 429 and Retry-After.
var ErrBusy = errors.New("too many password checks at once; try again shortly")

// DefaultHashMaxWait is how long a login waits for its turn to hash.
const DefaultHashMaxWait = 3 * time.Second

// HashLimits bound password hashing, the one costly thing an anonymous
// request can make Signet do (argon2id with the default parameters takes
// 64 MiB and about 40 ms of two cores): a login flood gets ErrBusy instead
// of eating the CPU and memory the token endpoint needs.
type HashLimits struct {
	// Concurrency is how many hashes run at once; 0 means
	// runtime.GOMAXPROCS.
	Concurrency int
	// Queue is how many more logins may wait for a turn; 0 means 32 per
	// running hash (waiting costs no memory: a burst of people signing in
	// queues rather than fails). Past it a login gets ErrBusy at once.
	Queue int
	// MaxWait is how long a login waits for its turn before ErrBusy; 0
	// means DefaultHashMaxWait.
	MaxWait time.Duration
}

// hashPool runs password hashes a bounded number at a time.
type hashPool struct {
	// slots holds one token per running hash; tickets one per login that
	// runs or waits.
	slots   chan struct{}
	tickets chan struct{}
	maxWait time.Duration
	// onHash, when set, is called as each hash starts (tests count them).
	onHash func()
	// released is when hash memory was last handed back (UnixNano);
	// releasing is set while a release is scheduled.
	released  atomic.Int64
	releasing atomic.Bool
}

func newHashPool(l HashLimits, onHash func()) *hashPool {
	n := l.Concurrency
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	q := l.Queue
	if q <= 0 {
		q = 32 * n
	}
	wait := l.MaxWait
	if wait <= 0 {
		wait = DefaultHashMaxWait
	}
	return &hashPool{slots: make(chan struct{}, n), tickets: make(chan struct{}, n+q), maxWait: wait, onHash: onHash}
}

// run runs fn, one hash or verification, once a slot is free. A login
// (patient false) gets ErrBusy when the queue is full or its turn does not
// come within maxWait; an administrator's call (patient true) waits as
// long as its context lives, outside the queue, so a flood of logins
// cannot keep an operator from setting a password.
func (p *hashPool) run(ctx context.Context, patient bool, fn func()) error {
	if !patient {
		select {
		case p.tickets <- struct{}{}:
			defer func() { <-p.tickets }()
		default:
			return ErrBusy
		}
	}
	select {
	case p.slots <- struct{}{}:
	default:
		var timeout <-chan time.Time
		if !patient {
			t := time.NewTimer(p.maxWait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case p.slots <- struct{}{}:
		case <-timeout:
			return ErrBusy
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() { <-p.slots }()
	if p.onHash != nil {
		p.onHash()
	}
	fn()
	p.afterHash()
	return nil
}

// releaseEvery spaces out the returns of hash memory to the OS.
const releaseEvery = 10 * time.Second

// afterHash hands the memory of finished hashes back to the OS once no
// other hash is waiting or running (a burst of logins is over), at most
// every releaseEvery. Each hash leaves --argon2-memory of garbage that the
// runtime would otherwise keep for minutes, so an idle replica would stay
// at its peak size.
func (p *hashPool) afterHash() {
	if len(p.slots) > 1 || len(p.tickets) > 1 || !p.releasing.CompareAndSwap(false, true) {
		return
	}
	wait := time.Until(time.Unix(0, p.released.Load()).Add(releaseEvery))
	time.AfterFunc(max(wait, 0), func() {
		p.released.Store(time.Now().UnixNano())
		p.releasing.Store(false)
		debug.FreeOSMemory()
	})
}
