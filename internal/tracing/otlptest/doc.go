// Package otlptest is an in-process OTLP/HTTP trace collector for tests:
// it decodes the protobuf export requests the OTLP exporter sends and
// keeps the spans.
package otlptest
