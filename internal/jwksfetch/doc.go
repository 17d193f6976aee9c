// Package jwksfetch fetches the public keys private_key_jwt clients
// publish at their jwks_uri, through the outbound SSRF policy, and caches
// them per URL so that not every client authentication costs a request to
// the client.
package jwksfetch
