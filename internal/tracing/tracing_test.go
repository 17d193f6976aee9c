package tracing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/signet-idp/signet/internal/tracing"
	"github.com/signet-idp/signet/internal/tracing/otlptest"
)

type plainHandler struct{}

func (*plainHandler) ServeHTTP(http.ResponseWriter, *http.Request) {}

// TestOffWithoutEndpoint: without an OTLP endpoint (or with the SDK
// disabled) nothing is wrapped.
func TestOffWithoutEndpoint(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"unset":    {},
		"disabled": {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"},
		"none":     {"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"},
	} {
		t.Run(name, func(t *testing.T) {
			tr, err := tracing.Setup(context.Background(), func(k string) (string, bool) { v, ok := env[k]; return v, ok }, "test")
			if err != nil {
				t.Fatal(err)
			}
			h := &plainHandler{}
			lh := slog.NewTextHandler(&bytes.Buffer{}, nil)
			if tr.Enabled() || tr.TracerProvider() != nil || tr.Handler(h, "public") != http.Handler(h) || tr.LogHandler(lh) != slog.Handler(lh) {
				t.Error("tracing is on, or wraps something, without an endpoint")
			}
			if err := tr.Shutdown(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	_, err := tracing.Setup(context.Background(), func(k string) (string, bool) {
		v, ok := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}[k]
		return v, ok
	}, "test")
	if err == nil || !strings.Contains(err.Error(), "http/json") {
		t.Errorf("unsupported protocol: %v", err)
	}
}

// TestRequestSpanAndLogIDs: a request is a server span continuing the
// caller's trace (traceparent), exported by OTLP/HTTP with the service's
// name and version, and a line logged with its context carries its
// trace and span ids. Health probes are not traced.
func TestRequestSpanAndLogIDs(t *testing.T) {
	col := otlptest.New(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.URL)
	t.Setenv("OTEL_SERVICE_NAME", "")
	os.Unsetenv("OTEL_SERVICE_NAME")
	tr, err := tracing.Setup(context.Background(), os.LookupEnv, "v1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Enabled() {
		t.Fatal("tracing is off with an endpoint set")
	}
	var logs bytes.Buffer
	logger := slog.New(tr.LogHandler(slog.NewJSONHandler(&logs, nil)))
	srv := httptest.NewServer(tr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logger.InfoContext(r.Context(), "handled")
	}), "public"))
	defer srv.Close()

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest("GET", srv.URL+"/oauth2/auth", nil)
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	for _, r := range []*http.Request{req, mustRequest(t, srv.URL+"/health/ready")} {
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	spans := col.Spans()
	if len(spans) != 1 {
		t.Fatalf("exported %d spans, want 1 (the probe untraced): %+v", len(spans), spans)
	}
	s := spans[0]
	if s.TraceID != traceID || s.ParentSpanID != "00f067aa0ba902b7" || s.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("span %+v does not continue the caller's trace as a server span", s)
	}
	if s.Service != "signet" || s.Attributes["http.request.method"] != "GET" {
		t.Errorf("span %+v: want service signet and the method", s)
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	var got map[string]any
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &got) != nil {
		t.Fatalf("log %q", logs.String())
	}
	if got["trace_id"] != traceID || got["span_id"] != s.SpanID {
		t.Errorf("log line %v: want trace_id %s and span_id %s", got, traceID, s.SpanID)
	}
}

func mustRequest(t *testing.T, u string) *http.Request {
	r, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
