// Package memory is an in-process storage.Store: the embedded default for
// `signet serve --dev` and for fast tests. Nothing survives a restart.
//
// It keeps the whole contract, including atomic transactions: a transaction
// holds the store exclusively until it commits or rolls back, and rolling
// back restores a deep copy taken when it began. That makes transactions
// serial — fine for one process in development, not a production design.
package memory
