package main

import (
	"net/http"
	"os"
	"strings"
	"testing"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/signet-idp/signet/internal/adminclient"
	"github.com/signet-idp/signet/internal/tracing/otlptest"
)

// TestTracingCodeFlow: with OTEL_EXPORTER_OTLP_ENDPOINT set, `signet
// serve` exports by OTLP/HTTP a server span per request, named after its
// route, and a span per database call made for it, in the request's
// trace and under its span; health probes make none.
func TestTracingCodeFlow(t *testing.T) {
	col := otlptest.New(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.URL)
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
	for _, k := range []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_TRACES_SAMPLER"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	x := newE2E(t)
	u := x.newUser("user")
	r := x.newRP(adminclient.ClientRegistration{})
	tok, _, _ := r.login(u)
	r.verify(tok)
	if resp, err := http.Get(x.ts.PublicURL + "/health/ready"); err == nil {
		resp.Body.Close()
	}
	x.ts.Stop() // flushes the spans

	spans := col.Spans()
	byID := map[string]otlptest.Span{}
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	// The request span a span belongs to: its nearest server ancestor.
	requestOf := func(s otlptest.Span) (otlptest.Span, bool) {
		for {
			if s.Kind == tracepb.Span_SPAN_KIND_SERVER {
				return s, true
			}
			p, ok := byID[s.ParentSpanID]
			if !ok {
				return otlptest.Span{}, false
			}
			s = p
		}
	}
	requests := map[string]otlptest.Span{}
	dbSpans := map[string][]otlptest.Span{} // by request span id
	for _, s := range spans {
		if s.Service != "signet" {
			t.Errorf("span %q from service %q", s.Name, s.Service)
		}
		if s.Kind == tracepb.Span_SPAN_KIND_SERVER {
			requests[s.Name] = s
			if strings.Contains(s.Name, "/health/") {
				t.Errorf("a probe was traced: %q", s.Name)
			}
			continue
		}
		if strings.HasPrefix(s.Name, "sql.") {
			req, ok := requestOf(s)
			if !ok {
				t.Errorf("database span %q (%s) belongs to no request", s.Name, s.Attributes["db.statement"])
				continue
			}
			if req.TraceID != s.TraceID {
				t.Errorf("database span %q is in trace %s, its request %q in %s", s.Name, s.TraceID, req.Name, req.TraceID)
			}
			dbSpans[req.SpanID] = append(dbSpans[req.SpanID], s)
		}
	}
	for _, name := range []string{"POST /admin/users", "POST /admin/clients", "GET /.well-known/openid-configuration",
		"GET /oauth2/auth", "POST /oauth2/token", "GET /.well-known/jwks.json"} {
		req, ok := requests[name]
		if !ok {
			names := make([]string, 0, len(requests))
			for n := range requests {
				names = append(names, n)
			}
			t.Errorf("no span for %s; request spans: %q", name, names)
			continue
		}
		if req.Attributes["http.route"] == "" || req.Attributes["http.response.status_code"] == "" {
			t.Errorf("%s: attributes %v lack the route or status", name, req.Attributes)
		}
	}
	token := requests["POST /oauth2/token"]
	var queries []string
	for _, s := range dbSpans[token.SpanID] {
		queries = append(queries, s.Name+": "+s.Attributes["db.statement"])
	}
	// The code exchange reads the code and, in one transaction, spends it
	// and stores the tokens.
	all := strings.Join(queries, "\n")
	for _, want := range []string{"sql.conn.begin_tx", "oauth2_requests", "sql.tx.commit"} {
		if !strings.Contains(all, want) {
			t.Errorf("the token request's database spans lack %q:\n%s", want, all)
		}
	}
	t.Logf("%d spans; the token request's database calls:\n%s", len(spans), strings.Join(queries, "\n"))
}
