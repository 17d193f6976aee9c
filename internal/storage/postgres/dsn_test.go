package postgres

import (
	"strings"
	"testing"
)

func TestOneRoundTripQueries(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u@h/db?sslmode=disable", "postgres://u@h/db?binary_parameters=yes&sslmode=disable"},
		{"postgres://u@h/db?binary_parameters=no", "postgres://u@h/db?binary_parameters=no"},
		{"host=h dbname=db", "host=h dbname=db binary_parameters=yes"},
		{"host=h binary_parameters=no", "host=h binary_parameters=no"},
	} {
		got, err := oneRoundTripQueries(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("oneRoundTripQueries(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := oneRoundTripQueries("postgres://u:secret@h/%zz"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("a bad URL: %v; want an error without the password", err)
	}
}
