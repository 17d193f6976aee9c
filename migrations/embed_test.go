package migrations

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestFiles checks what goose relies on without a database: file names
// carry a version, and every file has both an Up and a Down section, Up
// first.
func TestFiles(t *testing.T) {
	names, err := fs.Glob(FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no migrations embedded")
	}
	valid := regexp.MustCompile(`^\d{4}_[a-z0-9_]+\.sql$`)
	for _, name := range names {
		if !valid.MatchString(name) {
			t.Errorf("%s: want NNNN_name.sql", name)
		}
		b, err := fs.ReadFile(FS, name)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		up, down := strings.Index(text, "-- +goose Up\n"), strings.Index(text, "-- +goose Down\n")
		if up < 0 || down < 0 || down < up {
			t.Errorf("%s: want a -- +goose Up section followed by a -- +goose Down section", name)
		}
	}
}
