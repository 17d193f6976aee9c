// Package keys owns the JWS signing keys: it creates them, keeps the private
// parts encrypted at rest (AES-256-GCM under a key derived from the global
// secret with HKDF, re-encrypted when the secret is rotated), rotates them
// on a schedule and hands out the current signer of each algorithm and the
// public keys through one Provider interface.
//
// A key lives next → current → retired → deleted, one lifecycle per
// algorithm (RS256 always; ES256 and EdDSA when configured). A new key is
// published as next at least one JWKS cache lifetime (plus one refresh
// interval, the time every replica needs to notice it) before it signs, and
// a retired key stays published until every ID token it signed has expired.
// Replicas agree through the database only: state changes are made in a
// transaction under storage.KeyStore.LockKeys by one idempotent rotation
// step that every replica runs on a short interval, after which each
// replica reloads its in-memory view; a replica signs only with the key its
// view holds as current.
//
// Keys leave this package as crypto types (*rsa.PrivateKey,
// *ecdsa.PrivateKey, ed25519.PrivateKey) and as go-jose v4 JSON Web Keys
// (what the JWKS endpoint serves).
package keys
