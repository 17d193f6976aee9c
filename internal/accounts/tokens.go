package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"

	"github.com/signet-idp/signet/internal/storage"
)

// Paths of the pages that take the links Signet mails, relative to the
// issuer. The pages package serves them.
const (
	VerifyEmailPath    = "/verify-email"
	ResetPasswordPath  = "/reset-password"
	SignInPath         = "/login"
	ForgotPasswordPath = "/forgot-password"
)

// tokenBytes is the entropy of a link token: 256 bits.
const tokenBytes = 32

// tokenLen is the length of a token as sent: unpadded base64url.
var tokenLen = base64.RawURLEncoding.EncodedLen(tokenBytes)

// newLinkToken returns a fresh random token for a link and the SHA-256
// (hex) under which it is stored. Only the hash is ever stored.
func newLinkToken() (raw, hash string, err error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("link token: %w", err)
	}
	raw = base64.RawURLEncoding.EncodeToString(b)
	return raw, HashLinkToken(raw), nil
}

// HashLinkToken is how a link token is stored: SHA-256, hex. A token has
// 256 random bits, so a fast hash is enough: there is nothing to guess.
func HashLinkToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}

// wellFormedToken reports whether raw can be a token newLinkToken made, so
// garbage is refused before any lookup.
func wellFormedToken(raw string) bool {
	if len(raw) != tokenLen {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(raw)
	return err == nil && len(b) == tokenBytes
}

// link is the issuer URL of path with the token as its query.
func (s *Service) link(path, raw string) string {
	return s.issuer + path + "?" + url.Values{"token": {raw}}.Encode()
}

// CheckVerifyToken tells, without using the link up, what VerifyEmail
// would answer for token: nil when it would verify the address,
// ErrExpiredToken for a link too old, ErrInvalidToken for one that is
// unknown, malformed, used, superseded, or sent to an address the account
// no longer has. The verification page asks it on GET, which must change
// nothing: mail scanners and link previewers open links on their own.
//
// The answer can be out of date by the time the person confirms (another
// tab used the link, the clock passed its expiry); VerifyEmail decides.
func (s *Service) CheckVerifyToken(ctx context.Context, token string) error {
	return s.checkToken(ctx, storage.PurposeVerifyEmail, token)
}

// CheckResetToken tells, without using the link up, whether ResetPassword
// would take token (given an acceptable password): nil when it would,
// ErrExpiredToken for a link too old, ErrInvalidToken for one that is
// unknown, malformed, used, superseded, stale or of a disabled account.
// The reset page asks it on GET, so a dead link is said at once instead
// of after the new password was typed.
func (s *Service) CheckResetToken(ctx context.Context, token string) error {
	return s.checkToken(ctx, storage.PurposeResetPassword, token)
}

// errPeekRollback ends the transaction of checkToken: InTx rolls back on
// any error, and this one only means "undo, the look was all we wanted".
var errPeekRollback = errors.New("accounts: token check rolls back")

// checkToken looks at a link token without using it up.
//
// The storage contract has no way to read a token, only to consume it
// (ActionTokenStore.ConsumeActionToken deletes and returns it), and both
// stores implement exactly that. Rather than widen the contract for a
// read, the check consumes the token inside a transaction, judges it as
// the consuming call would (consumeToken: expiry, user, address; a
// disabled account for a reset) and then returns errPeekRollback so that
// InTx rolls the deletion back. On PostgreSQL the DELETE holds the row's
// lock until that rollback, so a concurrent use of the same link waits
// for the check and then finds the token as it was.
//
// The rollback alone is not enough when ctx already carries a
// transaction: InTx then joins it, the rollback becomes the caller's
// decision, and a caller that commits would commit the deletion. So the
// token is also put back, unchanged, before returning: in a transaction
// of its own that is undone with the rest; in a joined one it leaves the
// caller's transaction as it found it.
func (s *Service) checkToken(ctx context.Context, purpose, raw string) error {
	if !wellFormedToken(raw) {
		return ErrInvalidToken
	}
	var verdict error
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		tok, rec, expired, stale, err := s.consumeToken(ctx, purpose, raw)
		if err != nil {
			return err // nothing was consumed (ErrInvalidToken) or it all rolls back
		}
		switch {
		case expired:
			verdict = ErrExpiredToken
		case stale && purpose == storage.PurposeVerifyEmail:
			verdict = fmt.Errorf("%w: the e-mail address changed since the link was sent", ErrInvalidToken)
		case stale || purpose == storage.PurposeResetPassword && rec.Disabled:
			verdict = ErrInvalidToken
		}
		if err := s.store.CreateActionToken(ctx, tok); err != nil {
			return fmt.Errorf("check %s link: put the token back: %w", purpose, err)
		}
		return errPeekRollback
	})
	if errors.Is(err, errPeekRollback) {
		// Even if the rollback itself failed (errors.Join), nothing was
		// committed: the token is as it was.
		return verdict
	}
	return err
}
