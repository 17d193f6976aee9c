package oidc

import (
	"encoding/json"
	"errors"
	"net/http"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/labstack/echo/v4"

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
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	RevocationAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	PromptValuesSupported             []string `json:"prompt_values_supported"`
	ClaimsParameterSupported          bool     `json:"claims_parameter_supported"`
	RequestParameterSupported         bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported      bool     `json:"request_uri_parameter_supported"`
}

func discoveryDocument(issuer, endSessionPath string) ([]byte, error) {
	if issuer == "" {
		return nil, errors.New("oidc: issuer is required")
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
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post", "none"},
		RevocationAuthMethodsSupported:    []string{"client_secret_basic", "client_secret_post", "none"},
		IntrospectionAuthMethodsSupported: []string{"client_secret_basic"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		ClaimsSupported:                   oauth.SupportedClaims(),
		PromptValuesSupported:             []string{"none", "login", "consent"},
	}
	if endSessionPath != "" {
		d.EndSessionEndpoint = issuer + endSessionPath
	}
	return json.MarshalIndent(d, "", "  ")
}

func (h *Handler) serveDiscovery(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.JSONBlob(http.StatusOK, h.discovery)
}

// serveJWKS publishes every public key. RPs may cache the set for 15
// minutes; a token with an unknown kid makes them fetch it again, and keys
// are published before they sign.
func (h *Handler) serveJWKS(c echo.Context) error {
	keys, err := h.keys.PublicKeys(c.Request().Context())
	if err != nil {
		return h.jsonFailure(c, err)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=900")
	return c.JSON(http.StatusOK, jose.JSONWebKeySet{Keys: keys})
}
