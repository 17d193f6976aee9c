package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestNew(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	e := New(Options{Name: "public", Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: NewMetrics(reg), HTTPS: true, BodyLimit: "1K"})
	e.GET("/ok/:id", func(c echo.Context) error { return c.String(http.StatusOK, "fine") })
	e.GET("/bad", func(c echo.Context) error { return echo.NewHTTPError(http.StatusBadRequest, "name is required") })
	e.GET("/boom", func(c echo.Context) error { return errors.New("db password=hunter2 exploded") })
	e.GET("/panic", func(c echo.Context) error { panic("kaboom") })
	e.POST("/body", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

	tests := []struct {
		name, method, target, accept, body string
		wantStatus                         int
		wantBody                           string
		notInBody                          string
	}{
		{name: "ok", method: "GET", target: "/ok/42?code=secretcode", wantStatus: 200, wantBody: "fine"},
		{name: "client error keeps message", method: "GET", target: "/bad", wantStatus: 400, wantBody: `"error_description":"name is required"`},
		{name: "internal error is generic", method: "GET", target: "/boom", wantStatus: 500, wantBody: "server_error", notInBody: "hunter2"},
		{name: "panic becomes 500", method: "GET", target: "/panic", wantStatus: 500, wantBody: "server_error", notInBody: "kaboom"},
		{name: "unknown route", method: "GET", target: "/nope", wantStatus: 404, wantBody: `"error":"not_found"`},
		{name: "browser gets a page", method: "GET", target: "/nope", accept: "text/html", wantStatus: 404, wantBody: "<h1>404 Not Found</h1>"},
		{name: "oversized body", method: "POST", target: "/body", body: strings.Repeat("x", 4096), wantStatus: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", rec.Code, tt.wantStatus, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body = %s, want it to contain %s", rec.Body, tt.wantBody)
			}
			if tt.notInBody != "" && strings.Contains(rec.Body.String(), tt.notInBody) {
				t.Errorf("body leaks %q: %s", tt.notInBody, rec.Body)
			}
			h := rec.Header()
			for k, want := range map[string]string{
				"Content-Security-Policy":   DefaultCSP,
				"X-Content-Type-Options":    "nosniff",
				"Referrer-Policy":           "no-referrer",
				"Strict-Transport-Security": "max-age=63072000; includeSubDomains",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}

	if strings.Contains(logs.String(), "secretcode") {
		t.Errorf("request log contains the query string: %s", logs.String())
	}
	if !strings.Contains(logs.String(), `"path":"/ok/42"`) {
		t.Errorf("request log lacks the path: %s", logs.String())
	}
	if got := testutil.ToFloat64(mustCounter(t, reg, "/ok/:id", "200")); got != 1 {
		t.Errorf("requests{route=/ok/:id,code=200} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(mustCounter(t, reg, "/boom", "500")); got != 1 {
		t.Errorf("requests{route=/boom,code=500} = %v, want 1", got)
	}
}

func mustCounter(t *testing.T, reg *prometheus.Registry, route, code string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "signet_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == route && labels["code"] == code {
				c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
				c.Add(m.GetCounter().GetValue())
				return c
			}
		}
	}
	b, _ := json.Marshal(mfs)
	t.Fatalf("no counter for route %s code %s in %s", route, code, b)
	return nil
}

func TestClientAddress(t *testing.T) {
	tests := []struct {
		name       string
		trusted    []string
		remoteAddr string
		xff        string
		want       string
	}{
		{"forged header without proxies is ignored", nil, "198.51.100.7:5000", "203.0.113.9", "198.51.100.7"},
		{"forged header from loopback is ignored", nil, "127.0.0.1:5000", "203.0.113.9", "127.0.0.1"},
		{"header from a trusted proxy names the client", []string{"192.0.2.0/24"}, "192.0.2.1:443", "203.0.113.9", "203.0.113.9"},
		{"header from an untrusted peer is ignored", []string{"192.0.2.0/24"}, "198.51.100.7:443", "203.0.113.9", "198.51.100.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(Options{TrustedProxies: tt.trusted})
			e.GET("/ip", func(c echo.Context) error { return c.String(http.StatusOK, c.RealIP()) })
			req := httptest.NewRequest("GET", "/ip", nil)
			req.RemoteAddr = tt.remoteAddr
			req.Header.Set("X-Forwarded-For", tt.xff)
			req.Header.Set("X-Real-IP", tt.xff)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if got := rec.Body.String(); got != tt.want {
				t.Errorf("client address = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestClientClosedRequest: a request whose client went away is logged at
// info as 499 "client closed request" and counted under 499, whatever the
// handler made of the cancelled context; a real failure stays a 500 ERROR.
func TestClientClosedRequest(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	e := New(Options{Name: "public", Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: NewMetrics(reg)})
	// Each handler waits for the disconnect, as one blocked on the
	// database would, then fails the way real handlers do.
	e.GET("/wrapped", func(c echo.Context) error {
		<-c.Request().Context().Done()
		return fmt.Errorf("get client: %w", c.Request().Context().Err())
	})
	e.GET("/internal", func(c echo.Context) error {
		<-c.Request().Context().Done()
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(c.Request().Context().Err())
	})
	e.GET("/answers-500", func(c echo.Context) error {
		<-c.Request().Context().Done()
		return c.JSON(http.StatusInternalServerError, APIError{Error: "server_error"})
	})
	e.GET("/fails", func(c echo.Context) error { return errors.New("real failure") })

	tests := []struct {
		route      string
		cancel     bool
		wantLevel  string
		wantMsg    string
		wantStatus int
	}{
		{"/wrapped", true, "INFO", "client closed request", 499},
		{"/internal", true, "INFO", "client closed request", 499},
		{"/answers-500", true, "INFO", "client closed request", 499},
		{"/fails", false, "ERROR", "request", 500},
	}
	for _, tt := range tests {
		t.Run(tt.route, func(t *testing.T) {
			logs.Reset()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				cancel()
			}
			req := httptest.NewRequest("GET", tt.route, nil).WithContext(ctx)
			e.ServeHTTP(httptest.NewRecorder(), req)

			var line struct {
				Level  string `json:"level"`
				Msg    string `json:"msg"`
				Status int    `json:"status"`
			}
			var found bool
			for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				var rec map[string]any
				if err := json.Unmarshal([]byte(l), &rec); err != nil {
					t.Fatalf("log line %q: %v", l, err)
				}
				if rec["level"] == "ERROR" && tt.wantLevel != "ERROR" {
					t.Errorf("a disconnect logged an ERROR: %s", l)
				}
				if _, ok := rec["status"]; ok {
					_ = json.Unmarshal([]byte(l), &line)
					found = true
				}
			}
			if !found {
				t.Fatalf("no request line in %s", logs.String())
			}
			if line.Level != tt.wantLevel || line.Msg != tt.wantMsg || line.Status != tt.wantStatus {
				t.Errorf("request line = %s %q status %d, want %s %q status %d",
					line.Level, line.Msg, line.Status, tt.wantLevel, tt.wantMsg, tt.wantStatus)
			}
			if got := testutil.ToFloat64(mustCounter(t, reg, tt.route, strconv.Itoa(tt.wantStatus))); got != 1 {
				t.Errorf("requests{route=%s,code=%d} = %v, want 1", tt.route, tt.wantStatus, got)
			}
		})
	}
}
