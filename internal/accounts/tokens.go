package accounts

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
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
