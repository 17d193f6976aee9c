package clients

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestValidateRedirectURI(t *testing.T) {
	tests := []struct {
		uri     string
		wantErr string // substring of the message; "" means valid
	}{
		{"https://app.example.com/callback", ""},
		{"https://app.example.com:8443/cb?tenant=a", ""},
		{"http://localhost:3000/callback", ""},
		{"http://LOCALHOST/cb", ""},
		{"http://127.0.0.1:8400/callback", ""},
		{"http://127.12.0.9/cb", ""},
		{"http://[::1]:8080/cb", ""},
		{"com.example.app:/oauth2redirect", ""},
		{"myapp://callback", ""},

		{"", "empty"},
		{"/callback", "absolute"},
		{"app.example.com/callback", "absolute"},
		{"https://app.example.com/cb#frag", "fragment"},
		{"https://app.example.com/cb#", "fragment"},
		{"http://app.example.com/cb", "loopback"},
		{"http://192.168.1.10/cb", "loopback"},
		{"http://127.0.0.1.example.com/cb", "loopback"},
		{"http://[::2]/cb", "loopback"},
		{"https:///cb", "host"},
		{"https://user:pass@app.example.com/cb", "credentials"},
		{"https://*.example.com/cb", "wildcard"},
		{"https://app.example.com/c b", "spaces"},
		{"https://app.example.com/cb\n", "control"},
		{"javascript:alert(1)", "not allowed"},
		{"data:text/html,hi", "not allowed"},
		{"file:///etc/passwd", "not allowed"},
		{"urn:ietf:wg:oauth:2.0:oob", "not allowed"},
		{"myapp:", "path"},
		{"HTTPS://app.example.com/cb", "lower-case"},
		{"1app://cb", "not a valid URI"},
		{"https://app.example.com/" + strings.Repeat("a", 2001), "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			err := ValidateRedirectURI("redirect_uris", tt.uri)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateRedirectURI(%q) = %v; want nil", tt.uri, err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("ValidateRedirectURI(%q) = %v; want a *ValidationError", tt.uri, err)
			}
			if ve.Field != "redirect_uris" || !strings.Contains(ve.Message, tt.wantErr) {
				t.Fatalf("ValidateRedirectURI(%q) = %q on %q; want a message containing %q", tt.uri, ve.Message, ve.Field, tt.wantErr)
			}
		})
	}
}

