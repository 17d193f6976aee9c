package accounts

import (
	"errors"
	"fmt"
	"strings"
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

// Errors of the self-service and administration flows.
var (
	// ErrLastAdmin: the change would leave no enabled administrator.
	// Handlers answer 409.
	ErrLastAdmin = errors.New("the last enabled administrator cannot be disabled, deleted or lose the admin role")
	// ErrSelf: an administrator tried to disable or delete their own
	// account through the administration functions. Handlers answer 409.
	ErrSelf = errors.New("refused on your own account")
	// ErrUserDisabled: the operation needs an enabled user (sending a
	// reset link to a disabled account). Handlers answer 409.
	ErrUserDisabled = errors.New("the user is disabled")
	// ErrInvalidToken: a verification or reset link that is unknown,
	// malformed, already used, or no longer matches the account (the
	// address changed). Pages show "invalid or already used".
	ErrInvalidToken = errors.New("the link is invalid or was already used")
	// ErrExpiredToken: the link was valid but is too old. It is used up
	// all the same.
	ErrExpiredToken = errors.New("the link has expired")
	// ErrRegistrationDisabled: sign-up is switched off in the
	// configuration. Pages answer 404.
	ErrRegistrationDisabled = errors.New("registration is disabled")
	// ErrMailNotSent wraps a mail delivery failure the caller should know
	// about (an administrator sending a reset link). Handlers answer 502.
	ErrMailNotSent = errors.New("the e-mail could not be sent")
)

// ValidationErrors is bad input in several fields at once (a registration
// form): one ValidationError per field, in form order. errors.As finds the
// first as a *ValidationError.
type ValidationErrors []*ValidationError

func (es ValidationErrors) Error() string {
	parts := make([]string, 0, len(es))
	for _, e := range es {
		parts = append(parts, e.Error())
	}
	return strings.Join(parts, "; ")
}

// Unwrap exposes each field's error to errors.As and errors.Is.
func (es ValidationErrors) Unwrap() []error {
	out := make([]error, 0, len(es))
	for _, e := range es {
		out = append(out, e)
	}
	return out
}

// Field returns the message for field, "" when it is fine.
func (es ValidationErrors) Field(field string) string {
	for _, e := range es {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// FieldErrors turns err into field → message for a form: the fields of a
// ValidationErrors or a ValidationError, nil for any other error.
func FieldErrors(err error) map[string]string {
	var many ValidationErrors
	if errors.As(err, &many) {
		out := make(map[string]string, len(many))
		for _, e := range many {
			if _, dup := out[e.Field]; !dup {
				out[e.Field] = e.Message
			}
		}
		return out
	}
	var one *ValidationError
	if errors.As(err, &one) {
		return map[string]string{one.Field: one.Message}
	}
	return nil
}
