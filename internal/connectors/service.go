package connectors

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/keys"
	"github.com/signet-idp/signet/internal/storage"
)

// DefaultTimeout bounds each call to an upstream (discovery, token, keys,
// userinfo, GitHub's API) unless Options.Timeout says otherwise.
const DefaultTimeout = 10 * time.Second

// CallbackPath is where upstreams send the browser back; register
// ISSUER + CallbackPath(id) as the redirect URI at the upstream.
func CallbackPath(id string) string { return "/connectors/" + id + "/callback" }

// Store is what the service needs from storage.
type Store interface {
	storage.Transactor
	storage.ConnectorStore
	storage.UpstreamIdentityStore
	CreateUser(ctx context.Context, u storage.User) error
	GetUser(ctx context.Context, id string) (storage.User, error)
	GetUserByLogin(ctx context.Context, usernameOrEmail string) (storage.User, error)
	SetUserRoles(ctx context.Context, userID string, roles []string) error
	ListUserRoles(ctx context.Context, userID string) ([]string, error)
	GetRole(ctx context.Context, name string) (storage.Role, error)
	ListUsersWithRole(ctx context.Context, role string) ([]string, error)
	LockAdmins(ctx context.Context) error
}

// Options configure a Service.
type Options struct {
	// Secret seals client secrets and browser-held flow state;
	// OldSecrets still open what they sealed.
	Secret     []byte
	OldSecrets [][]byte
	// Issuer is Signet's public URL: callbacks are ISSUER/connectors/ID/callback.
	Issuer string
	// Timeout bounds each upstream call (DefaultTimeout when zero).
	Timeout time.Duration
	// Transport reaches the upstreams (http.DefaultTransport when nil).
	Transport http.RoundTripper
	Audit     audit.Recorder
	Logger    *slog.Logger
	Now       func() time.Time
}

// Service manages connectors and signs people in through them.
type Service struct {
	store     Store
	o         Options
	sealer    sealer
	client    *http.Client
	providers *providerCache

	buttonsMu sync.Mutex
	buttons   []Button
	buttonsAt time.Time
}

