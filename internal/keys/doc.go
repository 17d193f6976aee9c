// Package keys owns the JWS signing keys: it creates the first key, keeps the
// private parts encrypted at rest (AES-256-GCM under a key derived from the
// global secret with HKDF), and hands out the current signer and the public
// keys through one Provider interface, so rotation and other algorithms can
// come later behind it without touching its users.
//
// Keys leave this package as crypto types (what fosite's go-jose v3 signer
// accepts) and as go-jose v4 JSON Web Keys (what the JWKS endpoint serves).
package keys
