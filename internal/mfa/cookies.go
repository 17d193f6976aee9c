package mfa

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Cookie names.
const (
	// PendingCookieName carries a sign-in whose password was right while
	// its second factor is still to come. It is not a session: nothing
	// but the second-factor page reads it.
	PendingCookieName = "signet_2fa"
	// DeviceCookieName marks a browser whose owner asked it to be
	// remembered after a second factor.
	DeviceCookieName = "signet_2fa_device"
	// PendingLifetime is how long a person has for the second factor.
	PendingLifetime = 10 * time.Minute
	// MinCookieKeyLength is the shortest key NewCookies accepts.
	MinCookieKeyLength = 32
)

// Pending is a sign-in between its password and its second factor.
type Pending struct {
	UserID string `json:"u"`
	// AMR are the methods already used (["pwd"]).
	AMR []string `json:"m"`
	// Remember is the login form's "keep me signed in".
	Remember bool `json:"r,omitempty"`
	// Enrol: the user has no second factor but must have one (their role,
	// the server or the app requires it): the page sets one up.
	Enrol bool `json:"e,omitempty"`
	// ReturnTo is where a sign-in without an app goes afterwards.
	ReturnTo string `json:"t,omitempty"`
	// Expires is set by SetPending.
	Expires int64 `json:"x"`
}

// Cookies signs and reads the pending sign-in and remembered-device
// cookies: HMAC-SHA256 under a key derived from the server secret, so any
// replica reads them and nobody can make one without a right password.
// The payload is readable by its holder (the user's own id and methods).
type Cookies struct {
	keys   [][]byte
	secure bool
	now    func() time.Time
}

// NewCookies signs with keys[0] and accepts any of keys.
func NewCookies(keys [][]byte, secure bool, now func() time.Time) (*Cookies, error) {
	if len(keys) == 0 {
		return nil, errors.New("mfa cookies: no key")
	}
	for _, k := range keys {
		if len(k) < MinCookieKeyLength {
			return nil, fmt.Errorf("mfa cookies: keys must be at least %d bytes", MinCookieKeyLength)
		}
	}
	if now == nil {
		now = time.Now
	}
	return &Cookies{keys: keys, secure: secure, now: now}, nil
}

// SetPending starts the second-factor step of a sign-in.
func (c *Cookies) SetPending(w http.ResponseWriter, p Pending) error {
	p.Expires = c.now().Add(PendingLifetime).Unix()
	v, err := c.sign("pending", p)
	if err != nil {
		return err
	}
	http.SetCookie(w, c.cookie(PendingCookieName, v, int(PendingLifetime/time.Second)))
	return nil
}

// Pending returns the request's pending sign-in, if a valid one.
func (c *Cookies) Pending(r *http.Request) (Pending, bool) {
	var p Pending
	if !c.read(r, PendingCookieName, "pending", &p) || p.UserID == "" || c.now().Unix() >= p.Expires {
		return Pending{}, false
	}
	return p, true
}

// ClearPending ends the second-factor step.
func (c *Cookies) ClearPending(w http.ResponseWriter) {
	http.SetCookie(w, c.cookie(PendingCookieName, "", -1))
}

type device struct {
	UserID  string `json:"u"`
	Issued  int64  `json:"i"`
	Expires int64  `json:"x"`
}

// RememberDevice lets this browser skip the user's second factor for the
// given time.
func (c *Cookies) RememberDevice(w http.ResponseWriter, userID string, d time.Duration) error {
	now := c.now()
	v, err := c.sign("device", device{UserID: userID, Issued: now.Unix(), Expires: now.Add(d).Unix()})
	if err != nil {
		return err
	}
	http.SetCookie(w, c.cookie(DeviceCookieName, v, int(d/time.Second)))
	return nil
}

// DeviceRemembered reports whether the browser was remembered for the
// user, no earlier than since (the user's oldest current factor: a device
// remembered before a reset of the factors no longer counts).
func (c *Cookies) DeviceRemembered(r *http.Request, userID string, since time.Time) bool {
	var d device
	if userID == "" || !c.read(r, DeviceCookieName, "device", &d) || d.UserID != userID {
		return false
	}
	now := c.now().Unix()
	return now < d.Expires && d.Issued >= since.Unix()
}

func (c *Cookies) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode,
	}
}

func (c *Cookies) sign(kind string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("mfa cookie: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	return payload + "." + base64.RawURLEncoding.EncodeToString(mac(c.keys[0], kind, payload)), nil
}

func (c *Cookies) read(r *http.Request, name, kind string, v any) bool {
	ck, err := r.Cookie(name)
	if err != nil || ck.Value == "" || len(ck.Value) > 2048 {
		return false
	}
	payload, sig, ok := strings.Cut(ck.Value, ".")
	if !ok {
		return false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	valid := false
	for _, k := range c.keys {
		// Every key is tried, so the time taken does not tell which matched.
		valid = hmac.Equal(got, mac(k, kind, payload)) || valid
	}
	if !valid {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return false
	}
	return json.Unmarshal(b, v) == nil
}

func mac(key []byte, kind, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("signet mfa cookie\x00" + kind + "\x00" + payload))
	return m.Sum(nil)
}
