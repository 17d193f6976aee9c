package backchannel

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/keys"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

type fakeKeys struct{ k keys.SigningKey }

func (f fakeKeys) Current(context.Context, string) (keys.SigningKey, error) { return f.k, nil }

// fakeSender answers every POST with status (or fails with err) and
// keeps the bodies.
type fakeSender struct {
	mu     sync.Mutex
	status int
	err    error
	bodies []string
}

func (f *fakeSender) Do(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies = append(f.bodies, string(b))
	if f.err != nil {
		return nil, f.err
	}
	return &http.Response{StatusCode: f.status, Body: io.NopCloser(strings.NewReader(""))}, nil
}

type fakeAudit struct {
	mu     sync.Mutex
	events []audit.Event
}

func (f *fakeAudit) Record(_ context.Context, e audit.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, e)
}

// queuedLogout makes a store with one delivery queued for client c1.
func queuedLogout(t *testing.T) *memory.Store {
	t.Helper()
	ctx := context.Background()
	s := memory.New()
	now := time.Now()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.CreateUser(ctx, storage.User{ID: "u1", Username: "u1", CreatedAt: now, UpdatedAt: now}))
	must(s.CreateClient(ctx, storage.Client{ID: "c1", Name: "C1", BackchannelLogoutURI: "https://rp.example/bc", CreatedAt: now, UpdatedAt: now}))
	must(s.CreateSession(ctx, storage.Session{ID: "s1", TokenHash: "h", UserID: "u1", AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}))
	must(s.RecordSessionClient(ctx, "s1", "c1", now))
	must(s.DeleteSession(ctx, "s1"))
	return s
}

func newService(t *testing.T, s *memory.Store, sender *fakeSender, au *fakeAudit, now func() time.Time) *Service {
	t.Helper()
	pk, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(Options{Issuer: "https://id.example", Store: s, Keys: fakeKeys{keys.SigningKey{ID: "k1", Algorithm: "ES256", Private: pk}},
		Sender: sender, Audit: au, Now: now, MaxAttempts: 3, Backoff: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestDeliveredOnce(t *testing.T) {
	s := queuedLogout(t)
	sender, au := &fakeSender{status: http.StatusNoContent}, &fakeAudit{}
	svc := newService(t, s, sender, au, time.Now)
	svc.pump(context.Background(), make(chan struct{}, 4))
	svc.wg.Wait()
	if len(sender.bodies) != 1 || !strings.HasPrefix(sender.bodies[0], "logout_token=") {
		t.Fatalf("sent %q, want one logout_token form", sender.bodies)
	}
	if q, _ := s.ListBackchannelDeliveries(context.Background()); len(q) != 0 {
		t.Fatalf("queue after delivery: %+v", q)
	}
	if len(au.events) != 1 || au.events[0].Action != ActionDelivered || au.events[0].Target != "c1" {
		t.Fatalf("audit %+v", au.events)
	}
}

func TestRetriedWithBackoffThenGivenUp(t *testing.T) {
	s := queuedLogout(t)
	sender, au := &fakeSender{err: errors.New("connection refused")}, &fakeAudit{}
	clock := time.Now().Truncate(time.Microsecond) // what the store keeps
	svc := newService(t, s, sender, au, func() time.Time { return clock })
	slots := make(chan struct{}, 4)
	for i, wait := range []time.Duration{time.Second, 2 * time.Second, 0} {
		svc.pump(context.Background(), slots)
		svc.wg.Wait()
		if len(sender.bodies) != i+1 {
			t.Fatalf("attempt %d: %d POSTs", i+1, len(sender.bodies))
		}
		if wait == 0 {
			break
		}
		// Not due before the backoff has passed.
		clock = clock.Add(wait - time.Millisecond)
		svc.pump(context.Background(), slots)
		svc.wg.Wait()
		if len(sender.bodies) != i+1 {
			t.Fatalf("attempt %d was retried before its backoff of %v", i+1, wait)
		}
		clock = clock.Add(time.Millisecond)
	}
	if q, _ := s.ListBackchannelDeliveries(context.Background()); len(q) != 0 {
		t.Fatalf("queue after giving up: %+v", q)
	}
	if len(au.events) != 1 || au.events[0].Action != ActionFailed || au.events[0].Details["attempts"] != "3" ||
		!strings.Contains(au.events[0].Details["error"], "connection refused") {
		t.Fatalf("audit %+v, want one backchannel.failed after 3 attempts", au.events)
	}
}

func TestClientWithoutURIDropped(t *testing.T) {
	s := queuedLogout(t)
	c, _ := s.GetClient(context.Background(), "c1")
	c.BackchannelLogoutURI = ""
	if err := s.UpdateClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	sender, au := &fakeSender{status: http.StatusOK}, &fakeAudit{}
	svc := newService(t, s, sender, au, time.Now)
	svc.pump(context.Background(), make(chan struct{}, 4))
	svc.wg.Wait()
	if len(sender.bodies) != 0 || len(au.events) != 0 {
		t.Fatalf("sent %d, audited %d: a client that dropped its URI gets nothing", len(sender.bodies), len(au.events))
	}
	if q, _ := s.ListBackchannelDeliveries(context.Background()); len(q) != 0 {
		t.Fatalf("queue: %+v", q)
	}
}
