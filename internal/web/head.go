package web

import (
	"context"
	"net/http"
)

// headKey marks the context of a HEAD request served as GET.
type headKey struct{}

// AnswerHEAD answers HEAD wherever GET is answered (RFC 9110 §9.3.2: the
// same status and headers, no body): the route table lists GET only, so
// without it Echo answers HEAD with 405. The request reaches the handlers
// as a GET; the response writer stays the one net/http made for the HEAD
// request, which drops the body and keeps its Content-Length. Wrap each
// listener's Echo with it.
func AnswerHEAD(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead {
			h.ServeHTTP(w, r)
			return
		}
		g := r.Clone(context.WithValue(r.Context(), headKey{}, true))
		g.Method = http.MethodGet
		h.ServeHTTP(w, g)
	})
}

// requestMethod is the method the client sent: HEAD for a HEAD request
// AnswerHEAD passed on as GET.
func requestMethod(r *http.Request) string {
	if v, _ := r.Context().Value(headKey{}).(bool); v {
		return http.MethodHead
	}
	return r.Method
}
