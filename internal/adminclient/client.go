package adminclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/signet-idp/signet/internal/adminapi"
)

// DefaultURL is where the admin listener is by default.
const DefaultURL = "http://127.0.0.1:8081"

// Error is an error answer of the admin API.
type Error struct {
	// StatusCode is the HTTP status (400, 401, 404, 409, …).
	StatusCode int
	// Code and Description come from the JSON body
	// ({"error":…,"error_description":…}).
	Code        string
	Description string
}

func (e *Error) Error() string {
	if e.Description != "" {
		return fmt.Sprintf("admin API: %s (HTTP %d)", e.Description, e.StatusCode)
	}
	return fmt.Sprintf("admin API: HTTP %d %s", e.StatusCode, e.Code)
}

// IsNotFound reports whether err is an admin API 404.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusNotFound
}

// Client calls the admin API. Safe for concurrent use.
type Client struct {
	base  string // listener URL + "/admin", no trailing slash
	token string
	http  *http.Client
}

// New returns a client of the admin API at baseURL (the admin listener,
// e.g. http://127.0.0.1:8081; a trailing /admin is accepted too). token,
// when not empty, is sent as a bearer token. httpClient nil means a client
// with a 30 s timeout.
func New(baseURL, token string, httpClient *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("admin URL %q must be an http(s) URL such as %s", baseURL, DefaultURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("admin URL %q must not have a query or fragment", baseURL)
	}
	base := strings.TrimRight(u.String(), "/")
	if !strings.HasSuffix(base, "/admin") {
		base += "/admin"
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: base, token: token, http: httpClient}, nil
}

// The bodies the API sends and takes; see internal/adminapi.
type (
	ClientRegistration = adminapi.ClientRegistration
	ClientPatch        = adminapi.ClientPatch
	OAuthClient        = adminapi.OAuthClient
	// NewRegistrationToken and RegistrationToken: initial access tokens.
	NewRegistrationToken = adminapi.NewRegistrationToken
	RegistrationToken    = adminapi.RegistrationToken
	NewUser              = adminapi.NewUser
	User                 = adminapi.User
	LogoutResult         = adminapi.LogoutResult
	Role                 = adminapi.Role
	AuditEvent           = adminapi.AuditEvent
	SigningKey           = adminapi.SigningKey
)

// UserQuery filters ListUsers; zero values leave the server's defaults
// (no search, its default page size).
type UserQuery struct {
	Search string
	Limit  int
	Offset int
}

// CreateClient registers a client; the answer carries the secret, once.
func (c *Client) CreateClient(ctx context.Context, r ClientRegistration) (OAuthClient, error) {
	var out OAuthClient
	return out, c.do(ctx, http.MethodPost, "/clients", r, &out)
}

// ListClients returns every client.
func (c *Client) ListClients(ctx context.Context) ([]OAuthClient, error) {
	var out []OAuthClient
	return out, c.do(ctx, http.MethodGet, "/clients", nil, &out)
}

// GetClient returns one client.
func (c *Client) GetClient(ctx context.Context, id string) (OAuthClient, error) {
	var out OAuthClient
	return out, c.do(ctx, http.MethodGet, "/clients/"+url.PathEscape(id), nil, &out)
}

// UpdateClient changes the fields p sets; the answer carries a secret
// only when the client just became confidential.
func (c *Client) UpdateClient(ctx context.Context, id string, p ClientPatch) (OAuthClient, error) {
	var out OAuthClient
	return out, c.do(ctx, http.MethodPatch, "/clients/"+url.PathEscape(id), p, &out)
}

// RotateClientSecret gives a confidential client a new secret, carried by
// the answer, once; the old secret stops working.
func (c *Client) RotateClientSecret(ctx context.Context, id string) (OAuthClient, error) {
	var out OAuthClient
	return out, c.do(ctx, http.MethodPost, "/clients/"+url.PathEscape(id)+"/rotate-secret", nil, &out)
}

// DeleteClient deletes a client.
func (c *Client) DeleteClient(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/clients/"+url.PathEscape(id), nil, nil)
}

// CreateRegistrationToken issues an initial access token for dynamic
// client registration; the answer carries the token, once.
func (c *Client) CreateRegistrationToken(ctx context.Context, in NewRegistrationToken) (RegistrationToken, error) {
	var out RegistrationToken
	return out, c.do(ctx, http.MethodPost, "/registration-tokens", in, &out)
}

// ListRegistrationTokens returns every initial access token (not the
// tokens themselves).
func (c *Client) ListRegistrationTokens(ctx context.Context) ([]RegistrationToken, error) {
	var out []RegistrationToken
	return out, c.do(ctx, http.MethodGet, "/registration-tokens", nil, &out)
}

// RevokeRegistrationToken deletes an initial access token.
func (c *Client) RevokeRegistrationToken(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/registration-tokens/"+url.PathEscape(id), nil, nil)
}

// CreateUser creates a user.
func (c *Client) CreateUser(ctx context.Context, u NewUser) (User, error) {
	var out User
	return out, c.do(ctx, http.MethodPost, "/users", u, &out)
}

