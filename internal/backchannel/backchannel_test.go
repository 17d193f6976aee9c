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

// TestDropperEmptiesQueue: with back-channel logout off, queued deliveries
// are removed unsent, each audited; one claimed by another replica is left
// to it; a second sweep finds nothing.
func TestDropperEmptiesQueue(t *testing.T) {
	s := queuedLogout(t)
	ctx := context.Background()
	now := time.Now()
	for _, sid := range []string{"s2", "s3"} {
		if err := s.CreateSession(ctx, storage.Session{ID: sid, TokenHash: "h" + sid, UserID: "u1", AuthTime: now, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordSessionClient(ctx, sid, "c1", now); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteSession(ctx, sid); err != nil {
			t.Fatal(err)
		}
	}
	// Another replica has the first one in hand.
	held, err := s.ClaimBackchannelDeliveries(ctx, now, time.Hour, 1)
	if err != nil || len(held) != 1 {
		t.Fatalf("claim: %v %v", held, err)
	}
	au := &fakeAudit{}
	d := &Dropper{Store: s, Audit: au, Batch: 1}
	n, err := d.Drop(ctx)
	if err != nil || n != 2 {
		t.Fatalf("Drop = %d, %v; want 2", n, err)
	}
	q, _ := s.ListBackchannelDeliveries(ctx)
	if len(q) != 1 || q[0].ID != held[0].ID {
		t.Fatalf("queue after the drop: %+v, want only the delivery another replica holds", q)
	}
	if len(au.events) != 2 {
		t.Fatalf("audit %+v, want two events", au.events)
	}
	sids := map[string]bool{}
	for _, e := range au.events {
		if e.Action != ActionDropped || e.Actor != audit.ActorSystem || e.Target != "c1" || e.Details["attempts"] != "0" || e.Details["sub"] != "u1" {
			t.Fatalf("audit event %+v", e)
		}
		sids[e.Details["sid"]] = true
	}
	for _, sid := range []string{"s1", "s2", "s3"} {
		if sids[sid] == (sid == held[0].SessionID) {
			t.Fatalf("dropped sessions %v, held %s: want every other one dropped", sids, held[0].SessionID)
		}
	}
	if n, err := d.Drop(ctx); n != 0 || err != nil || len(au.events) != 2 {
		t.Fatalf("second Drop = %d, %v, %d events; want nothing", n, err, len(au.events))
	}
}
