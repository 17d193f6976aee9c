package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/signet-idp/signet/internal/storage"
)

func TestMapErr(t *testing.T) {
	pqErr := func(code string) error {
		return fmt.Errorf("exec: %w", &pq.Error{Code: pqerror.Code(code), Message: "m"})
	}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tc := range []struct {
		name string
		err  error
		want error // nil: passed through unchanged
	}{
		{"no rows", sql.ErrNoRows, storage.ErrNotFound},
		{"unique violation", pqErr("23505"), storage.ErrAlreadyExists},
		{"foreign key violation", pqErr("23503"), storage.ErrNotFound},
		{"serialization failure", pqErr("40001"), storage.ErrConflict},
		{"deadlock", pqErr("40P01"), storage.ErrConflict},
		{"admin shutdown", pqErr("57P01"), storage.ErrUnavailable},
		{"cannot connect now", pqErr("57P03"), storage.ErrUnavailable},
		{"connection failure", pqErr("08006"), storage.ErrUnavailable},
		{"too many connections", pqErr("53300"), storage.ErrUnavailable},
		{"bad connection", driver.ErrBadConn, storage.ErrUnavailable},
		{"connection done", sql.ErrConnDone, storage.ErrUnavailable},
		{"connection cut", io.ErrUnexpectedEOF, storage.ErrUnavailable},
		{"connection refused", refused, storage.ErrUnavailable},
		{"syntax error", pqErr("42601"), nil},
		{"empty code", pqErr(""), nil},
		{"deadline", context.DeadlineExceeded, nil},
		{"canceled", context.Canceled, nil},
		{"tx done", sql.ErrTxDone, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mapErr(tc.err)
			if tc.want == nil {
				for _, sentinel := range []error{storage.ErrNotFound, storage.ErrAlreadyExists, storage.ErrConflict, storage.ErrUnavailable} {
					if errors.Is(got, sentinel) {
						t.Fatalf("mapErr(%v) = %v, want no storage error", tc.err, got)
					}
				}
			} else if !errors.Is(got, tc.want) {
				t.Fatalf("mapErr(%v) = %v, want %v", tc.err, got, tc.want)
			}
			// The original stays in the chain for logs and callers.
			if !errors.Is(got, tc.err) && !errors.Is(tc.err, sql.ErrNoRows) {
				t.Fatalf("mapErr(%v) = %v lost the original error", tc.err, got)
			}
		})
	}
	if mapErr(nil) != nil {
		t.Fatal("mapErr(nil) != nil")
	}
}
