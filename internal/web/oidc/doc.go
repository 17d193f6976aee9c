// Package oidc holds the HTTP handlers of the OAuth 2.0 / OpenID Connect
// protocol endpoints: discovery, JWKS, authorization (with the hand-over to
// the login pages through a login challenge and the resume endpoint that
// finishes it), token, userinfo, revocation and introspection.
//
// Protocol work is fosite's (through internal/oauth); these handlers parse
// and bound the input, pick the error shape (an HTML page when a redirect is
// not safe, RFC 6749 redirects or JSON otherwise) and run each token
// exchange in one storage transaction.
package oidc
