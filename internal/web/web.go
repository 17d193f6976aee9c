package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Options configures New.
type Options struct {
	// Name labels metrics and logs: "public" or "admin".
	Name   string
	Logger *slog.Logger
	// Metrics records requests; nil records nothing.
	Metrics *Metrics
	// HTTPS adds Strict-Transport-Security (the issuer is https).
	HTTPS bool
	// BodyLimit caps request bodies, e.g. "1M".
	BodyLimit string
	// TrustedProxies are CIDRs whose X-Forwarded-For names the client.
	// Without them the connection's address is the client's: Echo would
	// otherwise believe any X-Forwarded-For, and a forged one would dodge
	// per-address login throttling.
	TrustedProxies []string
}

// New returns an Echo instance with Signet's middleware and error handler.
func New(o Options) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Logger.SetOutput(discard{})
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	e.HTTPErrorHandler = errorHandler(logger)
	e.IPExtractor = ipExtractor(o.TrustedProxies)
	limit := o.BodyLimit
	if limit == "" {
		limit = "1M"
	}
	// observe is outermost so it sees the final status, after the error
	// handler has answered; recoverer sits inside it so a panic is
	// answered and counted like any other error.
	e.Use(
		nameSpan,
		observe(logger, o.Metrics, o.Name),
		recoverer(logger),
		SecurityHeaders(o.HTTPS),
		middleware.BodyLimit(limit),
	)
	return e
}

// ipExtractor trusts X-Forwarded-For only from the given proxies (CIDRs
// validated by config; a bad one is ignored here).
func ipExtractor(trusted []string) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	// Loopback, link-local and private ranges are trusted by default in
	// Echo; only the operator's list should be.
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, cidr := range trusted {
		if _, n, err := net.ParseCIDR(cidr); err == nil {
			opts = append(opts, echo.TrustIPRange(n))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// recoverer turns a panic into a 500 with a generic message and logs it;
// Echo's own Recover would print the stack to its logger.
func recoverer(logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					logger.Error("panic serving request", "path", c.Request().URL.Path, "panic", fmt.Sprint(r))
					err = echo.NewHTTPError(http.StatusInternalServerError)
				}
			}()
			return next(c)
		}
	}
}

// nameSpan names the request's span after the matched route when tracing
// records one (internal/tracing starts it around the listener), so traces
// group by endpoint as the metrics do. Without tracing the span is the
// no-op one and this costs a context lookup.
func nameSpan(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if span := trace.SpanFromContext(c.Request().Context()); span.IsRecording() {
			route := c.Path()
			if route == "" || route == "/*" {
				route = "unmatched"
			}
			span.SetName(requestMethod(c.Request()) + " " + route)
			span.SetAttributes(attribute.String("http.route", route))
		}
		return next(c)
	}
}

// StatusClientClosedRequest is nginx's status for a request whose client
// went away before the answer: it is no server error, and logging it as
// 500 would page someone for a user closing a tab.
const StatusClientClosedRequest = 499

// observe answers any error through the error handler, then logs one line
// per request (method, path, status, duration: never the query, which may
// carry codes, tokens or challenges) and records the metrics.
func observe(logger *slog.Logger, m *Metrics, name string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			gone := clientGone(c, err)
			if err != nil && !gone {
				c.Error(err)
			}
			elapsed := time.Since(start)
			status := c.Response().Status
			level, msg := slog.LevelInfo, "request"
			switch {
			case gone:
				// Nobody reads an answer; the handler's error is the
				// cancellation the disconnect caused.
				status, msg = StatusClientClosedRequest, "client closed request"
			case status >= 500:
				level = slog.LevelError
			}
			m.observe(c, name, status, elapsed)
			logger.Log(c.Request().Context(), level, msg,
				"listener", name,
				"method", requestMethod(c.Request()),
				"path", c.Request().URL.Path,
				"status", status,
				"duration_ms", elapsed.Milliseconds(),
				"ip", c.RealIP())
			return nil
		}
	}
}

// clientGone reports whether the request failed because its client
// disconnected: net/http cancels the request context when the connection
// closes (it does not on shutdown, which waits), and the handler then
// either returned an error or answered 5xx for the cancelled database
// call. A handler that finished its answer before noticing is not
// counted.
func clientGone(c echo.Context, err error) bool {
	if !errors.Is(c.Request().Context().Err(), context.Canceled) {
		return false
	}
	return err != nil || c.Response().Status >= 500
}

// SecurityHeaders sets the headers every response carries. Handlers that
// need another CSP (an auto-submitting form_post page) overwrite it.
func SecurityHeaders(https bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", DefaultCSP)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			if https {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			return next(c)
		}
	}
}

// DefaultCSP allows only Signet's own stylesheet, images and forms posting
// back to Signet; no scripts at all.
const DefaultCSP = "default-src 'none'; style-src 'self'; img-src 'self' https: data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// APIError is the JSON body of an error answer, in the OAuth2 shape every
// client of Signet already parses.
type APIError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// errorHandler answers errors that reached Echo: 4xx keep their message,
// 5xx get a generic one (details go to the log). Browsers get a small page.
func errorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code := http.StatusInternalServerError
		msg := ""
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code = he.Code
			if m, ok := he.Message.(string); ok {
				msg = m
			}
		}
		if code >= 500 {
			if he == nil || he.Internal != nil {
				logger.Error("request failed", "path", c.Request().URL.Path, "err", err)
			}
			msg = "the server could not complete the request"
			if code == http.StatusServiceUnavailable {
				msg = "the service is temporarily unavailable; try again shortly"
			}
		}
		if msg == "" {
			msg = strings.ToLower(http.StatusText(code))
		}
		if requestMethod(c.Request()) == http.MethodHead {
			_ = c.NoContent(code)
			return
		}
		if wantsHTML(c.Request()) {
			_ = c.HTML(code, errorPage(code, msg))
			return
		}
		_ = c.JSON(code, APIError{Error: errorCode(code), Description: msg})
	}
}

func errorCode(code int) string {
	switch {
	case code == http.StatusNotFound:
		return "not_found"
	case code == http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case code == http.StatusUnauthorized:
		return "unauthorized"
	case code == http.StatusForbidden:
		return "forbidden"
	case code == http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case code == http.StatusServiceUnavailable:
		return "temporarily_unavailable"
	case code >= 500:
		return "server_error"
	default:
		return "invalid_request"
	}
}

func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

var errorTmpl = template.Must(template.New("e").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">` +
	`<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Status}}</title></head>` +
	`<body><main><h1>{{.Status}}</h1><p>{{.Message}}</p></main></body></html>`))

func errorPage(code int, msg string) string {
	var b strings.Builder
	_ = errorTmpl.Execute(&b, struct{ Status, Message string }{strconv.Itoa(code) + " " + http.StatusText(code), msg})
	return b.String()
}

// Metrics are the HTTP request metrics of both listeners.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the request metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "signet_http_requests_total",
			Help: "HTTP requests by listener, method, route and status code.",
		}, []string{"listener", "method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "signet_http_request_duration_seconds",
			Help:    "HTTP request latency by listener, method and route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"listener", "method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *Metrics) observe(c echo.Context, name string, status int, elapsed time.Duration) {
	if m == nil {
		return
	}
	// The route template, not the path, keeps label cardinality bounded
	// (ids never become labels).
	route := c.Path()
	if route == "" || status == http.StatusNotFound && route == "/*" {
		route = "unmatched"
	}
	method := requestMethod(c.Request())
	m.requests.WithLabelValues(name, method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(name, method, route).Observe(elapsed.Seconds())
}
