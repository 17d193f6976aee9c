package connectors

import (
	"errors"
	"fmt"
)

// Kind names why an upstream sign-in failed, in terms a page can explain.
type Kind string

// Kinds of failure.
const (
	// KindCancelled: the person cancelled at the upstream (access_denied).
	KindCancelled Kind = "upstream_cancelled"
	// KindRefused: the upstream answered with an error, or refused the
	// code (a wrong PKCE verifier among others).
	KindRefused Kind = "upstream_refused"
	// KindUnreachable: the upstream did not answer in time, or not at all.
	KindUnreachable Kind = "upstream_unreachable"
	// KindInvalid: the upstream's answer failed a check (signature,
	// issuer, audience, expiry, a missing subject).
	KindInvalid Kind = "upstream_invalid_response"
	// KindState: the state came back different (or the flow cookie is
	// missing or expired): possibly a forged callback.
	KindState Kind = "upstream_state_mismatch"
	// KindNonce: the ID token's nonce is not the one sent.
	KindNonce Kind = "upstream_nonce_mismatch"
	// KindUnverifiedEmail: the upstream does not vouch for the e-mail.
	KindUnverifiedEmail Kind = "upstream_email_unverified"
	// KindNotAllowed: the person is not in an allowed organisation or
	// hosted domain.
	KindNotAllowed Kind = "upstream_not_allowed"
	// KindUnavailable: the connector is unknown or disabled.
	KindUnavailable Kind = "connector_unavailable"
	// KindDisabled: the Signet account is disabled.
	KindDisabled Kind = "account_disabled"
	// KindAlreadyLinked: the upstream account is linked to another
	// Signet user, or the user has another identity at the connector.
	KindAlreadyLinked Kind = "upstream_already_linked"
)

// Error is a failed upstream sign-in: Kind for the page, Err for the log.
type Error struct {
	Kind      Kind
	Connector string
	Err       error
}

func (e *Error) Error() string {
	return fmt.Sprintf("connector %q: %s: %v", e.Connector, e.Kind, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func fail(kind Kind, connector string, err error) *Error {
	return &Error{Kind: kind, Connector: connector, Err: err}
}

// KindOf returns the kind of an *Error in err's chain ("" when none).
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

// Errors of the administration calls.
var (
	// ErrInvalid: the connector's settings are wrong; the message says how.
	ErrInvalid = errors.New("invalid connector")
	// ErrNotFound: no such connector (or identity).
	ErrNotFound = errors.New("connector not found")
	// ErrExists: a connector with that id exists.
	ErrExists = errors.New("connector exists")
	// ErrLastWayIn: unlinking would leave the account no way to sign in.
	ErrLastWayIn = errors.New("the last way to sign in cannot be removed")
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
