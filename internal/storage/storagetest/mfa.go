package storagetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

func sampleTOTP(userID, id string) storage.TOTPCredential {
	return storage.TOTPCredential{ID: id, UserID: userID, Secret: []byte("sealed-" + id), CreatedAt: at(0)}
}

func samplePasskey(id, userID string, created time.Time) storage.Passkey {
	return storage.Passkey{
		ID: id, UserID: userID, Name: "Key " + id, Credential: []byte(`{"id":"` + id + `"}`),
		SignCount: 3, CreatedAt: created,
	}
}

func mfaCases() []testCase {
	return []testCase{
		{"totp enrolment, confirmation and replay", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			wantErr(t, s.PutTOTP(ctx, sampleTOTP("nobody", "t0")), storage.ErrNotFound, "PutTOTP unknown user")
			_, err := s.GetTOTP(ctx, "u-alice")
			wantErr(t, err, storage.ErrNotFound, "GetTOTP before enrolment")
			must(t, s.PutTOTP(ctx, sampleTOTP("u-alice", "t1")), "PutTOTP")
			// An unconfirmed one is replaced by a new enrolment.
			must(t, s.PutTOTP(ctx, sampleTOTP("u-alice", "t2")), "PutTOTP again")
			got, err := s.GetTOTP(ctx, "u-alice")
			must(t, err, "GetTOTP")
			wantEqual(t, got, sampleTOTP("u-alice", "t2"), "unconfirmed credential")
			wantErr(t, s.UseTOTPStep(ctx, "u-alice", 10, at(time.Minute)), storage.ErrNotFound, "UseTOTPStep unconfirmed")
			wantErr(t, s.ConfirmTOTP(ctx, "u-alice", "t1", 10, at(time.Minute)), storage.ErrNotFound, "ConfirmTOTP replaced id")
			must(t, s.ConfirmTOTP(ctx, "u-alice", "t2", 10, at(time.Minute)), "ConfirmTOTP")
			wantErr(t, s.ConfirmTOTP(ctx, "u-alice", "t2", 11, at(time.Minute)), storage.ErrNotFound, "ConfirmTOTP twice")
			got, err = s.GetTOTP(ctx, "u-alice")
			must(t, err, "GetTOTP confirmed")
			want := sampleTOTP("u-alice", "t2")
			want.ConfirmedAt, want.LastUsedAt, want.LastUsedStep = at(time.Minute), at(time.Minute), 10
			wantEqual(t, got, want, "confirmed credential")
			wantErr(t, s.PutTOTP(ctx, sampleTOTP("u-alice", "t3")), storage.ErrAlreadyExists, "PutTOTP over a confirmed one")

			wantErr(t, s.UseTOTPStep(ctx, "u-alice", 10, at(2*time.Minute)), storage.ErrConflict, "the confirming code again")
			wantErr(t, s.UseTOTPStep(ctx, "u-alice", 9, at(2*time.Minute)), storage.ErrConflict, "an older code")
			must(t, s.UseTOTPStep(ctx, "u-alice", 11, at(2*time.Minute)), "next code")
			wantErr(t, s.UseTOTPStep(ctx, "u-alice", 11, at(2*time.Minute)), storage.ErrConflict, "replay")
			wantErr(t, s.UseTOTPStep(ctx, "u-bob", 12, at(2*time.Minute)), storage.ErrNotFound, "other user")

			must(t, s.DeleteTOTP(ctx, "u-alice"), "DeleteTOTP")
			wantErr(t, s.DeleteTOTP(ctx, "u-alice"), storage.ErrNotFound, "DeleteTOTP twice")
			_, err = s.GetTOTP(ctx, "u-alice")
			wantErr(t, err, storage.ErrNotFound, "GetTOTP after delete")
		}},
		{"a totp step is used once under concurrency", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			must(t, s.PutTOTP(ctx, sampleTOTP("u-alice", "t1")), "PutTOTP")
			must(t, s.ConfirmTOTP(ctx, "u-alice", "t1", 1, at(0)), "ConfirmTOTP")
			const n = 8
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() { errs[i] = s.UseTOTPStep(ctx, "u-alice", 5, at(time.Minute)) })
			}
			wg.Wait()
			wins := 0
			for _, err := range errs {
				if err == nil {
					wins++
				} else {
					wantErr(t, err, storage.ErrConflict, "losing UseTOTPStep")
				}
			}
			wantEqual(t, wins, 1, "accepted uses of one code")
		}},
		{"passkeys", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice", "bob")
			wantErr(t, s.CreatePasskey(ctx, samplePasskey("k0", "nobody", at(0))), storage.ErrNotFound, "unknown user")
			must(t, s.CreatePasskey(ctx, samplePasskey("k2", "u-alice", at(time.Second))), "CreatePasskey k2")
			must(t, s.CreatePasskey(ctx, samplePasskey("k1", "u-alice", at(0))), "CreatePasskey k1")
			must(t, s.CreatePasskey(ctx, samplePasskey("k3", "u-bob", at(0))), "CreatePasskey k3")
			wantErr(t, s.CreatePasskey(ctx, samplePasskey("k1", "u-bob", at(0))), storage.ErrAlreadyExists, "duplicate id")
			got, err := s.GetPasskey(ctx, "k1")
			must(t, err, "GetPasskey")
			wantEqual(t, got, samplePasskey("k1", "u-alice", at(0)), "GetPasskey")
			list, err := s.ListPasskeys(ctx, "u-alice")
			must(t, err, "ListPasskeys")
			wantEqual(t, len(list), 2, "alice's passkeys")
			wantEqual(t, []string{list[0].ID, list[1].ID}, []string{"k1", "k2"}, "oldest first")
			list, err = s.ListPasskeys(ctx, "nobody")
			must(t, err, "ListPasskeys nobody")
			wantEqual(t, len(list), 0, "nobody's passkeys")

			must(t, s.UsePasskey(ctx, "k1", 4, at(time.Hour)), "UsePasskey")
			wantErr(t, s.UsePasskey(ctx, "k1", 4, at(time.Hour)), storage.ErrConflict, "same counter again")
			wantErr(t, s.UsePasskey(ctx, "k1", 2, at(time.Hour)), storage.ErrConflict, "counter going back")
			wantErr(t, s.UsePasskey(ctx, "nope", 9, at(time.Hour)), storage.ErrNotFound, "UsePasskey unknown")
			got, err = s.GetPasskey(ctx, "k1")
			must(t, err, "GetPasskey after use")
			wantEqual(t, [2]any{got.SignCount, got.LastUsedAt}, [2]any{int64(4), at(time.Hour)}, "counter and last use")

			zero := samplePasskey("kz", "u-bob", at(0))
			zero.SignCount = 0
			must(t, s.CreatePasskey(ctx, zero), "CreatePasskey without counter")
			must(t, s.UsePasskey(ctx, "kz", 0, at(time.Hour)), "authenticator without a counter")
			must(t, s.UsePasskey(ctx, "kz", 0, at(2*time.Hour)), "authenticator without a counter, again")

			before, _ := s.GetPasskey(ctx, "k1")
			wantErr(t, s.RenamePasskey(ctx, "u-bob", "k1", "Stolen"), storage.ErrNotFound, "rename another's")
			wantErr(t, s.RenamePasskey(ctx, "u-alice", "nope", "Ghost"), storage.ErrNotFound, "rename unknown")
			got, _ = s.GetPasskey(ctx, "k1")
			wantEqual(t, got.Name, before.Name, "name after another's rename")
			must(t, s.RenamePasskey(ctx, "u-alice", "k1", "Laptop ✓"), "RenamePasskey")
			got, _ = s.GetPasskey(ctx, "k1")
			before.Name = "Laptop ✓"
			wantEqual(t, got, before, "renamed, nothing else changed")
			list, err = s.ListPasskeys(ctx, "u-alice")
			must(t, err, "ListPasskeys after rename")
			wantEqual(t, [2]string{list[0].Name, list[1].Name}, [2]string{"Laptop ✓", samplePasskey("k2", "u-alice", at(0)).Name}, "names listed")
			wantErr(t, s.DeletePasskey(ctx, "u-bob", "k1"), storage.ErrNotFound, "delete another's")
			must(t, s.DeletePasskey(ctx, "u-alice", "k1"), "DeletePasskey")
			_, err = s.GetPasskey(ctx, "k1")
			wantErr(t, err, storage.ErrNotFound, "GetPasskey deleted")
		}},
		{"recovery codes are single use", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice", "bob")
			wantErr(t, s.ReplaceRecoveryCodes(ctx, "nobody", []string{"h"}, at(0)), storage.ErrNotFound, "unknown user")
			must(t, s.ReplaceRecoveryCodes(ctx, "u-alice", []string{"h1", "h2", "h3"}, at(0)), "ReplaceRecoveryCodes")
			wantErr(t, s.ConsumeRecoveryCode(ctx, "u-bob", "h1"), storage.ErrNotFound, "another user's code")
			must(t, s.ConsumeRecoveryCode(ctx, "u-alice", "h1"), "ConsumeRecoveryCode")
			wantErr(t, s.ConsumeRecoveryCode(ctx, "u-alice", "h1"), storage.ErrNotFound, "the same code again")
			st, err := s.MFAStatus(ctx, []string{"u-alice"})
			must(t, err, "MFAStatus")
			wantEqual(t, st["u-alice"].RecoveryCodes, 2, "codes left")
			must(t, s.ReplaceRecoveryCodes(ctx, "u-alice", []string{"h4"}, at(time.Hour)), "regenerate")
			wantErr(t, s.ConsumeRecoveryCode(ctx, "u-alice", "h2"), storage.ErrNotFound, "an old code after regeneration")
			must(t, s.ConsumeRecoveryCode(ctx, "u-alice", "h4"), "a new code")
		}},
		{"status, reset and user deletion", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice", "bob", "carol")
			must(t, s.PutTOTP(ctx, sampleTOTP("u-alice", "t1")), "PutTOTP")
			st, err := s.MFAStatus(ctx, []string{"u-alice"})
			must(t, err, "MFAStatus unconfirmed")
			wantEqual(t, st["u-alice"].Enrolled(), false, "unconfirmed app counts")
			must(t, s.ConfirmTOTP(ctx, "u-alice", "t1", 1, at(time.Hour)), "ConfirmTOTP")
			must(t, s.CreatePasskey(ctx, samplePasskey("k1", "u-alice", at(time.Minute))), "CreatePasskey")
			must(t, s.ReplaceRecoveryCodes(ctx, "u-alice", []string{"a", "b"}, at(0)), "codes")
			must(t, s.CreatePasskey(ctx, samplePasskey("k2", "u-bob", at(0))), "CreatePasskey bob")
			st, err = s.MFAStatus(ctx, []string{"u-alice", "u-bob", "u-carol", "nobody"})
			must(t, err, "MFAStatus")
			wantEqual(t, st["u-alice"], storage.MFAStatus{TOTP: true, Passkeys: 1, RecoveryCodes: 2, Since: at(time.Minute)}, "alice")
			wantEqual(t, st["u-bob"], storage.MFAStatus{Passkeys: 1, Since: at(0)}, "bob")
			wantEqual(t, st["u-carol"], storage.MFAStatus{}, "carol")
			wantEqual(t, st["u-bob"].Enrolled(), true, "bob enrolled")

			must(t, s.DeleteUserMFA(ctx, "u-alice"), "DeleteUserMFA")
			must(t, s.DeleteUserMFA(ctx, "u-carol"), "DeleteUserMFA without factors")
			st, err = s.MFAStatus(ctx, []string{"u-alice"})
			must(t, err, "MFAStatus after reset")
			wantEqual(t, st["u-alice"], storage.MFAStatus{}, "alice after reset")
			_, err = s.GetTOTP(ctx, "u-alice")
			wantErr(t, err, storage.ErrNotFound, "GetTOTP after reset")
			wantErr(t, s.ConsumeRecoveryCode(ctx, "u-alice", "a"), storage.ErrNotFound, "code after reset")

			must(t, s.DeleteUser(ctx, "u-bob"), "DeleteUser")
			_, err = s.GetPasskey(ctx, "k2")
			wantErr(t, err, storage.ErrNotFound, "passkey of a deleted user")
		}},
		{"a failed transaction leaves factors as they were", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			createUsers(t, s, "alice")
			must(t, s.ReplaceRecoveryCodes(ctx, "u-alice", []string{"a"}, at(0)), "codes")
			err := s.InTx(ctx, func(ctx context.Context) error {
				must(t, s.DeleteUserMFA(ctx, "u-alice"), "DeleteUserMFA in tx")
				must(t, s.CreatePasskey(ctx, samplePasskey("k1", "u-alice", at(0))), "CreatePasskey in tx")
				return errBoom
			})
			wantErr(t, err, errBoom, "InTx")
			must(t, s.ConsumeRecoveryCode(ctx, "u-alice", "a"), "code survived the rollback")
			_, err = s.GetPasskey(ctx, "k1")
			wantErr(t, err, storage.ErrNotFound, "passkey rolled back")
		}},
	}
}

