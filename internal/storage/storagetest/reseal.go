package storagetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// resealCases cover what re-sealing after a secret rotation needs: a walk
// over every TOTP credential, and compare-and-swap replacement of sealed
// TOTP and connector secrets.
func resealCases() []testCase {
	return []testCase{
		{"totp credentials are listed in pages ordered by id", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice", "bob", "carol")
			must(t, s.PutTOTP(ctx, sampleTOTP("u-alice", "t-b")), "PutTOTP alice")
			must(t, s.PutTOTP(ctx, sampleTOTP("u-bob", "t-a")), "PutTOTP bob")
			must(t, s.PutTOTP(ctx, sampleTOTP("u-carol", "t-c")), "PutTOTP carol")
			must(t, s.ConfirmTOTP(ctx, "u-bob", "t-a", 7, at(time.Minute)), "ConfirmTOTP bob")
			bob := sampleTOTP("u-bob", "t-a")
			bob.ConfirmedAt, bob.LastUsedAt, bob.LastUsedStep = at(time.Minute), at(time.Minute), 7

			page, err := s.ListTOTPCredentials(ctx, "", 2)
			must(t, err, "first page")
			wantEqual(t, page, []storage.TOTPCredential{bob, sampleTOTP("u-alice", "t-b")}, "first page (confirmed or not)")
			page, err = s.ListTOTPCredentials(ctx, "t-b", 2)
			must(t, err, "second page")
			wantEqual(t, page, []storage.TOTPCredential{sampleTOTP("u-carol", "t-c")}, "second page")
			page, err = s.ListTOTPCredentials(ctx, "t-c", 2)
			must(t, err, "past the end")
			wantEqual(t, len(page), 0, "credentials past the last id")
			for _, bad := range []string{"a\x00", "\xff"} {
				page, err = s.ListTOTPCredentials(ctx, bad, 0)
				must(t, err, "unstorable cursor")
				wantEqual(t, len(page), 0, "credentials after an unstorable cursor")
			}
			all, err := s.ListTOTPCredentials(ctx, "", 0)
			must(t, err, "no limit")
			wantEqual(t, len(all), 3, "credentials without a limit")
			must(t, s.DeleteTOTP(ctx, "u-bob"), "DeleteTOTP bob")
			all, err = s.ListTOTPCredentials(ctx, "", 0)
			must(t, err, "after delete")
			wantEqual(t, len(all), 2, "credentials after one is deleted")
		}},
		{"ResealTOTP replaces only the secret, and only while it is the old one", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			c := sampleTOTP("u-alice", "t1")
			must(t, s.PutTOTP(ctx, c), "PutTOTP")
			must(t, s.ConfirmTOTP(ctx, "u-alice", "t1", 4, at(time.Minute)), "ConfirmTOTP")
			wantErr(t, s.ResealTOTP(ctx, "t1", []byte("not the stored one"), []byte("new")), storage.ErrConflict, "ResealTOTP with a wrong old secret")
			wantErr(t, s.ResealTOTP(ctx, "nope", c.Secret, []byte("new")), storage.ErrNotFound, "ResealTOTP unknown id")
			// A rolled-back transaction leaves the old secret.
			err := s.InTx(ctx, func(ctx context.Context) error {
				must(t, s.ResealTOTP(ctx, "t1", c.Secret, []byte("rolled back")), "ResealTOTP in a transaction")
				return errBoom
			})
			wantErr(t, err, errBoom, "rolled-back transaction")
			must(t, s.ResealTOTP(ctx, "t1", c.Secret, []byte("resealed")), "ResealTOTP")
			got, err := s.GetTOTP(ctx, "u-alice")
			must(t, err, "GetTOTP")
			want := c
			want.Secret, want.ConfirmedAt, want.LastUsedAt, want.LastUsedStep = []byte("resealed"), at(time.Minute), at(time.Minute), 4
			wantEqual(t, got, want, "re-sealed credential")
			wantErr(t, s.ResealTOTP(ctx, "t1", c.Secret, []byte("again")), storage.ErrConflict, "ResealTOTP with the replaced secret")
		}},
		{"of concurrent ResealTOTP calls one wins", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			c := sampleTOTP("u-alice", "t1")
			must(t, s.PutTOTP(ctx, c), "PutTOTP")
			const n = 8
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() { errs[i] = s.ResealTOTP(ctx, "t1", c.Secret, []byte(fmt.Sprintf("replica-%d", i))) })
			}
			wg.Wait()
			winner := -1
			for i, err := range errs {
				if err == nil {
					if winner >= 0 {
						t.Fatalf("replicas %d and %d both re-sealed", winner, i)
					}
					winner = i
				} else {
					wantErr(t, err, storage.ErrConflict, "losing ResealTOTP")
				}
			}
			if winner < 0 {
				t.Fatal("no ResealTOTP succeeded")
			}
			got, err := s.GetTOTP(ctx, "u-alice")
			must(t, err, "GetTOTP")
			wantEqual(t, got.Secret, []byte(fmt.Sprintf("replica-%d", winner)), "the winner's secret")
		}},
		{"ResealConnectorSecret replaces only the secret, and only while it is the old one", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			c, none := sampleConnector("corp"), sampleConnector("open")
			none.ClientSecret = nil
			must(t, s.CreateConnector(ctx, c), "CreateConnector")
			must(t, s.CreateConnector(ctx, none), "CreateConnector without a secret")
			wantErr(t, s.ResealConnectorSecret(ctx, "corp", []byte{9, 9}, []byte{5}), storage.ErrConflict, "wrong old secret")
			wantErr(t, s.ResealConnectorSecret(ctx, "open", c.ClientSecret, []byte{5}), storage.ErrConflict, "connector without a secret")
			wantErr(t, s.ResealConnectorSecret(ctx, "nope", c.ClientSecret, []byte{5}), storage.ErrNotFound, "unknown connector")
			err := s.InTx(ctx, func(ctx context.Context) error {
				must(t, s.ResealConnectorSecret(ctx, "corp", c.ClientSecret, []byte{7}), "ResealConnectorSecret in a transaction")
				return errBoom
			})
			wantErr(t, err, errBoom, "rolled-back transaction")
			got, err := s.GetConnector(ctx, "corp")
			must(t, err, "GetConnector after rollback")
			wantEqual(t, got, c, "connector after a rolled-back re-seal")
			must(t, s.ResealConnectorSecret(ctx, "corp", c.ClientSecret, []byte{5, 6, 7}), "ResealConnectorSecret")
			got, err = s.GetConnector(ctx, "corp")
			must(t, err, "GetConnector")
			want := c
			want.ClientSecret = []byte{5, 6, 7}
			wantEqual(t, got, want, "re-sealed connector (UpdatedAt kept)")
			wantErr(t, s.ResealConnectorSecret(ctx, "corp", c.ClientSecret, []byte{8}), storage.ErrConflict, "replaced secret")
			if gotNone, err := s.GetConnector(ctx, "open"); err != nil || !bytes.Equal(gotNone.ClientSecret, nil) {
				t.Fatalf("connector without a secret: %v %v", gotNone.ClientSecret, err)
			}
		}},
	}
}
