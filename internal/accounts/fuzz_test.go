package accounts

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// fuzzHasher is cheap, so a fuzz run spends its time in the parsers.
var fuzzHasher = PasswordHasher{Memory: 64, Time: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// encodeArgon2id is Hash's encoding of parsed parameters.
func encodeArgon2id(p argonParams) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.parallelism,
		base64.RawStdEncoding.EncodeToString(p.salt), base64.RawStdEncoding.EncodeToString(p.key))
}

// FuzzParseArgon2id: the PHC parser accepts only canonical strings (one
// that parses re-encodes to exactly itself, so one hash has one spelling)
// with parameters inside the bounds that keep an imported hash from
// turning a login into a denial of service; anything else is
// ErrMalformedHash.
func FuzzParseArgon2id(f *testing.F) {
	good, err := fuzzHasher.Hash("correct horse battery staple")
	if err != nil {
		f.Fatal(err)
	}
	def, err := DefaultPasswordHasher().Hash("x")
	if err != nil {
		f.Fatal(err)
	}
	salt, key := "c2FsdHNhbHRzYWx0c2FsdA", "a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"
	f.Add(good)
	f.Add(def)
	f.Add("$argon2id$v=19$m=65536,t=1,p=2$" + salt + "$" + key)
	f.Add("$argon2id$v=19$m=065536,t=1,p=2$" + salt + "$" + key)
	f.Add("$argon2id$v=19$m=65536,t=01,p=2$" + salt + "$" + key)
	f.Add("$argon2id$v=19$m=65536,t=1,p=+2$" + salt + "$" + key)
	f.Add("$argon2id$v=19$t=1,m=65536,p=2$" + salt + "$" + key)
	f.Add("$argon2id$v=16$m=65536,t=1,p=2$" + salt + "$" + key)
	f.Add("$argon2id$v=19$m=4294967295,t=1,p=2$" + salt + "$" + key)
	f.Add("$argon2id$v=19$m=65536,t=65,p=2$" + salt + "$" + key)
	f.Add("$argon2id$v=19$m=65536,t=1,p=0$" + salt + "$" + key)
	f.Add("$argon2id$v=19$m=65536,t=1,p=256$" + salt + "$" + key)
	f.Add("$argon2id$v=19$m=8,t=1,p=2$" + salt + "$" + key)
	f.Add("$argon2id$v=19$m=65536,t=1,p=2$" + salt + "=$" + key)
	f.Add("$argon2id$v=19$m=65536,t=1,p=2$" + salt[:len(salt)-1] + "B$" + key)
	f.Add("$argon2id$v=19$m=65536,t=1,p=2$$" + key)
	f.Add("$argon2id$v=19$m=65536,t=1,p=2$" + salt + "$" + key + "$")
	f.Add("$argon2i$v=19$m=65536,t=1,p=2$" + salt + "$" + key)
	f.Fuzz(func(t *testing.T, encoded string) {
		p, err := parseArgon2id(encoded)
		if err != nil {
			if !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("%q: error %v is not ErrMalformedHash", encoded, err)
			}
			return
		}
		if again := encodeArgon2id(p); again != encoded {
			t.Fatalf("%q parses but re-encodes as %q", encoded, again)
		}
		switch {
		case p.time < 1 || p.time > maxArgonTime,
			p.parallelism < 1,
			p.memory < 8*uint32(p.parallelism) || p.memory > maxArgonMemoryKiB,
			len(p.salt) < minArgonSaltLen || len(p.salt) > maxArgonSaltLen,
			len(p.key) < minArgonKeyLen || len(p.key) > maxArgonKeyLen:
			t.Fatalf("%q: parameters out of bounds accepted: m=%d t=%d p=%d salt=%d key=%d",
				encoded, p.memory, p.time, p.parallelism, len(p.salt), len(p.key))
		}
	})
}

