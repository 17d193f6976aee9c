package sessions

import (
	"sync"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

// newStore returns a memory store with users u1 and u2 and clients app and
// other (sessions and consents refer to them).
func newStore(t *testing.T) *memory.Store {
	t.Helper()
	st := memory.New()
	ctx := t.Context()
	for _, id := range []string{"u1", "u2"} {
		if err := st.CreateUser(ctx, storage.User{ID: id, Username: id, Email: id + "@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"app", "other"} {
		if err := st.CreateClient(ctx, storage.Client{ID: id, Name: id, RedirectURIs: []string{"https://" + id + ".example/cb"}}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
