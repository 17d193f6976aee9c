// Package adminclient is a small HTTP client of the JSON admin API (see
// internal/web/admin), used by the `signet clients|users|roles|audit|keys`
// commands. Its bodies are the shared types of internal/adminapi, named
// here by aliases.
// API errors come back as *Error with the server's description, so the
// command can tell the operator what was wrong.
package adminclient
