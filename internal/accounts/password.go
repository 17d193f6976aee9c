package accounts

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Errors Verify returns for a stored hash it cannot use. They mean the hash
// is broken or foreign, never that the password is wrong.
var (
	// ErrUnsupportedHash: the hash is not argon2id or bcrypt.
	ErrUnsupportedHash = errors.New("unsupported password hash format")
	// ErrMalformedHash: the hash claims a known format but does not parse,
	// or its parameters are out of the accepted range.
	ErrMalformedHash = errors.New("malformed password hash")
)

// Bounds on the parameters Verify accepts from a stored argon2id hash.
// Hashes may be imported, and a hash asking for gigabytes of memory or
// thousands of passes would turn every login into a denial of service.
const (
	maxArgonMemoryKiB = 1 << 21 // 2 GiB
	maxArgonTime      = 64
	minArgonSaltLen   = 8
	maxArgonSaltLen   = 64
	minArgonKeyLen    = 16
	maxArgonKeyLen    = 128
	// maxBcryptCost bounds imported bcrypt hashes for the same reason
	// (each step doubles the work; 31 would take hours).
	maxBcryptCost = 16
)

// PasswordHasher hashes passwords with argon2id and verifies argon2id and
// bcrypt hashes. The zero value is not usable; start from
// DefaultPasswordHasher.
type PasswordHasher struct {
	// Memory is the argon2id memory cost in KiB.
	Memory uint32
	// Time is the number of passes.
	Time uint32
	// Parallelism is the number of lanes (threads).
	Parallelism uint8
	// SaltLength and KeyLength are in bytes.
	SaltLength uint32
	KeyLength  uint32
}

// DefaultPasswordHasher returns the production parameters: m=64 MiB, t=1,
// p=2, above OWASP's argon2id minimum (m=46 MiB, t=1, p=1) while staying
// near 50 ms on a small machine, with a 16-byte salt and a 32-byte key.
func DefaultPasswordHasher() PasswordHasher {
	return PasswordHasher{Memory: 64 * 1024, Time: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32}
}

// argonParams is a parsed argon2id PHC string.
type argonParams struct {
	memory      uint32
	time        uint32
	parallelism uint8
	salt        []byte
	key         []byte
}

// Hash returns the argon2id PHC string of the password:
// $argon2id$v=19$m=65536,t=1,p=2$<salt>$<key>, salt and key in unpadded
// standard base64 as the PHC format specifies.
func (h PasswordHasher) Hash(password string) (string, error) {
	if err := h.check(); err != nil {
		return "", err
	}
	salt := make([]byte, h.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, h.Time, h.Memory, h.Parallelism, h.KeyLength)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.Memory, h.Time, h.Parallelism,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify reports whether password matches the stored hash, comparing in
// constant time. needsRehash is true for a matching password whose hash
// should be replaced by Hash's output: a bcrypt hash, or argon2id with other
// parameters than h's. An error means the hash itself is unusable.
func (h PasswordHasher) Verify(encoded, password string) (ok, needsRehash bool, err error) {
	switch {
	case strings.HasPrefix(encoded, "$argon2id$"):
		p, err := parseArgon2id(encoded)
		if err != nil {
			return false, false, err
		}
		key := argon2.IDKey([]byte(password), p.salt, p.time, p.memory, p.parallelism, uint32(len(p.key)))
		if subtle.ConstantTimeCompare(key, p.key) != 1 {
			return false, false, nil
		}
		stale := p.memory != h.Memory || p.time != h.Time || p.parallelism != h.Parallelism ||
			uint32(len(p.salt)) != h.SaltLength || uint32(len(p.key)) != h.KeyLength
		return true, stale, nil
	case strings.HasPrefix(encoded, "$2a$"), strings.HasPrefix(encoded, "$2b$"), strings.HasPrefix(encoded, "$2y$"):
		cost, err := bcrypt.Cost([]byte(encoded))
		if err != nil {
			return false, false, fmt.Errorf("%w: bcrypt: %v", ErrMalformedHash, err)
		}
		if cost > maxBcryptCost {
			return false, false, fmt.Errorf("%w: bcrypt cost %d above %d", ErrMalformedHash, cost, maxBcryptCost)
		}
		// CompareHashAndPassword compares in constant time itself.
		switch err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password)); {
		case err == nil:
			return true, true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, false, nil
		default:
			return false, false, fmt.Errorf("%w: bcrypt: %v", ErrMalformedHash, err)
		}
	default:
		return false, false, ErrUnsupportedHash
	}
}

// check rejects parameters argon2 would panic on or that are too weak to
// mean anything.
func (h PasswordHasher) check() error {
	switch {
	case h.Parallelism < 1:
		return errors.New("password hasher: parallelism must be at least 1")
	case h.Time < 1:
		return errors.New("password hasher: time must be at least 1")
	case h.Memory < 8*uint32(h.Parallelism):
		return errors.New("password hasher: memory must be at least 8 KiB per lane")
	case h.SaltLength < minArgonSaltLen:
		return fmt.Errorf("password hasher: salt must be at least %d bytes", minArgonSaltLen)
	case h.KeyLength < minArgonKeyLen:
		return fmt.Errorf("password hasher: key must be at least %d bytes", minArgonKeyLen)
	}
	return nil
}

// parseArgon2id parses $argon2id$v=19$m=…,t=…,p=…$salt$key.
func parseArgon2id(encoded string) (argonParams, error) {
	var p argonParams
	bad := func(format string, args ...any) (argonParams, error) {
		return argonParams{}, fmt.Errorf("%w: argon2id: %s", ErrMalformedHash, fmt.Sprintf(format, args...))
	}
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return bad("want 5 $-separated fields")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("unsupported version %q", parts[2])
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return bad("want m, t and p parameters")
	}
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(params[i], name+"=")
		if !ok {
			return bad("parameter %d is not %s", i+1, name)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return bad("parameter %s: %v", name, err)
		}
		// One hash, one spelling: "m=065536" is refused, as PHC says.
		if strconv.FormatUint(n, 10) != v {
			return bad("parameter %s: %q is not a plain decimal", name, v)
		}
		switch name {
		case "m":
			p.memory = uint32(n)
		case "t":
			p.time = uint32(n)
		case "p":
			if n < 1 || n > 255 {
				return bad("parallelism %d out of range 1..255", n)
			}
			p.parallelism = uint8(n)
		}
	}
	if p.time < 1 || p.time > maxArgonTime {
		return bad("time %d out of range 1..%d", p.time, maxArgonTime)
	}
	if p.memory < 8*uint32(p.parallelism) || p.memory > maxArgonMemoryKiB {
		return bad("memory %d KiB out of range %d..%d", p.memory, 8*uint32(p.parallelism), maxArgonMemoryKiB)
	}
	var err error
	// The decoder skips CR and LF even in strict mode; re-encoding
	// refuses them.
	if p.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil ||
		base64.RawStdEncoding.EncodeToString(p.salt) != parts[4] {
		return bad("salt is not canonical unpadded base64")
	}
	if len(p.salt) < minArgonSaltLen || len(p.salt) > maxArgonSaltLen {
		return bad("salt length %d out of range %d..%d", len(p.salt), minArgonSaltLen, maxArgonSaltLen)
	}
	if p.key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil ||
		base64.RawStdEncoding.EncodeToString(p.key) != parts[5] {
		return bad("key is not canonical unpadded base64")
	}
	if len(p.key) < minArgonKeyLen || len(p.key) > maxArgonKeyLen {
		return bad("key length %d out of range %d..%d", len(p.key), minArgonKeyLen, maxArgonKeyLen)
	}
	return p, nil
}
