package registration

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/clients"
	"github.com/signet-idp/signet/internal/sessions"
	"github.com/signet-idp/signet/internal/storage"
)

// Path is the registration endpoint, relative to the issuer.
const Path = "/oauth2/register"

// Modes of --client-registration.
const (
	ModeOff   = "off"
	ModeToken = "token"
	ModeOpen  = "open"
)

// DefaultPolicy is the per-address limit on registrations when Options
// sets none: ten at once, then one a minute (doubling up to 15 minutes
// while it goes on); the counter starts over after an hour without any.
var DefaultPolicy = PolicyFor(10, time.Hour)

// PolicyFor is the per-address limit of --client-registration-rate-limit
// COUNT/WINDOW: count registrations at once, then one a minute (doubling up
// to 15 minutes), the counter starting over after window without any. No
// wait is longer than the window, so a short window stays short.
func PolicyFor(count int, window time.Duration) sessions.ThrottlePolicy {
	return sessions.ThrottlePolicy{Threshold: count, Window: window,
		BaseDelay: min(time.Minute, window), MaxDelay: min(15*time.Minute, window)}
}

// Dynamic is the registration service (*clients.Dynamic).
type Dynamic interface {
	Register(ctx context.Context, r clients.Registration, requireToken bool, initialToken string) (clients.Registered, error)
	Read(ctx context.Context, clientID, accessToken string) (storage.Client, error)
	Update(ctx context.Context, clientID, accessToken string, r clients.Registration) (storage.Client, string, error)
	Delete(ctx context.Context, clientID, accessToken string) error
}

// Limiter counts registrations per address across replicas
// (*sessions.Throttle).
type Limiter interface {
	Reserve(ctx context.Context, limits ...sessions.Limit) (*sessions.Attempt, time.Duration, error)
}

// Options configures New.
type Options struct {
	Issuer  string
	Mode    string
	Dynamic Dynamic
	Limiter Limiter
	// Policy is the per-address limit (zero: DefaultPolicy).
	Policy sessions.ThrottlePolicy
	Audit  audit.Recorder
	Logger *slog.Logger
}

// Handler serves the endpoints.
type Handler struct{ o Options }

