package accounts

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// cheapHasher keeps tests fast; the format and code paths are the same as
// with the production parameters.
func cheapHasher() PasswordHasher {
	return PasswordHasher{Memory: 64, Time: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

func TestHashVerifyRoundTrip(t *testing.T) {
	h := cheapHasher()
	tests := []struct {
		name     string
		password string
	}{
		{"ascii", "correct horse battery staple"},
		{"unicode", "pässwörd-密码-🔑"},
		{"trailing spaces kept", "password  "},
		{"max length", strings.Repeat("x", MaxPasswordLength)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := h.Hash(tt.password)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
				t.Fatalf("hash %q is not an argon2id PHC string with the hasher's parameters", enc)
			}
			ok, rehash, err := h.Verify(enc, tt.password)
			if err != nil || !ok || rehash {
				t.Fatalf("Verify(right password) = %v, %v, %v; want true, false, nil", ok, rehash, err)
			}
			ok, _, err = h.Verify(enc, tt.password+"x")
			if err != nil || ok {
				t.Fatalf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
			}
		})
	}
}

func TestHashUsesFreshSalt(t *testing.T) {
	h := cheapHasher()
	a, _ := h.Hash("same password")
	b, _ := h.Hash("same password")
	if a == b {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
}

func TestDefaultHasherFormat(t *testing.T) {
	h := DefaultPasswordHasher()
	enc, err := h.Hash("a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=65536,t=1,p=2$") {
		t.Fatalf("default hash %q lacks the expected parameters", enc)
	}
	if ok, rehash, err := h.Verify(enc, "a long enough password"); !ok || rehash || err != nil {
		t.Fatalf("Verify = %v, %v, %v", ok, rehash, err)
	}
}

func TestVerifyNeedsRehashOnOtherParameters(t *testing.T) {
	old := cheapHasher()
	enc, err := old.Hash("password123")
	if err != nil {
		t.Fatal(err)
	}
	stronger := old
	stronger.Time = 2
	ok, rehash, err := stronger.Verify(enc, "password123")
	if err != nil || !ok || !rehash {
		t.Fatalf("Verify with new parameters = %v, %v, %v; want true, true, nil", ok, rehash, err)
	}
	// A wrong password never asks for a rehash.
	if ok, rehash, _ := stronger.Verify(enc, "nope"); ok || rehash {
		t.Fatalf("wrong password: ok=%v rehash=%v", ok, rehash)
	}
}

func TestVerifyBcrypt(t *testing.T) {
	h := cheapHasher()
	hash, err := bcrypt.GenerateFromPassword([]byte("legacy-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	b := string(hash) // $2a$04$…
	tests := []struct {
		name       string
		hash       string
		password   string
		wantOK     bool
		wantRehash bool
	}{
		{"2a right", b, "legacy-password", true, true},
		{"2a wrong", b, "legacy-passwordX", false, false},
		{"2b right", "$2b$" + b[4:], "legacy-password", true, true},
		{"2y right", "$2y$" + b[4:], "legacy-password", true, true},
		{"2y wrong", "$2y$" + b[4:], "other", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(tt.hash, tt.password)
			if err != nil || ok != tt.wantOK || rehash != tt.wantRehash {
				t.Fatalf("Verify = %v, %v, %v; want %v, %v, nil", ok, rehash, err, tt.wantOK, tt.wantRehash)
			}
		})
	}
}

func TestVerifyRejectsBadHashes(t *testing.T) {
	h := cheapHasher()
	good, err := h.Hash("password123")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$") // "", argon2id, v=19, params, salt, key
	salt, key := parts[4], parts[5]
	join := func(fields ...string) string { return "$" + strings.Join(fields, "$") }
	tests := []struct {
		name string
		hash string
		want error
	}{
		{"empty", "", ErrUnsupportedHash},
		{"plain text", "password123", ErrUnsupportedHash},
		{"argon2i", join("argon2i", "v=19", "m=64,t=1,p=1", salt, key), ErrUnsupportedHash},
		{"md5 crypt", "$1$abc$def", ErrUnsupportedHash},
		{"missing key", join("argon2id", "v=19", "m=64,t=1,p=1", salt), ErrMalformedHash},
		{"extra field", good + "$x", ErrMalformedHash},
		{"old version", join("argon2id", "v=16", "m=64,t=1,p=1", salt, key), ErrMalformedHash},
		{"params out of order", join("argon2id", "v=19", "t=1,m=64,p=1", salt, key), ErrMalformedHash},
		{"two params", join("argon2id", "v=19", "m=64,t=1", salt, key), ErrMalformedHash},
		{"non-numeric", join("argon2id", "v=19", "m=lots,t=1,p=1", salt, key), ErrMalformedHash},
		{"zero time", join("argon2id", "v=19", "m=64,t=0,p=1", salt, key), ErrMalformedHash},
		{"zero parallelism", join("argon2id", "v=19", "m=64,t=1,p=0", salt, key), ErrMalformedHash},
		{"memory too small", join("argon2id", "v=19", "m=4,t=1,p=1", salt, key), ErrMalformedHash},
		{"memory too large", join("argon2id", "v=19", "m=4294967295,t=1,p=1", salt, key), ErrMalformedHash},
		{"time too large", join("argon2id", "v=19", "m=64,t=100000,p=1", salt, key), ErrMalformedHash},
		{"salt not base64", join("argon2id", "v=19", "m=64,t=1,p=1", "!!!!", key), ErrMalformedHash},
		{"salt padded", join("argon2id", "v=19", "m=64,t=1,p=1", salt+"==", key), ErrMalformedHash},
		{"salt too short", join("argon2id", "v=19", "m=64,t=1,p=1", "c2FsdA", key), ErrMalformedHash},
		{"key too short", join("argon2id", "v=19", "m=64,t=1,p=1", salt, "a2V5"), ErrMalformedHash},
		{"bcrypt garbage", "$2a$10$short", ErrMalformedHash},
		{"bcrypt cost too high", "$2a$31$" + strings.Repeat("a", 53), ErrMalformedHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(tt.hash, "password123")
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify(%q) error = %v; want %v", tt.hash, err, tt.want)
			}
			if ok || rehash {
				t.Fatalf("Verify(%q) = %v, %v on a bad hash", tt.hash, ok, rehash)
			}
		})
	}
}

func TestHasherRejectsBadParameters(t *testing.T) {
	for _, h := range []PasswordHasher{
		{},
		{Memory: 64, Time: 1, Parallelism: 0, SaltLength: 16, KeyLength: 32},
		{Memory: 64, Time: 0, Parallelism: 1, SaltLength: 16, KeyLength: 32},
		{Memory: 4, Time: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32},
		{Memory: 64, Time: 1, Parallelism: 1, SaltLength: 4, KeyLength: 32},
		{Memory: 64, Time: 1, Parallelism: 1, SaltLength: 16, KeyLength: 8},
	} {
		if _, err := h.Hash("password123"); err == nil {
			t.Errorf("Hash with %+v succeeded; want an error", h)
		}
	}
}
