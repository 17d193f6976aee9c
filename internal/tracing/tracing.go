package tracing

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/XSAM/otelsql"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	noopmetric "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Tracing is the process's tracing, on or off. The zero value (and nil)
// is off.
type Tracing struct {
	provider   *sdktrace.TracerProvider
	propagator propagation.TextMapPropagator
}

// Setup turns tracing on when the environment (read through lookup, as
// the OTLP exporter reads os.Getenv itself) names an OTLP endpoint. The
// exporter takes every OTEL_EXPORTER_OTLP_* setting (endpoint, headers,
// timeout, compression, certificates); OTEL_EXPORTER_OTLP_PROTOCOL (or
// _TRACES_PROTOCOL) is http/protobuf (the default) or grpc. The SDK
// takes OTEL_TRACES_SAMPLER(_ARG) and OTEL_BSP_*; OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES name the service (default signet).
func Setup(ctx context.Context, lookup func(string) (string, bool), version string) (*Tracing, error) {
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	if strings.EqualFold(get("OTEL_SDK_DISABLED"), "true") ||
		(get("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "") {
		return &Tracing{}, nil
	}
	if e := get("OTEL_TRACES_EXPORTER"); e != "" && e != "otlp" {
		if e == "none" {
			return &Tracing{}, nil
		}
		return nil, fmt.Errorf("tracing: OTEL_TRACES_EXPORTER %q is not supported (otlp or none)", e)
	}
	protocol := get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if protocol == "" {
		protocol = get("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	var client otlptrace.Client
	switch protocol {
	case "", "http/protobuf":
		client = otlptracehttp.NewClient()
	case "grpc":
		client = otlptracegrpc.NewClient()
	default:
		return nil, fmt.Errorf("tracing: OTEL_EXPORTER_OTLP_PROTOCOL %q is not supported (http/protobuf or grpc)", protocol)
	}
	exporter, err := otlptrace.New(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("tracing: OTLP exporter: %w", err)
	}
	// Later options win: the environment's service name over ours.
	res, err := resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithAttributes(attribute.String("service.name", "signet"), attribute.String("service.version", version)),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	return &Tracing{
		provider:   sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res)),
		propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}, nil
}

// Enabled reports whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t != nil && t.provider != nil }

// TracerProvider is the provider spans come from; nil when off.
func (t *Tracing) TracerProvider() trace.TracerProvider {
	if !t.Enabled() {
		return nil
	}
	return t.provider
}

// Shutdown exports the spans still buffered and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	return t.provider.Shutdown(ctx)
}

// Handler starts a server span for each request h serves (continuing the
// caller's trace from a traceparent header), except the health probes and
// metrics scrapes, which would drown the rest. internal/web renames it
// after the matched route. Off, it returns h.
func (t *Tracing) Handler(h http.Handler, listener string) http.Handler {
	if !t.Enabled() {
		return h
	}
	return otelhttp.NewHandler(h, listener,
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithPropagators(t.propagator),
		otelhttp.WithMeterProvider(noopmetric.NewMeterProvider()), // Prometheus has the request metrics
		otelhttp.WithFilter(func(r *http.Request) bool {
			return !strings.HasPrefix(r.URL.Path, "/health/") && r.URL.Path != "/metrics"
		}),
	)
}

// OpenDB opens a database over the driver's connector with a span per
// statement, transaction, commit and rollback (the statement text, never
// its arguments), for calls made within a traced request; the pool's own
// connects and pings and the background jobs' calls make none. Off, it is
// sql.OpenDB.
func (t *Tracing) OpenDB(c driver.Connector) *sql.DB {
	if !t.Enabled() {
		return sql.OpenDB(c)
	}
	return otelsql.OpenDB(c,
		otelsql.WithTracerProvider(t.provider),
		otelsql.WithMeterProvider(noopmetric.NewMeterProvider()),
		otelsql.WithAttributes(attribute.String("db.system.name", "postgresql")),
		otelsql.WithSpanOptions(otelsql.SpanOptions{
			DisableErrSkip:       true,
			OmitConnResetSession: true,
			OmitRows:             true,
			OmitConnectorConnect: true,
			SpanFilter: func(ctx context.Context, _ otelsql.Method, _ string, _ []driver.NamedValue) bool {
				return trace.SpanContextFromContext(ctx).IsValid()
			},
		}),
	)
}

// LogHandler adds trace_id and span_id to every record logged with the
// context of a traced request. Off, it returns h.
func (t *Tracing) LogHandler(h slog.Handler) slog.Handler {
	if !t.Enabled() {
		return h
	}
	return logHandler{h}
}

type logHandler struct{ slog.Handler }

func (h logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return logHandler{h.Handler.WithAttrs(as)}
}
func (h logHandler) WithGroup(name string) slog.Handler { return logHandler{h.Handler.WithGroup(name)} }
