// Package oauth is Signet's OAuth 2.0 / OpenID Connect core: it composes
// fosite's handlers (authorization code with PKCE, refresh with rotation,
// client credentials, OpenID Connect, introspection, revocation) with our
// configuration, adapts fosite's storage interfaces to storage.Store
// (fosite types never reach the storage packages), builds the sessions and
// claims (roles included) of tokens, and parks authorization requests as
// login challenges for the login and consent pages to complete.
//
// HTTP lives in internal/web/oidc; this package has no handlers.
package oauth
