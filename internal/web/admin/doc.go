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
//
// # The OpenAPI description
//
// openapi.json (OpenAPI 3.1, embedded, served at GET /admin/openapi.json)
// describes every route, request and answer, so integrators can generate
// clients. TestAdminAPIMatchesOpenAPI (cmd/signet/openapi_test.go) keeps it
// true against a real server: every route registered under /admin must be
// in the document and every documented operation registered, and every
// request of its driver and every answer is validated against the
// document (unknown fields included: the schemas are closed). To add a
// route:
//  1. register it (here, or in the package that owns it under /admin);
//  2. add its path and operation to openapi.json, with its request body,
//     parameters and every status it answers (reuse components/responses
//     for the errors), and any new field of an existing type to its schema;
//  3. add a call to it in adminAPIDriver in cmd/signet/openapi_test.go
//     (the test names any route missing from the document or the driver).
package admin
