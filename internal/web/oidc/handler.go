package oidc

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/labstack/echo/v4"
	"github.com/ory/fosite"

	"github.com/signet-idp/signet/internal/oauth"
	"github.com/signet-idp/signet/internal/storage"
)

// Endpoint paths, relative to the issuer. Discovery publishes them; they
// are stable.
const (
	PathDiscovery  = "/.well-known/openid-configuration"
	PathJWKS       = "/.well-known/jwks.json"
	PathAuthorize  = "/oauth2/auth"
	PathResume     = "/oauth2/auth/resume"
	PathToken      = "/oauth2/token"
	PathUserinfo   = "/userinfo"
	PathRevoke     = "/oauth2/revoke"
	PathIntrospect = "/oauth2/introspect"
	// PathPAR is the pushed authorization request endpoint (RFC 9126).
	PathPAR = "/oauth2/par"
	// DefaultLoginPath is where the authorization endpoint sends people to
	// log in, with ?login_challenge=VALUE.
	DefaultLoginPath = "/login"
)

// OAuth is what the handlers use of the OAuth core (internal/oauth's
// *Provider).
type OAuth interface {
	NewAuthorizeRequest(ctx context.Context, req *http.Request) (fosite.AuthorizeRequester, error)
	NewAuthorizeResponse(ctx context.Context, ar fosite.AuthorizeRequester, session fosite.Session) (fosite.AuthorizeResponder, error)
	WriteAuthorizeError(ctx context.Context, rw http.ResponseWriter, ar fosite.AuthorizeRequester, err error)
	WriteAuthorizeResponse(ctx context.Context, rw http.ResponseWriter, ar fosite.AuthorizeRequester, resp fosite.AuthorizeResponder)
	NewAccessRequest(ctx context.Context, req *http.Request, session fosite.Session) (fosite.AccessRequester, error)
	NewAccessResponse(ctx context.Context, ar fosite.AccessRequester) (fosite.AccessResponder, error)
	WriteAccessError(ctx context.Context, rw http.ResponseWriter, ar fosite.AccessRequester, err error)
	WriteAccessResponse(ctx context.Context, rw http.ResponseWriter, ar fosite.AccessRequester, resp fosite.AccessResponder)
	NewPushedAuthorizeRequest(ctx context.Context, r *http.Request) (fosite.AuthorizeRequester, error)
	NewPushedAuthorizeResponse(ctx context.Context, ar fosite.AuthorizeRequester, session fosite.Session) (fosite.PushedAuthorizeResponder, error)
	WritePushedAuthorizeResponse(ctx context.Context, rw http.ResponseWriter, ar fosite.AuthorizeRequester, resp fosite.PushedAuthorizeResponder)
	WritePushedAuthorizeError(ctx context.Context, rw http.ResponseWriter, ar fosite.AuthorizeRequester, err error)
	NewRevocationRequest(ctx context.Context, r *http.Request) error
	IntrospectToken(ctx context.Context, token string, use fosite.TokenUse, session fosite.Session, scope ...string) (fosite.TokenUse, fosite.AccessRequester, error)
	NewIntrospectionRequest(ctx context.Context, r *http.Request, session fosite.Session) (fosite.IntrospectionResponder, error)
	WriteIntrospectionError(ctx context.Context, rw http.ResponseWriter, err error)
	WriteIntrospectionResponse(ctx context.Context, rw http.ResponseWriter, r fosite.IntrospectionResponder)

	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	WithRequestCache(ctx context.Context) context.Context
	NewUserSession(ctx context.Context, g oauth.Grant, granted []string) (*oauth.Session, error)
	PrepareRefresh(ctx context.Context, ar fosite.AccessRequester) error
	UserInfo(ctx context.Context, subject string, scopes []string) (map[string]interface{}, error)
	DecodeIDTokenHint(ctx context.Context, hint string) (string, error)
	RevokeGrant(ctx context.Context, grant fosite.Requester, reason string) error
}

var _ OAuth = (*oauth.Provider)(nil)

// Challenges is what the handlers use of the login challenge service.
type Challenges interface {
	Park(ctx context.Context, r oauth.ParkRequest) (string, error)
	Consume(ctx context.Context, value string) (storage.LoginChallenge, error)
	RememberedConsent(ctx context.Context, userID, clientID string, scopes []string) (bool, error)
}

var _ Challenges = (*oauth.Challenges)(nil)

// PublicKeys is what the JWKS endpoint and discovery need of the key
// provider.
type PublicKeys interface {
	// PublicKeys returns every published key (next, current, retired).
	PublicKeys(ctx context.Context) ([]jose.JSONWebKey, error)
	// Algorithms lists the algorithms with a current key, RS256 first.
	Algorithms(ctx context.Context) []string
}

// BrowserSession is a signed-in browser (single sign-on).
type BrowserSession struct {
	// ID is the session id (the `sid` claim).
	ID       string
	Subject  string
	AuthTime time.Time
	// AMR, ACR and IDP say how the session signed in (the `amr`, `acr`
	// and `idp` claims).
	AMR []string
	ACR string
	IDP string
}

// MFAPolicy says whether a user must sign in with a second factor
// whatever the app asks (the server's or their role's requirement).
type MFAPolicy interface {
	Required(ctx context.Context, userID string) (bool, error)
}

// BrowserSessions finds the signed-in session of a request. The pages
// issue plugs the real one in; until then NoBrowserSessions says "none".
type BrowserSessions interface {
	Current(r *http.Request) (BrowserSession, bool, error)
}

// NoBrowserSessions never finds a session: every request goes to the login
// page, and prompt=none is answered login_required.
type NoBrowserSessions struct{}

