// Package mailtemplates holds the bodies of the e-mails Signet sends:
// for each message a plain-text template (NAME.txt, text/template) and an
// HTML one (NAME.html, html/template).
//
// Each .txt file also defines a "subject" template. internal/mail parses
// every file on its own (so the "subject" names do not clash) once at start
// and fills them with the message's data.
package mailtemplates

import "embed"

// FS holds every *.txt and *.html mail body.
//
//go:embed *.txt *.html
var FS embed.FS
