package oidc

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// violation is the first reason checkParams must refuse v, "" when none:
// the contract of checkParams written out plainly, to hold it against.
func violation(v url.Values) string {
	if len(v) > maxParams {
		return "too many parameters"
	}
	for k, vals := range v {
		limit, ok := paramLimits[k]
		if !ok {
			limit = defaultParamLen
		}
		switch {
		case len(vals) > 1:
			return "repeated " + k
		case len(k) > 64:
			return "long name"
		case len(vals) == 1 && len(vals[0]) > limit:
			return "long " + k
		}
	}
	return ""
}

// FuzzCheckParams: checkParams accepts exactly the parameter sets with no
// repeated parameter, no over-long name or value and at most maxParams
// names; it neither lets a violation through nor refuses a clean request.
func FuzzCheckParams(f *testing.F) {
	f.Add("client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&response_type=code&scope=openid&state=xyz")
	f.Add("grant_type=authorization_code&code=abc&code_verifier=" + strings.Repeat("v", 43))
	f.Add("client_id=a&client_id=b")
	f.Add("client_id=a&client_id=a")
	f.Add("scope=&scope=")
	f.Add("code_challenge_method=" + strings.Repeat("S", 17))
	f.Add("code_challenge_method=" + strings.Repeat("S", 16))
	f.Add("unknown=" + strings.Repeat("x", defaultParamLen+1))
	f.Add(strings.Repeat("n", 65) + "=1")
	f.Add(strings.Repeat("n", 64) + "=1")
	f.Add("a=1&b=2&c=3&%00=&%ff=%ff")
	f.Add("id_token_hint=" + strings.Repeat("h", 8193))
	var many []string
	for i := 0; i < maxParams+1; i++ {
		many = append(many, "p"+strings.Repeat("x", i)+"=1")
	}
	f.Add(strings.Join(many, "&"))
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw) // keeps what parses, as r.ParseForm would refuse the rest
		err := checkParams(v)
		why := violation(v)
		if err == nil && why != "" {
			t.Fatalf("checkParams accepted %q: %s", raw, why)
		}
		if err != nil && why == "" {
			t.Fatalf("checkParams refused clean parameters %q: %v", raw, err)
		}
	})
}

// FuzzParseForm: parseForm, then checkParams, the way every endpoint reads
// its input. Whatever the method, content type, query and body, it never
// panics; it refuses an over-long query or body and any body that is not
// url-encoded; its error messages are fixed text (nothing of the request
// is echoed); and what it accepts is within the bounds.
func FuzzParseForm(f *testing.F) {
	form := "application/x-www-form-urlencoded"
	f.Add(false, "", "client_id=app&response_type=code", []byte(nil))
	f.Add(true, form, "", []byte("grant_type=client_credentials&scope=api"))
	f.Add(true, form+"; charset=utf-8", "a=1", []byte("a=2"))
	f.Add(true, "application/json", "", []byte(`{"grant_type":"client_credentials"}`))
	f.Add(true, "multipart/form-data; boundary=x", "", []byte("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--\r\n"))
	f.Add(true, "", "", []byte("grant_type=x"))
	f.Add(true, "text/plain;;", "", []byte("x"))
	f.Add(true, form, "", bytes.Repeat([]byte("a"), maxFormBytes+1))
	f.Add(false, "", strings.Repeat("q", maxFormBytes+1), []byte(nil))
	f.Add(false, "", "a=1;b=2", []byte(nil))
	f.Add(true, form, "", []byte("a=%zz&b=%"))
	f.Fuzz(func(t *testing.T, post bool, contentType, rawQuery string, body []byte) {
		method := http.MethodGet
		if post {
			method = http.MethodPost
		}
		r := &http.Request{
			Method: method, URL: &url.URL{Path: PathToken, RawQuery: rawQuery},
			Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
		}
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		err := parseForm(httptest.NewRecorder(), r)
		if err != nil {
			if msg := err.Error(); msg != errFormTooLarge.Error() && msg != "the request body must be application/x-www-form-urlencoded" {
				t.Fatalf("parseForm error %q is not one of its fixed messages", msg)
			}
			return
		}
		if len(rawQuery) > maxFormBytes {
			t.Fatalf("parseForm accepted a %d-byte query", len(rawQuery))
		}
		if post && len(body) > maxFormBytes && strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "application/x-www-form-urlencoded") {
			t.Fatalf("parseForm accepted a %d-byte body", len(body))
		}
		if post && len(r.PostForm) > 0 && contentType == "" {
			t.Fatalf("parseForm read a body without a Content-Type: %v", r.PostForm)
		}
		if r.Form == nil {
			t.Fatal("parseForm succeeded without filling r.Form")
		}
		if err := checkParams(r.Form); err == nil {
			if why := violation(r.Form); why != "" {
				t.Fatalf("the request passed both checks: %s", why)
			}
		}
	})
}
