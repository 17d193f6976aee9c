package storagetest

import (
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

func auditCases() []testCase {
	return []testCase{
		{"append assigns ids, list newest first", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			events := []storage.AuditEvent{
				{At: at(0), Actor: "system", Action: "key.rotate", Target: "k1", Details: map[string]string{"alg": "RS256"}},
				{At: at(2 * time.Second), Actor: "u-alice", Action: "login.success", Target: "u-alice", IP: "192.0.2.1", Details: map[string]string{"client": "web", "amr": "pwd"}},
				{At: at(time.Second), Actor: "admin-api", Action: "user.disable", Target: "u-bob"},
			}
			for _, e := range events {
				e.ID = 12345 // must be ignored: the store assigns ids
				must(t, s.AppendAudit(ctx, e), "AppendAudit "+e.Action)
			}
			got, err := s.ListAudit(ctx, 10)
			must(t, err, "ListAudit")
			if len(got) != 3 {
				t.Fatalf("ListAudit returned %d events, want 3: %+v", len(got), got)
			}
			seen := map[int64]bool{}
			for i, e := range got {
				if e.ID == 0 || e.ID == 12345 || seen[e.ID] {
					t.Fatalf("event %d has id %d, want a fresh store-assigned id", i, e.ID)
				}
				seen[e.ID] = true
				if len(e.Details) == 0 && e.Action == "user.disable" {
					got[i].Details = nil // no details: nil or empty both fine
				}
				got[i].ID = 0
			}
			wantEqual(t, got, []storage.AuditEvent{events[1], events[2], events[0]}, "events newest first")

			two, err := s.ListAudit(ctx, 2)
			must(t, err, "ListAudit limit 2")
			if len(two) != 2 || two[0].Action != "login.success" || two[1].Action != "user.disable" {
				t.Fatalf("ListAudit(2) = %+v, want the two newest", two)
			}
		}},
		{"empty log", func(t *testing.T, s storage.Store) {
			got, err := s.ListAudit(t.Context(), 10)
			must(t, err, "ListAudit")
			wantEqual(t, len(got), 0, "events in empty log")
		}},
	}
}
