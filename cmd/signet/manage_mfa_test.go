package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/adminapi"
	"github.com/signet-idp/signet/internal/mfa"
	"github.com/signet-idp/signet/internal/storage"
)

// TestManageTwoFactor: `signet users list` shows who has a second factor,
// `signet users reset-mfa` removes a person's factors (audited), and
// `signet clients create --require-mfa` registers a client that requires
// one.
func TestManageTwoFactor(t *testing.T) {
	store := startAdminAPI(t)
	ctx := context.Background()
	out := mustRun(t, "a long passphrase\n", "users", "create", "--username", "ada", "--email", "ada@example.com",
		"--password-stdin", "-o", "json")
	var ada adminapi.User
	mustJSON(t, out, &ada)
	if ada.MFAEnrolled {
		t.Fatal("a new user has a second factor")
	}
	now := time.Now().UTC()
	for _, err := range []error{
		store.PutTOTP(ctx, storage.TOTPCredential{ID: "t1", UserID: ada.ID, Secret: []byte("sealed"), CreatedAt: now}),
		store.ConfirmTOTP(ctx, ada.ID, "t1", 1, now),
		store.ReplaceRecoveryCodes(ctx, ada.ID, []string{"h1", "h2"}, now),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	var list []adminapi.User
	mustJSON(t, mustRun(t, "", "users", "list", "-o", "json"), &list)
	if len(list) != 1 || !list[0].MFAEnrolled {
		t.Fatalf("users list: %+v", list)
	}

	mustJSON(t, mustRun(t, "", "users", "reset-mfa", "ada", "-o", "json"), &ada)
	if ada.MFAEnrolled {
		t.Fatal("reset-mfa printed a user who still has a second factor")
	}
	st, err := store.MFAStatus(ctx, []string{ada.ID})
	if err != nil || st[ada.ID] != (storage.MFAStatus{}) {
		t.Fatalf("after reset-mfa: %+v, %v", st[ada.ID], err)
	}
	events, err := store.ListAudit(ctx, 10)
	if err != nil || !slices.ContainsFunc(events, func(e storage.AuditEvent) bool {
		return e.Action == mfa.AuditReset && e.Target == ada.ID && e.Actor == "admin-api"
	}) {
		t.Fatalf("no mfa.reset by the admin API in the audit log: %+v, %v", events, err)
	}
	if _, err := runCLI(t, "", "users", "reset-mfa", "nobody"); err == nil {
		t.Fatal("reset-mfa of an unknown user succeeded")
	}

	var cl adminapi.OAuthClient
	mustJSON(t, mustRun(t, "", "clients", "create", "--name", "Payroll", "--redirect-uri", "https://payroll.example/cb",
		"--require-mfa", "-o", "json"), &cl)
	stored, err := store.GetClient(ctx, cl.ClientID)
	if err != nil || !cl.RequireMFA || !stored.RequireMFA {
		t.Fatalf("clients create --require-mfa: printed %+v, stored %+v, %v", cl, stored.RequireMFA, err)
	}
}
