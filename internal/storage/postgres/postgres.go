package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq" // also registers the "postgres" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/migrations"
)

// Store is the PostgreSQL storage.Store. It is safe for concurrent use.
type Store struct {
	db *sqlx.DB
	// batch groups the inserts made outside transactions (batch.go).
	batch *batcher
}

var _ storage.Store = (*Store)(nil)

// Pool sizes the connection pool (see SetPool). Without it database/sql
// keeps no limit and 2 idle connections, which under load opens a
// connection per request: a server always sets it.
type Pool struct {
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
}

// Option adjusts how Open connects.
type Option func(*openOptions)

type openOptions struct {
	openDB func(driver.Connector) *sql.DB
}

// WithOpenDB makes Open build its pool with open over lib/pq's connector
// instead of sql.OpenDB: tracing wraps the driver this way.
func WithOpenDB(open func(driver.Connector) *sql.DB) Option {
	return func(o *openOptions) { o.openDB = open }
}

// Open connects to the database at databaseURL (a postgres:// URL or a
// lib/pq keyword string) and checks that it answers. When it does not, the
// error wraps storage.ErrUnavailable. Open does not migrate; call Migrate.
func Open(ctx context.Context, databaseURL string, opts ...Option) (*Store, error) {
	o := openOptions{openDB: sql.OpenDB}
	for _, opt := range opts {
		opt(&o)
	}
	databaseURL, err := oneRoundTripQueries(databaseURL)
	if err != nil {
		return nil, err
	}
	connector, err := pq.NewConnector(databaseURL)
	if err != nil {
		// Not err itself: lib/pq may quote the connection string.
		return nil, errors.New("postgres: the database URL is not valid")
	}
	db := sqlx.NewDb(o.openDB(connector), "postgres")
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("postgres: cannot reach the database: %w", unavailable(err))
	}
	s := &Store{db: db}
	s.batch = newBatcher(s)
	return s, nil
}

// oneRoundTripQueries makes lib/pq send each query with parameters as one
// Parse/Bind/Execute/Sync batch (binary_parameters=yes) unless the
// connection string says otherwise. By default lib/pq parses the unnamed
// statement and syncs, then binds it in a second round trip: every query
// paid two, and a transaction-pooling PgBouncer may hand the connection to
// another client between the two (the Bind then fails, or runs another
// client's statement). []byte parameters are then sent in binary, which
// suits the bytea columns they fill (JSON goes as text).
func oneRoundTripQueries(databaseURL string) (string, error) {
	if !strings.Contains(databaseURL, "://") {
		// A keyword/value string: "host=… dbname=…".
		if strings.Contains(databaseURL, "binary_parameters") {
			return databaseURL, nil
		}
		return strings.TrimSpace(databaseURL + " binary_parameters=yes"), nil
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		// Not err itself: it quotes the URL, password included.
		return "", errors.New("postgres: the database URL is not a valid URL")
	}
	q := u.Query()
	if q.Has("binary_parameters") {
		return databaseURL, nil
	}
	q.Set("binary_parameters", "yes")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// SetPool sizes the connection pool.
func (s *Store) SetPool(p Pool) {
	s.db.SetMaxOpenConns(p.MaxOpenConns)
	s.db.SetMaxIdleConns(p.MaxIdleConns)
	s.db.SetConnMaxLifetime(p.ConnMaxLifetime)
	s.db.SetConnMaxIdleTime(p.ConnMaxIdleTime)
}

// DB returns the connection pool, for Migrate and for tuning its limits.
func (s *Store) DB() *sql.DB { return s.db.DB }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", unavailable(err))
	}
	return nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.batch.close()
	return s.db.Close()
}

// migrationLockID is goose's default advisory lock id, spelled out so every
// Signet version takes the same lock whatever goose's default becomes.
const migrationLockID int64 = 4097083626

