package storagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

func keyIDs(ks []storage.SigningKey) []string {
	ids := make([]string, 0, len(ks))
	for _, k := range ks {
		ids = append(ids, k.ID)
	}
	return ids
}

func keyCases() []testCase {
	return []testCase{
		{"create, get and list oldest first", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			k2 := sampleKey("k2", at(2*time.Hour))
			k1 := sampleKey("k1", at(time.Hour))
			k3 := sampleKey("k3", at(3*time.Hour))
			k3.State, k3.RetiredAt, k3.DeleteAfter = storage.KeyRetired, at(4*time.Hour), at(5*time.Hour)
			for _, k := range []storage.SigningKey{k2, k3, k1} {
				must(t, s.CreateKey(ctx, k), "CreateKey "+k.ID)
			}
			got, err := s.GetKey(ctx, "k1")
			must(t, err, "GetKey")
			wantEqual(t, got, k1, "GetKey") // zero RetiredAt and DeleteAfter stay zero
			list, err := s.ListKeys(ctx)
			must(t, err, "ListKeys")
			wantEqual(t, list, []storage.SigningKey{k1, k2, k3}, "ListKeys")
			wantErr(t, s.CreateKey(ctx, sampleKey("k1", at(0))), storage.ErrAlreadyExists, "duplicate key")
		}},
		{"update replaces state, private key and times only", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateKey(ctx, sampleKey("k1", at(0))), "CreateKey")
			u := storage.SigningKey{
				ID: "k1", Algorithm: "ES256", PublicKey: []byte("{}"), CreatedAt: at(time.Hour), // ignored
				State: storage.KeyRetired, PrivateKey: []byte("re-encrypted"),
				ActivateAt: time.Time{}, RetiredAt: at(2 * time.Hour), DeleteAfter: at(3 * time.Hour),
			}
			must(t, s.UpdateKey(ctx, u), "UpdateKey")
			got, err := s.GetKey(ctx, "k1")
			must(t, err, "GetKey")
			want := sampleKey("k1", at(0))
			want.State, want.PrivateKey = storage.KeyRetired, []byte("re-encrypted")
			want.ActivateAt, want.RetiredAt, want.DeleteAfter = time.Time{}, at(2*time.Hour), at(3*time.Hour)
			wantEqual(t, got, want, "key after update")
		}},
		{"missing key and delete", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateKey(ctx, sampleKey("k1", at(0))), "CreateKey")
			must(t, s.DeleteKey(ctx, "k1"), "DeleteKey")
			for _, op := range []struct {
				name string
				call func(ctx context.Context) error
			}{
				{"GetKey", func(ctx context.Context) error { _, err := s.GetKey(ctx, "k1"); return err }},
				{"UpdateKey", func(ctx context.Context) error { return s.UpdateKey(ctx, sampleKey("k1", at(0))) }},
				{"DeleteKey", func(ctx context.Context) error { return s.DeleteKey(ctx, "k1") }},
			} {
				wantErr(t, op.call(ctx), storage.ErrNotFound, op.name)
			}
			list, err := s.ListKeys(ctx)
			must(t, err, "ListKeys")
			wantEqual(t, len(list), 0, "keys left")
		}},
		{"locks need a transaction", func(t *testing.T, s storage.Store) {
			for name, lock := range map[string]func(context.Context) error{"LockKeys": s.LockKeys, "LockAdmins": s.LockAdmins, "LockClients": s.LockClients} {
				if err := lock(t.Context()); err == nil {
					t.Fatalf("%s outside a transaction succeeded, want an error", name)
				}
				must(t, s.InTx(t.Context(), lock), name+" inside InTx")
			}
		}},
		{"lock keys serialises rotations", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			// Each rotation reads the keys and names the next one after the
			// count; without the lock two would pick the same name.
			const n = 6
			errs := race(n, func(int) error {
				return s.InTx(ctx, func(ctx context.Context) error {
					if err := s.LockKeys(ctx); err != nil {
						return err
					}
					keys, err := s.ListKeys(ctx)
					if err != nil {
						return err
					}
					time.Sleep(5 * time.Millisecond) // widen the window for a lost update
					return s.CreateKey(ctx, sampleKey(fmt.Sprintf("k%02d", len(keys)), at(time.Duration(len(keys))*time.Hour)))
				})
			})
			for i, err := range errs {
				must(t, err, fmt.Sprintf("rotation %d", i))
			}
			list, err := s.ListKeys(ctx)
			must(t, err, "ListKeys")
			wantEqual(t, keyIDs(list), []string{"k00", "k01", "k02", "k03", "k04", "k05"}, "keys after rotations")
		}},
	}
}
