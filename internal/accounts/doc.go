// Package accounts manages the people who log in: users, their passwords
// and their roles.
//
// Passwords are hashed with argon2id in PHC string format; bcrypt hashes of
// imported users still verify and are upgraded to argon2id at the next
// successful login. Authenticate answers every kind of refusal with the one
// ErrInvalidCredentials and spends a hash verification even for unknown
// logins, so neither its answer nor its timing reveals who has an account.
//
// The Service works over the narrow Store interface defined here, uses a
// transaction for every multi-step write (nothing is half-written) and
// never creates a role as a side effect: naming a role that does not exist
// is a ValidationError.
package accounts
