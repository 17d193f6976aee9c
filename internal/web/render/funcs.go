package render

import (
	"errors"
	"html/template"
	"strings"
	"time"
)

// funcs are the helpers templates may call. They build values only; all
// escaping stays with html/template.
var funcs = template.FuncMap{
	"dict":     dict,
	"when":     when,
	"whenISO":  whenISO,
	"errorFor": errorFor,
	"pngData":  pngData,
}

// pngData lets a PNG data: URI made on the server (a QR code) through as
// an image source; anything else becomes an empty source.
func pngData(s string) template.URL {
	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(s, prefix) || strings.Trim(s[len(prefix):], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != "" {
		return ""
	}
	return template.URL(s)
}

// dict builds the argument of a partial template from key/value pairs:
// {{template "input" dict "ID" "email" "Label" "E-mail address"}}.
func dict(pairs ...any) (map[string]any, error) {
	if len(pairs)%2 != 0 {
		return nil, errors.New("dict: odd number of arguments")
	}
	m := make(map[string]any, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		k, ok := pairs[i].(string)
		if !ok {
			return nil, errors.New("dict: keys must be strings")
		}
		m[k] = pairs[i+1]
	}
	return m, nil
}

// when formats a time for people: UTC, day and minute ("" for the zero
// time).
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 Jan 2006, 15:04 UTC")
}

// whenISO formats a time for a <time datetime> attribute.
func whenISO(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// errorFor returns the message for field ("" when none), so templates need
// not index a nil map.
func errorFor(errs FieldErrors, field string) string { return errs[field] }
