// Package bench is the load generator behind `signet bench`. It measures an
// OpenID provider from the outside, as relying parties and browsers use it,
// so the same run works against Signet or any other provider: it needs only
// the issuer (discovery), a confidential client and a user.
//
// Each operation runs bounded (a duration and optionally a request count) at
// a fixed concurrency. Per-worker setup — signing in through the real HTML
// login form, obtaining a first refresh token — happens before the clock
// starts, so the figures cover only the operation itself. Browser steps go
// through the provider's own HTML forms, found generically (form.go), and
// every ID token is verified with go-oidc: signature against the JWKS,
// issuer, audience and, for code flows, nonce and at_hash.
package bench
