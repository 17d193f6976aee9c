package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/adminclient"
)

// clientFlags are the settings clients create and clients update share,
// under the same names.
type clientFlags struct {
	reg    adminclient.ClientRegistration
	scopes []string
	public bool
	jwks   string
}

func addClientFlags(cmd *cobra.Command, c *clientFlags, nameHelp string) {
	f := cmd.Flags()
	reg := &c.reg
	f.StringVar(&reg.ClientName, "name", "", nameHelp)
	f.StringArrayVar(&reg.RedirectURIs, "redirect-uri", nil, "redirect URI, matched exactly (repeat for more)")
	f.StringArrayVar(&reg.PostLogoutRedirectURIs, "post-logout-redirect-uri", nil, "post-logout redirect URI (repeat for more)")
	f.StringSliceVar(&reg.GrantTypes, "grant-type", nil, "authorization_code, refresh_token or client_credentials (repeat; default authorization_code and refresh_token)")
	f.StringSliceVar(&c.scopes, "scope", nil, "allowed scope (repeat; default openid profile email roles offline_access)")
	f.StringVar(&reg.TokenEndpointAuthMethod, "token-endpoint-auth-method", "", "client_secret_basic (default), client_secret_post, private_key_jwt (with --jwks or --jwks-uri) or none")
	f.BoolVar(&c.public, "public", false, "public client without a secret (same as --token-endpoint-auth-method none)")
	f.BoolVar(&reg.FirstParty, "first-party", false, "first-party client: skips the consent page")
	f.BoolVar(&reg.RequireMFA, "require-mfa", false, "people signing in to the client must use a second factor")
	f.StringVar(&reg.IDTokenSignedResponseAlg, "id-token-signed-response-alg", "",
		"algorithm of the client's ID tokens: RS256 (default), ES256 or EdDSA; the server must sign with it (--signing-algorithms)")
	f.StringVar(&c.jwks, "jwks", "", "public keys of a private_key_jwt client: a JSON Web Key Set, or @FILE to read it from a file")
	f.StringVar(&reg.JWKSURI, "jwks-uri", "", "where a private_key_jwt client publishes its public keys (https)")
	f.StringVar(&reg.TokenEndpointAuthSigningAlg, "token-endpoint-auth-signing-alg", "", "the only algorithm a private_key_jwt client's assertions may use: RS256, ES256 or EdDSA (default: any of them)")
	f.BoolVar(&reg.RequirePushedAuthorizationRequests, "require-par", false, "the client's authorization requests must be pushed first (PAR, RFC 9126)")
	f.StringVar(&reg.AccessTokenFormat, "access-token-format", "", "opaque (default) or jwt (RFC 9068 access tokens that resource servers check with the JWKS)")
	f.StringSliceVar(&reg.Audience, "audience", nil, "resource (absolute URI) the client's tokens may be for (repeat); JWT access tokens name it in aud")
	f.StringVar(&reg.BackchannelLogoutURI, "backchannel-logout-uri", "",
		"URL that receives a logout token when a session in which the client got tokens ends (OpenID Connect Back-Channel Logout)")
	f.BoolVar(&reg.BackchannelLogoutSessionRequired, "backchannel-logout-session-required", false,
		"the client needs sid in its logout tokens (they always carry it)")
}

// authMethod is --token-endpoint-auth-method with --public folded in.
func (c *clientFlags) authMethod() (string, error) {
	if !c.public {
		return c.reg.TokenEndpointAuthMethod, nil
	}
	if m := c.reg.TokenEndpointAuthMethod; m != "" && m != "none" {
		return "", fmt.Errorf("--public means --token-endpoint-auth-method none, not %q", m)
	}
	return "none", nil
}

func newClientsCreateCmd(m *manageFlags) *cobra.Command {
	var c clientFlags
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Register a client; prints its id and, for a confidential client, its secret (shown once)",
		Example: "  signet clients create --name \"My app\" --redirect-uri https://app.example.com/callback -o json\n" +
			"  signet clients create --name CLI --public --redirect-uri http://127.0.0.1:8400/callback\n" +
			"  signet clients create --name \"Go app\" --redirect-uri https://go.example.com/cb --id-token-signed-response-alg ES256",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reg := c.reg
			var err error
			if reg.TokenEndpointAuthMethod, err = c.authMethod(); err != nil {
				return err
			}
			reg.GrantTypes = manageSplit(reg.GrantTypes)
			reg.Scope = strings.Join(manageSplit(c.scopes), " ")
			reg.Audience = manageSplit(reg.Audience)
			if c.jwks != "" {
				if reg.JWKS, err = manageReadJWKS(c.jwks); err != nil {
					return err
				}
			}
			api, err := m.client()
			if err != nil {
				return err
			}
			created, err := api.CreateClient(cmd.Context(), reg)
			if err != nil {
				return err
			}
			if m.wantJSON() {
				return managePrintJSON(cmd.OutOrStdout(), created)
			}
			return manageShowClient(cmd.OutOrStdout(), created)
		},
	}
	addClientFlags(cmd, &c, "client name shown on the consent page (required)")
	_ = cmd.MarkFlagRequired("name")
	return cmd
}

