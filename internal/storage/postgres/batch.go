package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// Grouped inserts.
//
// A row created outside any transaction (a client_credentials access
// token, say) needs its own INSERT and commit. Under load many such rows
// arrive at once; written one statement each, the database spends most of
// its time on per-statement and per-commit work. The batcher writes the
// rows that are waiting together, as one multi-row INSERT, and answers each
// caller only once its row is committed: the same guarantee as a single
// INSERT, fewer round trips and commits. When nothing else waits, a row
// goes alone at once, so a quiet server adds no delay.

// maxBatch bounds one grouped INSERT (16 columns a row: far below the
// protocol's 65,535 parameters).
const maxBatch = 64

// batchWriters is how many grouped INSERTs may run at once.
const batchWriters = 4

type insertReq struct {
	row  storage.OAuthRequest
	done chan error
}

type batcher struct {
	s     *Store
	queue chan insertReq
	stop  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

func newBatcher(s *Store) *batcher {
	b := &batcher{s: s, queue: make(chan insertReq, 4*maxBatch), stop: make(chan struct{})}
	for range batchWriters {
		b.wg.Add(1)
		go b.run()
	}
	return b
}

// close stops the writers after the rows already queued (Close may be
// called more than once).
func (b *batcher) close() {
	b.once.Do(func() { close(b.stop) })
	b.wg.Wait()
}

// insert queues the row and waits until it is committed (or refused).
func (b *batcher) insert(ctx context.Context, row storage.OAuthRequest) error {
	req := insertReq{row: row, done: make(chan error, 1)}
	select {
	case b.queue <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-b.stop:
		return b.s.insertOne(ctx, row)
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		// The row may still be written; its token was never handed out,
		// and it expires like any other.
		return ctx.Err()
	}
}

func (b *batcher) run() {
	defer b.wg.Done()
	for {
		var first insertReq
		select {
		case first = <-b.queue:
		case <-b.stop:
			b.drain()
			return
		}
		batch := []insertReq{first}
	collect:
		for len(batch) < maxBatch {
			select {
			case r := <-b.queue:
				batch = append(batch, r)
			default:
				break collect
			}
		}
		b.write(batch)
	}
}

// drain writes what is still queued at close.
func (b *batcher) drain() {
	for {
		select {
		case r := <-b.queue:
			b.write([]insertReq{r})
		default:
			return
		}
	}
}

// write inserts a batch in one statement. If it fails (one duplicate
// refuses the whole statement), each row is tried alone so every caller
// gets its own answer.
func (b *batcher) write(batch []insertReq) {
	// Not any caller's context: one caller giving up must not fail the
	// others' rows.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows := make([]storage.OAuthRequest, len(batch))
	for i, r := range batch {
		rows[i] = r.row
	}
	err := b.s.CreateOAuthRequests(ctx, rows)
	if err == nil || len(batch) == 1 {
		for _, r := range batch {
			r.done <- err
		}
		return
	}
	for _, r := range batch {
		r.done <- b.s.insertOne(ctx, r.row)
	}
}
