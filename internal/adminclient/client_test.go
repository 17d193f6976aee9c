package adminclient

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestNewBaseURL(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"http://127.0.0.1:8081", "http://127.0.0.1:8081/admin", false},
		{"http://127.0.0.1:8081/", "http://127.0.0.1:8081/admin", false},
		{"https://idp.example.com/admin", "https://idp.example.com/admin", false},
		{"https://idp.example.com/prefix/", "https://idp.example.com/prefix/admin", false},
		{"127.0.0.1:8081", "", true},
		{"ftp://host", "", true},
		{"http://", "", true},
		{"http://host/?x=1", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := New(tt.in, "", nil)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("New(%q) accepted", tt.in)
				}
				return
			}
			if err != nil || c.base != tt.want {
				t.Fatalf("New(%q) base = %v, %v; want %q", tt.in, c, err, tt.want)
			}
		})
	}
}

func TestRequestsAndErrors(t *testing.T) {
	var gotAuth, gotPath, gotCT, gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotPath, gotCT = r.Header.Get("Authorization"), r.URL.EscapedPath(), r.Header.Get("Content-Type")
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		switch {
		case strings.HasSuffix(r.URL.Path, "/roles") && r.Method == http.MethodPut:
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"id":"u1","username":"a b","roles":[]}`)
		case strings.Contains(r.URL.Path, "/users/"):
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":"not_found","error_description":"user not found: ghost"}`)
		case strings.HasSuffix(r.URL.Path, "/roles"):
			w.WriteHeader(http.StatusMethodNotAllowed)
			_, _ = io.WriteString(w, `{"message":"Method Not Allowed"}`)
		default:
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "upstream down")
		}
	}))
	defer srv.Close()
	c, err := New(srv.URL, "sekret", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	u, err := c.SetUserRoles(ctx, "a b", nil)
	if err != nil || u.ID != "u1" {
		t.Fatalf("SetUserRoles = %+v, %v", u, err)
	}
	if gotAuth != "Bearer sekret" || gotPath != "/admin/users/a%20b/roles" || gotCT != "application/json" ||
		gotBody != `{"roles":[]}` {
		t.Fatalf("request: auth %q path %q type %q body %q", gotAuth, gotPath, gotCT, gotBody)
	}

	tests := []struct {
		name     string
		call     func() error
		status   int
		wantDesc string
	}{
		{"API error", func() error { _, err := c.GetUser(ctx, "ghost"); return err }, 404, "user not found: ghost"},
		{"echo error shape", func() error { _, err := c.ListRoles(ctx); return err }, 405, "Method Not Allowed"},
		{"plain text", func() error { _, err := c.ListClients(ctx); return err }, 502, "upstream down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var apiErr *Error
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.status || apiErr.Description != tt.wantDesc {
				t.Fatalf("error = %#v; want status %d with %q", err, tt.status, tt.wantDesc)
			}
			if !strings.Contains(err.Error(), tt.wantDesc) {
				t.Fatalf("message %q lacks the description", err.Error())
			}
		})
	}
	if _, err := c.GetUser(ctx, "ghost"); !IsNotFound(err) {
		t.Fatalf("IsNotFound(%v) = false", err)
	}
	if gotBody != "" || gotCT != "" {
		t.Fatalf("a GET sent a body (%q) or a content type (%q)", gotBody, gotCT)
	}
}

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := New(url, "sekret", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListUsers(context.Background(), UserQuery{})
	if err == nil || !strings.Contains(err.Error(), "cannot reach the admin API") || strings.Contains(err.Error(), "sekret") {
		t.Fatalf("error = %v", err)
	}
}
