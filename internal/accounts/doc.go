// Package accounts manages the people who log in: users, their passwords
// and their roles, and the self-service flows around them.
//
// Passwords are hashed with argon2id in PHC string format; bcrypt hashes of
// imported users still verify and are upgraded to argon2id at the next
// successful login. Authenticate answers every kind of refusal with the one
// ErrInvalidCredentials and spends a hash verification even for unknown
// logins, so neither its answer nor its timing reveals who has an account.
// Every hash and verification runs in a bounded pool (HashLimits): a login
// that finds it full, or waits too long for a turn, gets ErrBusy without
// hashing, so a login flood cannot starve the rest of Signet.
// New passwords follow one policy everywhere (CheckPassword): 8 to 1024
// characters, not on the embedded list of common passwords, not the
// user's own name or address.
//
// Self-service: Register (field-level ValidationErrors, the configured
// default role, a verification mail), VerifyEmail and SendVerification,
// RequestPasswordReset (same answer and timing whether or not the address
// has an account) and ResetPassword (which ends every session and revokes
// every token of the user in the same transaction), ChangePassword,
// ChangeEmail (a pending change: the address switches only when the link
// mailed to it is opened, and a taken address answers alike), UpdateProfile, DeleteAccount, ConnectedApps/RevokeApp and
// Sessions/SignOutOtherSessions. Link tokens are 32 random bytes sent as
// base64url and stored only as their SHA-256; they are single-use and
// expire.
//
// Administration: CreateUser, SetRoles, DisableUser, EnableUser,
// DeleteUser, MarkEmailVerified, SendPasswordReset, SignOutEverywhere and
// the role calls. None of them leaves Signet without an enabled
// administrator (ErrLastAdmin), and the acting user (audit.ActorFrom in
// the context) cannot disable or delete their own account (ErrSelf).
// Every change is recorded in the audit log after it commits.
//
// The Service works over the narrow Store interface defined here, uses a
// transaction for every multi-step write (nothing is half-written) and
// never creates a role as a side effect: naming a role that does not exist
// is a ValidationError.
package accounts
