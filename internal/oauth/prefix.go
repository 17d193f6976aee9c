package oauth

import (
	"context"
	"strings"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
)

// Token prefixes. Codes and tokens start with "signet_ac_", "signet_at_"
// and "signet_rt_", so a leaked one is recognisable as Signet's (secret
// scanners match on such prefixes). Tokens issued before carry fosite's
// "ory_" prefix and stay valid: the prefix is not part of what storage
// keys them by (the signature after the dot) nor of what the HMAC covers.
const (
	tokenPrefix       = "signet_"
	legacyTokenPrefix = "ory_"
)

// Token parts, as in fosite: authorization code, access and refresh token.
const (
	partCode    = "ac"
	partAccess  = "at"
	partRefresh = "rt"
)

// prefixedStrategy is fosite's HMAC strategy with Signet's prefixes; it
// still accepts fosite's.
type prefixedStrategy struct {
	*oauth2.HMACSHAStrategyUnPrefixed
}

var _ oauth2.CoreStrategy = prefixedStrategy{}

func withPrefix(token, part string) string {
	if token == "" {
		return ""
	}
	return tokenPrefix + part + "_" + token
}

// trimPrefix removes the prefix of the part, Signet's or fosite's; a token
// of another part keeps its prefix and fails validation.
func trimPrefix(token, part string) string {
	for _, p := range []string{tokenPrefix, legacyTokenPrefix} {
		if rest, ok := strings.CutPrefix(token, p+part+"_"); ok {
			return rest
		}
	}
	return token
}

// GenerateAccessToken implements oauth2.AccessTokenStrategy.
func (s prefixedStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	tok, sig, err := s.HMACSHAStrategyUnPrefixed.GenerateAccessToken(ctx, r)
	return withPrefix(tok, partAccess), sig, err
}

// ValidateAccessToken implements oauth2.AccessTokenStrategy.
func (s prefixedStrategy) ValidateAccessToken(ctx context.Context, r fosite.Requester, token string) error {
	return s.HMACSHAStrategyUnPrefixed.ValidateAccessToken(ctx, r, trimPrefix(token, partAccess))
}

// GenerateRefreshToken implements oauth2.RefreshTokenStrategy.
func (s prefixedStrategy) GenerateRefreshToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	tok, sig, err := s.HMACSHAStrategyUnPrefixed.GenerateRefreshToken(ctx, r)
	return withPrefix(tok, partRefresh), sig, err
}

// ValidateRefreshToken implements oauth2.RefreshTokenStrategy.
func (s prefixedStrategy) ValidateRefreshToken(ctx context.Context, r fosite.Requester, token string) error {
	return s.HMACSHAStrategyUnPrefixed.ValidateRefreshToken(ctx, r, trimPrefix(token, partRefresh))
}

// GenerateAuthorizeCode implements oauth2.AuthorizeCodeStrategy.
func (s prefixedStrategy) GenerateAuthorizeCode(ctx context.Context, r fosite.Requester) (string, string, error) {
	tok, sig, err := s.HMACSHAStrategyUnPrefixed.GenerateAuthorizeCode(ctx, r)
	return withPrefix(tok, partCode), sig, err
}

// ValidateAuthorizeCode implements oauth2.AuthorizeCodeStrategy.
func (s prefixedStrategy) ValidateAuthorizeCode(ctx context.Context, r fosite.Requester, token string) error {
	return s.HMACSHAStrategyUnPrefixed.ValidateAuthorizeCode(ctx, r, trimPrefix(token, partCode))
}