// Migrate applies the embedded migrations that are not applied yet. It holds
// a PostgreSQL session advisory lock while it works, so replicas starting
// together migrate one at a time and the later ones find nothing to do.
func Migrate(ctx context.Context, db *sql.DB) error {
	// Probe the lock every second (goose waits 5 s by default) for up to 5
	// minutes: a concurrent replica should not wait long after the first
	// finishes.
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(migrationLockID),
		lock.WithLockTimeout(1, 300),
		lock.WithUnlockTimeout(1, 60),
	)
	if err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithSessionLocker(locker),
		// Only the embedded SQL files: no Go migrations registered by
		// whatever else is linked in.
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("postgres: load migrations: %w", err)
	}
	// provider.Close would close db, which belongs to the caller.
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("postgres: apply migrations: %w", mapErr(err))
	}
	return nil
}

// txKey is the context key of this store's transaction; it includes the
// store so transactions of two stores in one context stay apart.
type txKey struct{ s *Store }

// txHandle is what the context carries. joined marks a BeginTx made inside
// an existing transaction: its Commit and Rollback leave the decision to
// the outermost owner, like a nested InTx.
type txHandle struct {
	tx     *sqlx.Tx
	joined bool
}

func (s *Store) handle(ctx context.Context) *txHandle {
	h, _ := ctx.Value(txKey{s}).(*txHandle)
	return h
}

// q returns what to run a statement on: the transaction in ctx, else the
// pool.
func (s *Store) q(ctx context.Context) sqlx.ExtContext {
	if h := s.handle(ctx); h != nil {
		return h.tx
	}
	return s.db
}

// BeginTx starts a transaction (READ COMMITTED) carried by the returned
// context; inside an existing one it joins it. Cancelling ctx rolls the
// transaction back.
func (s *Store) BeginTx(ctx context.Context) (context.Context, error) {
	if h := s.handle(ctx); h != nil {
		return context.WithValue(ctx, txKey{s}, &txHandle{tx: h.tx, joined: true}), nil
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("postgres: begin transaction: %w", mapErr(err))
	}
	return context.WithValue(ctx, txKey{s}, &txHandle{tx: tx}), nil
}

// Commit commits the transaction of ctx; sql.ErrTxDone when it already
// ended.
func (s *Store) Commit(ctx context.Context) error {
	h := s.handle(ctx)
	if h == nil {
		return errors.New("postgres: commit: no transaction in context")
	}
	if h.joined {
		return nil
	}
	if err := h.tx.Commit(); err != nil {
		return fmt.Errorf("postgres: commit: %w", mapErr(err))
	}
	return nil
}

// Rollback rolls back the transaction of ctx; sql.ErrTxDone when it
// already ended.
func (s *Store) Rollback(ctx context.Context) error {
	h := s.handle(ctx)
	if h == nil {
		return errors.New("postgres: rollback: no transaction in context")
	}
	if h.joined {
		return nil
	}
	if err := h.tx.Rollback(); err != nil {
		return fmt.Errorf("postgres: rollback: %w", mapErr(err))
	}
	return nil
}

// InTx runs fn in a transaction, or in the one ctx already carries.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.handle(ctx) != nil {
		return fn(ctx)
	}
	return storage.RunInTx(ctx, s, fn)
}

// Transaction advisory lock ids: fixed numbers unlikely to collide with
// other users of advisory locks.
const (
	keyRotationLockID int64 = 0x5369676e65744b31 // "SignetK1"
	adminsLockID      int64 = 0x5369676e65744131 // "SignetA1"
	clientsLockID     int64 = 0x5369676e65744331 // "SignetC1"
)

// LockKeys takes the key-rotation advisory lock for the rest of the
// transaction in ctx. Outside a transaction it fails: the lock would be
// released as soon as it was taken.
func (s *Store) LockKeys(ctx context.Context) error {
	return s.lockInTx(ctx, keyRotationLockID, "keys")
}

// LockAdmins takes the administrators' advisory lock; see LockKeys.
func (s *Store) LockAdmins(ctx context.Context) error { return s.lockInTx(ctx, adminsLockID, "admins") }

// LockClients takes the client edits' advisory lock; see LockKeys.
func (s *Store) LockClients(ctx context.Context) error {
	return s.lockInTx(ctx, clientsLockID, "clients")
}

