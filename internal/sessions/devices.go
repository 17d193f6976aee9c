package sessions

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Device cookie defaults.
const (
	DeviceCookieName = "signet_device"
	// DeviceLifetime is how long a browser stays known after its last
	// successful login (each one renews it).
	DeviceLifetime = 365 * 24 * time.Hour
	// maxDeviceAccounts bounds the accounts one cookie names (the most
	// recent ones), and so the cookie's size.
	maxDeviceAccounts = 5
	// MinDeviceKeyLength is the shortest key NewDevices accepts, in bytes.
	MinDeviceKeyLength = 32
)

// Devices recognises browsers that have signed in to an account before,
// so that the login throttle can let their owner in while others guess
// (Throttle.LoginLimits). The proof is a cookie the server signed and
// keeps nothing about: "1.<device id>.<issued>.<account ids>.<HMAC>",
// the HMAC-SHA256 under a key derived from the server secret. Nobody can
// make such a cookie for an account without logging in to it, a replica
// checks it without a database read, and the random device id keeps the
// counters of two known browsers apart. HttpOnly, so page scripts cannot
// copy it; a stolen one would only give its holder the owner's own
// per-device back-off, never access. A nil *Devices knows no browser.
type Devices struct {
	keys   [][]byte
	secure bool
	now    func() time.Time
}

// NewDevices returns Devices signing with keys[0] and accepting any of
// keys (so a rotated server secret keeps browsers known). secure marks
// the cookie Secure (https issuer); a nil now means time.Now.
func NewDevices(keys [][]byte, secure bool, now func() time.Time) (*Devices, error) {
	if len(keys) == 0 {
		return nil, errors.New("device cookies: no key")
	}
	for _, k := range keys {
		if len(k) < MinDeviceKeyLength {
			return nil, fmt.Errorf("device cookies: keys must be at least %d bytes", MinDeviceKeyLength)
		}
	}
	if now == nil {
		now = time.Now
	}
	return &Devices{keys: keys, secure: secure, now: now}, nil
}

// deviceCookie is a parsed, verified device cookie.
type deviceCookie struct {
	id       string
	accounts []string
}

// Known returns the browser's device id when its cookie says it has
// signed in to the user before, else "".
func (d *Devices) Known(r *http.Request, userID string) string {
	if d == nil || userID == "" {
		return ""
	}
	dc, ok := d.read(r)
	if !ok || !slices.Contains(dc.accounts, userID) {
		return ""
	}
	return dc.id
}

// Any reports whether the request carries a valid device cookie, for any
// account: a browser without one is known to none.
func (d *Devices) Any(r *http.Request) bool {
	if d == nil {
		return false
	}
	_, ok := d.read(r)
	return ok
}

// Remember marks the browser as having signed in to the user: its cookie
// (a new one for a browser without a valid one) names the account first
// and is renewed for DeviceLifetime.
func (d *Devices) Remember(w http.ResponseWriter, r *http.Request, userID string) error {
	if d == nil || userID == "" || strings.ContainsAny(userID, ".,") || len(userID) > 64 {
		return nil
	}
	dc, ok := d.read(r)
	if !ok {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("device id: %w", err)
		}
		dc = deviceCookie{id: base64.RawURLEncoding.EncodeToString(b)}
	}
	accounts := append([]string{userID}, slices.DeleteFunc(dc.accounts, func(a string) bool { return a == userID })...)
	if len(accounts) > maxDeviceAccounts {
		accounts = accounts[:maxDeviceAccounts]
	}
	payload := "1." + dc.id + "." + strconv.FormatInt(d.now().Unix(), 10) + "." + strings.Join(accounts, ",")
	http.SetCookie(w, &http.Cookie{
		Name:     DeviceCookieName,
		Value:    payload + "." + base64.RawURLEncoding.EncodeToString(d.mac(d.keys[0], payload)),
		Path:     "/",
		MaxAge:   int(DeviceLifetime / time.Second),
		HttpOnly: true,
		Secure:   d.secure,
		SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// read returns the request's device cookie when it is well formed, signed
// by one of the keys and not older than DeviceLifetime.
func (d *Devices) read(r *http.Request) (deviceCookie, bool) {
	c, err := r.Cookie(DeviceCookieName)
	if err != nil || len(c.Value) > 1024 {
		return deviceCookie{}, false
	}
	payload, sig, ok := cutLast(c.Value, ".")
	if !ok {
		return deviceCookie{}, false
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return deviceCookie{}, false
	}
	valid := false
	for _, k := range d.keys {
		// Every key is tried, so the time taken does not tell which
		// matched.
		valid = hmac.Equal(mac, d.mac(k, payload)) || valid
	}
	if !valid {
		return deviceCookie{}, false
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 4 || parts[0] != "1" || parts[1] == "" || parts[3] == "" {
		return deviceCookie{}, false
	}
	issued, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || d.now().Sub(time.Unix(issued, 0)) > DeviceLifetime {
		return deviceCookie{}, false
	}
	return deviceCookie{id: parts[1], accounts: strings.Split(parts[3], ",")}, true
}

func (d *Devices) mac(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("signet device cookie\x00" + payload))
	return m.Sum(nil)
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
