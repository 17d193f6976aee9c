package registration

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/storage"
)

type fakeDynamic struct{ err error }

func (f fakeDynamic) Register(context.Context, clients.Registration, bool, string) (clients.Registered, error) {
	return clients.Registered{}, f.err
}
func (f fakeDynamic) Read(context.Context, string, string) (storage.Client, error) {
	return storage.Client{}, f.err
}
func (f fakeDynamic) Update(context.Context, string, string, clients.Registration) (storage.Client, string, error) {
	return storage.Client{}, "", f.err
}
func (f fakeDynamic) Delete(context.Context, string, string) error { return f.err }

type fakeLimiter struct{ wait time.Duration }

func (f fakeLimiter) Reserve(context.Context, ...sessions.Limit) (*sessions.Attempt, time.Duration, error) {
	return nil, f.wait, nil
}

type noAudit struct{}

func (noAudit) Record(context.Context, audit.Event) {}

// TestErrors: every refusal is an RFC 7591/7592 error object, never a 500
// for bad input.
func TestErrors(t *testing.T) {
	const okBody = `{"client_name":"A","redirect_uris":["https://a.example/cb"]}`
	for _, tc := range []struct {
		name, mode, method, path, ctype, body, auth string
		dyn                                         fakeDynamic
		wait                                        time.Duration
		status                                      int
		code, header                                string
	}{
		{"no token", ModeToken, "POST", Path, "application/json", okBody, "", fakeDynamic{}, 0, 401, "invalid_token", "WWW-Authenticate"},
		{"bad token", ModeToken, "POST", Path, "application/json", okBody, "Bearer x", fakeDynamic{err: clients.ErrBadToken}, 0, 401, "invalid_token", "WWW-Authenticate"},
		{"rate limited", ModeOpen, "POST", Path, "application/json", okBody, "", fakeDynamic{}, 90 * time.Second, 429, "temporarily_unavailable", "Retry-After"},
		{"not JSON", ModeOpen, "POST", Path, "text/plain", okBody, "", fakeDynamic{}, 0, 400, "invalid_client_metadata", ""},
		{"malformed JSON", ModeOpen, "POST", Path, "application/json", `{"client_name":`, "", fakeDynamic{}, 0, 400, "invalid_client_metadata", ""},
		{"two objects", ModeOpen, "POST", Path, "application/json", okBody + okBody, "", fakeDynamic{}, 0, 400, "invalid_client_metadata", ""},
		{"redirect URI refused", ModeOpen, "POST", Path, "application/json", okBody, "",
			fakeDynamic{err: &clients.ValidationError{Field: "redirect_uris", Message: "no"}}, 0, 400, "invalid_redirect_uri", ""},
		{"other metadata refused", ModeOpen, "POST", Path, "application/json", okBody, "",
			fakeDynamic{err: &clients.ValidationError{Field: "grant_types", Message: "no"}}, 0, 400, "invalid_client_metadata", ""},
		{"database down", ModeOpen, "POST", Path, "application/json", okBody, "",
			fakeDynamic{err: fmt.Errorf("x: %w", storage.ErrUnavailable)}, 0, 503, "temporarily_unavailable", "Retry-After"},
		{"read with a bad token", ModeOpen, "GET", Path + "/c1", "", "", "Bearer x", fakeDynamic{err: clients.ErrBadToken}, 0, 401, "invalid_token", "WWW-Authenticate"},
		{"update of another client_id", ModeOpen, "PUT", Path + "/c1", "application/json", `{"client_id":"c2","client_name":"A"}`, "Bearer x", fakeDynamic{}, 0, 400, "invalid_client_metadata", ""},
		{"delete with a bad token", ModeOpen, "DELETE", Path + "/c1", "", "", "Bearer x", fakeDynamic{err: clients.ErrBadToken}, 0, 401, "invalid_token", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := New(Options{Issuer: "https://id.example", Mode: tc.mode, Dynamic: tc.dyn, Limiter: fakeLimiter{tc.wait}, Audit: noAudit{}})
			if err != nil {
				t.Fatal(err)
			}
			e := echo.New()
			h.Register(e)
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), `"error":"`+tc.code+`"`) {
				t.Fatalf("%d %s, want %d %s", rec.Code, rec.Body, tc.status, tc.code)
			}
			if tc.header != "" && rec.Header().Get(tc.header) == "" {
				t.Errorf("no %s header", tc.header)
			}
			if rec.Header().Get("Cache-Control") != "no-store" {
				t.Error("error answers must not be cached")
			}
		})
	}
}
