package storage

import (
	"context"
	"database/sql"
	"errors"
)

// TxSteps is a transaction in three steps, as every Store offers it.
type TxSteps interface {
	BeginTx(ctx context.Context) (context.Context, error)
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}

// RunInTx is Transactor.InTx built from the three steps, for store
// implementations: it commits when fn returns nil and rolls back when fn
// fails, panics or calls runtime.Goexit (t.Fatal), letting the panic carry
// on unwinding.
func RunInTx(ctx context.Context, t TxSteps, fn func(ctx context.Context) error) error {
	txCtx, err := t.BeginTx(ctx)
	if err != nil {
		return err
	}
	finished := false
	defer func() {
		if !finished {
			_ = t.Rollback(txCtx)
		}
	}()
	if err := fn(txCtx); err != nil {
		finished = true
		if rbErr := t.Rollback(txCtx); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, rbErr)
		}
		return err
	}
	finished = true
	return t.Commit(txCtx)
}
