// Package registration serves OAuth 2.0 Dynamic Client Registration (RFC
// 7591) at /oauth2/register and its management protocol (RFC 7592) at
// /oauth2/register/{client_id}, on the public listener, when the operator
// turns it on (--client-registration token or open). Registrations are
// validated exactly as the admin API's are, rate-limited per client
// address across replicas, and each client manages its own registration
// with the registration access token it got.
package registration
