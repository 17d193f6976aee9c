package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/lib/pq"

	"github.com/signet-idp/signet/internal/storage"
)

// mapErr translates a database error into the storage error it stands for,
// keeping the original in the chain for logs. It is the one place that
// knows PostgreSQL error codes; callers add what they were doing.
func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound), errors.Is(err, storage.ErrAlreadyExists),
		errors.Is(err, storage.ErrConflict), errors.Is(err, storage.ErrUnavailable):
		return err // already mapped
	case errors.Is(err, sql.ErrNoRows):
		return storage.ErrNotFound
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The caller gave up; the database may be fine. (DeadlineExceeded
		// also satisfies net.Error, hence this case comes first.)
		return err
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch code := string(pqErr.Code); {
		case code == "23505": // unique_violation
			return fmt.Errorf("%w: %w", storage.ErrAlreadyExists, err)
		case code == "23503": // foreign_key_violation: the referenced row is missing
			return fmt.Errorf("%w: %w", storage.ErrNotFound, err)
		case code == "40001", code == "40P01": // serialization_failure, deadlock_detected
			return fmt.Errorf("%w: %w", storage.ErrConflict, err)
		case strings.HasPrefix(code, "08"), // connection_exception
			code == "57P01", // admin_shutdown
			code == "57P02", // crash_shutdown
			code == "57P03", // cannot_connect_now
			code == "53300", // too_many_connections
			code == "3D000": // invalid_catalog_name: the database does not exist
			return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
		}
		return err
	}
	var netErr net.Error
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &netErr) {
		return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
	}
	return err
}

// unavailable maps err and makes sure the result says ErrUnavailable: for
// Open and Ping any failure means the database cannot be used.
func unavailable(err error) error {
	err = mapErr(err)
	if errors.Is(err, storage.ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", storage.ErrUnavailable, err)
}
