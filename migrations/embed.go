// Package migrations holds Signet's PostgreSQL schema as goose migrations
// (NNNN_name.sql with -- +goose Up / -- +goose Down sections). They are
// embedded so the binary migrates its database without files on disk;
// storage/postgres.Migrate applies them.
package migrations

import "embed"

// FS holds every migration file. Migrations are never edited once released:
// a change is a new, higher-numbered file.
//
//go:embed *.sql
var FS embed.FS
