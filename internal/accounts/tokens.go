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
//
// It answers for e-mail change links (ChangeEmail) too, which the same
// page confirms.
func (s *Service) CheckVerifyToken(ctx context.Context, token string) error {
	if wellFormedToken(token) {
		tok, err := s.store.GetActionToken(ctx, storage.PurposeChangeEmail, HashLinkToken(token))
		if err == nil {
			return s.checkChangeToken(ctx, tok)
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("check %s link: %w", storage.PurposeChangeEmail, err)
		}
	}
	return s.checkToken(ctx, storage.PurposeVerifyEmail, token)
}

// checkChangeToken judges an e-mail change link as confirmEmailChange
// would, changing nothing.
func (s *Service) checkChangeToken(ctx context.Context, tok storage.ActionToken) error {
	if !s.clock().Before(tok.ExpiresAt) {
		return ErrExpiredToken
	}
	rec, err := s.store.GetUser(ctx, tok.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return ErrInvalidToken
	}
	if err != nil {
		return fmt.Errorf("check %s link: %w", tok.Purpose, err)
	}
	other, err := s.store.GetUserByLogin(ctx, tok.Email)
	switch {
	case err == nil && other.ID != rec.ID:
		return fmt.Errorf("%w: the address belongs to another account now", ErrInvalidToken)
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		return fmt.Errorf("check %s link: %w", tok.Purpose, err)
	}
	return nil
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

// checkToken looks at a link token without using it up and judges it as
// the consuming call would (judgeToken: expiry, user, address; a disabled
// account for a reset). The POST that uses the link decides for good.
func (s *Service) checkToken(ctx context.Context, purpose, raw string) error {
	if !wellFormedToken(raw) {
		return ErrInvalidToken
	}
	tok, err := s.store.GetActionToken(ctx, purpose, HashLinkToken(raw))
	if errors.Is(err, storage.ErrNotFound) {
		return ErrInvalidToken
	}
	if err != nil {
		return fmt.Errorf("check %s link: %w", purpose, err)
	}
	rec, expired, stale, err := s.judgeToken(ctx, tok)
	switch {
	case err != nil:
		return err
	case expired:
		return ErrExpiredToken
	case stale && purpose == storage.PurposeVerifyEmail:
		return fmt.Errorf("%w: the e-mail address changed since the link was sent", ErrInvalidToken)
	case stale || purpose == storage.PurposeResetPassword && rec.Disabled:
		return ErrInvalidToken
	}
	return nil
}
