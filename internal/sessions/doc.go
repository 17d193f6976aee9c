// Package sessions keeps people signed in to Signet: browser (single
// sign-on) sessions behind an opaque cookie, remembered consent decisions,
// the login throttle that slows down password guessing, and the signed
// device cookie that lets the owner of an account in while others guess.
// Everything it keeps lives in storage, so it holds across replicas and
// restarts.
//
// The cookie carries a random 32-byte token; storage only ever sees its
// SHA-256. The session's public id (the `sid` claim) is a separate random
// value, so knowing a sid never lets anyone use the session.
package sessions
