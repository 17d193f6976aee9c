// Package mfa is two-factor sign-in: authenticator apps (TOTP, RFC 6238),
// passkeys and security keys (WebAuthn), and single-use recovery codes;
// the authentication methods a sign-in used (RFC 8176 amr values and the
// acr classes Signet publishes); and the signed cookies that carry a
// sign-in between its password and its second factor, and a remembered
// device. The pages use it through a Service; it knows nothing of HTTP
// routing.
package mfa
