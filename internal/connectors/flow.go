package connectors

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/signet-idp/signet/internal/keys"
)

// FlowLifespan is how long a person has at the upstream before the flow
// cookie expires.
const FlowLifespan = 10 * time.Minute

// Flow is the state of one upstream sign-in, kept in the browser (sealed):
// nothing is written to the database until the upstream answers, so
// abandoned sign-ins cost nothing, and the answer must come back to the
// browser that started it.
type Flow struct {
	Connector string `json:"c"`
	State     string `json:"s"`
	Nonce     string `json:"n"`
	Verifier  string `json:"v"`
	// Challenge is the parked authorization request (login challenge) to
	// resume; ReturnTo a Signet path to go to instead.
	Challenge string `json:"ch,omitempty"`
	ReturnTo  string `json:"r,omitempty"`
	Remember  bool   `json:"rm,omitempty"`
	// LinkUser is set when a signed-in person links the upstream account
	// from the account page.
	LinkUser string `json:"lu,omitempty"`
	Expires  int64  `json:"e"`
}

// PendingLink is an upstream identity whose e-mail belongs to an existing
// Signet account: the person must prove they own that account (its
// password) before the two are linked. Kept in the browser, sealed.
type PendingLink struct {
	Connector string   `json:"c"`
	Identity  Identity `json:"i"`
	UserID    string   `json:"u"`
	Challenge string   `json:"ch,omitempty"`
	ReturnTo  string   `json:"r,omitempty"`
	Remember  bool     `json:"rm,omitempty"`
	Expires   int64    `json:"e"`
}

// Associated data that keeps a flow cookie from being replayed as a
// pending link and vice versa.
var (
	flowAAD    = []byte("signet connector flow v1")
	pendingAAD = []byte("signet connector pending link v1")
)

var errExpired = errors.New("expired")

// sealer seals and opens browser-held state with the global secret (and
// the old ones while rotating).
type sealer struct {
	secret  []byte
	secrets [][]byte
}

func (s sealer) seal(v any, aad []byte) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	out, err := keys.Seal(b, aad, s.secret)
	if err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(out), nil
}

func (s sealer) open(value string, aad []byte, v any) error {
	if value == "" || len(value) > 8192 {
		return errors.New("no sealed value")
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	b, _, err := keys.OpenSealed(raw, aad, s.secrets)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	return json.Unmarshal(b, v)
}

// randomToken is 32 random bytes, base64url: state, nonce and PKCE
// verifier (RFC 7636 wants 43 to 128 characters; this is 43).
func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// equal compares secrets in constant time.
func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