func (s *Store) lockInTx(ctx context.Context, id int64, what string) error {
	h := s.handle(ctx)
	if h == nil {
		return fmt.Errorf("postgres: lock %s: must be called inside a transaction", what)
	}
	if _, err := h.tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, id); err != nil {
		return fmt.Errorf("postgres: lock %s: %w", what, mapErr(err))
	}
	return nil
}

// storable reports whether PostgreSQL can keep s in a text column: valid
// UTF-8 without NUL bytes. Anything else makes the server fail the whole
// statement (22021), so it is caught before sending.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// argsStorable reports whether every text argument is storable.
func argsStorable(args []any) bool {
	for _, a := range args {
		switch v := a.(type) {
		case string:
			if !storable(v) {
				return false
			}
		case pq.StringArray:
			for _, s := range v {
				if !storable(s) {
					return false
				}
			}
		}
	}
	return true
}

// errBadText is returned by writes of text PostgreSQL cannot keep.
func errBadText() error {
	return errors.New("text must be valid UTF-8 without NUL bytes")
}

// get reads one row into dest. Text that cannot be stored cannot match a
// row, so such a lookup finds nothing (sql.ErrNoRows) without a round trip
// (and without aborting the caller's transaction with an error).
func (s *Store) get(ctx context.Context, dest any, query string, args ...any) error {
	if !argsStorable(args) {
		return sql.ErrNoRows
	}
	return sqlx.GetContext(ctx, s.q(ctx), dest, query, args...)
}

// selectAll reads rows into dest (a pointer to a slice); unstorable text
// matches no rows.
func (s *Store) selectAll(ctx context.Context, dest any, query string, args ...any) error {
	if !argsStorable(args) {
		return nil
	}
	return sqlx.SelectContext(ctx, s.q(ctx), dest, query, args...)
}

// write runs an INSERT or UPDATE of caller-supplied values and returns how
// many rows it touched; unstorable text is refused with errBadText.
func (s *Store) write(ctx context.Context, query string, args ...any) (int, error) {
	if !argsStorable(args) {
		return 0, errBadText()
	}
	return s.exec(ctx, query, args...)
}

// matchCount runs a statement whose text arguments only select rows (a
// DELETE, a deactivation) and returns how many it touched; unstorable text
// touches none.
func (s *Store) matchCount(ctx context.Context, query string, args ...any) (int, error) {
	if !argsStorable(args) {
		return 0, nil
	}
	return s.exec(ctx, query, args...)
}

func (s *Store) exec(ctx context.Context, query string, args ...any) (int, error) {
	res, err := s.q(ctx).ExecContext(ctx, query, args...)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, mapErr(err)
	}
	return int(n), nil
}

// updateOne is write for a statement that must touch a row: ErrNotFound
// when it touched none.
func (s *Store) updateOne(ctx context.Context, query string, args ...any) error {
	return one(s.write(ctx, query, args...))
}

// matchOne is matchCount for a statement that must touch a row.
func (s *Store) matchOne(ctx context.Context, query string, args ...any) error {
	return one(s.matchCount(ctx, query, args...))
}

func one(n int, err error) error {
	if err != nil {
		return err
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// limitArg turns a caller's limit into a LIMIT parameter: NULL (no limit)
// when zero or less.
func limitArg(limit int) sql.NullInt64 {
	return sql.NullInt64{Int64: int64(limit), Valid: limit > 0}
}

// strs makes a text[] parameter; nil becomes '{}' because the columns are
// NOT NULL.
func strs(s []string) pq.StringArray {
	if s == nil {
		s = []string{}
	}
	return pq.StringArray(s)
}

// bin makes a bytea parameter for a nullable column: empty is NULL.
func bin(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// binOut normalises a scanned bytea: empty is nil.
func binOut(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// nullTime makes a timestamptz parameter for a nullable column: the zero
// time is NULL.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// timeOut normalises a scanned instant to UTC.
func timeOut(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}