// New returns a Service over store.
func New(store Store, o Options) *Service {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Issuer = strings.TrimSuffix(o.Issuer, "/")
	secrets := append([][]byte{o.Secret}, o.OldSecrets...)
	return &Service{
		store:  store,
		o:      o,
		sealer: sealer{secret: o.Secret, secrets: secrets},
		client: &http.Client{
			Timeout:   o.Timeout,
			Transport: o.Transport,
			// An upstream API never needs to send us elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		providers: &providerCache{m: map[string]cachedProvider{}, ttl: time.Hour, now: o.Now},
	}
}

// Timeout is the bound on each upstream call.
func (s *Service) Timeout() time.Duration { return s.o.Timeout }

func (s *Service) record(ctx context.Context, e audit.Event) {
	if s.o.Audit != nil {
		s.o.Audit.Record(ctx, e)
	}
}

func (s *Service) now() time.Time { return s.o.Now().UTC().Truncate(time.Microsecond) }

// RedirectURL is the callback to register at the upstream.
func (s *Service) RedirectURL(id string) string { return s.o.Issuer + CallbackPath(id) }

// ---- administration ----

// Input creates a connector.
type Input struct {
	ID           string             `json:"id"`
	Type         string             `json:"type"`
	Name         string             `json:"name"`
	IconURL      string             `json:"icon_url,omitempty"`
	Enabled      *bool              `json:"enabled,omitempty"`
	ClientID     string             `json:"client_id"`
	ClientSecret string             `json:"client_secret,omitempty"`
	Config       json.RawMessage    `json:"config,omitempty"`
	RoleRules    []storage.RoleRule `json:"role_rules,omitempty"`
	DefaultRole  string             `json:"default_role,omitempty"`
}

// Patch changes a connector; nil fields stay as they are.
type Patch struct {
	Name         *string             `json:"name,omitempty"`
	IconURL      *string             `json:"icon_url,omitempty"`
	Enabled      *bool               `json:"enabled,omitempty"`
	ClientID     *string             `json:"client_id,omitempty"`
	ClientSecret *string             `json:"client_secret,omitempty"`
	Config       json.RawMessage     `json:"config,omitempty"`
	RoleRules    *[]storage.RoleRule `json:"role_rules,omitempty"`
	DefaultRole  *string             `json:"default_role,omitempty"`
}

// View is a connector as administrators see it: never its client secret.
type View struct {
	ID              string             `json:"id"`
	Type            string             `json:"type"`
	Name            string             `json:"name"`
	IconURL         string             `json:"icon_url,omitempty"`
	Enabled         bool               `json:"enabled"`
	ClientID        string             `json:"client_id"`
	HasClientSecret bool               `json:"has_client_secret"`
	Config          json.RawMessage    `json:"config"`
	RoleRules       []storage.RoleRule `json:"role_rules"`
	DefaultRole     string             `json:"default_role,omitempty"`
	// RedirectURL is the callback to register at the upstream.
	RedirectURL string    `json:"redirect_url"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func (s *Service) view(c storage.Connector) View {
	rules := c.RoleRules
	if rules == nil {
		rules = []storage.RoleRule{}
	}
	return View{
		ID: c.ID, Type: c.Type, Name: c.Name, IconURL: c.IconURL, Enabled: c.Enabled, ClientID: c.ClientID,
		HasClientSecret: len(c.ClientSecret) > 0, Config: json.RawMessage(c.Config), RoleRules: rules,
		DefaultRole: c.DefaultRole, RedirectURL: s.RedirectURL(c.ID), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

// checked validates c (settings normalised into c.Config) and that the
// roles it names exist.
func (s *Service) checked(ctx context.Context, c *storage.Connector) error {
	st, err := parseSettings(c.Config)
	if err != nil {
		return err
	}
	if err := validate(c, &st); err != nil {
		return err
	}
	roles := rolesNamed(c.RoleRules)
	if c.DefaultRole != "" {
		roles = append(roles, c.DefaultRole)
	}
	var missing []string
	for _, r := range roles {
		if _, err := s.store.GetRole(ctx, r); errors.Is(err, storage.ErrNotFound) {
			missing = append(missing, r)
		} else if err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		return invalid("role %s does not exist (create it first)", strings.Join(missing, ", "))
	}
	return nil
}

func (s *Service) sealSecret(id, secret string) ([]byte, error) {
	if secret == "" {
		return nil, nil
	}
	return keys.Seal([]byte(secret), []byte(id), s.o.Secret)
}

// Create validates and stores a connector. The client secret is sealed and
// never returned.
func (s *Service) Create(ctx context.Context, in Input) (View, error) {
	now := s.now()
	c := storage.Connector{
		ID: strings.TrimSpace(in.ID), Type: in.Type, Name: in.Name, IconURL: in.IconURL, Enabled: true,
		ClientID: in.ClientID, Config: in.Config, RoleRules: in.RoleRules, DefaultRole: in.DefaultRole,
		CreatedAt: now, UpdatedAt: now,
	}
	if in.Enabled != nil {
		c.Enabled = *in.Enabled
	}
	if err := s.checked(ctx, &c); err != nil {
		return View{}, err
	}
	var err error
	if c.ClientSecret, err = s.sealSecret(c.ID, in.ClientSecret); err != nil {
		return View{}, err
	}
	if err := s.store.CreateConnector(ctx, c); errors.Is(err, storage.ErrAlreadyExists) {
		return View{}, fmt.Errorf("%w: %q", ErrExists, c.ID)
	} else if err != nil {
		return View{}, err
	}
	s.forgetButtons()
	s.record(ctx, audit.Event{Action: audit.ConnectorCreate, Target: c.ID, Details: map[string]string{"type": c.Type}})
	return s.view(c), nil
}

// Update applies p to the connector.
func (s *Service) Update(ctx context.Context, id string, p Patch) (View, error) {
	var out storage.Connector
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.store.GetConnector(ctx, id)
		if errors.Is(err, storage.ErrNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		set := func(dst *string, v *string) {
			if v != nil {
				*dst = *v
			}
		}
		set(&c.Name, p.Name)
		set(&c.IconURL, p.IconURL)
		set(&c.ClientID, p.ClientID)
		set(&c.DefaultRole, p.DefaultRole)
		if p.Enabled != nil {
			c.Enabled = *p.Enabled
		}
		if p.Config != nil {
			c.Config = p.Config
		}
		if p.RoleRules != nil {
			c.RoleRules = *p.RoleRules
		}
		if err := s.checked(ctx, &c); err != nil {
			return err
		}
		if p.ClientSecret != nil {
			if c.ClientSecret, err = s.sealSecret(c.ID, *p.ClientSecret); err != nil {
				return err
			}
		}
		c.UpdatedAt = s.now()
		if err := s.store.UpdateConnector(ctx, c); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err != nil {
		return View{}, err
	}
	s.providers.forget(out)
	s.forgetButtons()
	s.record(ctx, audit.Event{Action: audit.ConnectorUpdate, Target: id})
	return s.view(out), nil
}

// Get returns one connector.
func (s *Service) Get(ctx context.Context, id string) (View, error) {
	c, err := s.store.GetConnector(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return View{}, ErrNotFound
	} else if err != nil {
		return View{}, err
	}
	return s.view(c), nil
}

// List returns every connector.
func (s *Service) List(ctx context.Context) ([]View, error) {
	cs, err := s.store.ListConnectors(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]View, 0, len(cs))
	for _, c := range cs {
		out = append(out, s.view(c))
	}
	return out, nil
}

// Delete removes a connector and every identity linked through it.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := s.store.DeleteConnector(ctx, id); errors.Is(err, storage.ErrNotFound) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	s.forgetButtons()
	s.record(ctx, audit.Event{Action: audit.ConnectorDelete, Target: id})
	return nil
}

// ---- signing in ----

// Button is an enabled connector as the login page offers it.
type Button struct {
	ID      string
	Name    string
	IconURL string
}

// buttonsTTL is how long the login page's list of connectors is reused:
// every login page shows it, and a change reaches every replica within it.
const buttonsTTL = 5 * time.Second

// Buttons lists the enabled connectors.
func (s *Service) Buttons(ctx context.Context) ([]Button, error) {
	now := s.o.Now()
	s.buttonsMu.Lock()
	if !s.buttonsAt.IsZero() && now.Sub(s.buttonsAt) < buttonsTTL && now.After(s.buttonsAt.Add(-time.Second)) {
		out := slices.Clone(s.buttons)
		s.buttonsMu.Unlock()
		return out, nil
	}
	s.buttonsMu.Unlock()
	cs, err := s.store.ListConnectors(ctx)
	if err != nil {
		return nil, err
	}
	var out []Button
	for _, c := range cs {
		if c.Enabled {
			out = append(out, Button{ID: c.ID, Name: c.Name, IconURL: c.IconURL})
		}
	}
	s.buttonsMu.Lock()
	s.buttons, s.buttonsAt = out, now
	s.buttonsMu.Unlock()
	return slices.Clone(out), nil
}

// forgetButtons makes the next login page read the connectors again (this
// replica's changes show at once).
func (s *Service) forgetButtons() {
	s.buttonsMu.Lock()
	s.buttonsAt = time.Time{}
	s.buttonsMu.Unlock()
}

// enabled loads an enabled connector and builds its upstream.
func (s *Service) enabled(ctx context.Context, id string) (storage.Connector, upstream, error) {
	c, err := s.store.GetConnector(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !c.Enabled) {
		return c, nil, fail(KindUnavailable, id, errors.New("unknown or disabled connector"))
	} else if err != nil {
		return c, nil, err
	}
	u, err := s.upstream(c)
	return c, u, err
}

func (s *Service) upstream(c storage.Connector) (upstream, error) {
	st, err := parseSettings(c.Config)
	if err != nil {
		return nil, err
	}
	secret := ""
	if len(c.ClientSecret) > 0 {
		b, _, err := keys.OpenSealed(c.ClientSecret, []byte(c.ID), s.sealer.secrets)
		if err != nil {
			return nil, fmt.Errorf("connector %q: open client secret: %w", c.ID, err)
		}
		secret = string(b)
	}
	switch c.Type {
	case storage.ConnectorOIDC, storage.ConnectorGoogle:
		if c.Type == storage.ConnectorGoogle {
			st.Issuer = GoogleIssuer
		}
		return &oidcUpstream{id: c.ID, clientID: c.ClientID, clientSecret: secret, s: st,
			google: c.Type == storage.ConnectorGoogle, client: s.client, providers: s.providers}, nil
	case storage.ConnectorGitHub:
		return &githubUpstream{id: c.ID, clientID: c.ClientID, clientSecret: secret, s: st, client: s.client}, nil
	}
	return nil, fmt.Errorf("connector %q: unknown type %q", c.ID, c.Type)
}

// Begin starts a sign-in at connector id: it returns where to send the
// browser and the sealed flow for the browser to keep (a cookie).
func (s *Service) Begin(ctx context.Context, id string, f Flow) (authURL, sealed string, err error) {
	_, u, err := s.enabled(ctx, id)
	if err != nil {
		return "", "", err
	}
	f.Connector = id
	for _, v := range []*string{&f.State, &f.Nonce, &f.Verifier} {
		if *v, err = randomToken(); err != nil {
			return "", "", err
		}
	}
	f.Expires = s.o.Now().Add(FlowLifespan).Unix()
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	if authURL, err = u.authURL(ctx, f, s.RedirectURL(id)); err != nil {
		return "", "", err
	}
	if sealed, err = s.sealer.seal(f, flowAAD); err != nil {
		return "", "", err
	}
	return authURL, sealed, nil
}

// Complete checks the upstream's answer (query) against the browser's
// sealed flow and says who signed in. The flow comes back whenever it
// could be opened, so a failure can still return to the app's sign-in.
func (s *Service) Complete(ctx context.Context, id, sealed string, query url.Values) (Flow, Identity, error) {
	var f Flow
	if err := s.sealer.open(sealed, flowAAD, &f); err != nil {
		return Flow{}, Identity{}, fail(KindState, id, fmt.Errorf("flow cookie: %w", err))
	}
	if f.Connector != id {
		return f, Identity{}, fail(KindState, id, fmt.Errorf("flow was started for connector %q", f.Connector))
	}
	if s.o.Now().Unix() > f.Expires {
		return f, Identity{}, fail(KindState, id, fmt.Errorf("flow %w", errExpired))
	}
	if !equal(query.Get("state"), f.State) {
		return f, Identity{}, fail(KindState, id, errors.New("state differs from the one sent"))
	}
	if e := query.Get("error"); e != "" {
		kind := KindRefused
		if e == "access_denied" {
			kind = KindCancelled
		}
		return f, Identity{}, fail(kind, id, fmt.Errorf("upstream answered error=%q: %.200s", e, query.Get("error_description")))
	}
	code := query.Get("code")
	if code == "" {
		return f, Identity{}, fail(KindInvalid, id, errors.New("no code in the callback"))
	}
	_, u, err := s.enabled(ctx, id)
	if err != nil {
		return f, Identity{}, err
	}
	ident, err := u.identify(ctx, f, code, s.RedirectURL(id))
	if err != nil {
		return f, Identity{}, err
	}
	return f, ident, nil
}

// Outcome is what an upstream identity means for Signet.
type Outcome struct {
	// UserID is who is signed in (empty when LinkTo is set).
	UserID string
	// Created: a user was made just now.
	Created bool
	// LinkTo is an existing user whose e-mail the identity carries: it
	// may be linked only after that account's password.
	LinkTo string
}

// SignIn resolves an upstream identity: the user it is linked to, else a
// new user when its verified e-mail is nobody's, else a link to confirm.
// Role rules apply on every sign-in.
func (s *Service) SignIn(ctx context.Context, connectorID string, ident Identity) (Outcome, error) {
	c, err := s.store.GetConnector(ctx, connectorID)
	if err != nil {
		return Outcome{}, err
	}
	link, err := s.store.GetUpstreamIdentity(ctx, connectorID, ident.Subject)
	switch {
	case err == nil:
		u, err := s.store.GetUser(ctx, link.UserID)
		if err != nil {
			return Outcome{}, err
		}
		if u.Disabled {
			return Outcome{}, fail(KindDisabled, connectorID, fmt.Errorf("user %s is disabled", u.ID))
		}
		if err := s.store.InTx(ctx, func(ctx context.Context) error {
			return s.applyRoles(ctx, c, u.ID, ident, false)
		}); err != nil {
			return Outcome{}, err
		}
		if err := s.store.TouchUpstreamIdentity(ctx, connectorID, ident.Subject, s.now()); err != nil {
			s.o.Logger.WarnContext(ctx, "could not record the upstream sign-in time", "connector", connectorID, "err", err)
		}
		return Outcome{UserID: u.ID}, nil
	case !errors.Is(err, storage.ErrNotFound):
		return Outcome{}, err
	}
	if ident.Email == "" || !ident.EmailVerified {
		return Outcome{}, fail(KindUnverifiedEmail, connectorID, fmt.Errorf("upstream e-mail %q is not verified", ident.Email))
	}
	existing, err := s.store.GetUserByLogin(ctx, ident.Email)
	switch {
	case err == nil:
		return Outcome{LinkTo: existing.ID}, nil
	case !errors.Is(err, storage.ErrNotFound):
		return Outcome{}, err
	}
	id, err := s.createUser(ctx, c, ident)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{UserID: id, Created: true}, nil
}

// createUser makes a user without a password for the identity, with the
// default role and the mapped roles, and links the identity, in one
// transaction.
func (s *Service) createUser(ctx context.Context, c storage.Connector, ident Identity) (string, error) {
	uid, err := uuid.NewRandom()
	if err != nil {
		return "", err
	}
	now := s.now()
	base := usernameFrom(ident)
	for attempt := range 6 {
		name := base
		if attempt > 0 {
			n, err := rand.Int(rand.Reader, big.NewInt(10000))
			if err != nil {
				return "", err
			}
			name = fmt.Sprintf("%.59s-%04d", base, n.Int64())
		}
		u := storage.User{ID: uid.String(), Username: name, Email: ident.Email, Name: truncateRunes(ident.Name, 200),
			EmailVerified: true, CreatedAt: now, UpdatedAt: now}
		err = s.store.InTx(ctx, func(ctx context.Context) error {
			if err := s.store.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := s.store.CreateUpstreamIdentity(ctx, storage.UpstreamIdentity{
				ConnectorID: c.ID, Subject: ident.Subject, UserID: u.ID, Email: ident.Email, CreatedAt: now, LastLoginAt: now,
			}); err != nil {
				return err
			}
			return s.applyRoles(ctx, c, u.ID, ident, true)
		})
		if err == nil {
			s.record(ctx, audit.Event{Actor: u.ID, Action: audit.UpstreamUserCreate, Target: u.ID,
				Details: map[string]string{"connector": c.ID, "username": u.Username}})
			return u.ID, nil
		}
		if !errors.Is(err, storage.ErrAlreadyExists) {
			return "", err
		}
		// Most likely the user name; the e-mail was free a moment ago.
		if _, gerr := s.store.GetUserByLogin(ctx, ident.Email); gerr == nil {
			return "", fail(KindAlreadyLinked, c.ID, errors.New("the e-mail was taken meanwhile"))
		}
	}
	return "", fmt.Errorf("create user for upstream identity: %w", err)
}

var unsafeUsername = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// usernameFrom proposes a user name: the upstream's, else the e-mail's
// local part, reduced to what Signet user names allow.
func usernameFrom(ident Identity) string {
	cand := ident.Username
	if cand == "" {
		cand, _, _ = strings.Cut(ident.Email, "@")
	}
	cand = unsafeUsername.ReplaceAllString(cand, "-")
	if len(cand) > 59 {
		cand = cand[:59]
	}
	cand = strings.Trim(cand, "._-")
	if cand == "" {
		cand = "user"
	}
	if _, err := uuid.Parse(cand); err == nil {
		cand = "user-" + cand[:8]
	}
	return cand
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// applyRoles sets the roles the connector's rules name to those the
// identity matches, leaving every other role alone; a new user also gets
// the default role. Roles deleted since the rules were written are
// skipped.
func (s *Service) applyRoles(ctx context.Context, c storage.Connector, userID string, ident Identity, created bool) error {
	named := rolesNamed(c.RoleRules)
	if len(named) == 0 && !(created && c.DefaultRole != "") {
		return nil
	}
	current, err := s.store.ListUserRoles(ctx, userID)
	if err != nil {
		return err
	}
	next := slices.DeleteFunc(slices.Clone(current), func(r string) bool { return slices.Contains(named, r) })
	add := matchedRoles(c.RoleRules, ident.Claims)
	if created && c.DefaultRole != "" {
		add = append(add, c.DefaultRole)
	}
	for _, r := range add {
		if slices.Contains(next, r) {
			continue
		}
		if _, err := s.store.GetRole(ctx, r); errors.Is(err, storage.ErrNotFound) {
			s.o.Logger.WarnContext(ctx, "connector role rule names a role that no longer exists", "connector", c.ID, "role", r)
			continue
		} else if err != nil {
			return err
		}
		next = append(next, r)
	}
	slices.Sort(next)
	if slices.Equal(next, current) {
		return nil
	}
	if slices.Contains(current, storage.RoleAdmin) && !slices.Contains(next, storage.RoleAdmin) {
		last, err := s.lastAdmin(ctx, userID)
		if err != nil {
			return err
		}
		if last {
			// A rule must not leave Signet without an administrator.
			s.o.Logger.WarnContext(ctx, "connector role rules would remove the last administrator: admin kept", "connector", c.ID, "user_id", userID)
			next = append(next, storage.RoleAdmin)
			slices.Sort(next)
			if slices.Equal(next, current) {
				return nil
			}
		}
	}
	if err := s.store.SetUserRoles(ctx, userID, next); err != nil {
		return err
	}
	if !created {
		s.record(ctx, audit.Event{Actor: userID, Action: audit.RoleChange, Target: userID,
			Details: map[string]string{"connector": c.ID, "roles": strings.Join(next, " ")}})
	}
	return nil
}

// lastAdmin reports whether userID is the only enabled administrator. It
// runs in the caller's transaction, under the administrators' lock.
func (s *Service) lastAdmin(ctx context.Context, userID string) (bool, error) {
	if err := s.store.LockAdmins(ctx); err != nil {
		return false, err
	}
	ids, err := s.store.ListUsersWithRole(ctx, storage.RoleAdmin)
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		if id == userID {
			continue
		}
		u, err := s.store.GetUser(ctx, id)
		if err == nil && !u.Disabled {
			return false, nil
		}
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return false, err
		}
	}
	return true, nil
}

// Link links the identity to the user (who proved they own the account)
// and applies the connector's role rules.
func (s *Service) Link(ctx context.Context, userID, connectorID string, ident Identity) error {
	c, err := s.store.GetConnector(ctx, connectorID)
	if errors.Is(err, storage.ErrNotFound) {
		return fail(KindUnavailable, connectorID, err)
	} else if err != nil {
		return err
	}
	now := s.now()
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateUpstreamIdentity(ctx, storage.UpstreamIdentity{
			ConnectorID: connectorID, Subject: ident.Subject, UserID: userID, Email: ident.Email, CreatedAt: now, LastLoginAt: now,
		}); err != nil {
			return err
		}
		return s.applyRoles(ctx, c, userID, ident, false)
	})
	if errors.Is(err, storage.ErrAlreadyExists) {
		s.record(ctx, audit.Event{Actor: userID, Action: audit.UpstreamLinkRefused, Target: userID,
			Details: map[string]string{"connector": connectorID, "reason": "already linked"}})
		return fail(KindAlreadyLinked, connectorID, err)
	}
	if err != nil {
		return err
	}
	s.record(ctx, audit.Event{Actor: userID, Action: audit.UpstreamLink, Target: userID,
		Details: map[string]string{"connector": connectorID}})
	return nil
}

// Unlink removes the user's identity at the connector, unless it is their
// last way in (no password and no other identity).
func (s *Service) Unlink(ctx context.Context, userID, connectorID string) error {
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		u, err := s.store.GetUser(ctx, userID)
		if err != nil {
			return err
		}
		ids, err := s.store.ListUserUpstreamIdentities(ctx, userID)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(ids, func(i storage.UpstreamIdentity) bool { return i.ConnectorID == connectorID }) {
			return ErrNotFound
		}
		if u.PasswordHash == "" && len(ids) <= 1 {
			return ErrLastWayIn
		}
		return s.store.DeleteUpstreamIdentity(ctx, userID, connectorID)
	})
	if err != nil {
		return err
	}
	s.record(ctx, audit.Event{Actor: userID, Action: audit.UpstreamUnlink, Target: userID,
		Details: map[string]string{"connector": connectorID}})
	return nil
}

// Linked is one provider on the account page.
type Linked struct {
	ConnectorID string
	Name        string
	Email       string
	LinkedAt    time.Time
	LastLoginAt time.Time
	// Linked: the user has an identity there (else it may be linked).
	Linked bool
}

// Providers lists, for the account page, the user's linked identities and
// the enabled connectors they may still link.
func (s *Service) Providers(ctx context.Context, userID string) ([]Linked, error) {
	cs, err := s.store.ListConnectors(ctx)
	if err != nil {
		return nil, err
	}
	ids, err := s.store.ListUserUpstreamIdentities(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []Linked
	for _, c := range cs {
		i := slices.IndexFunc(ids, func(x storage.UpstreamIdentity) bool { return x.ConnectorID == c.ID })
		switch {
		case i >= 0:
			out = append(out, Linked{ConnectorID: c.ID, Name: c.Name, Email: ids[i].Email, LinkedAt: ids[i].CreatedAt,
				LastLoginAt: ids[i].LastLoginAt, Linked: true})
		case c.Enabled:
			out = append(out, Linked{ConnectorID: c.ID, Name: c.Name})
		}
	}
	return out, nil
}

// ConnectorName is the display name of a connector ("" when unknown).
func (s *Service) ConnectorName(ctx context.Context, id string) string {
	c, err := s.store.GetConnector(ctx, id)
	if err != nil {
		return ""
	}
	return c.Name
}

// SealPending seals a pending link for the browser to keep.
func (s *Service) SealPending(p PendingLink) (string, error) {
	p.Expires = s.o.Now().Add(FlowLifespan).Unix()
	return s.sealer.seal(p, pendingAAD)
}

// OpenPending opens a pending link the browser kept.
func (s *Service) OpenPending(sealed string) (PendingLink, error) {
	var p PendingLink
	if err := s.sealer.open(sealed, pendingAAD, &p); err != nil {
		return PendingLink{}, err
	}
	if s.o.Now().Unix() > p.Expires {
		return PendingLink{}, fmt.Errorf("pending link %w", errExpired)
	}
	return p, nil
}

// ResealSecrets seals again under the current secret every connector
// client secret that opens only with an old one, so the old secret can be
// dropped after this start. Each is swapped only while its sealed value is
// unchanged (storage ResealConnectorSecret): replicas starting together
// re-seal each once between them, and an administrator's new secret saved
// meanwhile is kept. It returns how many it re-sealed and the connectors
// whose secret opens with no configured secret (left as they are: such a
// connector fails until an administrator sets its secret again), for the
// caller to report.
func (s *Service) ResealSecrets(ctx context.Context) (resealed int, unreadable []string, err error) {
	if len(s.sealer.secrets) < 2 {
		return 0, nil, nil // without old secrets every readable value is current
	}
	cs, err := s.store.ListConnectors(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("re-seal connector secrets: %w", err)
	}
	for _, c := range cs {
		if len(c.ClientSecret) == 0 {
			continue
		}
		plain, which, err := keys.OpenSealed(c.ClientSecret, []byte(c.ID), s.sealer.secrets)
		if err != nil {
			unreadable = append(unreadable, c.ID)
			continue
		}
		if which == 0 {
			continue
		}
		sealed, err := keys.Seal(plain, []byte(c.ID), s.o.Secret)
		if err != nil {
			return resealed, unreadable, fmt.Errorf("re-seal client secret of connector %q: %w", c.ID, err)
		}
		switch err := s.store.ResealConnectorSecret(ctx, c.ID, c.ClientSecret, sealed); {
		case err == nil:
			resealed++
		case errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound):
			// Re-sealed by another replica, or changed or deleted meanwhile.
		default:
			return resealed, unreadable, fmt.Errorf("re-seal client secret of connector %q: %w", c.ID, err)
		}
	}
	return resealed, unreadable, nil
}
