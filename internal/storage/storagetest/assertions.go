package storagetest

import (
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

func clientAssertionCases() []testCase {
	return []testCase{
		{"a jti is used once until it expires", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.UseClientAssertionJTI(ctx, "k1", at(time.Minute), at(0)), "first use")
			wantErr(t, s.UseClientAssertionJTI(ctx, "k1", at(2*time.Minute), at(30*time.Second)), storage.ErrAlreadyExists, "second use")
			must(t, s.UseClientAssertionJTI(ctx, "k2", at(time.Minute), at(0)), "another key")
			// Past its expiry the record is replaced (the assertion
			// itself has expired by then, so reuse is refused elsewhere).
			must(t, s.UseClientAssertionJTI(ctx, "k1", at(3*time.Minute), at(time.Minute)), "use after expiry")
			wantErr(t, s.UseClientAssertionJTI(ctx, "k1", at(4*time.Minute), at(2*time.Minute)), storage.ErrAlreadyExists, "use within the new expiry")
		}},
		{"concurrent uses: one wins", func(t *testing.T, s storage.Store) {
			errs := race(8, func(int) error { return s.UseClientAssertionJTI(t.Context(), "k", at(time.Minute), at(0)) })
			wantOneWinner(t, errs, storage.ErrAlreadyExists, "UseClientAssertionJTI")
		}},
		{"expired records are swept", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.UseClientAssertionJTI(ctx, "old", at(time.Minute), at(0)), "old")
			must(t, s.UseClientAssertionJTI(ctx, "new", at(time.Hour), at(0)), "new")
			n, err := s.DeleteExpiredClientAssertionJTIs(ctx, at(2*time.Minute), 10)
			must(t, err, "DeleteExpiredClientAssertionJTIs")
			wantEqual(t, n, 1, "deleted")
			wantErr(t, s.UseClientAssertionJTI(ctx, "new", at(2*time.Hour), at(2*time.Minute)), storage.ErrAlreadyExists, "unexpired survives the sweep")
			must(t, s.UseClientAssertionJTI(ctx, "old", at(time.Hour), at(2*time.Minute)), "swept key usable")
		}},
		{"a pushed authorization request is used once", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			r := sampleRequest(storage.KindPAR, "uri-hash", "req1", "", "web")
			must(t, s.CreateOAuthRequest(ctx, r), "CreateOAuthRequest par")
			errs := race(4, func(int) error { return s.DeactivateOAuthRequest(ctx, storage.KindPAR, "uri-hash") })
			wantOneWinner(t, errs, storage.ErrConflict, "DeactivateOAuthRequest par")
		}},
	}
}
