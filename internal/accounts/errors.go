package accounts

import (
	"errors"
	"fmt"
)

// Errors the service returns (possibly wrapped); callers match them with
// errors.Is. Storage failures (storage.ErrUnavailable, storage.ErrConflict)
// come through wrapped, unchanged in kind.
var (
	// ErrInvalidCredentials is Authenticate's one answer for an unknown
	// login, a wrong password, a user without a password and a disabled
	// user, so a caller cannot tell them apart (nor can an attacker).
	ErrInvalidCredentials = errors.New("invalid user name, e-mail or password")
	// ErrUserNotFound: no user has that id or user name.
	ErrUserNotFound = errors.New("user not found")
	// ErrUserExists: the user name or e-mail belongs to another user.
	ErrUserExists = errors.New("user name or e-mail already taken")
	// ErrRoleNotFound: no role has that name.
	ErrRoleNotFound = errors.New("role not found")
	// ErrRoleExists: a role with that name exists.
	ErrRoleExists = errors.New("role already exists")
	// ErrBuiltinRole: the roles admin and user exist from the start and
	// cannot be deleted.
	ErrBuiltinRole = errors.New("built-in role cannot be deleted")
)

// ValidationError is bad input: the named field breaks a rule. Handlers
// answer it with 400 and the message.
type ValidationError struct {
	// Field is the input field at fault, in the admin API's spelling
	// (username, email, name, password, roles, description).
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Message) }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}