// Current implements BrowserSessions.
func (NoBrowserSessions) Current(*http.Request) (BrowserSession, bool, error) {
	return BrowserSession{}, false, nil
}

// Options configures New.
type Options struct {
	// Issuer is the public base URL (no trailing slash).
	Issuer     string
	OAuth      OAuth
	Challenges Challenges
	Keys       PublicKeys
	// JWKSMaxAge is the Cache-Control max-age of the JWKS: the keys'
	// prepublication window (a key is published at least this long before
	// it signs). 0: one hour.
	JWKSMaxAge time.Duration
	// Sessions finds SSO sessions (nil: NoBrowserSessions).
	Sessions BrowserSessions
	// MFAPolicy, when set, keeps a password-only session of a user who
	// must use a second factor from answering without the login page
	// (which steps it up).
	MFAPolicy MFAPolicy
	// RequireBrowserSession makes the resume endpoint insist that the
	// browser finishing a challenge carries the session that logged in.
	// Turn it on once the pages issue provides real sessions.
	RequireBrowserSession bool
	// LoginPath is where people log in (default DefaultLoginPath).
	LoginPath string
	// EndSessionPath is the RP-Initiated Logout endpoint served by the
	// pages; discovery lists it only when set.
	EndSessionPath string
	// ErrorPages renders the pages for errors that must not go back to a
	// client (nil: a plain built-in page).
	ErrorPages ErrorPages
	// SessionClients records which clients with a back-channel logout URI
	// received tokens in which browser session; set, discovery says
	// back-channel logout is supported. nil: back-channel logout is off.
	SessionClients SessionClients
	// RegistrationPath, when set, is the dynamic client registration
	// endpoint (RFC 7591) discovery lists.
	RegistrationPath string
	// PAR serves the pushed authorization request endpoint (the provider
	// must compose fosite's par handler: oauth.Options.PAR); RequirePAR
	// refuses authorization requests that were not pushed, for every
	// client.
	PAR, RequirePAR bool
	// IntrospectionClients may introspect tokens issued to other clients
	// (resource servers); every other client only its own.
	IntrospectionClients []string
	Logger               *slog.Logger
	Now                  func() time.Time
}

// ErrorPages renders, in the product's own look, the page for an error that
// cannot be sent to the client: title and message in plain words, code the
// technical error code.
type ErrorPages interface {
	ProtocolError(w http.ResponseWriter, status int, title, message, code string) error
}

// SessionClients is what the authorization endpoint needs of the
// back-channel logout service (*backchannel.Service).
type SessionClients interface {
	RecordSessionClient(ctx context.Context, sessionID, clientID string) error
}

// Handler serves the protocol endpoints.
type Handler struct {
	issuer          string
	oauth           OAuth
	challenges      Challenges
	keys            PublicKeys
	jwksMaxAge      time.Duration
	sessions        BrowserSessions
	mfaPolicy       MFAPolicy
	requireSess     bool
	loginPath       string
	errorPages      ErrorPages
	logger          *slog.Logger
	now             func() time.Time
	discovery       discovery
	sessClients     SessionClients
	par, requirePAR bool
	// introspectors are the client ids that may introspect any token.
	introspectors map[string]struct{}
	// discoveryBody and jwksBody keep the encoded answers (renderOnce).
	discoveryBody, jwksBody atomic.Pointer[rendered]
}

// New returns the handler.
func New(o Options) (*Handler, error) {
	h := &Handler{
		issuer: o.Issuer, oauth: o.OAuth, challenges: o.Challenges, keys: o.Keys, jwksMaxAge: o.JWKSMaxAge,
		sessions: o.Sessions, mfaPolicy: o.MFAPolicy, requireSess: o.RequireBrowserSession, loginPath: o.LoginPath,
		errorPages: o.ErrorPages, par: o.PAR, requirePAR: o.RequirePAR, sessClients: o.SessionClients,
		logger: o.Logger, now: o.Now,
	}
	if h.sessions == nil {
		h.sessions = NoBrowserSessions{}
	}
	h.introspectors = make(map[string]struct{}, len(o.IntrospectionClients))
	for _, id := range o.IntrospectionClients {
		h.introspectors[id] = struct{}{}
	}
	if h.loginPath == "" {
		h.loginPath = DefaultLoginPath
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.jwksMaxAge <= 0 {
		h.jwksMaxAge = time.Hour
	}
	d, err := discoveryDocument(o.Issuer, o.EndSessionPath)
	if err != nil {
		return nil, err
	}
	if o.PAR {
		d.PushedAuthorizationRequestEndpoint = o.Issuer + PathPAR
		d.RequirePushedAuthorizationRequests = o.RequirePAR
	}
	if o.RegistrationPath != "" {
		d.RegistrationEndpoint = o.Issuer + o.RegistrationPath
	}
	if o.SessionClients != nil {
		d.BackchannelLogoutSupported, d.BackchannelLogoutSessionSupported = true, true
	}
	h.discovery = d
	return h, nil
}

// Register mounts the endpoints on e.
func (h *Handler) Register(e *echo.Echo) {
	e.GET(PathDiscovery, h.serveDiscovery)
	e.GET(PathJWKS, h.serveJWKS)
	e.GET(PathAuthorize, h.authorize)
	e.POST(PathAuthorize, h.authorize)
	e.GET(PathResume, h.resume)
	e.POST(PathToken, h.token)
	e.GET(PathUserinfo, h.userinfo)
	e.POST(PathUserinfo, h.userinfo)
	e.POST(PathRevoke, h.revoke)
	e.POST(PathIntrospect, h.introspect)
	if h.par {
		e.POST(PathPAR, h.pushAuthorize)
	}
}