func TestValidateRegistration(t *testing.T) {
	const cb = "https://app.example.com/cb"
	tests := []struct {
		name      string
		in        Registration
		wantField string // "" means valid
		check     func(t *testing.T, r Registration)
	}{
		{
			name: "defaults",
			in:   Registration{Name: " App ", RedirectURIs: []string{cb, cb}},
			check: func(t *testing.T, r Registration) {
				if r.Name != "App" {
					t.Errorf("name %q not trimmed", r.Name)
				}
				if !slices.Equal(r.GrantTypes, []string{"authorization_code", "refresh_token"}) {
					t.Errorf("grant types %v", r.GrantTypes)
				}
				if !slices.Equal(r.Scopes, []string{"openid", "profile", "email", "roles", "offline_access"}) {
					t.Errorf("scopes %v", r.Scopes)
				}
				if !slices.Equal(r.ResponseTypes, []string{"code"}) {
					t.Errorf("response types %v", r.ResponseTypes)
				}
				if r.TokenEndpointAuthMethod != "client_secret_basic" {
					t.Errorf("auth method %q", r.TokenEndpointAuthMethod)
				}
				if !slices.Equal(r.RedirectURIs, []string{cb}) {
					t.Errorf("redirect URIs not de-duplicated: %v", r.RedirectURIs)
				}
			},
		},
		{
			name: "client credentials only",
			in:   Registration{Name: "Worker", GrantTypes: []string{"client_credentials"}},
			check: func(t *testing.T, r Registration) {
				if len(r.ResponseTypes) != 0 || len(r.RedirectURIs) != 0 {
					t.Errorf("response types %v, redirect URIs %v; want none", r.ResponseTypes, r.RedirectURIs)
				}
			},
		},
		{
			name: "public native app",
			in: Registration{Name: "CLI", TokenEndpointAuthMethod: "none",
				RedirectURIs: []string{"http://127.0.0.1:8400/cb"}, Scopes: []string{"openid", "profile"}},
		},
		{name: "name required", in: Registration{RedirectURIs: []string{cb}}, wantField: "client_name"},
		{name: "blank name", in: Registration{Name: "   ", RedirectURIs: []string{cb}}, wantField: "client_name"},
		{name: "control char in name", in: Registration{Name: "a\x00b", RedirectURIs: []string{cb}}, wantField: "client_name"},
		{name: "code without redirect", in: Registration{Name: "App"}, wantField: "redirect_uris"},
		{name: "bad redirect", in: Registration{Name: "App", RedirectURIs: []string{"http://evil.example/cb"}}, wantField: "redirect_uris"},
		{name: "bad post-logout", in: Registration{Name: "App", RedirectURIs: []string{cb},
			PostLogoutRedirectURIs: []string{"https://app.example.com/bye#x"}}, wantField: "post_logout_redirect_uris"},
		{name: "unknown grant", in: Registration{Name: "App", RedirectURIs: []string{cb},
			GrantTypes: []string{"implicit"}}, wantField: "grant_types"},
		{name: "password grant", in: Registration{Name: "App", RedirectURIs: []string{cb},
			GrantTypes: []string{"password"}}, wantField: "grant_types"},
		{name: "refresh without code", in: Registration{Name: "App",
			GrantTypes: []string{"client_credentials", "refresh_token"}}, wantField: "grant_types"},
		{name: "unknown scope", in: Registration{Name: "App", RedirectURIs: []string{cb},
			Scopes: []string{"openid", "admin"}}, wantField: "scope"},
		{name: "token response type", in: Registration{Name: "App", RedirectURIs: []string{cb},
			ResponseTypes: []string{"token"}}, wantField: "response_types"},
		{name: "code response without code grant", in: Registration{Name: "App",
			GrantTypes: []string{"client_credentials"}, ResponseTypes: []string{"code"}}, wantField: "response_types"},
		{name: "unknown auth method", in: Registration{Name: "App", RedirectURIs: []string{cb},
			TokenEndpointAuthMethod: "client_secret_jwt"}, wantField: "token_endpoint_auth_method"},
		{name: "private_key_jwt without keys", in: Registration{Name: "App", RedirectURIs: []string{cb},
			TokenEndpointAuthMethod: "private_key_jwt"}, wantField: "jwks"},
		{name: "private_key_jwt with jwks and jwks_uri", in: Registration{Name: "App", RedirectURIs: []string{cb},
			TokenEndpointAuthMethod: "private_key_jwt", JWKS: `{"keys":[]}`, JWKSURI: "https://a.example/jwks"}, wantField: "jwks"},
		{name: "private key in jwks", in: Registration{Name: "App", RedirectURIs: []string{cb}, TokenEndpointAuthMethod: "private_key_jwt",
			JWKS: `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}]}`}, wantField: "jwks"},
		{name: "jwks_uri over http", in: Registration{Name: "App", RedirectURIs: []string{cb}, TokenEndpointAuthMethod: "private_key_jwt",
			JWKSURI: "http://keys.example/jwks"}, wantField: "jwks_uri"},
		{name: "jwks without private_key_jwt", in: Registration{Name: "App", RedirectURIs: []string{cb},
			JWKSURI: "https://keys.example/jwks"}, wantField: "token_endpoint_auth_method"},
		{name: "unknown assertion alg", in: Registration{Name: "App", RedirectURIs: []string{cb}, TokenEndpointAuthMethod: "private_key_jwt",
			JWKSURI: "https://keys.example/jwks", TokenEndpointAuthSigningAlg: "HS256"}, wantField: "token_endpoint_auth_signing_alg"},
		{name: "unknown access token format", in: Registration{Name: "App", RedirectURIs: []string{cb},
			AccessTokenFormat: "macaroon"}, wantField: "access_token_format"},
		{name: "relative audience", in: Registration{Name: "App", RedirectURIs: []string{cb},
			Audience: []string{"api"}}, wantField: "audience"},
		{name: "public client credentials", in: Registration{Name: "App", TokenEndpointAuthMethod: "none",
			GrantTypes: []string{"client_credentials"}}, wantField: "grant_types"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Validate(tt.in)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate = %v; want nil", err)
				}
				if tt.check != nil {
					tt.check(t, got)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != tt.wantField {
				t.Fatalf("Validate = %v; want a ValidationError on %s", err, tt.wantField)
			}
		})
	}
}

func TestSecretHashing(t *testing.T) {
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 43 || strings.ContainsAny(s, "+/=") {
		t.Fatalf("secret %q is not 32 bytes of unpadded base64url", s)
	}
	h := HashSecret(s)
	tests := []struct {
		name   string
		hash   []byte
		secret string
		want   bool
	}{
		{"right secret", h, s, true},
		{"wrong secret", h, s + "x", false},
		{"empty secret", h, "", false},
		{"public client (no hash)", nil, "", false},
		{"truncated hash", h[:16], s, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SecretMatches(tt.hash, tt.secret); got != tt.want {
				t.Fatalf("SecretMatches = %v; want %v", got, tt.want)
			}
		})
	}
}
