package accounts

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Input limits.
const (
	// MinPasswordLength is counted in characters, MaxPasswordLength in
	// bytes: the upper bound only keeps hashing work and request sizes
	// bounded.
	MinPasswordLength = 8
	MaxPasswordLength = 1024
	maxEmailLength    = 254 // RFC 5321 path limit
	maxNameLength     = 200
	maxDescLength     = 500
)

var (
	// usernamePattern: letters, digits, '.', '_' and '-', starting with a
	// letter or digit, at most 64. No '@', so a user name can never equal
	// someone's e-mail address (logins accept either).
	usernamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	// rolePattern: lower-case so `Admin` and `admin` cannot both exist and
	// confuse a relying party reading the roles claim; ':' allows
	// namespaced roles such as `billing:read`.
	rolePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._:-]{0,63}$`)
)

func validateUsername(u string) error {
	if u == "" {
		return invalid("username", "is required")
	}
	if !usernamePattern.MatchString(u) {
		return invalid("username", "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	// A user name shaped like an id would make "id or user name" lookups
	// ambiguous.
	if _, err := uuid.Parse(u); err == nil {
		return invalid("username", "must not look like a user id (UUID)")
	}
	return nil
}

func validateEmail(e string) error {
	if e == "" {
		return invalid("email", "is required")
	}
	if len(e) > maxEmailLength {
		return invalid("email", "must be at most %d characters", maxEmailLength)
	}
	addr, err := mail.ParseAddress(e)
	// ParseAddress also accepts `Name <a@b>` and comments; only a bare
	// address is an e-mail field.
	if err != nil || addr.Address != e || addr.Name != "" {
		return invalid("email", "is not a valid e-mail address")
	}
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || at == len(e)-1 || strings.ContainsAny(e, " \t\r\n") {
		return invalid("email", "is not a valid e-mail address")
	}
	return nil
}

func validateName(n string) error {
	if utf8.RuneCountInString(n) > maxNameLength {
		return invalid("name", "must be at most %d characters", maxNameLength)
	}
	if !printable(n) {
		return invalid("name", "must be valid text without control characters")
	}
	return nil
}

func validateRoleName(r string) error {
	if r == "" {
		return invalid("name", "is required")
	}
	if !rolePattern.MatchString(r) {
		return invalid("name", "role %q must be 1 to 64 lower-case letters, digits, '.', '_', ':' or '-', starting with a letter or digit", r)
	}
	return nil
}

func validateDescription(d string) error {
	if utf8.RuneCountInString(d) > maxDescLength {
		return invalid("description", "must be at most %d characters", maxDescLength)
	}
	if !printable(d) {
		return invalid("description", "must be valid text without control characters")
	}
	return nil
}

// printable reports valid UTF-8 without control characters.
func printable(s string) bool {
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

// cleanRoles validates and de-duplicates role names, keeping their order.
func cleanRoles(roles []string) ([]string, error) {
	out := make([]string, 0, len(roles))
	seen := make(map[string]bool, len(roles))
	for _, r := range roles {
		r = strings.TrimSpace(r)
		if err := validateRoleName(r); err != nil {
			return nil, invalid("roles", "role %q is not a valid role name", r)
		}
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out, nil
}
