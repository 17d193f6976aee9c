// Package tracing sets up OpenTelemetry tracing from the standard
// OTEL_* environment variables: a span per HTTP request (otelhttp, named
// after the matched route by internal/web) and per database call
// (otelsql around the PostgreSQL driver), exported by OTLP, and the trace
// and span ids of the request on every log line written with its context.
//
// Tracing is on only when an OTLP endpoint is configured
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and
// OTEL_SDK_DISABLED is not true. Off, nothing is wrapped: the handlers,
// the database driver and the log handler are the plain ones, so tracing
// that is not configured costs nothing.
package tracing
