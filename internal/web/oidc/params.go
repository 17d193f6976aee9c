package oidc

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
)

// Input bounds. Anything larger is invalid_request, never a 500 or a slow
// parse.
const (
	// maxFormBytes bounds the query string and the body of every endpoint.
	maxFormBytes = 16 << 10
	// maxParams bounds the number of distinct parameters.
	maxParams = 64
	// defaultParamLen bounds any parameter not listed in paramLimits.
	defaultParamLen = 2048
)

// paramLimits are the longest accepted values, in bytes.
var paramLimits = map[string]int{
	"client_id":             256,
	"client_secret":         512,
	"redirect_uri":          2048,
	"scope":                 1024,
	"state":                 1024,
	"nonce":                 1024,
	"login_hint":            512,
	"id_token_hint":         8192,
	"code_challenge":        128,
	"code_challenge_method": 16,
	"code_verifier":         256,
	"code":                  512,
	"refresh_token":         512,
	// JWT access tokens (RFC 9068) are longer than opaque ones.
	"token":           8192,
	"token_type_hint": 32,
	"grant_type":      64,
	"response_type":   64,
	"response_mode":   32,
	"prompt":          64,
	"max_age":         16,
	"access_token":    8192,
	"resource":        2048,
}

var errFormTooLarge = errors.New("the request is too large or malformed")

// parseForm reads the query and (for POST) a url-encoded body within
// maxFormBytes into r.Form and r.PostForm. Other body types are refused:
// OAuth 2.0 bodies are application/x-www-form-urlencoded.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	if len(r.URL.RawQuery) > maxFormBytes {
		return errFormTooLarge
	}
	if r.Method == http.MethodPost {
		ct := r.Header.Get("Content-Type")
		mt, _, err := mime.ParseMediaType(ct)
		if ct != "" && (err != nil || mt != "application/x-www-form-urlencoded") {
			return errors.New("the request body must be application/x-www-form-urlencoded")
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	}
	if err := r.ParseForm(); err != nil {
		return errFormTooLarge
	}
	return nil
}

// resourceAsAudience reads an RFC 8707 resource indicator as the
// requested audience fosite checks against the client's registered
// audiences (it knows only the audience parameter).
func resourceAsAudience(v url.Values) {
	if r := v.Get("resource"); r != "" && !v.Has("audience") {
		v.Set("audience", r)
	}
}

// checkParams rejects repeated parameters (RFC 6749 §3.1: parameters MUST
// NOT be included more than once), over-long values and too many
// parameters. The message names the parameter.
func checkParams(v url.Values) error {
	if len(v) > maxParams {
		return fmt.Errorf("the request has more than %d parameters", maxParams)
	}
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		vals := v[k]
		if len(vals) > 1 {
			return fmt.Errorf("the parameter %q was sent more than once", k)
		}
		limit, ok := paramLimits[k]
		if !ok {
			limit = defaultParamLen
		}
		if len(k) > 64 {
			return errors.New("a parameter name is too long")
		}
		if len(vals) == 1 && len(vals[0]) > limit {
			return fmt.Errorf("the parameter %q is too long (at most %d bytes)", k, limit)
		}
	}
	return nil
}
