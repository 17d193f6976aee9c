package oauth

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/ory/fosite"
	"github.com/ory/fosite/i18n"
	"golang.org/x/text/language"
)

// Signet's own wording for OAuth error descriptions, through fosite's
// message catalog (its hook for replacing its messages): error_description
// is our sentence for the error code followed by our sentence for the
// particular problem. fosite's hints are looked up by their text (or
// format, for WithHintf); "" drops a hint that would only repeat the
// description or speak of internals. Hints Signet writes itself are not
// in the table and are kept as they are. TestMessagesCoverFosite checks
// that every hint in the fosite packages we compose is in the table.
type messageCatalog struct{}

var _ i18n.MessageCatalog = messageCatalog{}

// Messages is the catalog; the HTTP handlers describe errors fosite does
// not write itself with it (LocalizeError).
var Messages i18n.MessageCatalog = messageCatalog{}

// GetMessage implements i18n.MessageCatalog. An ID it does not know comes
// back unchanged, which tells fosite to keep its default.
func (messageCatalog) GetMessage(id string, _ language.Tag, args ...interface{}) string {
	if d, ok := errorDescriptions[id]; ok {
		return d
	}
	m, ok := fositeHints[id]
	if !ok {
		return id
	}
	if m != "" && strings.Contains(m, "%") {
		return fmt.Sprintf(m, args...)
	}
	return m
}

// GetLangFromRequest implements i18n.MessageCatalog: English only.
func (messageCatalog) GetLangFromRequest(*http.Request) language.Tag { return language.English }

// LocalizeError returns err as an RFC 6749 error described in our words,
// for the answers the handlers write themselves.
func LocalizeError(err error) *fosite.RFC6749Error {
	return fosite.ErrorToRFC6749Error(err).WithLocalizer(Messages, language.English)
}

// errorDescriptions are the first sentence of error_description, by error
// code.
var errorDescriptions = map[string]string{
	"invalid_request":            "The request is not valid.",
	"unauthorized_client":        "The client may not make this request.",
	"access_denied":              "Access was denied.",
	"unsupported_response_type":  "The response_type is not supported.",
	"unsupported_response_mode":  "The response_mode is not supported.",
	"invalid_scope":              "The scope is not valid.",
	"server_error":               "The server could not complete the request.",
	"temporarily_unavailable":    "The service is temporarily unavailable; try again in a moment.",
	"unsupported_grant_type":     "The grant_type is not supported.",
	"invalid_grant":              "The authorization code or refresh token is not valid.",
	"invalid_client":             "The client could not be authenticated.",
	"invalid_state":              "The state parameter is not valid.",
	"misconfiguration":           "The server could not complete the request.",
	"insufficient_entropy":       "A security parameter is too short.",
	"not_found":                  "Not found.",
	"request_unauthorized":       "The request could not be authorized.",
	"invalid_token":              "The token is not valid.",
	"token_signature_mismatch":   "The token is not valid.",
	"scope_not_granted":          "The token was not granted the scope needed.",
	"token_claim":                "The token is not valid.",
	"token_inactive":             "The token is not active: it is unknown, expired or revoked.",
	"login_required":             "The person must sign in.",
	"interaction_required":       "The person must interact with the sign-in pages.",
	"consent_required":           "The person must consent.",
	"request_not_supported":      "The request parameter is not supported.",
	"request_uri_not_supported":  "The request_uri parameter is not supported.",
	"registration_not_supported": "The registration parameter is not supported.",
	"invalid_request_uri":        "The request_uri is not valid.",
	"invalid_request_object":     "The request object is not valid.",
	"jti_known":                  "The assertion was already used.",
	"error":                      "The request could not be completed.",
}

