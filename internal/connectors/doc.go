// Package connectors signs people in through upstream identity providers:
// any OpenID provider (oidc), Google (an oidc preset with a hosted-domain
// restriction) and GitHub (OAuth2 and its REST API). It keeps the
// connectors administrators configure (client secrets sealed at rest),
// runs the browser flow (state, nonce and PKCE S256 in a sealed cookie),
// maps upstream groups to Signet roles, and turns an upstream identity
// into a Signet user: an existing link, a new user (just in time), or a
// link the person must confirm with the account's password — never a
// silent link by e-mail.
package connectors
