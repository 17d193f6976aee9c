package audit_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestRecordAndTail(t *testing.T) {
	store := memory.New()
	now := t0
	svc := audit.New(store, func() time.Time { return now }, nil)
	ctx := context.Background()

	tests := []struct {
		name string
		ctx  context.Context
		in   audit.Event
		want storage.AuditEvent
	}{
		{"explicit actor", ctx,
			audit.Event{Actor: "u1", Action: audit.LoginSuccess, Target: "s1", IP: "192.0.2.1", Details: map[string]string{"client_id": "app"}},
			storage.AuditEvent{Actor: "u1", Action: audit.LoginSuccess, Target: "s1", IP: "192.0.2.1", Details: map[string]string{"client_id": "app"}}},
		{"actor from context", audit.WithActor(ctx, audit.Actor{ID: audit.ActorAdminAPI, IP: "127.0.0.1"}),
			audit.Event{Action: audit.UserDisable, Target: "u2"},
			storage.AuditEvent{Actor: "admin-api", Action: audit.UserDisable, Target: "u2", IP: "127.0.0.1"}},
		{"no actor anywhere", ctx,
			audit.Event{Action: audit.RoleCreate, Target: "editor"},
			storage.AuditEvent{Actor: "system", Action: audit.RoleCreate, Target: "editor"}},
		{"secrets dropped", ctx,
			audit.Event{Actor: "u1", Action: audit.PasswordReset, Target: "u1",
				Details: map[string]string{"password": "hunter2", "new_Password": "x", "client_secret": "s", "reset_token": "t",
					"token_hash": "h", "Session-Cookie": "c", "sessions_ended": "2"}},
			storage.AuditEvent{Actor: "u1", Action: audit.PasswordReset, Target: "u1", Details: map[string]string{"sessions_ended": "2"}}},
		{"unstorable text cleaned", ctx,
			audit.Event{Actor: "u\x001", Action: audit.LoginFailure, Target: "bad\xffutf8", IP: strings.Repeat("9", 600)},
			storage.AuditEvent{Actor: "u1", Action: audit.LoginFailure, Target: "bad\uFFFDutf8", IP: strings.Repeat("9", 512)}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now = t0.Add(time.Duration(i) * time.Second)
			svc.Record(tt.ctx, tt.in)
			got, err := svc.Tail(ctx, 1)
			if err != nil || len(got) != 1 {
				t.Fatalf("Tail = %v, %v", got, err)
			}
			g := got[0]
			if g.Actor != tt.want.Actor || g.Action != tt.want.Action || g.Target != tt.want.Target || g.IP != tt.want.IP ||
				!g.At.Equal(now) || len(g.Details) != len(tt.want.Details) {
				t.Fatalf("stored %+v; want %+v", g, tt.want)
			}
			for k, v := range tt.want.Details {
				if g.Details[k] != v {
					t.Fatalf("details %v; want %v", g.Details, tt.want.Details)
				}
			}
		})
	}

	all, err := svc.Tail(ctx, 0)
	if err != nil || len(all) != len(tests) {
		t.Fatalf("Tail(0) = %d events, %v", len(all), err)
	}
	if all[0].Action != audit.LoginFailure || all[len(all)-1].Action != audit.LoginSuccess {
		t.Fatalf("Tail is not newest first: %v … %v", all[0].Action, all[len(all)-1].Action)
	}
	if _, err := svc.Tail(ctx, -1); err == nil {
		t.Fatal("negative limit accepted")
	}
}

// brokenStore fails every append, as a database that went away would.
type brokenStore struct{ storage.AuditStore }

func (brokenStore) AppendAudit(context.Context, storage.AuditEvent) error {
	return storage.ErrUnavailable
}

func TestRecordNeverFails(t *testing.T) {
	var buf bytes.Buffer
	svc := audit.New(brokenStore{memory.New()}, nil, slog.New(slog.NewTextHandler(&buf, nil)))
	// A cancelled request still gets its line attempted, and a failure is
	// only logged.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	svc.Record(ctx, audit.Event{Actor: "u1", Action: audit.LoginSuccess, Details: map[string]string{"password": "hunter2"}})
	if !strings.Contains(buf.String(), "audit event not recorded") || strings.Contains(buf.String(), "hunter2") {
		t.Fatalf("log %q", buf.String())
	}
}

func TestRecordSurvivesCancellation(t *testing.T) {
	store := memory.New()
	svc := audit.New(store, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	svc.Record(ctx, audit.Event{Actor: "u1", Action: audit.UserDelete, Target: "u1"})
	got, err := store.ListAudit(context.Background(), 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("events after a cancelled request: %v, %v", got, err)
	}
}