// fositeHints map fosite's hints to ours ("": none).
var fositeHints = map[string]string{
	// Wrapped errors repeat both reasons; ours say enough.
	"%s %s": "",

	// Request parsing.
	"The POST body can not be empty.": "The request body is empty.",
	"Unable to parse HTTP body, make sure to send a properly formatted form request body.":                    "The body must be an application/x-www-form-urlencoded form.",
	"HTTP method is '%s' but expected 'POST'.":                                                                "Use POST, not %s.",
	"HTTP method is '%s', expected 'POST'.":                                                                   "Use POST, not %s.",
	"Request parameter 'grant_type' is missing":                                                               "The grant_type parameter is missing.",
	"`The request is missing the 'response_type' parameter.":                                                  "The response_type parameter is missing.",
	"Request parameter 'state' must be at least be %d characters long to ensure sufficient entropy.":          "The state parameter must be at least %d characters long.",
	"Parameter 'nonce' is set but does not satisfy the minimum entropy of %d characters.":                     "The nonce parameter must be at least %d characters long.",
	"Parameter 'nonce' must be set when requesting an ID Token using the OpenID Connect Hybrid Flow.":         "The nonce parameter is required.",
	"Parameter 'nonce' must be set when using the OpenID Connect Implicit Flow.":                              "The nonce parameter is required.",
	"Parameter 'prompt' was set to 'none', but contains other values as well which is not allowed.":           "prompt=none cannot be combined with other values.",
	"Used unknown value '%s' for prompt parameter":                                                            "Unsupported prompt value '%s'.",
	"Request with unsupported response_mode \"%s\".":                                                          "Unsupported response_mode '%s'.",
	"Insecure response_mode '%s' for the response_type '%s'.":                                                 "The response_mode '%s' cannot be used with the response_type '%s'.",
	"The client is not allowed to request response_mode '%s'.":                                                "This client may not use response_mode '%s'.",
	"The request has response_mode \"%s\". set but registered OAuth 2.0 client doesn't support response_mode": "This client may not use response_mode '%s'.",
	"The client is not allowed to request response_type '%s'.":                                                "This client may not use response_type '%s'.",

	// Redirect URIs.
	"The 'redirect_uri' parameter does not match any of the OAuth 2.0 Client's pre-registered redirect urls.":                                   "The redirect_uri is not registered for this client.",
	"The 'redirect_uri' parameter is required when using OpenID Connect 1.0.":                                                                   "The redirect_uri parameter is required.",
	"Query parameter 'redirect_uri' is required when performing an OpenID Connect flow.":                                                        "The redirect_uri parameter is required.",
	"The redirect URI '%s' contains an illegal character (for example #) or is otherwise invalid.":                                              "The redirect_uri '%s' is not a valid URI.",
	"Redirect URL is using an insecure protocol, http is only allowed for hosts with suffix 'localhost', for example: http://myapp.localhost/.": "The redirect_uri must use https (http only for loopback hosts).",
	"OAuth 2.0 Client is marked public and redirect uri is not considered secure (https missing), but \"prompt=none\" was requested.":           "A public client needs an https redirect_uri for prompt=none.",
	"The \"redirect_uri\" from this request does not match the one from the authorize request.":                                                 "The redirect_uri differs from the one of the authorization request.",

	// Scopes and audiences.
	"The OAuth 2.0 Client is not allowed to request scope '%s'.":                     "This client may not request the scope '%s'.",
	"The request scope '%s' has not been granted or is not allowed to be requested.": "The scope '%s' was not granted or may not be requested.",
	"Requested audience '%s' has not been whitelisted by the OAuth 2.0 Client.":      "This client may not request the audience '%s'.",
	"Requested audience \"%s\" has not been whitelisted by the OAuth 2.0 Client.":    "This client may not request the audience '%s'.",
	"Unable to parse requested audience '%s'.":                                       "The audience '%s' is not valid.",
	"Unable to parse whitelisted audience '%s'.":                                     "",

	// Grant types.
	"The OAuth 2.0 Client is not allowed to use authorization grant \"authorization_code\".":                            "This client may not use the authorization_code grant.",
	"The OAuth 2.0 Client is not allowed to use authorization grant 'authorization_code'.":                              "This client may not use the authorization_code grant.",
	"The OAuth 2.0 Client is not allowed to use the authorization grant \"authorization_code\".":                        "This client may not use the authorization_code grant.",
	"The OAuth 2.0 Client is not allowed to use authorization grant 'client_credentials'.":                              "This client may not use the client_credentials grant.",
	"The OAuth 2.0 Client is marked as public and is thus not allowed to use authorization grant 'client_credentials'.": "A public client cannot use the client_credentials grant.",
	"The OAuth 2.0 Client is not allowed to use authorization grant 'refresh_token'.":                                   "This client may not use the refresh_token grant.",
	"The OAuth 2.0 Client is not allowed to use the authorization grant \"refresh_token\".":                             "This client may not use the refresh_token grant.",
	"The OAuth 2.0 Client is not allowed to use the authorization grant 'implicit'.":                                    "The implicit grant is not supported.",
	"The client is not allowed to use authorization grant 'password'.":                                                  "The password grant is not supported.",
	"Username or password are missing from the POST body.":                                                              "The password grant is not supported.",
	"Unable to authenticate the provided username and password credentials.":                                            "The password grant is not supported.",

	// Client authentication.
	"The requested OAuth 2.0 Client does not exist.":                                                                    "No client has this client_id.",
	"The requested OAuth 2.0 Client could not be authenticated.":                                                        "The client credentials are not valid.",
	"OAuth 2.0 Client credentials are invalid.":                                                                         "The client credentials are not valid.",
	"Client credentials missing or malformed in both HTTP Authorization header and HTTP POST body.":                     "Client credentials are missing.",
	"Unable to find OAuth 2.0 Client from HTTP basic authorization header.":                                             "No client has the client_id of the Authorization header.",
	"Unable to decode OAuth 2.0 Client ID from HTTP basic authorization header, make sure it is properly encoded.":      "The client_id in the Authorization header is not properly form-encoded.",
	"Unable to decode OAuth 2.0 Client Secret from HTTP basic authorization header, make sure it is properly encoded.":  "The client secret in the Authorization header is not properly form-encoded.",
	"The client id in the HTTP authorization header could not be decoded from 'application/x-www-form-urlencoded'.":     "The client_id in the Authorization header is not properly form-encoded.",
	"The client secret in the HTTP authorization header could not be decoded from 'application/x-www-form-urlencoded'.": "The client secret in the Authorization header is not properly form-encoded.",
	"The OAuth 2.0 Client supports client authentication method '%s', but method 'client_secret_basic' was requested. You must configure the OAuth 2.0 client's 'token_endpoint_auth_method' value to accept 'client_secret_basic'.": "This client authenticates with %s, not client_secret_basic.",
	"The OAuth 2.0 Client supports client authentication method '%s', but method 'client_secret_post' was requested. You must configure the OAuth 2.0 client's 'token_endpoint_auth_method' value to accept 'client_secret_post'.":   "This client authenticates with %s, not client_secret_post.",
	"The OAuth 2.0 Client supports client authentication method '%s', but method 'none' was requested. You must configure the OAuth 2.0 client's 'token_endpoint_auth_method' value to accept 'none'.":                               "This client authenticates with %s: send its credentials.",
	"This authorization server does not support client authentication method 'client_secret_jwt'.":                                                                                                                                   "client_secret_jwt is not supported.",
	"This requested OAuth 2.0 client does not support client authentication, however 'client_assertion' was provided in the request.":                                                                                                "This client does not authenticate with a client_assertion.",
	"This requested OAuth 2.0 client only supports client authentication method '%s', however 'client_assertion' was provided in the request.":                                                                                       "This client authenticates with %s, not a client_assertion.",
	"This requested OAuth 2.0 client only supports client authentication method '%s', however that method is not supported by this server.":                                                                                          "This client's authentication method %s is not supported.",
	"The server configuration does not support OpenID Connect specific authentication methods.":                                                                                                                                      "This authentication method is not supported.",
	"Unknown client_assertion_type '%s'.": "Unsupported client_assertion_type '%s'.",
	"The client_assertion request parameter must be set when using client_assertion_type of '%s'.":                           "The client_assertion parameter is missing.",
	"Unable to verify the integrity of the 'client_assertion' value.":                                                        "The client_assertion signature is not valid.",
	"The 'client_assertion' request parameter uses unsupported signing algorithm '%s'.":                                      "The client_assertion's algorithm %s is not supported.",
	"The 'client_assertion' uses signing algorithm '%s' but the requested OAuth 2.0 Client enforces signing algorithm '%s'.": "The client_assertion is signed with %s; this client must use %s.",
	"Claim 'audience' from 'client_assertion' must match the authorization server's token endpoint '%s'.":                    "The client_assertion's aud must be the token endpoint %s.",
	"Claim 'iss' from 'client_assertion' must match the 'client_id' of the OAuth 2.0 Client.":                                "The client_assertion's iss must be the client_id.",
	"Claim 'sub' from 'client_assertion' must match the 'client_id' of the OAuth 2.0 Client.":                                "The client_assertion's sub must be the client_id.",
	"The claim 'sub' from the client_assertion JSON Web Token is undefined.":                                                 "The client_assertion has no sub.",
	"Claim 'jti' from 'client_assertion' must be set but is not.":                                                            "The client_assertion has no jti.",
	"Claim 'jti' from 'client_assertion' MUST only be used once.":                                                            "The client_assertion was already used (its jti is known).",
	"The OAuth 2.0 Client has no JSON Web Keys set registered, but they are needed to complete the request.":                 "This client has no registered keys.",
	"The JSON Web Token uses signing key with kid '%s', which could not be found.":                                           "No key of this client has the kid '%s'.",
	"The retrieved JSON Web Key Set does not contain any key.":                                                               "The client's key set is empty.",
	"Unable to find ECDSA public key with use='sig' for kid '%s' in JSON Web Key Set.":                                       "No EC signing key of this client has the kid '%s'.",
	"Unable to find RSA public key with use='sig' for kid '%s' in JSON Web Key Set.":                                         "No RSA signing key of this client has the kid '%s'.",
	"Unable to retrieve ECDSA signing key from OAuth 2.0 Client.":                                                            "This client has no usable EC key.",
	"Unable to retrieve RSA signing key from OAuth 2.0 Client.":                                                              "This client has no usable RSA key.",
	"Unable to create HTTP 'GET' request to fetch  JSON Web Keys from location '%s'.":                                        "The client's jwks_uri %s could not be fetched.",
	"Unable to fetch JSON Web Keys from location '%s'. Check for typos or other network issues.":                             "The client's jwks_uri %s could not be fetched.",
	"Unable to decode JSON Web Keys from location '%s'. Please check for typos and if the URL returns valid JSON.":           "The client's jwks_uri %s did not answer a key set.",
	"Expected successful status code in range of 200 - 399 from location '%s' but received code %d.":                         "The client's jwks_uri %s answered HTTP %d.",
	"The authorization server's token endpoint URL has not been set.":                                                        "",

	// Codes, PKCE and tokens.
	"The authorization code has already been used.":                                                                   "The authorization code was already used; every token issued for it has been revoked.",
	"Authorize code expired at '%s'.":                                                                                 "The authorization code expired at %s.",
	"The OAuth 2.0 Client ID from this request does not match the one from the authorize request.":                    "The authorization code was issued to another client.",
	"The OAuth 2.0 Client ID from this request does not match the ID during the initial token issuance.":              "The refresh token was issued to another client.",
	"Clients must include a code_challenge when performing the authorize code flow, but it is missing.":               "A code_challenge (PKCE, S256) is required.",
	"This client must include a code_challenge when performing the authorize code flow, but it is missing.":           "This client must send a code_challenge (PKCE, S256).",
	"Clients must use code_challenge_method=S256, plain is not allowed.":                                              "code_challenge_method must be S256.",
	"The code_challenge_method is not supported, use S256 instead.":                                                   "code_challenge_method must be S256.",
	"The PKCE code challenge did not match the code verifier.":                                                        "The code_verifier does not match the code_challenge.",
	"The PKCE code verifier can not be longer than 128 characters.":                                                   "The code_verifier must be at most 128 characters long.",
	"The PKCE code verifier must be at least 43 characters.":                                                          "The code_verifier must be at least 43 characters long.",
	"The PKCE code verifier must only contain [a-Z], [0-9], '-', '.', '_', '~'.":                                      "The code_verifier may contain only letters, digits, '-', '.', '_' and '~'.",
	"The PKCE code verifier was provided but the code challenge was absent from the authorization request.":           "A code_verifier was sent, but the authorization request had no code_challenge.",
	"Unable to find initial PKCE data tied to this request":                                                           "The code_challenge of this authorization code is missing.",
	"The refresh token expired.":                                                                                      "The refresh token expired.",
	"Refresh token expired at '%s'.":                                                                                  "The refresh token expired at %s.",
	"The refresh token is malformed or not valid.":                                                                    "The refresh token is not valid.",
	"The refresh token was already used.":                                                                             "The refresh token was already used; the grant has been revoked, and the person must sign in again.",
	"Failed to refresh token. Please retry the request.":                                                              "The refresh could not be completed; retry.",
	"Failed to refresh token because of multiple concurrent requests using the same token. Please retry the request.": "Another request used the same refresh token at the same time; retry.",
	"Access token expired at '%s'.":                                                                                   "The access token expired at %s.",
	"HTTP Authorization header missing.":                                                                              "The Authorization header is missing.",
	"HTTP Authorization header missing, malformed, or credentials used are invalid.":                                  "The Authorization header is missing or its credentials are not valid.",
	"HTTP Authorization header did not provide a token of type 'access_token', got type '%s'.":                        "The bearer token is a %s, not an access token.",
	"Bearer and introspection token are identical.":                                                                   "A token cannot introspect itself.",
	"An introspection strategy indicated that the token is inactive.":                                                 "",
	"Unable to find a suitable validation strategy for the token, thus it is invalid.":                                "",

	// OpenID Connect.
	"Failed to validate OpenID Connect request as decoding id token from id_token_hint parameter failed.":                                                                                                                                              "The id_token_hint is not an ID token issued by this service.",
	"Failed to validate OpenID Connect request because provided id token from id_token_hint does not have a subject.":                                                                                                                                  "The id_token_hint has no subject.",
	"Failed to validate OpenID Connect request because the subject from provided id token from id_token_hint does not match the current session's subject.":                                                                                            "The id_token_hint names another person than the one signed in.",
	"Failed to validate OpenID Connect request because prompt was set to 'login' but auth_time ('%s') happened before the authorization request ('%s') was registered, indicating that the user was not re-authenticated which is forbidden.":          "prompt=login needs a new sign-in, but the sign-in (%s) came before the request (%s).",
	"Failed to validate OpenID Connect request because prompt was set to 'none' but auth_time ('%s') happened after the authorization request ('%s') was registered, indicating that the user was logged in during this request which is not allowed.": "prompt=none forbids signing in, but the sign-in (%s) came after the request (%s).",

	// Request objects and pushed authorization requests (not supported).
	"OpenID Connect 'request' context was given, but the OAuth 2.0 Client does not implement advanced OpenID Connect capabilities.":     "Request objects are not supported.",
	"OpenID Connect 'request_uri' context was given, but the OAuth 2.0 Client does not implement advanced OpenID Connect capabilities.": "request_uri is not supported.",
	"OpenID Connect 'request' or 'request_uri' context was given, but the OAuth 2.0 Client does not have any JSON Web Keys registered.": "Request objects need keys registered for the client.",
	"OpenID Connect parameters 'request' and 'request_uri' were both given, but you can use at most one.":                               "Send request or request_uri, not both.",
	"Request URI '%s' is not whitelisted by the OAuth 2.0 Client.":                                                                      "The request_uri '%s' is not registered for this client.",
	"Unable to fetch OpenID Connect request parameters from 'request_uri' because body parsing failed with: %s.":                        "The request_uri did not answer a request object.",
	"Unable to fetch OpenID Connect request parameters from 'request_uri' because status code '%d' was expected, but got '%d'.":         "The request_uri answered an error.",
	"Unable to fetch OpenID Connect request parameters from 'request_uri' because: %s.":                                                 "The request_uri could not be fetched.",
	"Unable to verify the request object's signature.":                                                                                  "The request object's signature is not valid.",
	"Unable to verify the request object because its claims could not be validated, check if the expiry time is set correctly.":         "The request object's claims are not valid.",
	"This request object uses unsupported signing algorithm '%s'.":                                                                      "The request object's algorithm %s is not supported.",
	"The request object uses signing algorithm '%s', but the requested OAuth 2.0 Client enforces signing algorithm '%s'.":               "The request object is signed with %s; this client must use %s.",
	"Pushed Authorization Requests are enforced but no such request was sent.":                                                          "This client must push its authorization requests (PAR) first.",
	"Pushed Authorization Requests can not contain the 'request_uri' parameter.":                                                        "A pushed authorization request cannot contain request_uri.",
	"The request must not contain 'request_uri'.":                                                                                       "The request must not contain request_uri.",
	"The 'client_id' must match the one sent in the pushed authorization request.":                                                      "The client_id differs from the one of the pushed authorization request.",
	"Invalid PAR session": "The pushed authorization request is not valid.",
	"Unable to generate the random part of the request_uri.": "",
	"Unable to store the PAR session":                        "",

	// Internals: the description says enough, the log has the details.
	"An internal server occurred while trying to complete the request.":                                                                                  "",
	"Misconfigured code lead to an error that prohibited the OAuth 2.0 Framework from processing this request.":                                          "",
	"Unable to type assert the expiry time from claims. This should not happen as we validate the expiry time already earlier with token.Claims.Valid()": "",
}
