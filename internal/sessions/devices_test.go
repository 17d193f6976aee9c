package sessions

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func deviceRequest(cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

func remember(t *testing.T, d *Devices, r *http.Request, userID string) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	if err := d.Remember(w, r, userID); err != nil {
		t.Fatal(err)
	}
	cs := w.Result().Cookies()
	if len(cs) != 1 || cs[0].Name != DeviceCookieName {
		t.Fatalf("cookies %v", cs)
	}
	return cs[0]
}

func TestDevicesKnowWhereTheyLoggedIn(t *testing.T) {
	clk := newClock()
	key := bytes.Repeat([]byte("k"), 32)
	d, err := NewDevices([][]byte{key}, true, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	c := remember(t, d, deviceRequest(), "u1")
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.MaxAge < 300*24*3600 {
		t.Errorf("cookie attributes: %+v", c)
	}
	id := d.Known(deviceRequest(c), "u1")
	if id == "" || d.Known(deviceRequest(c), "u2") != "" || d.Known(deviceRequest(), "u1") != "" {
		t.Fatalf("Known: %q for u1, %q for u2", id, d.Known(deviceRequest(c), "u2"))
	}
	if !d.Any(deviceRequest(c)) || d.Any(deviceRequest()) {
		t.Errorf("Any: %v with the cookie, %v without", d.Any(deviceRequest(c)), d.Any(deviceRequest()))
	}
	// A second account on the same browser keeps the device id.
	c2 := remember(t, d, deviceRequest(c), "u2")
	if d.Known(deviceRequest(c2), "u1") != id || d.Known(deviceRequest(c2), "u2") != id {
		t.Error("second account changed the device or forgot the first")
	}
	// Another browser is another device.
	if other := d.Known(deviceRequest(remember(t, d, deviceRequest(), "u1")), "u1"); other == id || other == "" {
		t.Errorf("second browser's device id %q (first %q)", other, id)
	}
	// Nobody can add an account to a cookie, nor sign one with another key.
	parts := strings.Split(c.Value, ".")
	forged := *c
	forged.Value = strings.Join([]string{parts[0], parts[1], parts[2], "u1,u3", parts[4]}, ".")
	if d.Known(deviceRequest(&forged), "u3") != "" {
		t.Error("forged account list accepted")
	}
	other, _ := NewDevices([][]byte{bytes.Repeat([]byte("x"), 32)}, true, clk.Now)
	if other.Known(deviceRequest(c), "u1") != "" {
		t.Error("cookie accepted under another key")
	}
	// A rotated key still reads old cookies.
	rotated, _ := NewDevices([][]byte{bytes.Repeat([]byte("x"), 32), key}, true, clk.Now)
	if rotated.Known(deviceRequest(c), "u1") != id {
		t.Error("cookie under the previous key not accepted")
	}
	for _, v := range []string{"", "garbage", "1.a.b.c.d", c.Value + "x"} {
		bad := *c
		bad.Value = v
		if d.Known(deviceRequest(&bad), "u1") != "" {
			t.Errorf("cookie %q accepted", v)
		}
	}
	clk.Advance(DeviceLifetime + time.Hour)
	if d.Known(deviceRequest(c), "u1") != "" {
		t.Error("expired cookie accepted")
	}
	var none *Devices
	if none.Known(deviceRequest(c), "u1") != "" || none.Remember(httptest.NewRecorder(), deviceRequest(), "u1") != nil {
		t.Error("nil Devices")
	}
	if _, err := NewDevices([][]byte{[]byte("short")}, false, nil); err == nil {
		t.Error("short key accepted")
	}
}