func newClientsUpdateCmd(m *manageFlags) *cobra.Command {
	var c clientFlags
	cmd := &cobra.Command{
		Use:   "update CLIENT_ID",
		Short: "Change a client: only the flags given change (the client id, secret and tokens stay)",
		Long: "Change a client: only the flags given change; the others keep their value. A list flag given\n" +
			"replaces the whole list (--redirect-uri \"\" empties it); turn a switch off with --first-party=false.\n" +
			"A client changed to a secret-based authentication from none or private_key_jwt gets a secret,\n" +
			"printed once; one changed to none or private_key_jwt loses its secret.",
		Example: "  signet clients update 3f2a… --redirect-uri https://app.example.com/cb --redirect-uri https://app.example.com/cb2\n" +
			"  signet clients update 3f2a… --backchannel-logout-uri https://app.example.com/logout\n" +
			"  signet clients update 3f2a… --id-token-signed-response-alg ES256 --require-mfa",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := c.patch(cmd)
			if err != nil {
				return err
			}
			api, err := m.client()
			if err != nil {
				return err
			}
			updated, err := api.UpdateClient(cmd.Context(), args[0], p)
			if err != nil {
				return err
			}
			if m.wantJSON() {
				return managePrintJSON(cmd.OutOrStdout(), updated)
			}
			return manageShowClient(cmd.OutOrStdout(), updated)
		},
	}
	addClientFlags(cmd, &c, "client name shown on the consent page")
	return cmd
}

// patch holds the flags the user set, and only those (an unset flag's
// zero value must not overwrite the client's setting).
func (c *clientFlags) patch(cmd *cobra.Command) (adminclient.ClientPatch, error) {
	var p adminclient.ClientPatch
	fl := cmd.Flags()
	str := func(flag, v string) *string {
		if fl.Changed(flag) {
			return &v
		}
		return nil
	}
	boolean := func(flag string, v bool) *bool {
		if fl.Changed(flag) {
			return &v
		}
		return nil
	}
	// An empty value (--redirect-uri "") empties the list.
	list := func(flag string, v []string, split bool) *[]string {
		if !fl.Changed(flag) {
			return nil
		}
		out := []string{}
		if split {
			v = manageSplit(v)
		}
		for _, s := range v {
			if s != "" {
				out = append(out, s)
			}
		}
		return &out
	}
	r := c.reg
	p.ClientName = str("name", r.ClientName)
	p.RedirectURIs = list("redirect-uri", r.RedirectURIs, false)
	p.PostLogoutRedirectURIs = list("post-logout-redirect-uri", r.PostLogoutRedirectURIs, false)
	p.GrantTypes = list("grant-type", r.GrantTypes, true)
	if fl.Changed("scope") {
		scope := strings.Join(manageSplit(c.scopes), " ")
		p.Scope = &scope
	}
	if fl.Changed("public") && !c.public && !fl.Changed("token-endpoint-auth-method") {
		return p, fmt.Errorf("--public=false: say which --token-endpoint-auth-method the client uses instead")
	}
	if fl.Changed("public") || fl.Changed("token-endpoint-auth-method") {
		method, err := c.authMethod()
		if err != nil {
			return p, err
		}
		p.TokenEndpointAuthMethod = &method
	}
	p.FirstParty = boolean("first-party", r.FirstParty)
	p.RequireMFA = boolean("require-mfa", r.RequireMFA)
	p.IDTokenSignedResponseAlg = str("id-token-signed-response-alg", r.IDTokenSignedResponseAlg)
	if fl.Changed("jwks") {
		p.JWKS = json.RawMessage("null") // --jwks "": no key set
		if c.jwks != "" {
			raw, err := manageReadJWKS(c.jwks)
			if err != nil {
				return p, err
			}
			p.JWKS = raw
		}
	}
	p.JWKSURI = str("jwks-uri", r.JWKSURI)
	p.TokenEndpointAuthSigningAlg = str("token-endpoint-auth-signing-alg", r.TokenEndpointAuthSigningAlg)
	p.RequirePushedAuthorizationRequests = boolean("require-par", r.RequirePushedAuthorizationRequests)
	p.AccessTokenFormat = str("access-token-format", r.AccessTokenFormat)
	p.Audience = list("audience", r.Audience, true)
	p.BackchannelLogoutURI = str("backchannel-logout-uri", r.BackchannelLogoutURI)
	p.BackchannelLogoutSessionRequired = boolean("backchannel-logout-session-required", r.BackchannelLogoutSessionRequired)
	return p, nil
}

func newClientsRotateSecretCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-secret CLIENT_ID",
		Short: "Give a confidential client a new secret (printed once); the old one stops working at once, its tokens do not",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			c, err := api.RotateClientSecret(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if m.wantJSON() {
				return managePrintJSON(cmd.OutOrStdout(), c)
			}
			return manageShowClient(cmd.OutOrStdout(), c)
		},
	}
}

// manageReadJWKS returns a key set given inline or as @FILE, checked to be
// JSON (the server checks the keys).
func manageReadJWKS(v string) (json.RawMessage, error) {
	raw := []byte(v)
	if name, ok := strings.CutPrefix(v, "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("--jwks: %w", err)
		}
		raw = b
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("--jwks: not JSON")
	}
	return json.RawMessage(raw), nil
}

func newClientsListCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List clients",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			list, err := api.ListClients(cmd.Context())
			if err != nil {
				return err
			}
			if m.wantJSON() {
				return managePrintJSON(cmd.OutOrStdout(), list)
			}
			rows := [][]string{{"CLIENT_ID", "NAME", "AUTH_METHOD", "GRANT_TYPES", "FIRST_PARTY", "REDIRECT_URIS"}}
			for _, c := range list {
				rows = append(rows, []string{c.ClientID, c.ClientName, c.TokenEndpointAuthMethod,
					manageList(c.GrantTypes), manageYesNo(c.FirstParty), manageList(c.RedirectURIs)})
			}
			return manageTable(cmd.OutOrStdout(), rows)
		},
	}
}

func newClientsGetCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get CLIENT_ID",
		Short: "Show a client",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			c, err := api.GetClient(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if m.wantJSON() {
				return managePrintJSON(cmd.OutOrStdout(), c)
			}
			return manageShowClient(cmd.OutOrStdout(), c)
		},
	}
}

func newClientsDeleteCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete CLIENT_ID",
		Short: "Delete a client; its tokens stop working",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			if err := api.DeleteClient(cmd.Context(), args[0]); err != nil {
				return err
			}
			return manageDeleted(cmd.OutOrStdout(), m, "client", args[0])
		},
	}
}

func manageShowClient(w io.Writer, c adminclient.OAuthClient) error {
	pairs := []string{"client_id", c.ClientID}
	if c.ClientSecret != "" {
		pairs = append(pairs, "client_secret", c.ClientSecret+"   (shown only now: store it safely)")
	}
	pairs = append(pairs,
		"client_name", c.ClientName,
		"redirect_uris", manageList(c.RedirectURIs),
		"post_logout_redirect_uris", manageList(c.PostLogoutRedirectURIs),
		"grant_types", manageList(c.GrantTypes),
		"response_types", manageList(c.ResponseTypes),
		"scope", c.Scope,
		"token_endpoint_auth_method", c.TokenEndpointAuthMethod,
		"first_party", manageYesNo(c.FirstParty),
		"require_mfa", manageYesNo(c.RequireMFA),
		"id_token_signed_response_alg", manageOrDash(c.IDTokenSignedResponseAlg),
		"access_token_format", manageOrDash(c.AccessTokenFormat),
		"audience", manageList(c.Audience),
		"require_pushed_authorization_requests", manageYesNo(c.RequirePushedAuthorizationRequests),
		"jwks_uri", manageOrDash(c.JWKSURI),
		"token_endpoint_auth_signing_alg", manageOrDash(c.TokenEndpointAuthSigningAlg),
		"backchannel_logout_uri", manageOrDash(c.BackchannelLogoutURI),
		"backchannel_logout_session_required", manageYesNo(c.BackchannelLogoutSessionRequired),
		"created_at", manageTime(c.CreatedAt),
	)
	return manageFields(w, pairs...)
}

// manageDeleted confirms a deletion: a line in table mode, a small object
// with -o json so scripts always get JSON.
func manageDeleted(w io.Writer, m *manageFlags, kind, ref string) error {
	if m.wantJSON() {
		return managePrintJSON(w, map[string]string{"deleted": kind, "id": ref})
	}
	_, err := fmt.Fprintf(w, "deleted %s %s\n", kind, ref)
	return err
}
