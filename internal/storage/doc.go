// Package storage defines what Signet keeps: the plain data types, the Store
// interface and its narrow parts, and the fixed errors (ErrNotFound,
// ErrAlreadyExists, ErrConflict, ErrUnavailable) every implementation returns.
//
// Implementations live in storage/postgres (the real one) and storage/memory
// (the embedded default for `serve --dev` and fast tests); both pass the one
// suite in storage/storagetest. Nothing here knows about fosite or HTTP.
package storage
