package sessions

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// browser carries cookies between requests the way a browser would, minus
// expiry of session cookies (tests end the "browser" by dropping it).
type browser struct{ cookies map[string]*http.Cookie }

func newBrowser() *browser { return &browser{cookies: map[string]*http.Cookie{}} }

func (b *browser) request() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range b.cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

func (b *browser) take(w *httptest.ResponseRecorder) {
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
			continue
		}
		b.cookies[c.Name] = c
	}
}

func TestStartSetsHardenedCookieAndStoresOnlyHash(t *testing.T) {
	st := newStore(t)
	clk := newClock()
	m := NewManager(st, Options{Secure: true, Now: clk.Now})
	w := httptest.NewRecorder()
	s, err := m.Start(w, httptest.NewRequest(http.MethodPost, "/login", nil), StartInput{UserID: "u1", IP: "192.0.2.1", UserAgent: "ua\xff"})
	if err != nil {
		t.Fatal(err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("cookies = %v", cookies)
	}
	c := cookies[0]
	if c.Name != DefaultCookieName || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("cookie attributes = %+v", c)
	}
	if c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Errorf("session without remember me has a persistent cookie: MaxAge=%d Expires=%v", c.MaxAge, c.Expires)
	}
	if len(c.Value) < 43 {
		t.Errorf("cookie value %q is shorter than 32 random bytes", c.Value)
	}
	stored, err := st.GetSession(t.Context(), s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.TokenHash != HashToken(c.Value) || stored.TokenHash == c.Value {
		t.Errorf("stored token hash %q is not the SHA-256 of the cookie", stored.TokenHash)
	}
	if stored.ID == c.Value {
		t.Error("public session id equals the cookie value")
	}
	if stored.UserAgent != "ua" {
		t.Errorf("user agent %q: invalid UTF-8 kept", stored.UserAgent)
	}
	if want := clk.Now().Add(DefaultIdleTimeout); !stored.ExpiresAt.Equal(want) {
		t.Errorf("expires %v, want idle deadline %v", stored.ExpiresAt, want)
	}
	if !stored.AuthTime.Equal(clk.Now()) {
		t.Errorf("auth time %v, want %v", stored.AuthTime, clk.Now())
	}
}

func TestRememberMeGivesPersistentCookie(t *testing.T) {
	st := newStore(t)
	clk := newClock()
	m := NewManager(st, Options{RememberFor: 48 * time.Hour, Now: clk.Now})
	w := httptest.NewRecorder()
	s, err := m.Start(w, httptest.NewRequest(http.MethodPost, "/login", nil), StartInput{UserID: "u1", Remember: true})
	if err != nil {
		t.Fatal(err)
	}
	c := w.Result().Cookies()[0]
	if c.MaxAge != 48*3600 || c.Secure {
		t.Errorf("cookie MaxAge=%d Secure=%v, want 172800 and not Secure over http", c.MaxAge, c.Secure)
	}
	if !s.Remember || !s.ExpiresAt.Equal(clk.Now().Add(48*time.Hour)) {
		t.Errorf("session %+v", s)
	}
	// A remembered session outlives the idle timeout…
	b := newBrowser()
	b.take(w)
	clk.Advance(47 * time.Hour)
	if _, err := m.Current(b.request()); err != nil {
		t.Fatalf("remembered session after 47h: %v", err)
	}
	// …but not its lifetime.
	clk.Advance(2 * time.Hour)
	if _, err := m.Current(b.request()); !errors.Is(err, ErrNoSession) {
		t.Fatalf("remembered session after 49h: %v, want ErrNoSession", err)
	}
	if _, err := st.GetSession(t.Context(), s.ID); err == nil {
		t.Error("expired session was not deleted")
	}
}

func TestIdleTimeoutSlidesAndCaps(t *testing.T) {
	st := newStore(t)
	clk := newClock()
	m := NewManager(st, Options{IdleTimeout: 10 * time.Minute, MaxLifetime: 25 * time.Minute, Now: clk.Now})
	w := httptest.NewRecorder()
	if _, err := m.Start(w, httptest.NewRequest(http.MethodPost, "/", nil), StartInput{UserID: "u1"}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser()
	b.take(w)
	for i := range 2 {
		clk.Advance(9 * time.Minute)
		if _, err := m.Current(b.request()); err != nil {
			t.Fatalf("use %d within the idle timeout: %v", i+1, err)
		}
	}
	// 18 minutes in: the idle deadline would be 28, but the cap is 25.
	clk.Advance(8 * time.Minute)
	if _, err := m.Current(b.request()); !errors.Is(err, ErrNoSession) {
		t.Fatalf("session past its maximum lifetime: %v", err)
	}

	w = httptest.NewRecorder()
	if _, err := m.Start(w, httptest.NewRequest(http.MethodPost, "/", nil), StartInput{UserID: "u1"}); err != nil {
		t.Fatal(err)
	}
	b = newBrowser()
	b.take(w)
	clk.Advance(11 * time.Minute)
	if _, err := m.Current(b.request()); !errors.Is(err, ErrNoSession) {
		t.Fatalf("idle session: %v, want ErrNoSession", err)
	}
}

func TestLoginRotatesSession(t *testing.T) {
	st := newStore(t)
	m := NewManager(st, Options{})
	b := newBrowser()
	w := httptest.NewRecorder()
	first, err := m.Start(w, b.request(), StartInput{UserID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	b.take(w)
	oldCookie := b.cookies[DefaultCookieName].Value
	w = httptest.NewRecorder()
	second, err := m.Start(w, b.request(), StartInput{UserID: "u2"})
	if err != nil {
		t.Fatal(err)
	}
	b.take(w)
	if second.ID == first.ID || b.cookies[DefaultCookieName].Value == oldCookie {
		t.Fatal("login kept the session id or token")
	}
	if _, err := st.GetSession(t.Context(), first.ID); err == nil {
		t.Error("previous session survived the new login")
	}
	cur, err := m.Current(b.request())
	if err != nil || cur.UserID != "u2" {
		t.Fatalf("current = %+v, %v", cur, err)
	}
	// A planted, unknown cookie is simply replaced.
	b.cookies[DefaultCookieName] = &http.Cookie{Name: DefaultCookieName, Value: "planted"}
	w = httptest.NewRecorder()
	s, err := m.Start(w, b.request(), StartInput{UserID: "u1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Result().Cookies()[0].Value; got == "planted" || HashToken(got) != s.TokenHash {
		t.Errorf("cookie after login = %q", got)
	}
}

func TestEndDeletesSessionAndClearsCookie(t *testing.T) {
	st := newStore(t)
	m := NewManager(st, Options{})
	b := newBrowser()
	w := httptest.NewRecorder()
	s, err := m.Start(w, b.request(), StartInput{UserID: "u1", Remember: true})
	if err != nil {
		t.Fatal(err)
	}
	b.take(w)
	stale := b.request()
	w = httptest.NewRecorder()
	ended, err := m.End(w, b.request())
	if err != nil || ended.ID != s.ID {
		t.Fatalf("End = %+v, %v", ended, err)
	}
	c := w.Result().Cookies()
	if len(c) != 1 || c[0].MaxAge >= 0 || c[0].Value != "" {
		t.Errorf("End did not clear the cookie: %+v", c)
	}
	// The old cookie value no longer works, even if the browser kept it.
	if _, err := m.Current(stale); !errors.Is(err, ErrNoSession) {
		t.Errorf("ended session still current: %v", err)
	}
	if _, err := m.End(httptest.NewRecorder(), stale); !errors.Is(err, ErrNoSession) {
		t.Errorf("second End = %v, want ErrNoSession", err)
	}
}