func webauthnCases() []testCase {
	sample := func(id string, exp time.Duration) storage.WebAuthnChallenge {
		return storage.WebAuthnChallenge{ID: id, Purpose: "webauthn_login", UserID: "u-alice",
			Data: []byte(`{"challenge":"` + id + `"}`), CreatedAt: at(0), ExpiresAt: at(exp)}
	}
	return []testCase{
		{"challenges are single use", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateWebAuthnChallenge(ctx, sample("c1", time.Minute)), "create")
			wantErr(t, s.CreateWebAuthnChallenge(ctx, sample("c1", time.Minute)), storage.ErrAlreadyExists, "duplicate")
			passwordless := sample("c2", time.Minute)
			passwordless.UserID = ""
			must(t, s.CreateWebAuthnChallenge(ctx, passwordless), "create without a user")
			got, err := s.ConsumeWebAuthnChallenge(ctx, "c1")
			must(t, err, "consume")
			wantEqual(t, got, sample("c1", time.Minute), "consumed challenge")
			_, err = s.ConsumeWebAuthnChallenge(ctx, "c1")
			wantErr(t, err, storage.ErrNotFound, "consume twice")
			got, err = s.ConsumeWebAuthnChallenge(ctx, "c2")
			must(t, err, "consume passwordless")
			wantEqual(t, got, passwordless, "passwordless challenge")
		}},
		{"expired challenges are swept", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateWebAuthnChallenge(ctx, sample("old", time.Minute)), "create old")
			must(t, s.CreateWebAuthnChallenge(ctx, sample("new", time.Hour)), "create new")
			n, err := s.DeleteExpiredWebAuthnChallenges(ctx, at(2*time.Minute), 10)
			must(t, err, "sweep")
			wantEqual(t, n, 1, "swept")
			_, err = s.ConsumeWebAuthnChallenge(ctx, "old")
			wantErr(t, err, storage.ErrNotFound, "old after sweep")
			_, err = s.ConsumeWebAuthnChallenge(ctx, "new")
			must(t, err, "new after sweep")
		}},
	}
}
