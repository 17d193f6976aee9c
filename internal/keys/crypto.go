package keys

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/hkdf"

	"github.com/signet-idp/signet/internal/storage"
)

// encryptionInfo separates this use of the global secret from every other
// (the HMAC token key uses another info string).
const encryptionInfo = "signet/keys/aes-256-gcm/v1"

// formatV1 is the first byte of every encrypted private key, so the format
// can change later without guessing.
const formatV1 = 1

// encryptionKey derives the AES-256 key from the global secret.
func encryptionKey(secret []byte) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, nil, []byte(encryptionInfo)), key); err != nil {
		return nil, fmt.Errorf("derive key encryption key: %w", err)
	}
	return key, nil
}

func newGCM(secret []byte) (cipher.AEAD, error) {
	key, err := encryptionKey(secret)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// encryptPrivate seals the PKCS#8 form of priv. The kid is the additional
// data, so a ciphertext cannot be moved to another key's row.
func encryptPrivate(priv crypto.Signer, kid string, secret []byte) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return Seal(der, []byte(kid), secret)
}

// Seal encrypts plaintext at rest with the key derived from the global
// secret (AES-256-GCM): version byte, nonce, ciphertext. Other secrets kept
// in the database (TOTP seeds, connector client secrets) use it so that one
// secret, and one rotation story, protects everything. aad binds the
// ciphertext to its row (its id): a sealed value copied into another row does
// not open.
func Seal(plaintext, aad, secret []byte) ([]byte, error) {
	gcm, err := newGCM(secret)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("random nonce: %w", err)
	}
	out := append([]byte{formatV1}, nonce...)
	return gcm.Seal(out, nonce, plaintext, aad), nil
}

// OpenSealed decrypts what Seal produced with the first of secrets that fits
// (the current secret first, then old ones) and says which one did (0: the
// current secret), so callers can re-seal values still under an old secret.
func OpenSealed(sealed, aad []byte, secrets [][]byte) ([]byte, int, error) {
	for i, s := range secrets {
		if plain, err := openSealed(sealed, aad, s); err == nil {
			return plain, i, nil
		}
	}
	return nil, -1, errUndecryptableValue
}

// errUndecryptableValue: no configured secret opens a sealed value.
var errUndecryptableValue = errors.New("the sealed value does not decrypt with the configured secret or old secrets")

func openSealed(sealed, aad, secret []byte) ([]byte, error) {
	gcm, err := newGCM(secret)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+gcm.NonceSize() || sealed[0] != formatV1 {
		return nil, errors.New("unknown encrypted format")
	}
	nonce, ct := sealed[1:1+gcm.NonceSize()], sealed[1+gcm.NonceSize():]
	return gcm.Open(nil, nonce, ct, aad)
}

// decryptPrivate opens k's private key with the first secret that fits and
// says which one (0: the current secret; more: an old one).
func decryptPrivate(k *storage.SigningKey, secrets [][]byte) (crypto.Signer, int, error) {
	for i, s := range secrets {
		if priv, err := openPrivate(k.PrivateKey, k.ID, s); err == nil {
			return priv, i, nil
		}
	}
	return nil, -1, fmt.Errorf("%w: key %s", errUndecryptable, k.ID)
}

// errUndecryptable: no configured secret opens the private key. Alone it
// cannot tell a corrupted row from a wrong secret.
var errUndecryptable = errors.New("the private key does not decrypt with the configured secret or old secrets")

func openPrivate(sealed []byte, kid string, secret []byte) (crypto.Signer, error) {
	der, err := openSealed(sealed, []byte(kid), secret)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported private key type %T", key)
	}
	return signer, nil
}
