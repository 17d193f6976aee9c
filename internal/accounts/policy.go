package accounts

import (
	"bufio"
	_ "embed"
	"strings"
	"sync"
	"unicode/utf8"
)

// commonPasswordsFile is the embedded list of passwords too common to
// allow, one per line, lower case; # starts a comment.
//
//go:embed common_passwords.txt
var commonPasswordsFile string

var (
	commonOnce sync.Once
	common     map[string]struct{}
)

func commonPasswords() map[string]struct{} {
	commonOnce.Do(func() {
		common = make(map[string]struct{}, 6000)
		sc := bufio.NewScanner(strings.NewReader(commonPasswordsFile))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			common[strings.ToLower(line)] = struct{}{}
		}
	})
	return common
}

// IsCommonPassword reports whether p is on the embedded list of common
// passwords, compared case-insensitively (and ignoring surrounding
// spaces, which add nothing an attacker would not try).
func IsCommonPassword(p string) bool {
	_, ok := commonPasswords()[strings.ToLower(strings.TrimSpace(p))]
	return ok
}

// ValidatePassword checks a new password against the policy: 8 to 1024
// characters (the upper bound in bytes, to bound hashing work) and not one
// of the embedded common passwords. Pages use it to explain a refusal
// before anything is written; CheckPassword adds the rule about the
// user's own name and address.
func ValidatePassword(p string) error {
	if p == "" {
		return invalid("password", "is required")
	}
	if !utf8.ValidString(p) {
		return invalid("password", "must be valid UTF-8 text")
	}
	if utf8.RuneCountInString(p) < MinPasswordLength {
		return invalid("password", "must be at least %d characters", MinPasswordLength)
	}
	if len(p) > MaxPasswordLength {
		return invalid("password", "must be at most %d bytes", MaxPasswordLength)
	}
	if IsCommonPassword(p) {
		return invalid("password", "is one of the most common passwords; choose another")
	}
	return nil
}

// CheckPassword is ValidatePassword plus: the password must not be the
// user's own user name or e-mail address (nor the address's local part),
// compared case-insensitively. personal holds those values; empty ones
// are ignored.
func CheckPassword(p string, personal ...string) error {
	if err := ValidatePassword(p); err != nil {
		return err
	}
	lp := strings.ToLower(strings.TrimSpace(p))
	for _, v := range personal {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" {
			continue
		}
		local := v
		if at := strings.LastIndexByte(v, '@'); at > 0 {
			local = v[:at]
		}
		if lp == v || lp == local {
			return invalid("password", "must not be your user name or e-mail address")
		}
	}
	return nil
}