// ListUsers returns users matching q, ordered by user name.
func (c *Client) ListUsers(ctx context.Context, q UserQuery) ([]User, error) {
	v := url.Values{}
	if q.Search != "" {
		v.Set("search", q.Search)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Offset > 0 {
		v.Set("offset", strconv.Itoa(q.Offset))
	}
	path := "/users"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var out []User
	return out, c.do(ctx, http.MethodGet, path, nil, &out)
}

// GetUser returns the user with that id, user name or e-mail.
func (c *Client) GetUser(ctx context.Context, ref string) (User, error) {
	var out User
	return out, c.do(ctx, http.MethodGet, "/users/"+url.PathEscape(ref), nil, &out)
}

// SetUserRoles replaces the user's roles (an empty list removes all).
func (c *Client) SetUserRoles(ctx context.Context, ref string, roles []string) (User, error) {
	if roles == nil {
		roles = []string{}
	}
	var out User
	body := adminapi.UserRoles{Roles: roles}
	return out, c.do(ctx, http.MethodPut, "/users/"+url.PathEscape(ref)+"/roles", body, &out)
}

// DisableUser disables a user and ends its sessions and tokens.
func (c *Client) DisableUser(ctx context.Context, ref string) (User, error) {
	var out User
	return out, c.do(ctx, http.MethodPost, "/users/"+url.PathEscape(ref)+"/disable", nil, &out)
}

// ResetUserMFA removes a user's second factors and recovery codes.
func (c *Client) ResetUserMFA(ctx context.Context, ref string) (User, error) {
	var out User
	return out, c.do(ctx, http.MethodPost, "/users/"+url.PathEscape(ref)+"/reset-mfa", nil, &out)
}

// EnableUser enables a user.
func (c *Client) EnableUser(ctx context.Context, ref string) (User, error) {
	var out User
	return out, c.do(ctx, http.MethodPost, "/users/"+url.PathEscape(ref)+"/enable", nil, &out)
}

// DeleteUser deletes a user.
func (c *Client) DeleteUser(ctx context.Context, ref string) error {
	return c.do(ctx, http.MethodDelete, "/users/"+url.PathEscape(ref), nil, nil)
}

// VerifyUserEmail marks the user's e-mail address verified.
func (c *Client) VerifyUserEmail(ctx context.Context, ref string) (User, error) {
	var out User
	return out, c.do(ctx, http.MethodPost, "/users/"+url.PathEscape(ref)+"/verify-email", nil, &out)
}

// SendUserReset mails the user a password reset link; the answer is the
// user (the link went to its e-mail address).
func (c *Client) SendUserReset(ctx context.Context, ref string) (User, error) {
	var out User
	return out, c.do(ctx, http.MethodPost, "/users/"+url.PathEscape(ref)+"/send-reset", nil, &out)
}

// LogoutUser ends every session of the user and revokes every token
// issued to them.
func (c *Client) LogoutUser(ctx context.Context, ref string) (LogoutResult, error) {
	var out LogoutResult
	return out, c.do(ctx, http.MethodPost, "/users/"+url.PathEscape(ref)+"/logout", nil, &out)
}

// TailAudit returns the newest audit events first; limit 0 leaves the
// server's default.
func (c *Client) TailAudit(ctx context.Context, limit int) ([]AuditEvent, error) {
	path := "/audit"
	if limit != 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	var out []AuditEvent
	return out, c.do(ctx, http.MethodGet, path, nil, &out)
}

// CreateRole creates a role.
func (c *Client) CreateRole(ctx context.Context, name, description string) (Role, error) {
	var out Role
	body := adminapi.NewRole{Name: name, Description: description}
	return out, c.do(ctx, http.MethodPost, "/roles", body, &out)
}

// ListRoles returns every role.
func (c *Client) ListRoles(ctx context.Context) ([]Role, error) {
	var out []Role
	return out, c.do(ctx, http.MethodGet, "/roles", nil, &out)
}

// DeleteRole deletes a role and removes it from every user.
func (c *Client) DeleteRole(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/roles/"+url.PathEscape(name), nil, nil)
}

// maxResponseBytes bounds what is read from the server.
const maxResponseBytes = 16 << 20

// do sends one request; in (when not nil) is the JSON body, out (when not
// nil) receives the JSON answer.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return fmt.Errorf("admin API request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The URL error already names method and URL; no token in it.
		return fmt.Errorf("cannot reach the admin API (is `signet serve` running and --admin-url right?): %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return fmt.Errorf("read admin API answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		return decodeError(resp, data)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("admin API answered %s %s with unreadable JSON: %w", method, path, err)
	}
	return nil
}

func decodeError(resp *http.Response, data []byte) error {
	e := &Error{StatusCode: resp.StatusCode}
	var body struct {
		adminapi.ErrorBody
		// Echo's default error shape, from a server (or proxy) that did
		// not use ours.
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &body) == nil && (body.Error != "" || body.Description != "" || body.Message != "") {
		e.Code, e.Description = body.Error, body.Description
		if e.Description == "" {
			e.Description = body.Message
		}
		return e
	}
	e.Code = http.StatusText(resp.StatusCode)
	if text := strings.TrimSpace(string(data)); text != "" && len(text) < 200 {
		e.Description = text
	}
	return e
}
