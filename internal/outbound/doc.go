// Package outbound is the one HTTP client for requests to URLs that
// clients supply (back-channel logout URIs, jwks_uri, and any later ones).
// With dynamic client registration such URLs come from strangers, so every
// request follows one SSRF policy: the address actually dialled (after DNS,
// checked in the dialer, so a name that resolves to a private address is
// refused as well) must not be loopback, private, link-local, unspecified,
// multicast or any other special-use range unless the operator allows it
// with a CIDR; redirects are never followed; every phase has a short
// timeout; and response bodies are read only up to a cap.
package outbound
