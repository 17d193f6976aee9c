package clients

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"net/url"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-idp/signet/internal/storage"
)

// AssertionAlgorithms are the JWS algorithms a private_key_jwt client may
// sign its assertions with.
var AssertionAlgorithms = []string{"RS256", "ES256", "EdDSA"}

const (
	maxJWKSBytes    = 16 << 10
	maxJWKSKeys     = 10
	maxAudiences    = 20
	minRSAKeyBits   = 2048
	maxAudienceLen  = 2000
	maxJWKSURILen   = 2000
	fieldJWKS       = "jwks"
	fieldJWKSURI    = "jwks_uri"
	fieldAuthAlg    = "token_endpoint_auth_signing_alg"
	fieldATFormat   = "access_token_format"
	fieldAudience   = "audience"
	fieldAuthMethod = "token_endpoint_auth_method"
)

// ParseJWKS reads a client's public key set: JSON, public keys only, each
// usable for one of AssertionAlgorithms (RSA of at least 2048 bits, EC
// P-256, Ed25519).
func ParseJWKS(raw string) (*jose.JSONWebKeySet, error) {
	if len(raw) > maxJWKSBytes {
		return nil, invalid(fieldJWKS, "must be at most %d bytes", maxJWKSBytes)
	}
	return ParseJWKSBytes([]byte(raw))
}

// ParseJWKSBytes is ParseJWKS without the size bound (a fetched set is
// bounded by its fetcher).
func ParseJWKSBytes(raw []byte) (*jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		return nil, invalid(fieldJWKS, "is not a JSON Web Key Set: %v", err)
	}
	if len(set.Keys) == 0 || len(set.Keys) > maxJWKSKeys {
		return nil, invalid(fieldJWKS, "must hold from 1 to %d keys", maxJWKSKeys)
	}
	for i, k := range set.Keys {
		if !k.IsPublic() {
			return nil, invalid(fieldJWKS, "key %d is a private key: register the public key only", i)
		}
		if k.Use != "" && k.Use != "sig" {
			return nil, invalid(fieldJWKS, "key %d is not a signing key (use %q)", i, k.Use)
		}
		if k.Algorithm != "" && !KeyMatchesAlgorithm(k, k.Algorithm) {
			return nil, invalid(fieldJWKS, "key %d: alg %q is not one of %s for this type of key", i, k.Algorithm, strings.Join(AssertionAlgorithms, ", "))
		}
		switch pk := k.Key.(type) {
		case *rsa.PublicKey:
			if pk.N.BitLen() < minRSAKeyBits {
				return nil, invalid(fieldJWKS, "key %d: RSA keys must have at least %d bits", i, minRSAKeyBits)
			}
		case *ecdsa.PublicKey:
			if pk.Curve != elliptic.P256() {
				return nil, invalid(fieldJWKS, "key %d: EC keys must be on P-256 (ES256)", i)
			}
		case ed25519.PublicKey:
		default:
			return nil, invalid(fieldJWKS, "key %d: only RSA, EC P-256 and Ed25519 keys are supported", i)
		}
	}
	return &set, nil
}

// KeyMatchesAlgorithm reports whether a public key can verify alg.
func KeyMatchesAlgorithm(k jose.JSONWebKey, alg string) bool {
	if k.Algorithm != "" && k.Algorithm != alg {
		return false
	}
	switch k.Key.(type) {
	case *rsa.PublicKey:
		return alg == "RS256"
	case *ecdsa.PublicKey:
		return alg == "ES256"
	case ed25519.PublicKey:
		return alg == "EdDSA"
	}
	return false
}

// validateProtocol checks the metadata of issue 13 (part A): the keys of a
// private_key_jwt client, its assertion algorithm, the access token format
// and the audiences.
func validateProtocol(r Registration) (Registration, error) {
	r.JWKS = strings.TrimSpace(r.JWKS)
	r.JWKSURI = strings.TrimSpace(r.JWKSURI)
	r.TokenEndpointAuthSigningAlg = strings.TrimSpace(r.TokenEndpointAuthSigningAlg)
	pkjwt := r.TokenEndpointAuthMethod == storage.AuthMethodPrivateKeyJWT
	switch {
	case r.JWKS != "" && r.JWKSURI != "":
		return r, invalid(fieldJWKS, "give jwks or jwks_uri, not both")
	case pkjwt && r.JWKS == "" && r.JWKSURI == "":
		return r, invalid(fieldJWKS, "private_key_jwt needs the client's public keys: jwks or jwks_uri")
	case !pkjwt && (r.JWKS != "" || r.JWKSURI != "" || r.TokenEndpointAuthSigningAlg != ""):
		return r, invalid(fieldAuthMethod, "jwks, jwks_uri and token_endpoint_auth_signing_alg need token_endpoint_auth_method private_key_jwt")
	}
	if r.JWKS != "" {
		if _, err := ParseJWKS(r.JWKS); err != nil {
			return r, err
		}
	}
	if r.JWKSURI != "" {
		if err := validateJWKSURI(r.JWKSURI); err != nil {
			return r, err
		}
	}
	if a := r.TokenEndpointAuthSigningAlg; a != "" && !contains(AssertionAlgorithms, a) {
		return r, invalid(fieldAuthAlg, "%q is not supported (one of: %s)", a, strings.Join(AssertionAlgorithms, ", "))
	}
	switch r.AccessTokenFormat = strings.TrimSpace(r.AccessTokenFormat); r.AccessTokenFormat {
	case "":
		r.AccessTokenFormat = storage.AccessTokenOpaque
	case storage.AccessTokenOpaque, storage.AccessTokenJWT:
	default:
		return r, invalid(fieldATFormat, "%q is not supported (opaque or jwt)", r.AccessTokenFormat)
	}
	if len(r.Audience) > maxAudiences {
		return r, invalid(fieldAudience, "at most %d audiences", maxAudiences)
	}
	aud := make([]string, 0, len(r.Audience))
	for _, a := range r.Audience {
		a = strings.TrimSpace(a)
		u, err := url.Parse(a)
		if a == "" || len(a) > maxAudienceLen || !printable(a) || err != nil || !u.IsAbs() || u.Fragment != "" || strings.ContainsAny(a, " #") {
			return r, invalid(fieldAudience, "%q: an audience is an absolute URI without a fragment (a resource indicator, RFC 8707)", a)
		}
		if !contains(aud, a) {
			aud = append(aud, a)
		}
	}
	r.Audience = aud
	return r, nil
}

// validateJWKSURI: https, or http on a loopback host (development); no
// credentials or fragment. Where it may point (private addresses) is the
// outbound policy's to decide when it is fetched.
func validateJWKSURI(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case len(raw) > maxJWKSURILen || !printable(raw) || strings.ContainsAny(raw, " #"):
		return invalid(fieldJWKSURI, "%q is not a valid URL", raw)
	case err != nil || u.Host == "" || u.User != nil:
		return invalid(fieldJWKSURI, "%q must be an absolute https URL without credentials", raw)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return invalid(fieldJWKSURI, "%q must use https (http only for loopback hosts)", raw)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
