// Package web builds the Echo instances both listeners run on: request
// logging that never records query strings (they carry codes and tokens),
// Prometheus request metrics by route and status, security headers, body
// limits, panic recovery, and the one error handler that answers JSON or a
// plain page and never leaks internal details.
package web
