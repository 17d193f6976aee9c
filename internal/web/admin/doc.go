// Package admin serves the JSON admin API on the admin listener: OAuth2
// clients, users, roles and the audit log, for the `signet
// clients|users|roles|audit` commands and for scripts.
//
// Every request acts as "admin-api" from the caller's address
// (audit.WithActor): the services record each change under that name, and
// the API records client changes itself. A change that would leave no
// enabled administrator answers 409.
//
// The request and response bodies are the types of internal/adminapi,
// shared with the client (internal/adminclient); this package converts the
// services' records into them.
//
// Handlers decode strictly (one JSON object, no unknown fields), call the
// accounts and clients services through the small interfaces defined here
// and answer errors as {"error":…,"error_description":…}: 400 for bad
// input, 404, 409 for taken names and for the last administrator, 502 when
// a mail could not be sent, 401 without the admin token, 503 while
// the database is down, and a generic 500 (details only in the log)
// otherwise. The API refuses requests sent by browsers on behalf of web
// pages, so a token-less listener on loopback cannot be driven cross-site.
package admin
