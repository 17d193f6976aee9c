package oidc

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/mfa"
	"github.com/signet-idp/signet/internal/oauth"
)

// discovery is the OpenID Provider metadata. It lists what works and
// nothing else (end_session_endpoint only when a logout endpoint is
// mounted: Options.EndSessionPath).
type discovery struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint"`
	EndSessionEndpoint                string   `json:"end_session_endpoint,omitempty"`
	RegistrationEndpoint              string   `json:"registration_endpoint,omitempty"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	// private_key_jwt assertions (RFC 7523).
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	RevocationAuthMethodsSupported             []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionAuthMethodsSupported          []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	ClaimsSupported                            []string `json:"claims_supported"`
	// ACRValuesSupported: the one-factor and two-factor classes that
	// acr_values may ask for and the acr claim says.
	ACRValuesSupported           []string `json:"acr_values_supported"`
	PromptValuesSupported        []string `json:"prompt_values_supported"`
	ClaimsParameterSupported     bool     `json:"claims_parameter_supported"`
	RequestParameterSupported    bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported bool     `json:"request_uri_parameter_supported"`
	// RFC 9126, when PAR is on.
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint,omitempty"`
	RequirePushedAuthorizationRequests bool   `json:"require_pushed_authorization_requests,omitempty"`
	// RFC 9207: every authorization response carries iss.
	AuthorizationResponseISSParameterSupported bool `json:"authorization_response_iss_parameter_supported"`
	// Back-channel logout, only when it is on.
	BackchannelLogoutSupported        bool `json:"backchannel_logout_supported,omitempty"`
	BackchannelLogoutSessionSupported bool `json:"backchannel_logout_session_supported,omitempty"`
}

func discoveryDocument(issuer, endSessionPath string) (discovery, error) {
	if issuer == "" {
		return discovery{}, errors.New("oidc: issuer is required")
	}
	d := discovery{
		Issuer:                            issuer,
		AuthorizationEndpoint:             issuer + PathAuthorize,
		TokenEndpoint:                     issuer + PathToken,
		UserinfoEndpoint:                  issuer + PathUserinfo,
		JWKSURI:                           issuer + PathJWKS,
		RevocationEndpoint:                issuer + PathRevoke,
		IntrospectionEndpoint:             issuer + PathIntrospect,
		ScopesSupported:                   oauth.SupportedScopes(),
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query", "form_post"},
		GrantTypesSupported:               []string{"authorization_code", "refresh_token", "client_credentials"},
		SubjectTypesSupported:             []string{"public"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		TokenEndpointAuthSigningAlgValuesSupported: clients.AssertionAlgorithms,
		RevocationAuthMethodsSupported:             []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		IntrospectionAuthMethodsSupported:          []string{"client_secret_basic"},
		CodeChallengeMethodsSupported:              []string{"S256"},
		ClaimsSupported:                            oauth.SupportedClaims(),
		ACRValuesSupported:                         mfa.SupportedACRValues(),
		PromptValuesSupported:                      []string{"none", "login", "consent"},
		AuthorizationResponseISSParameterSupported: true,
	}
	if endSessionPath != "" {
		d.EndSessionEndpoint = issuer + endSessionPath
	}
	return d, nil
}

// serveDiscovery answers the provider metadata. id_token_signing_alg_values_supported
// is what can be signed now: the algorithms with a current key.
// rendered is a response body kept between requests: discovery and the
// JWKS are asked for far more often than they change, so each is encoded
// once per change (keyed by what it depends on) instead of per request.
type rendered struct {
	key  string
	body []byte
	etag string
}

// renderOnce returns the cached body for key, or encodes a new one.
func renderOnce(cache *atomic.Pointer[rendered], key string, encode func() ([]byte, error)) (*rendered, error) {
	if r := cache.Load(); r != nil && r.key == key {
		return r, nil
	}
	body, err := encode()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	r := &rendered{key: key, body: body, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
	cache.Store(r)
	return r, nil
}

func (h *Handler) serveDiscovery(c echo.Context) error {
	algs := h.keys.Algorithms(c.Request().Context())
	if len(algs) == 0 {
		algs = []string{"RS256"}
	}
	r, err := renderOnce(&h.discoveryBody, strings.Join(algs, " "), func() ([]byte, error) {
		d := h.discovery
		d.IDTokenSigningAlgValuesSupported = algs
		return json.MarshalIndent(d, "", "  ")
	})
	if err != nil {
		return h.jsonFailure(c, err)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.JSONBlob(http.StatusOK, r.body)
}

func (h *Handler) serveJWKS(c echo.Context) error {
	keys, err := h.keys.PublicKeys(c.Request().Context())
	if err != nil {
		return h.jsonFailure(c, err)
	}
	if keys == nil {
		keys = []jose.JSONWebKey{}
	}
	// A kid names one key for good, so the list of kids names the set.
	var ids strings.Builder
	for _, k := range keys {
		ids.WriteString(k.KeyID)
		ids.WriteByte(' ')
	}
	r, err := renderOnce(&h.jwksBody, ids.String(), func() ([]byte, error) {
		return json.Marshal(jose.JSONWebKeySet{Keys: keys})
	})
	if err != nil {
		return h.jsonFailure(c, err)
	}
	hdr := c.Response().Header()
	hdr.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(h.jwksMaxAge/time.Second)))
	hdr.Set("ETag", r.etag)
	if etagMatches(c.Request().Header.Values("If-None-Match"), r.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.JSONBlob(http.StatusOK, r.body)
}

func etagMatches(values []string, etag string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || strings.TrimPrefix(t, "W/") == etag {
				return true
			}
		}
	}
	return false
}
