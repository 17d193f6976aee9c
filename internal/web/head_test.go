package web

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// HEAD is answered wherever GET is, with GET's status and headers and no
// body; routes without GET still answer 405; logs and metrics say HEAD.
func TestAnswerHEAD(t *testing.T) {
	var logs bytes.Buffer
	reg := prometheus.NewRegistry()
	e := New(Options{Name: "public", Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Metrics: NewMetrics(reg)})
	e.GET("/doc", func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "max-age=60")
		return c.JSON(http.StatusOK, map[string]string{"hello": "world"})
	})
	e.POST("/form", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	srv := httptest.NewServer(AnswerHEAD(e))
	defer srv.Close()

	get, err := http.Get(srv.URL + "/doc")
	if err != nil {
		t.Fatal(err)
	}
	getBody, _ := io.ReadAll(get.Body)
	get.Body.Close()

	tests := []struct {
		path       string
		wantStatus int
	}{
		{"/doc", http.StatusOK},
		{"/form", http.StatusMethodNotAllowed},
		{"/missing", http.StatusNotFound},
	}
	for _, tt := range tests {
		resp, err := http.Head(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus || len(body) != 0 {
			t.Errorf("HEAD %s = %d with %d body bytes, want %d and none", tt.path, resp.StatusCode, len(body), tt.wantStatus)
		}
		if tt.path != "/doc" {
			continue
		}
		for _, h := range []string{"Content-Type", "Cache-Control", "Content-Security-Policy"} {
			if resp.Header.Get(h) != get.Header.Get(h) || resp.Header.Get(h) == "" {
				t.Errorf("HEAD %s: %s = %q, GET has %q", tt.path, h, resp.Header.Get(h), get.Header.Get(h))
			}
		}
		if resp.ContentLength != int64(len(getBody)) {
			t.Errorf("HEAD %s: Content-Length %d, GET's body is %d bytes", tt.path, resp.ContentLength, len(getBody))
		}
	}
	if got := countOf(t, reg, "HEAD", "/doc", "200"); got != 1 {
		t.Errorf("HEAD /doc counted %v times under method HEAD, want 1", got)
	}
	if !strings.Contains(logs.String(), `"method":"HEAD","path":"/doc"`) {
		t.Errorf("log does not show the HEAD request: %s", logs.String())
	}
}

// countOf is the request counter with exactly these labels (0: none).
func countOf(t *testing.T, reg *prometheus.Registry, method, route, code string) float64 {
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
			if labels["method"] == method && labels["route"] == route && labels["code"] == code {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
