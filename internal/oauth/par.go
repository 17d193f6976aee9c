package oauth

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/ory/fosite"

	"github.com/signet-idp/signet/internal/storage"
)

// Pushed authorization requests (RFC 9126) are composed from fosite's par
// handler; their rows are OAuthRequest rows of kind par, keyed by a hash of
// the request_uri (never the value itself), expiring after
// Options.PARLifespan.

var _ fosite.PARStorage = (*adapter)(nil)

// PARPrefix starts every request_uri this server hands out.
const PARPrefix = "urn:ietf:params:oauth:request_uri:"

// IsPushedRequestURI reports whether a request_uri names a pushed request
// (rather than a request object elsewhere, which is not supported).
func IsPushedRequestURI(v string) bool { return strings.HasPrefix(v, PARPrefix) }

// CreatePARSession stores the pushed request.
// Its expiry is counted on the adapter's clock (fosite's handler stamps
// the session with time.Now), as every read of it is.
func (a *adapter) CreatePARSession(ctx context.Context, requestURI string, r fosite.AuthorizeRequester) error {
	row, err := a.toRow(storage.KindPAR, HashCode(requestURI), r)
	if err != nil {
		return err
	}
	row.ExpiresAt = a.now().Add(a.parLifespan).UTC()
	return a.createRow(ctx, row)
}

// GetPARSession returns the pushed request and uses it up in the same
// step: the row is deactivated with a conditional update, so of two
// requests presenting one request_uri (on any replicas) exactly one gets
// it. An unknown, expired or used request_uri is fosite.ErrNotFound.
func (a *adapter) GetPARSession(ctx context.Context, requestURI string) (fosite.AuthorizeRequester, error) {
	key := HashCode(requestURI)
	row, err := a.getRow(ctx, storage.KindPAR, key)
	if err != nil {
		return nil, err
	}
	if !row.Active {
		return nil, fosite.ErrNotFound.WithDebug("The request_uri was used already.")
	}
	if err := a.store.DeactivateOAuthRequest(ctx, storage.KindPAR, key); errors.Is(err, storage.ErrConflict) {
		return nil, fosite.ErrNotFound.WithDebug("The request_uri was used already.")
	} else if err != nil {
		return nil, mapErr(err)
	}
	a.markInactive(ctx, storage.KindPAR, key, "")
	req, err := a.toRequester(ctx, row, nil)
	if err != nil {
		return nil, err
	}
	ar := fosite.NewAuthorizeRequest()
	ar.Request = *req.(*fosite.Request)
	form := ar.Form
	ar.State = form.Get("state")
	ar.ResponseTypes = fosite.RemoveEmpty(strings.Split(form.Get("response_type"), " "))
	if u, err := url.Parse(form.Get("redirect_uri")); err == nil && form.Get("redirect_uri") != "" {
		ar.RedirectURI = u
	}
	ar.ResponseMode = fosite.ResponseModeType(form.Get("response_mode"))
	if ar.ResponseMode == fosite.ResponseModeDefault {
		ar.ResponseMode = fosite.ResponseModeQuery
	}
	return ar, nil
}

// DeletePARSession keeps the row: GetPARSession used it up already, and
// the inactive row expires with its request_uri (the janitor removes it).
func (a *adapter) DeletePARSession(context.Context, string) error { return nil }
