// Package console serves the admin console: server-rendered pages under
// /admin on the public listener, for people signed in (a browser session)
// who hold the role admin. Anyone else is sent to the login page (not
// signed in) or gets a 403 page.
//
// The console lists, searches and shows users and acts on them (roles,
// disable and enable, verify the e-mail address, send a reset link, sign
// out everywhere); it creates and deletes roles, registers, changes and
// deletes clients and gives them new secrets (a secret is shown once, on
// the answer to the form that made it), adds, changes, turns on or off and
// deletes sign-in providers (connectors; their client secret is
// write-only: an empty field keeps it), and shows the latest audit events.
//
// Every form carries the pages' CSRF token (the same middleware, cookie
// and rejection page as the login form). Each change runs with the
// administrator as the acting user (audit.WithActor), so the services
// record who did it and refuse what an administrator may not do to their
// own account or to the last administrator; the page shows their refusal.
// A change answers with a redirect and a flash message
// (post/redirect/get), except the client forms whose answer carries a
// one-time secret (registration, a new secret, an edit that made the
// client confidential).
//
// Handlers call the services through the small interfaces in deps.go.
package console
