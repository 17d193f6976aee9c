package oauth

import (
	"context"
	"html/template"
	"net/http"

	"github.com/ory/fosite"
	"golang.org/x/text/language"
)

// RFC 9207: every authorization response, success or error, carries the
// issuer, so a client talking to several providers can tell which one
// answered (mix-up attacks). fosite v0.49 has no notion of it: the success
// parameters are added to its responder, and the redirect of an error is
// written here (fosite's writer has no hook for extra parameters).

// WriteAuthorizeResponse is fosite's, with iss among the parameters (query,
// fragment or form_post alike).
func (p *Provider) WriteAuthorizeResponse(ctx context.Context, rw http.ResponseWriter, ar fosite.AuthorizeRequester, resp fosite.AuthorizeResponder) {
	resp.AddParameter("iss", p.issuer)
	p.OAuth2Provider.WriteAuthorizeResponse(ctx, rw, ar, resp)
}

// WriteAuthorizeError sends the error to the client's redirect URI with
// state and iss, in the request's response mode. An error for a request
// whose redirect URI is not valid is fosite's JSON answer (the HTTP layer
// never lets such an error get here: it shows a page).
func (p *Provider) WriteAuthorizeError(ctx context.Context, rw http.ResponseWriter, ar fosite.AuthorizeRequester, err error) {
	if !ar.IsRedirectURIValid() {
		p.OAuth2Provider.WriteAuthorizeError(ctx, rw, ar, err)
		return
	}
	rw.Header().Set("Cache-Control", "no-store")
	rw.Header().Set("Pragma", "no-cache")
	var lang language.Tag
	if g, ok := ar.(fosite.G11NContext); ok {
		lang = g.GetLang()
	}
	rfcerr := fosite.ErrorToRFC6749Error(err).
		WithLegacyFormat(p.config.GetUseLegacyErrorFormat(ctx)).
		WithExposeDebug(p.config.GetSendDebugMessagesToClients(ctx)).
		WithLocalizer(p.config.GetMessageCatalog(ctx), lang)
	params := rfcerr.ToValues()
	params.Set("state", ar.GetState())
	params.Set("iss", p.issuer)

	// The redirect URI is a copy: the requester's must not collect the
	// error parameters.
	redirect := *ar.GetRedirectURI()
	redirect.Fragment = ""
	switch ar.GetResponseMode() {
	case fosite.ResponseModeFormPost:
		rw.Header().Set("Content-Type", "text/html;charset=UTF-8")
		fosite.WriteAuthorizeFormPostResponse(redirect.String(), params, p.formPostTemplate(ctx), rw)
		return
	case fosite.ResponseModeFragment:
		rw.Header().Set("Location", redirect.String()+"#"+params.Encode())
	default:
		q := redirect.Query()
		for k, vs := range q {
			for _, v := range vs {
				params.Add(k, v)
			}
		}
		redirect.RawQuery = params.Encode()
		rw.Header().Set("Location", redirect.String())
	}
	rw.WriteHeader(http.StatusSeeOther)
}

func (p *Provider) formPostTemplate(ctx context.Context) *template.Template {
	if t := p.config.GetFormPostHTMLTemplate(ctx); t != nil {
		return t
	}
	return fosite.DefaultFormPostTemplate
}