// FuzzVerifyPassword: Verify never panics on a stored hash, tells a broken
// hash (ErrMalformedHash, ErrUnsupportedHash) from a wrong password (no
// error), and a fresh hash of a password verifies that password and no
// other. Hashes whose parameters would make one run slow are skipped
// (the parser's bounds are FuzzParseArgon2id's business).
func FuzzVerifyPassword(f *testing.F) {
	good, err := fuzzHasher.Hash("correct horse battery staple")
	if err != nil {
		f.Fatal(err)
	}
	bc, err := bcrypt.GenerateFromPassword([]byte("correct horse battery staple"), bcrypt.MinCost)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, "correct horse battery staple")
	f.Add(good, "Correct horse battery staple")
	f.Add(string(bc), "correct horse battery staple")
	f.Add(string(bc), "")
	f.Add(strings.Replace(string(bc), "$2a$", "$2y$", 1), "correct horse battery staple")
	f.Add(strings.Replace(string(bc), "$2a$04$", "$2a$31$", 1), "x")
	f.Add(strings.Replace(string(bc), "$2a$04$", "$2a$4$", 1), "x")
	f.Add(string(bc[:20]), "x")
	f.Add("$2b$", "x")
	f.Add("$argon2id$", "x")
	f.Add("$scrypt$ln=15,r=8,p=1$c2FsdA$aGFzaA", "x")
	f.Add("", "")
	f.Add("plaintext", "plaintext")
	f.Fuzz(func(t *testing.T, encoded, password string) {
		if p, err := parseArgon2id(encoded); err == nil && uint64(p.memory)*uint64(p.time) > 4096 {
			t.Skip("too slow for a fuzz run")
		}
		if cost, err := bcrypt.Cost([]byte(encoded)); err == nil && cost > bcrypt.MinCost+1 {
			t.Skip("too slow for a fuzz run")
		}
		ok, rehash, err := fuzzHasher.Verify(encoded, password)
		switch {
		case err != nil && !errors.Is(err, ErrMalformedHash) && !errors.Is(err, ErrUnsupportedHash):
			t.Fatalf("Verify(%q): error %v of no documented kind", encoded, err)
		case err != nil && (ok || rehash):
			t.Fatalf("Verify(%q): ok=%v rehash=%v with error %v", encoded, ok, rehash, err)
		case !ok && rehash:
			t.Fatalf("Verify(%q): rehash asked for a wrong password", encoded)
		case ok && !strings.HasPrefix(encoded, "$argon2id$") && !rehash:
			t.Fatalf("Verify(%q): a matching non-argon2id hash must ask for a rehash", encoded)
		}

		// The round trip, with the fuzzed password.
		if len(password) > MaxPasswordLength {
			return
		}
		fresh, err := fuzzHasher.Hash(password)
		if err != nil {
			t.Fatal(err)
		}
		if ok, rehash, err := fuzzHasher.Verify(fresh, password); !ok || rehash || err != nil {
			t.Fatalf("a fresh hash of %q does not verify it: ok=%v rehash=%v err=%v", password, ok, rehash, err)
		}
		if ok, _, err := fuzzHasher.Verify(fresh, password+"\x00"); ok || err != nil {
			t.Fatalf("a fresh hash of %q verifies another password: ok=%v err=%v", password, ok, err)
		}
	})
}

// FuzzLinkToken: the link-token check lets through only what newLinkToken
// makes: 32 bytes in canonical unpadded base64url (one spelling per
// token), so garbage never reaches storage.
func FuzzLinkToken(f *testing.F) {
	raw, _, err := newLinkToken()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add(raw + "=")
	f.Add(raw[:len(raw)-1])
	f.Add(raw[:len(raw)-1] + "B") // non-zero trailing bits
	f.Add(strings.ReplaceAll(raw, "-", "+"))
	f.Add(strings.Repeat("A", tokenLen))
	f.Add(strings.Repeat("/", tokenLen))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if !wellFormedToken(s) {
			return
		}
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) != tokenBytes || base64.RawURLEncoding.EncodeToString(b) != s {
			t.Fatalf("%q accepted but is not the canonical encoding of %d bytes", s, tokenBytes)
		}
	})
}

// FuzzValidateAccountInput: what the account validators accept can be
// stored and shown: valid UTF-8 (PostgreSQL refuses anything else: a 500
// on a form post), no control characters, within the length limits; a
// user name is ASCII without '@' and not shaped like a user id; an
// e-mail address is a bare address with one local part and a domain.
func FuzzValidateAccountInput(f *testing.F) {
	for _, s := range []string{
		"alice", "a.b-c_d", "-alice", "al ice", "alice@example.com", "Alice <alice@example.com>",
		"alice@example.com (comment)", "\"a b\"@example.com", "a@b", "@example.com", "alice@", "a@@b",
		"0b2ab5e0-9a8e-4b8f-8f6a-1d2c3e4f5a6b", "Ünïcödé Näme", "name\x00", "name\u202e", "\xff",
		"a@\xffexample.com", "\xff@example.com", "billing:read", "Admin", strings.Repeat("x", 65),
		strings.Repeat("é", 201), "",
	} {
		f.Add(s)
	}
	clean := func(s string) bool {
		if !utf8.ValidString(s) {
			return false
		}
		for _, r := range s {
			if unicode.IsControl(r) {
				return false
			}
		}
		return true
	}
	f.Fuzz(func(t *testing.T, s string) {
		if validateUsername(s) == nil {
			if !clean(s) || len(s) > 64 || strings.ContainsAny(s, "@ ") || strings.ContainsFunc(s, func(r rune) bool { return r > 0x7e }) {
				t.Fatalf("username %q accepted", s)
			}
		}
		if validateEmail(s) == nil {
			at := strings.LastIndexByte(s, '@')
			if !clean(s) || len(s) > maxEmailLength || at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " <>") {
				t.Fatalf("e-mail %q accepted", s)
			}
		}
		if validateName(s) == nil && (!clean(s) || utf8.RuneCountInString(s) > maxNameLength) {
			t.Fatalf("name %q accepted", s)
		}
		if validateDescription(s) == nil && (!clean(s) || utf8.RuneCountInString(s) > maxDescLength) {
			t.Fatalf("description %q accepted", s)
		}
		if validateRoleName(s) == nil && (!clean(s) || len(s) > 64 || s != strings.ToLower(s)) {
			t.Fatalf("role %q accepted", s)
		}
	})
}
