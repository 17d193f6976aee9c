// Package templates holds the pages people see (login, consent, logout,
// errors), their one stylesheet, and nothing else: no scripts, no external
// assets, so every page works offline and under Signet's strict CSP.
//
// Each page file defines a "content" template rendered inside "layout"
// (layout.html); internal/render parses them once at start and gives every
// page one typed render function.
package templates

import "embed"

// FS holds every *.html page and the static/ assets.
//
//go:embed *.html static/*
var FS embed.FS
