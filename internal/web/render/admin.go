package render

import (
	"net/http"
	"time"
)

// Sections of the admin console, for its navigation.
const (
	AdminUsers      = "users"
	AdminRoles      = "roles"
	AdminClients    = "clients"
	AdminAudit      = "audit"
	AdminConnectors = "connectors"
)

var adminSections = []navLink{
	{Href: "/admin/users", Text: "Users"},
	{Href: "/admin/roles", Text: "Roles"},
	{Href: "/admin/clients", Text: "Clients"},
	{Href: "/admin/connectors", Text: "Sign-in providers"},
	{Href: "/admin/audit", Text: "Audit log"},
}

func adminNav(current string) []navLink {
	out := make([]navLink, len(adminSections))
	copy(out, adminSections)
	for i := range out {
		out[i].Current = out[i].Href == "/admin/"+current
	}
	return out
}

// AdminUser is a user as the console lists and shows it.
type AdminUser struct {
	ID            string
	Username      string
	Email         string
	Name          string
	EmailVerified bool
	Disabled      bool
	Roles         []string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// MFA: the user has a second factor (authenticator app or passkey).
	MFA bool
}

// AdminUsersPage lists users, a page at a time.
type AdminUsersPage struct {
	Common
	Flash string
	// Query is the search text.
	Query string
	Users []AdminUser
	// ShowMFA shows the two-factor column.
	ShowMFA bool
	// Page is 1-based; PrevURL and NextURL are empty at the ends.
	Page    int
	PrevURL string
	NextURL string
}

// AdminRoleChoice is one checkbox of the roles form.
type AdminRoleChoice struct {
	Name        string
	Description string
	Checked     bool
}

// AdminUserPage shows one user and the actions on them.
type AdminUserPage struct {
	Common
	Flash string
	// Error is the service's refusal (the last administrator) or a failure.
	Error string
	User  AdminUser
	Roles []AdminRoleChoice
	// Self: the user is the administrator looking at the page.
	Self bool
	// ShowMFA shows the user's second factors and the reset.
	ShowMFA bool
	// TOTP, Passkeys and RecoveryCodes describe the user's factors.
	TOTP          bool
	Passkeys      int
	RecoveryCodes int
}

// AdminRole is one row of the roles page.
type AdminRole struct {
	Name        string
	Description string
	// Builtin roles (admin, user) cannot be deleted.
	Builtin   bool
	CreatedAt time.Time
}

// AdminRolesPage lists roles and has the form creating one.
type AdminRolesPage struct {
	Common
	Flash string
	Error string
	Roles []AdminRole
	// Name and Description re-fill the form after an error.
	Name        string
	Description string
	Errors      FieldErrors
}

// AdminClient is one row of the clients page.
type AdminClient struct {
	ID           string
	Name         string
	RedirectURIs []string
	AuthMethod   string
	FirstParty   bool
	RequireMFA   bool
	CreatedAt    time.Time
}

// AdminClientForm fills the client form: re-filled after an error on the
// create form, pre-filled with the client's settings on its edit page.
type AdminClientForm struct {
	// Editing: the form changes an existing client (the edit page).
	Editing                bool
	Name                   string
	RedirectURIs           string
	PostLogoutRedirectURIs string
	AuthMethod             string
	FirstParty             bool
	RequireMFA             bool
	// IDTokenAlg is the id_token_signed_response_alg chosen ("": RS256).
	IDTokenAlg string
	// AccessTokenFormat is opaque ("") or jwt; RequirePAR is
	// require_pushed_authorization_requests.
	AccessTokenFormat string
	RequirePAR        bool
	// Back-channel logout (OpenID Connect Back-Channel Logout).
	BackchannelLogoutURI             string
	BackchannelLogoutSessionRequired bool
}

// AdminClientsPage lists clients and has the form registering one.
type AdminClientsPage struct {
	Common
	Flash   string
	Error   string
	Clients []AdminClient
	Form    AdminClientForm
	Errors  FieldErrors
}

// AdminClientCreatedPage shows a new client with its secret, this once.
// It also shows the new secret of an existing client (NewSecret): after a
// rotation, or an edit that made the client confidential.
type AdminClientCreatedPage struct {
	Common
	Client AdminClient
	// Secret is empty for a public client.
	Secret    string
	NewSecret bool
}

// AdminClientEditPage changes one client: the create form's fields,
// pre-filled, and the secret's rotation.
type AdminClientEditPage struct {
	Common
	Flash  string
	Error  string
	Client AdminClient
	Form   AdminClientForm
	Errors FieldErrors
	// HasSecret: the client authenticates with a secret, which can be
	// rotated.
	HasSecret bool
}

