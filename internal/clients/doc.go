// Package clients registers OAuth2 clients (relying parties): it validates
// a registration, applies the defaults of CONTRACT.md, generates the client
// id and, for confidential clients, a 256-bit secret that is returned once
// and stored only as its SHA-256.
//
// HashSecret and SecretMatches are the one place that knows how secrets are
// stored; the OAuth layer uses them to authenticate clients.
package clients
