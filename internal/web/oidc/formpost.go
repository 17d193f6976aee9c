package oidc

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
)

// formPostScript submits the response form at once; the page allows this
// one script by its hash and nothing else.
const formPostScript = `document.forms[0].submit()`

// FormPostTemplate renders response_mode=form_post answers (hand it to
// oauth.Options.FormPostTemplate). Without JavaScript a button submits.
func FormPostTemplate() *template.Template {
	return template.Must(template.New("form_post").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Continue to the application</title></head>
<body><form method="post" action="{{.RedirURL}}">
{{- range $key, $values := .Parameters}}{{range $values}}
<input type="hidden" name="{{$key}}" value="{{.}}">{{end}}{{end}}
<noscript><p>Press the button to continue to the application.</p><button type="submit">Continue</button></noscript>
</form><script>` + formPostScript + `</script></body></html>`))
}

func formPostCSP(redirect *url.URL) string {
	sum := sha256.Sum256([]byte(formPostScript))
	target := "'none'"
	if redirect != nil {
		switch redirect.Scheme {
		case "http", "https":
			target = redirect.Scheme + "://" + redirect.Host
		default:
			target = redirect.Scheme + ":"
		}
	}
	return "default-src 'none'; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"form-action " + target + "; frame-ancestors 'none'; base-uri 'none'"
}

// setFormPostCSP replaces the default CSP (no scripts, forms to Signet
// only) for a page that posts the response to the client.
func setFormPostCSP(h http.Header, redirect *url.URL) {
	h.Set("Content-Security-Policy", formPostCSP(redirect))
}