// AdminAuditEvent is one line of the audit log.
type AdminAuditEvent struct {
	At     time.Time
	Actor  string
	Action string
	Target string
	// ActorName and TargetName are the user names of actor and target
	// when they are users ("" otherwise).
	ActorName  string
	TargetName string
	IP         string
	// Details are "key=value" pairs, sorted.
	Details []string
}

// AdminAuditPage shows the latest audit events.
type AdminAuditPage struct {
	Common
	Events []AdminAuditEvent
	Limit  int
}

func (r *Renderer) admin(w http.ResponseWriter, status int, page, section, title string, common Common, data any) error {
	return r.renderView(w, status, page, view{Title: title + " · Admin", Common: common, Data: data, Width: widthWide, Nav: adminNav(section)})
}

// AdminUsers renders the user list.
func (r *Renderer) AdminUsers(w http.ResponseWriter, status int, p AdminUsersPage) error {
	return r.admin(w, status, "admin_users", AdminUsers, "Users", p.Common, p)
}

// AdminUser renders one user.
func (r *Renderer) AdminUser(w http.ResponseWriter, status int, p AdminUserPage) error {
	return r.admin(w, status, "admin_user", AdminUsers, p.User.Username, p.Common, p)
}

// AdminRoles renders the roles page.
func (r *Renderer) AdminRoles(w http.ResponseWriter, status int, p AdminRolesPage) error {
	return r.admin(w, status, "admin_roles", AdminRoles, "Roles", p.Common, p)
}

// AdminClients renders the clients page.
func (r *Renderer) AdminClients(w http.ResponseWriter, status int, p AdminClientsPage) error {
	return r.admin(w, status, "admin_clients", AdminClients, "Clients", p.Common, p)
}

// AdminClientCreated renders a new client with its one-time secret.
func (r *Renderer) AdminClientCreated(w http.ResponseWriter, status int, p AdminClientCreatedPage) error {
	title := "Client created"
	if p.NewSecret {
		title = "New client secret"
	}
	return r.admin(w, status, "admin_client_created", AdminClients, title, p.Common, p)
}

// AdminClientEdit renders a client's edit page.
func (r *Renderer) AdminClientEdit(w http.ResponseWriter, status int, p AdminClientEditPage) error {
	return r.admin(w, status, "admin_client_edit", AdminClients, "Change "+p.Client.Name, p.Common, p)
}

// AdminAudit renders the audit log.
func (r *Renderer) AdminAudit(w http.ResponseWriter, status int, p AdminAuditPage) error {
	return r.admin(w, status, "admin_audit", AdminAudit, "Audit log", p.Common, p)
}

// AdminConnector is an upstream identity provider as the console lists it.
type AdminConnector struct {
	ID          string
	Type        string
	Name        string
	Enabled     bool
	ClientID    string
	HasSecret   bool
	Config      string
	RoleRules   []string
	DefaultRole string
	RedirectURL string
}

// AdminConnectorForm re-fills the form creating a connector (never the
// secret).
type AdminConnectorForm struct {
	ID, Type, Name, IconURL, ClientID   string
	Issuer, Scopes, HostedDomains, Orgs string
	RoleRules, DefaultRole              string
	LoadTeams, TrustEmail               bool
}

// AdminConnectorsPage lists connectors and has the form adding one.
type AdminConnectorsPage struct {
	Common
	Flash      string
	Error      string
	Connectors []AdminConnector
	Form       AdminConnectorForm
}

// AdminConnectors renders the sign-in providers page.
func (r *Renderer) AdminConnectors(w http.ResponseWriter, status int, p AdminConnectorsPage) error {
	return r.admin(w, status, "admin_connectors", AdminConnectors, "Sign-in providers", p.Common, p)
}

// AdminRoleRule is one row of a connector's role rules on its edit page;
// N numbers the rows for their labels.
type AdminRoleRule struct {
	N                  int
	Claim, Value, Role string
}

// AdminConnectorEdit re-fills the form changing a connector (never the
// secret). Fields a connector's type does not use are not shown.
type AdminConnectorEdit struct {
	Name, IconURL, ClientID, Scopes, DefaultRole              string
	Issuer, EmailClaim, NameClaim, UsernameClaim, GroupsClaim string
	HostedDomains, BaseURL, Orgs                              string
	TrustEmail, LoadTeams                                     bool
	Rules                                                     []AdminRoleRule
}

// AdminConnectorEditPage changes one connector.
type AdminConnectorEditPage struct {
	Common
	Error     string
	Connector AdminConnector
	Form      AdminConnectorEdit
}

// AdminConnectorEdit renders a connector's edit page.
func (r *Renderer) AdminConnectorEdit(w http.ResponseWriter, status int, p AdminConnectorEditPage) error {
	return r.admin(w, status, "admin_connector_edit", AdminConnectors, "Change "+p.Connector.Name, p.Common, p)
}
