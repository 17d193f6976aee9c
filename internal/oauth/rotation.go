package oauth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"

	"github.com/signet-idp/signet/internal/storage"
)

// The refresh grace window.
//
// Real clients present one refresh token twice: several tabs refresh at
// once, or a response is lost and the request retried. Revoking the grant
// then logs the person out although nobody replayed anything. Within the
// grace window after a rotation, a repeat of the rotated token therefore
// gets the very same new token pair again and revokes nothing; after the
// window, a repeat revokes the grant as before.
//
// "The same pair again" without storing tokens: the tokens minted by a
// refresh are derived from the presented refresh token with a key only the
// server holds (HMAC), so every request presenting it, on any replica,
// computes the same successor; storage still keeps only their signatures.
// Exactly one request rotates (a conditional update); the others find
// the rotation done and answer its tokens, provided the successor refresh
// token is still active (not itself rotated or revoked).

// rotationInfo separates the successor-derivation key from other keys
// derived from the same secret.
const rotationInfo = "signet/oauth/refresh-successor-key/v1"

// rotationStrategy is fosite's HMAC token strategy with deterministic
// tokens for refresh grants.
type rotationStrategy struct {
	oauth2.CoreStrategy
	// hmacKey is fosite's global HMAC key (the tokens must validate with
	// fosite's own strategy); deriveKey derives successor token keys.
	hmacKey   []byte
	deriveKey []byte
}

var b64 = base64.URLEncoding.WithPadding(base64.NoPadding)

// presentedRefreshToken is the refresh token a refresh grant exchanges
// ("" for any other request).
func presentedRefreshToken(r fosite.Requester) string {
	ar, ok := r.(fosite.AccessRequester)
	if !ok || !ar.GetGrantTypes().ExactOne("refresh_token") {
		return ""
	}
	return ar.GetRequestForm().Get("refresh_token")
}

// successor returns the token of one part ("at" or "rt") derived from the
// presented refresh token, in the prefixed HMAC format, and its
// signature (what storage keeps).
func (s *rotationStrategy) successor(presented, part string) (token, signature string) {
	m := hmac.New(sha256.New, s.deriveKey)
	m.Write([]byte(part))
	m.Write([]byte{0})
	m.Write([]byte(presented))
	key := m.Sum(nil)
	sig := hmac.New(sha512.New512_256, s.hmacKey)
	sig.Write(key)
	signature = b64.EncodeToString(sig.Sum(nil))
	return withPrefix(b64.EncodeToString(key)+"."+signature, part), signature
}

// GenerateAccessToken implements oauth2.AccessTokenStrategy.
func (s *rotationStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	if p := presentedRefreshToken(r); p != "" {
		tok, sig := s.successor(p, partAccess)
		if g := graceOf(ctx); g != nil {
			g.successorAccess = sig
		}
		return tok, sig, nil
	}
	return s.CoreStrategy.GenerateAccessToken(ctx, r)
}

// GenerateRefreshToken implements oauth2.RefreshTokenStrategy.
func (s *rotationStrategy) GenerateRefreshToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	if p := presentedRefreshToken(r); p != "" {
		tok, sig := s.successor(p, partRefresh)
		if g := graceOf(ctx); g != nil {
			g.successorRefresh = sig
		}
		return tok, sig, nil
	}
	return s.CoreStrategy.GenerateRefreshToken(ctx, r)
}

// graceState follows one refresh grant through the adapter.
type graceState struct {
	// repeat is the signature of the presented token once it turned out
	// to be rotated already, within the window.
	repeat string
	// successorAccess and successorRefresh are the signatures of the
	// derived successor tokens.
	successorAccess, successorRefresh string
	// failed: a repeat whose successor is gone (rotated again or revoked).
	failed bool
}

type graceKey struct{}

// WithRefreshGrace marks ctx as a token endpoint refresh grant: only there
// may a rotated refresh token be answered within the grace window
// (introspection and revocation must see it as inactive).
func WithRefreshGrace(ctx context.Context) context.Context {
	return context.WithValue(ctx, graceKey{}, &graceState{})
}

func graceOf(ctx context.Context) *graceState {
	g, _ := ctx.Value(graceKey{}).(*graceState)
	return g
}

// RefreshRepeatRefused reports whether the refresh grant of ctx repeated a
// rotated token within the grace window whose successor is no longer
// valid: the answer is invalid_grant, and nothing was revoked.
func RefreshRepeatRefused(ctx context.Context) bool {
	g := graceOf(ctx)
	return g != nil && g.failed
}

// errSuccessorGone makes fosite fail the refresh (it answers a storage
// error it knows as a failed request, not a server error).
var errSuccessorGone = fosite.ErrInactiveToken.WithDebug("the successor of a repeated refresh token is no longer active")

// withinGrace reports whether a rotated refresh row may still be repeated.
func (a *adapter) withinGrace(row storage.OAuthRequest) bool {
	return a.grace > 0 && !row.RotatedAt.IsZero() && a.now().Before(row.RotatedAt.Add(a.grace))
}

// repeatRotation answers a repeat of the rotated token sig: the grant stays
// as the first rotation left it, and the request answers the successor
// tokens, which exist, when the successor refresh token is still active.
func (a *adapter) repeatRotation(ctx context.Context, g *graceState, sig string) error {
	g.repeat = sig
	if g.successorRefresh == "" {
		return errors.New("oauth: refresh successor was not derived")
	}
	// Straight from the store: the request cache may hold an older read.
	row, err := a.store.GetOAuthRequest(ctx, storage.KindRefreshToken, g.successorRefresh)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !row.Active) {
		g.failed = true
		return errSuccessorGone
	}
	return mapErr(err)
}

// repeated reports whether a row write is one the first rotation already
// made (skipped for a repeat).
func (g *graceState) repeated(sig string) bool {
	return g != nil && g.repeat != "" && !g.failed && (sig == g.successorAccess || sig == g.successorRefresh)
}
