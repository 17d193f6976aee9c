package sessions

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

// FuzzSessionCookie: whatever Cookie header a request carries, Current
// finds the one live session exactly when the header holds a cookie named
// signet_session whose value is that session's token (as net/http reads
// the header), and otherwise answers ErrNoSession, never another error
// (over-long values, garbage and look-alike names included).
func FuzzSessionCookie(f *testing.F) {
	st := memory.New()
	if err := st.CreateUser(f.Context(), storage.User{ID: "u1", Username: "u1", Email: "u1@example.com"}); err != nil {
		f.Fatal(err)
	}
	ck := newClock()
	m := NewManager(st, Options{Now: ck.Now})
	// A fixed token (Start would draw a random one): the fuzzing workers
	// are separate processes and must agree on which cookie is right.
	token := "Zm9yIGZ1enppbmcgb25seSwgMzIgYnl0ZXMgbG9uZyE"
	started := storage.Session{ID: "sid-fuzz", TokenHash: HashToken(token), UserID: "u1", AuthTime: ck.Now(),
		CreatedAt: ck.Now(), LastSeenAt: ck.Now(), ExpiresAt: ck.Now().Add(time.Hour), Remember: true}
	if err := st.CreateSession(f.Context(), started); err != nil {
		f.Fatal(err)
	}

	f.Add(DefaultCookieName + "=" + token)
	f.Add("a=b; " + DefaultCookieName + "=" + token + "; c=d")
	f.Add(DefaultCookieName + "=\"" + token + "\"")
	f.Add(DefaultCookieName + "=" + token + "x")
	f.Add(DefaultCookieName + "=" + token[:len(token)-1])
	f.Add(DefaultCookieName + "=" + strings.ToUpper(token))
	f.Add(strings.ToUpper(DefaultCookieName) + "=" + token)
	f.Add(DefaultCookieName + " =" + token)
	f.Add(DefaultCookieName + "=; " + DefaultCookieName + "=" + token)
	f.Add(DefaultCookieName + "=" + strings.Repeat("A", 129))
	f.Add(DefaultCookieName + "=" + HashToken(token))
	f.Add(DefaultCookieName + "=" + started.ID)
	f.Add(DefaultCookieName + "=%00")
	f.Add("")
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Cookie"] = []string{header}
		want := false
		if c, err := r.Cookie(DefaultCookieName); err == nil && c.Value == token {
			want = true
		}
		s, err := m.Current(r)
		switch {
		case err != nil && !errors.Is(err, ErrNoSession):
			t.Fatalf("Cookie %q: %v, want ErrNoSession", header, err)
		case err == nil && s.ID != started.ID:
			t.Fatalf("Cookie %q found session %q, not the only one", header, s.ID)
		case (err == nil) != want:
			t.Fatalf("Cookie %q: found=%v, want %v", header, err == nil, want)
		}
	})
}
