package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// wantActive checks the Active flag of each (kind, signature) row.
func wantActive(t *testing.T, s storage.Store, want map[[2]string]bool) {
	t.Helper()
	for key, active := range want {
		r, err := s.GetOAuthRequest(t.Context(), storage.RequestKind(key[0]), key[1])
		must(t, err, fmt.Sprintf("GetOAuthRequest %v", key))
		if r.Active != active {
			t.Errorf("row %v: active = %v, want %v", key, r.Active, active)
		}
	}
}

func oauthRequestCases() []testCase {
	const (
		code    = storage.KindAuthorizeCode
		access  = storage.KindAccessToken
		refresh = storage.KindRefreshToken
	)
	return []testCase{
		{"create and get round trip", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			r := sampleRequest(refresh, "sig1", "req1", "alice", "web")
			must(t, s.CreateOAuthRequest(ctx, r), "CreateOAuthRequest")
			got, err := s.GetOAuthRequest(ctx, refresh, "sig1")
			must(t, err, "GetOAuthRequest")
			wantEqual(t, got, r, "GetOAuthRequest")
			// An inactive row is stored and returned as such.
			inactive := sampleRequest(code, "sig2", "req1", "alice", "web")
			inactive.Active = false
			must(t, s.CreateOAuthRequest(ctx, inactive), "CreateOAuthRequest inactive")
			got, err = s.GetOAuthRequest(ctx, code, "sig2")
			must(t, err, "GetOAuthRequest inactive")
			wantEqual(t, got, inactive, "inactive row")
		}},
		{"duplicate kind and signature", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateOAuthRequest(ctx, sampleRequest(access, "sig", "req1", "alice", "web")), "CreateOAuthRequest")
			wantErr(t, s.CreateOAuthRequest(ctx, sampleRequest(access, "sig", "req2", "bob", "web")), storage.ErrAlreadyExists, "duplicate")
			// The same signature under another kind is another row.
			must(t, s.CreateOAuthRequest(ctx, sampleRequest(refresh, "sig", "req1", "alice", "web")), "same signature, other kind")
			got, err := s.GetOAuthRequest(ctx, access, "sig")
			must(t, err, "GetOAuthRequest")
			wantEqual(t, got.RequestID, "req1", "request id after rejected duplicate")
		}},
		{"missing row", func(t *testing.T, s storage.Store) {
			must(t, s.CreateOAuthRequest(t.Context(), sampleRequest(access, "sig", "req1", "alice", "web")), "CreateOAuthRequest")
			for _, op := range []struct {
				name string
				call func(ctx context.Context) error
			}{
				{"GetOAuthRequest", func(ctx context.Context) error { _, err := s.GetOAuthRequest(ctx, access, "nope"); return err }},
				{"GetOAuthRequest other kind", func(ctx context.Context) error { _, err := s.GetOAuthRequest(ctx, refresh, "sig"); return err }},
				{"DeleteOAuthRequest", func(ctx context.Context) error { return s.DeleteOAuthRequest(ctx, access, "nope") }},
				{"DeactivateOAuthRequest", func(ctx context.Context) error { return s.DeactivateOAuthRequest(ctx, access, "nope") }},
			} {
				wantErr(t, op.call(t.Context()), storage.ErrNotFound, op.name)
			}
		}},
		{"delete", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateOAuthRequest(ctx, sampleRequest(access, "sig", "req1", "alice", "web")), "CreateOAuthRequest")
			must(t, s.CreateOAuthRequest(ctx, sampleRequest(refresh, "sig", "req1", "alice", "web")), "CreateOAuthRequest refresh")
			must(t, s.DeleteOAuthRequest(ctx, access, "sig"), "DeleteOAuthRequest")
			_, err := s.GetOAuthRequest(ctx, access, "sig")
			wantErr(t, err, storage.ErrNotFound, "GetOAuthRequest after delete")
			_, err = s.GetOAuthRequest(ctx, refresh, "sig")
			must(t, err, "other kind survives")
			wantErr(t, s.DeleteOAuthRequest(ctx, access, "sig"), storage.ErrNotFound, "second delete")
		}},
		{"deactivate once, then conflict", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateOAuthRequest(ctx, sampleRequest(code, "c1", "req1", "alice", "web")), "CreateOAuthRequest")
			must(t, s.DeactivateOAuthRequest(ctx, code, "c1"), "first DeactivateOAuthRequest")
			wantActive(t, s, map[[2]string]bool{{string(code), "c1"}: false})
			wantErr(t, s.DeactivateOAuthRequest(ctx, code, "c1"), storage.ErrConflict, "second DeactivateOAuthRequest")
			// Deactivating keeps the row: reuse must stay detectable.
			got, err := s.GetOAuthRequest(ctx, code, "c1")
			must(t, err, "GetOAuthRequest")
			want := sampleRequest(code, "c1", "req1", "alice", "web")
			want.Active = false
			wantEqual(t, got, want, "deactivated row")
		}},
		{"concurrent deactivate has exactly one winner", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateOAuthRequest(ctx, sampleRequest(refresh, "r1", "req1", "alice", "web")), "CreateOAuthRequest")
			errs := race(16, func(int) error { return s.DeactivateOAuthRequest(ctx, refresh, "r1") })
			wantOneWinner(t, errs, storage.ErrConflict, "DeactivateOAuthRequest")
			wantActive(t, s, map[[2]string]bool{{string(refresh), "r1"}: false})
		}},
		{"rotate refresh token: stamps the time and deactivates the grant's access tokens", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			for _, r := range []storage.OAuthRequest{
				sampleRequest(access, "a1", "req1", "alice", "web"),
				sampleRequest(refresh, "r1", "req1", "alice", "web"),
				sampleRequest(access, "a9", "req2", "alice", "web"),
			} {
				must(t, s.CreateOAuthRequest(ctx, r), "CreateOAuthRequest "+r.Signature)
			}
			at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			must(t, s.RotateRefreshToken(ctx, "r1", "req1", at), "RotateRefreshToken")
			wantActive(t, s, map[[2]string]bool{
				{string(refresh), "r1"}: false, {string(access), "a1"}: false, {string(access), "a9"}: true,
			})
			got, err := s.GetOAuthRequest(ctx, refresh, "r1")
			must(t, err, "GetOAuthRequest")
			if !got.RotatedAt.Equal(at) {
				t.Fatalf("RotatedAt = %v, want %v", got.RotatedAt, at)
			}
			// A second rotation changes nothing, not even access tokens
			// issued since (they belong to the winner's successor).
			must(t, s.CreateOAuthRequest(ctx, sampleRequest(access, "a2", "req1", "alice", "web")), "CreateOAuthRequest a2")
			wantErr(t, s.RotateRefreshToken(ctx, "r1", "req1", at.Add(time.Second)), storage.ErrConflict, "second RotateRefreshToken")
			wantActive(t, s, map[[2]string]bool{{string(access), "a2"}: true})
			got, _ = s.GetOAuthRequest(ctx, refresh, "r1")
			if !got.RotatedAt.Equal(at) {
				t.Fatalf("RotatedAt after a lost rotation = %v, want %v", got.RotatedAt, at)
			}
			wantErr(t, s.RotateRefreshToken(ctx, "nope", "req1", at), storage.ErrNotFound, "RotateRefreshToken unknown")
			wantErr(t, s.RotateRefreshToken(ctx, "a2", "req1", at), storage.ErrNotFound, "RotateRefreshToken of an access token")
			// A revoked (not rotated) row keeps a zero RotatedAt.
			must(t, s.CreateOAuthRequest(ctx, sampleRequest(refresh, "r2", "req2", "alice", "web")), "CreateOAuthRequest r2")
			must(t, s.DeactivateOAuthRequestsByRequestID(ctx, refresh, "req2", ""), "revoke req2")
			got, _ = s.GetOAuthRequest(ctx, refresh, "r2")
			if !got.RotatedAt.IsZero() {
				t.Fatalf("RotatedAt of a revoked row = %v, want zero", got.RotatedAt)
			}
		}},
		{"revocation records its reason on the rows it deactivates", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			for _, sig := range []string{"r1", "r2"} {
				must(t, s.CreateOAuthRequest(ctx, sampleRequest(refresh, sig, "req1", "alice", "web")), "CreateOAuthRequest "+sig)
			}
			must(t, s.CreateOAuthRequest(ctx, sampleRequest(access, "a1", "req1", "alice", "web")), "CreateOAuthRequest a1")
			must(t, s.CreateOAuthRequest(ctx, sampleRequest(refresh, "other", "req2", "alice", "web")), "CreateOAuthRequest other")
			// r1 was rotated before: used normally, no reason.
			must(t, s.RotateRefreshToken(ctx, "r1", "req1", time.Now()), "RotateRefreshToken r1")
			must(t, s.DeactivateOAuthRequestsByRequestID(ctx, refresh, "req1", "code_replay"), "revoke refresh req1")
			must(t, s.DeactivateOAuthRequestsByRequestID(ctx, access, "req1", "code_replay"), "revoke access req1")
			// A second revocation finds nothing active and changes nothing.
			must(t, s.DeactivateOAuthRequestsByRequestID(ctx, refresh, "req1", "refresh_reuse"), "revoke refresh req1 again")
			for sig, want := range map[string]string{"r1": "", "r2": "code_replay", "other": ""} {
				got, err := s.GetOAuthRequest(ctx, refresh, sig)
				if err != nil || got.RevokedReason != want {
					t.Fatalf("%s: reason %q (err %v), want %q", sig, got.RevokedReason, err, want)
				}
			}
			if got, _ := s.GetOAuthRequest(ctx, access, "a1"); got.RevokedReason != "" || got.Active {
				// a1 was deactivated by r1's rotation, before the revocation.
				t.Fatalf("a1: reason %q active %v, want deactivated by the rotation with no reason", got.RevokedReason, got.Active)
			}
			rows, err := s.ListOAuthRequestsBySignature(ctx, "r2", []storage.RequestKind{refresh})
			if err != nil || len(rows) != 1 || rows[0].RevokedReason != "code_replay" {
				t.Fatalf("ListOAuthRequestsBySignature: %+v, %v; want the reason", rows, err)
			}
			if got, _ := s.GetOAuthRequest(ctx, refresh, "other"); !got.Active {
				t.Fatal("another grant's row was deactivated")
			}
		}},
		{"concurrent rotations have exactly one winner", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			must(t, s.CreateOAuthRequest(ctx, sampleRequest(refresh, "r1", "req1", "alice", "web")), "CreateOAuthRequest")
			errs := race(16, func(int) error { return s.RotateRefreshToken(ctx, "r1", "req1", time.Now()) })
			wantOneWinner(t, errs, storage.ErrConflict, "RotateRefreshToken")
		}},
		{"concurrent creates each get their own answer", func(t *testing.T, s storage.Store) {
			// Many rows at once (PostgreSQL groups them into shared
			// INSERTs), two of them the same: one of those two is refused,
			// every other row is stored.
			ctx := t.Context()
			const n = 150
			errs := race(n, func(i int) error {
				sig := fmt.Sprintf("a%d", i)
				if i == n-1 {
					sig = "a0"
				}
				return s.CreateOAuthRequest(ctx, sampleRequest(access, sig, fmt.Sprintf("req%d", i), "alice", "web"))
			})
			dups := 0
			for i, err := range errs {
				switch {
				case errors.Is(err, storage.ErrAlreadyExists) && (i == 0 || i == n-1):
					dups++
				case err != nil:
					t.Fatalf("create #%d: %v", i, err)
				}
			}
			if dups != 1 {
				t.Fatalf("%d of the two creates of one signature were refused, want exactly 1", dups)
			}
			for i := range n - 1 {
				if _, err := s.GetOAuthRequest(ctx, access, fmt.Sprintf("a%d", i)); err != nil {
					t.Fatalf("row a%d: %v", i, err)
				}
			}
		}},
		{"list by signature and create several at once", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			c := sampleRequest(code, "c1", "req1", "alice", "web")
			p := sampleRequest(storage.KindPKCE, "c1", "req1", "alice", "web")
			o := sampleRequest(storage.KindOpenIDConnect, "c1", "req1", "alice", "web")
			must(t, s.CreateOAuthRequests(ctx, []storage.OAuthRequest{c, p}), "CreateOAuthRequests")
			must(t, s.CreateOAuthRequests(ctx, nil), "CreateOAuthRequests of nothing")
			must(t, s.CreateOAuthRequest(ctx, sampleRequest(access, "c1", "req1", "alice", "web")), "CreateOAuthRequest access")
			got, err := s.ListOAuthRequestsBySignature(ctx, "c1", []storage.RequestKind{code, storage.KindPKCE, storage.KindOpenIDConnect})
			must(t, err, "ListOAuthRequestsBySignature")
			wantEqual(t, got, []storage.OAuthRequest{c, p}, "rows of the code (no openid row, no access row)")
			// All or none: one duplicate refuses the whole batch.
			wantErr(t, s.CreateOAuthRequests(ctx, []storage.OAuthRequest{o, c}), storage.ErrAlreadyExists, "batch with a duplicate")
			if _, err := s.GetOAuthRequest(ctx, storage.KindOpenIDConnect, "c1"); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("a refused batch wrote a row: %v", err)
			}
			wantErr(t, s.CreateOAuthRequests(ctx, []storage.OAuthRequest{o, o}), storage.ErrAlreadyExists, "batch with itself twice")
			got, err = s.ListOAuthRequestsBySignature(ctx, "nope", []storage.RequestKind{code})
			must(t, err, "ListOAuthRequestsBySignature unknown")
			if len(got) != 0 {
				t.Fatalf("unknown signature: %v", got)
			}
		}},
		{"deactivate and delete by request id", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			for _, r := range []storage.OAuthRequest{
				sampleRequest(access, "a1", "req1", "alice", "web"),
				sampleRequest(access, "a2", "req1", "alice", "web"),
				sampleRequest(refresh, "r1", "req1", "alice", "web"),
				sampleRequest(access, "a3", "req2", "alice", "web"),
			} {
				must(t, s.CreateOAuthRequest(ctx, r), "CreateOAuthRequest "+r.Signature)
			}
			must(t, s.DeactivateOAuthRequestsByRequestID(ctx, access, "req1", ""), "DeactivateOAuthRequestsByRequestID")
			wantActive(t, s, map[[2]string]bool{
				{string(access), "a1"}: false, {string(access), "a2"}: false,
				{string(refresh), "r1"}: true, {string(access), "a3"}: true,
			})
			// Again, and for a grant with no rows: not an error.
			must(t, s.DeactivateOAuthRequestsByRequestID(ctx, access, "req1", ""), "repeated deactivate by request id")
			must(t, s.DeactivateOAuthRequestsByRequestID(ctx, access, "nope", ""), "deactivate unknown request id")

			must(t, s.DeleteOAuthRequestsByRequestID(ctx, access, "req1"), "DeleteOAuthRequestsByRequestID")
			for _, sig := range []string{"a1", "a2"} {
				_, err := s.GetOAuthRequest(ctx, access, sig)
				wantErr(t, err, storage.ErrNotFound, "deleted row "+sig)
			}
			wantActive(t, s, map[[2]string]bool{{string(refresh), "r1"}: true, {string(access), "a3"}: true})
			must(t, s.DeleteOAuthRequestsByRequestID(ctx, access, "nope"), "delete unknown request id")
		}},
		{"deactivate by subject", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			for _, r := range []storage.OAuthRequest{
				sampleRequest(access, "a1", "req1", "alice", "web"),
				sampleRequest(refresh, "r1", "req1", "alice", "web"),
				sampleRequest(access, "a2", "req2", "alice", "cli"),
				sampleRequest(refresh, "r2", "req2", "alice", "cli"),
				sampleRequest(access, "a3", "req3", "bob", "web"),
			} {
				must(t, s.CreateOAuthRequest(ctx, r), "CreateOAuthRequest "+r.Signature)
			}
			must(t, s.DeactivateOAuthRequestsBySubject(ctx, "alice", "cli"), "deactivate alice at cli")
			wantActive(t, s, map[[2]string]bool{
				{string(access), "a1"}: true, {string(refresh), "r1"}: true,
				{string(access), "a2"}: false, {string(refresh), "r2"}: false,
				{string(access), "a3"}: true,
			})
			must(t, s.DeactivateOAuthRequestsBySubject(ctx, "alice", ""), "deactivate alice everywhere")
			wantActive(t, s, map[[2]string]bool{
				{string(access), "a1"}: false, {string(refresh), "r1"}: false,
				{string(access), "a3"}: true,
			})
			must(t, s.DeactivateOAuthRequestsBySubject(ctx, "nobody", ""), "deactivate unknown subject")
		}},
		{"delete expired with limit", func(t *testing.T, s storage.Store) {
			ctx := t.Context()
			for i := range 5 {
				r := sampleRequest(access, fmt.Sprintf("old%d", i), "req", "alice", "web")
				r.ExpiresAt = at(-time.Duration(i+1) * time.Minute)
				must(t, s.CreateOAuthRequest(ctx, r), "CreateOAuthRequest "+r.Signature)
			}
			live := sampleRequest(access, "live", "req", "alice", "web")
			live.ExpiresAt = at(time.Minute)
			exact := sampleRequest(access, "exact", "req", "alice", "web")
			exact.ExpiresAt = at(0) // expires at, not before, the cut-off
			forever := sampleRequest(refresh, "forever", "req", "alice", "web")
			forever.ExpiresAt = time.Time{} // a zero expiry never expires
			for _, r := range []storage.OAuthRequest{live, exact, forever} {
				must(t, s.CreateOAuthRequest(ctx, r), "CreateOAuthRequest "+r.Signature)
			}
			for i, want := range []int{3, 2, 0} {
				n, err := s.DeleteExpiredOAuthRequests(ctx, at(0), 3)
				must(t, err, "DeleteExpiredOAuthRequests")
				wantEqual(t, n, want, fmt.Sprintf("rows deleted by call %d", i+1))
			}
			for i := range 5 {
				_, err := s.GetOAuthRequest(ctx, access, fmt.Sprintf("old%d", i))
				wantErr(t, err, storage.ErrNotFound, "expired row")
			}
			for _, r := range []storage.OAuthRequest{live, exact, forever} {
				got, err := s.GetOAuthRequest(ctx, r.Kind, r.Signature)
				must(t, err, "GetOAuthRequest "+r.Signature)
				wantEqual(t, got, r, "surviving row")
			}
		}},
	}
}
