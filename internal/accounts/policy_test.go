package accounts

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCommonPasswordList(t *testing.T) {
	list := commonPasswords()
	if len(list) < 3000 {
		t.Fatalf("the embedded list holds %d passwords; want a few thousand", len(list))
	}
	for p := range list {
		if p != strings.ToLower(p) || utf8.RuneCountInString(p) < MinPasswordLength {
			t.Errorf("entry %q is not lower case or is shorter than the minimum length", p)
		}
	}
	for _, p := range []string{"password", "12345678", "qwerty123", "iloveyou", "letmein1", "trustno1", "1q2w3e4r", "p@ssw0rd"} {
		if _, ok := list[p]; !ok {
			t.Errorf("%q is not on the list", p)
		}
	}
}
