package sessions

import (
	"net/http/httptest"
	"testing"

	"github.com/signet-idp/signet/internal/pgtest"
	"github.com/signet-idp/signet/internal/storage"
)

// BenchmarkCurrent measures the session lookup every page and every
// single-sign-on authorization makes (cookie -> hash -> one indexed read)
// on PostgreSQL, from parallel goroutines:
//
//	go test -run '^$' -bench Current ./internal/sessions/
func BenchmarkCurrent(b *testing.B) {
	st := pgtest.NewStore(b)
	ctx := b.Context()
	if err := st.CreateUser(ctx, storage.User{ID: "u1", Username: "u1", Email: "u1@example.com"}); err != nil {
		b.Fatal(err)
	}
	m := NewManager(st, Options{})
	rec := httptest.NewRecorder()
	if _, err := m.Start(rec, httptest.NewRequest("POST", "/login", nil), StartInput{UserID: "u1", Remember: true}); err != nil {
		b.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("GET", "/oauth2/auth", nil)
			r.AddCookie(cookie)
			if s, err := m.Current(r); err != nil || s.UserID != "u1" {
				b.Errorf("Current: %+v, %v", s, err)
				return
			}
		}
	})
}