// New returns the handler; Mode must be token or open.
func New(o Options) (*Handler, error) {
	if o.Mode != ModeToken && o.Mode != ModeOpen {
		return nil, errors.New("registration: mode must be token or open")
	}
	if o.Dynamic == nil || o.Limiter == nil || o.Audit == nil || o.Issuer == "" {
		return nil, errors.New("registration: issuer, dynamic, limiter and audit are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Policy.Threshold <= 0 {
		o.Policy = DefaultPolicy
	}
	return &Handler{o: o}, nil
}

// Register mounts the endpoints.
func (h *Handler) Register(e *echo.Echo) {
	e.POST(Path, h.register)
	e.GET(Path+"/:client_id", h.read)
	e.PUT(Path+"/:client_id", h.update)
	e.DELETE(Path+"/:client_id", h.delete)
}

// Metadata is client metadata in RFC 7591 spelling, as requests send it
// and answers show it. Unknown fields in a request are ignored (RFC 7591
// 2); first_party cannot be set here.
type Metadata struct {
	ClientID                         string   `json:"client_id,omitempty"`
	ClientSecret                     string   `json:"client_secret,omitempty"`
	ClientIDIssuedAt                 int64    `json:"client_id_issued_at,omitempty"`
	ClientSecretExpiresAt            *int64   `json:"client_secret_expires_at,omitempty"`
	RegistrationAccessToken          string   `json:"registration_access_token,omitempty"`
	RegistrationClientURI            string   `json:"registration_client_uri,omitempty"`
	ClientName                       string   `json:"client_name"`
	RedirectURIs                     []string `json:"redirect_uris"`
	PostLogoutRedirectURIs           []string `json:"post_logout_redirect_uris,omitempty"`
	GrantTypes                       []string `json:"grant_types"`
	ResponseTypes                    []string `json:"response_types"`
	Scope                            string   `json:"scope"`
	TokenEndpointAuthMethod          string   `json:"token_endpoint_auth_method"`
	IDTokenSignedResponseAlg         string   `json:"id_token_signed_response_alg,omitempty"`
	BackchannelLogoutURI             string   `json:"backchannel_logout_uri,omitempty"`
	BackchannelLogoutSessionRequired bool     `json:"backchannel_logout_session_required,omitempty"`
	// private_key_jwt (RFC 7523) and PAR (RFC 9126). audience is not
	// taken from strangers: it names the resource servers that accept the
	// client's tokens.
	JWKS                               json.RawMessage `json:"jwks,omitempty"`
	JWKSURI                            string          `json:"jwks_uri,omitempty"`
	TokenEndpointAuthSigningAlg        string          `json:"token_endpoint_auth_signing_alg,omitempty"`
	RequirePushedAuthorizationRequests bool            `json:"require_pushed_authorization_requests,omitempty"`
}

func (m Metadata) registration() clients.Registration {
	return clients.Registration{
		Name:                             m.ClientName,
		RedirectURIs:                     m.RedirectURIs,
		PostLogoutRedirectURIs:           m.PostLogoutRedirectURIs,
		GrantTypes:                       m.GrantTypes,
		ResponseTypes:                    m.ResponseTypes,
		Scopes:                           strings.Fields(m.Scope),
		TokenEndpointAuthMethod:          m.TokenEndpointAuthMethod,
		IDTokenSignedResponseAlg:         m.IDTokenSignedResponseAlg,
		BackchannelLogoutURI:             m.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: m.BackchannelLogoutSessionRequired,
		JWKS:                             string(m.JWKS),
		JWKSURI:                          m.JWKSURI,
		TokenEndpointAuthSigningAlg:      m.TokenEndpointAuthSigningAlg,

		RequirePushedAuthorizationRequests: m.RequirePushedAuthorizationRequests,
	}
}

func (h *Handler) metadata(c storage.Client) Metadata {
	m := Metadata{
		ClientID:                         c.ID,
		ClientIDIssuedAt:                 c.CreatedAt.Unix(),
		RegistrationClientURI:            h.o.Issuer + Path + "/" + c.ID,
		ClientName:                       c.Name,
		RedirectURIs:                     nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs:           c.PostLogoutRedirectURIs,
		GrantTypes:                       nonNil(c.GrantTypes),
		ResponseTypes:                    nonNil(c.ResponseTypes),
		Scope:                            strings.Join(c.Scopes, " "),
		TokenEndpointAuthMethod:          c.TokenEndpointAuthMethod,
		IDTokenSignedResponseAlg:         c.IDTokenSignedResponseAlg,
		BackchannelLogoutURI:             c.BackchannelLogoutURI,
		BackchannelLogoutSessionRequired: c.BackchannelLogoutSessionRequired,
		JWKSURI:                          c.JWKSURI,
		TokenEndpointAuthSigningAlg:      c.TokenEndpointAuthSigningAlg,

		RequirePushedAuthorizationRequests: c.RequirePushedAuthorizationRequests,
	}
	if c.JWKS != "" {
		m.JWKS = json.RawMessage(c.JWKS)
	}
	return m
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// withSecret adds a secret issued just now (it never expires: 0).
func withSecret(m Metadata, secret string) Metadata {
	if secret != "" {
		zero := int64(0)
		m.ClientSecret, m.ClientSecretExpiresAt = secret, &zero
	}
	return m
}

func (h *Handler) register(c echo.Context) error {
	ctx := c.Request().Context()
	_, wait, err := h.o.Limiter.Reserve(ctx, sessions.Limit{Key: "client-registration|" + sessions.IPKey(c.RealIP()), Policy: h.o.Policy})
	if err != nil {
		return h.fail(c, err)
	}
	if wait > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		return oauthError(c, http.StatusTooManyRequests, "temporarily_unavailable", "Too many registrations from this address; try again later.")
	}
	var token string
	if h.o.Mode == ModeToken {
		if token = bearer(c); token == "" {
			return invalidToken(c, "An initial access token is required (Authorization: Bearer).")
		}
	}
	var m Metadata
	if err := decode(c, &m); err != nil {
		return oauthError(c, http.StatusBadRequest, "invalid_client_metadata", err.Error())
	}
	reg, err := h.o.Dynamic.Register(ctx, m.registration(), h.o.Mode == ModeToken, token)
	if err != nil {
		return h.fail(c, err)
	}
	details := map[string]string{"name": reg.Client.Name, "auth_method": reg.Client.TokenEndpointAuthMethod, "mode": h.o.Mode}
	if reg.InitialToken.ID != "" {
		details["initial_access"] = reg.InitialToken.ID
	}
	h.o.Audit.Record(ctx, audit.Event{Actor: audit.ActorAnonymous, Action: audit.ClientRegister, Target: reg.Client.ID, Details: details})
	out := withSecret(h.metadata(reg.Client), reg.Secret)
	out.RegistrationAccessToken = reg.AccessToken
	return answer(c, http.StatusCreated, out)
}

func (h *Handler) read(c echo.Context) error {
	cl, err := h.o.Dynamic.Read(c.Request().Context(), c.Param("client_id"), bearer(c))
	if err != nil {
		return h.fail(c, err)
	}
	return answer(c, http.StatusOK, h.metadata(cl))
}

func (h *Handler) update(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("client_id")
	var m Metadata
	if err := decode(c, &m); err != nil {
		return oauthError(c, http.StatusBadRequest, "invalid_client_metadata", err.Error())
	}
	if m.ClientID != id {
		return oauthError(c, http.StatusBadRequest, "invalid_client_metadata", "client_id must be the client's own.")
	}
	cl, secret, err := h.o.Dynamic.Update(ctx, id, bearer(c), m.registration())
	if err != nil {
		return h.fail(c, err)
	}
	h.o.Audit.Record(ctx, audit.Event{Actor: id, Action: audit.ClientUpdate, Target: id,
		Details: map[string]string{"name": cl.Name, "auth_method": cl.TokenEndpointAuthMethod}})
	return answer(c, http.StatusOK, withSecret(h.metadata(cl), secret))
}

func (h *Handler) delete(c echo.Context) error {
	ctx := c.Request().Context()
	id := c.Param("client_id")
	if err := h.o.Dynamic.Delete(ctx, id, bearer(c)); err != nil {
		return h.fail(c, err)
	}
	h.o.Audit.Record(ctx, audit.Event{Actor: id, Action: audit.ClientDelete, Target: id,
		Details: map[string]string{"via": "registration access token"}})
	return c.NoContent(http.StatusNoContent)
}

// fail answers the service's errors in RFC 7591/7592 terms.
func (h *Handler) fail(c echo.Context, err error) error {
	var ve *clients.ValidationError
	switch {
	case errors.Is(err, clients.ErrBadToken):
		return invalidToken(c, "The token is not valid for this request.")
	case errors.As(err, &ve):
		code := "invalid_client_metadata"
		if ve.Field == "redirect_uris" || ve.Field == "post_logout_redirect_uris" {
			code = "invalid_redirect_uri"
		}
		return oauthError(c, http.StatusBadRequest, code, ve.Error())
	case errors.Is(err, storage.ErrUnavailable):
		h.o.Logger.WarnContext(c.Request().Context(), "client registration: storage unavailable", "err", err)
		c.Response().Header().Set("Retry-After", "5")
		return oauthError(c, http.StatusServiceUnavailable, "temporarily_unavailable", "The service is briefly unavailable; try again.")
	default:
		h.o.Logger.ErrorContext(c.Request().Context(), "client registration failed", "method", c.Request().Method, "err", err)
		return oauthError(c, http.StatusInternalServerError, "server_error", "The server could not complete the request.")
	}
}

func bearer(c echo.Context) string {
	h := c.Request().Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func invalidToken(c echo.Context, desc string) error {
	c.Response().Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	return oauthError(c, http.StatusUnauthorized, "invalid_token", desc)
}

func oauthError(c echo.Context, status int, code, desc string) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(status, map[string]string{"error": code, "error_description": desc})
}

func answer(c echo.Context, status int, m Metadata) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Pragma", "no-cache")
	return c.JSON(status, m)
}

// maxBody caps a registration; a real one is a few KiB.
const maxBody = 64 << 10

var errBody = errors.New("the body must be a JSON object (Content-Type: application/json)")

func decode(c echo.Context, v *Metadata) error {
	r := c.Request()
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return errBody
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody+1))
	if err := dec.Decode(v); err != nil {
		return errBody
	}
	if dec.More() {
		return errBody
	}
	return nil
}
