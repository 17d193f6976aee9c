package connectors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/signet-idp/signet/internal/storage"
)

// GoogleIssuer is the issuer of the google preset.
const GoogleIssuer = "https://accounts.google.com"

// Settings are the type-specific settings of a connector, kept as JSON in
// storage.Connector.Config. Each type reads the fields it knows; the rest
// must be empty.
type Settings struct {
	// Issuer (oidc) is the upstream's issuer URL, for discovery; the
	// google preset fixes it.
	Issuer string `json:"issuer,omitempty"`
	// Scopes to ask for. oidc: default openid email profile (openid is
	// always added); github: default read:user user:email, plus read:org
	// when organisations or teams matter.
	Scopes []string `json:"scopes,omitempty"`
	// Claim names (oidc, google): where the e-mail, the name, the user
	// name and the groups are. Defaults: email, name, preferred_username,
	// groups.
	EmailClaim    string `json:"email_claim,omitempty"`
	NameClaim     string `json:"name_claim,omitempty"`
	UsernameClaim string `json:"username_claim,omitempty"`
	GroupsClaim   string `json:"groups_claim,omitempty"`
	// TrustEmail (oidc) treats the e-mail as verified even without
	// email_verified: true, for corporate providers that never send it.
	TrustEmail bool `json:"trust_email,omitempty"`
	// HostedDomains (google) admits only ID tokens whose `hd` claim is one
	// of them.
	HostedDomains []string `json:"hosted_domains,omitempty"`
	// BaseURL (github) is GitHub Enterprise Server's URL (its API at
	// BASE/api/v3); empty is github.com.
	BaseURL string `json:"base_url,omitempty"`
	// Orgs (github) admits only members of one of these organisations.
	Orgs []string `json:"orgs,omitempty"`
	// LoadTeams (github) reads the person's teams (as "org/team-slug",
	// claim "teams") for role rules.
	LoadTeams bool `json:"load_teams,omitempty"`
}

func parseSettings(b []byte) (Settings, error) {
	var s Settings
	if len(b) == 0 {
		return s, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, invalid("config: %v", err)
	}
	return s, nil
}

var (
	idPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
	claimPattern = regexp.MustCompile(`^[A-Za-z0-9_:./-]{1,100}$`)
)

// validate checks a connector's settings for its type and fills the
// preset's fixed values. It reports every problem at once.
func validate(c *storage.Connector, s *Settings) error {
	var problems []string
	add := func(format string, args ...any) {
		problems = append(problems, fmt.Sprintf(format, args...))
	}
	if !idPattern.MatchString(c.ID) {
		add("id must be 1 to 40 lower-case letters, digits, '_' or '-', starting with a letter or digit")
	}
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" || len(c.Name) > 100 || strings.ContainsAny(c.Name, "\r\n\t") {
		add("name is required (at most 100 characters, one line)")
	}
	if c.IconURL != "" && !iconURLOK(c.IconURL) {
		add("icon_url must be an https URL or a path on Signet")
	}
	if strings.TrimSpace(c.ClientID) == "" || len(c.ClientID) > 500 {
		add("client_id is required")
	}
	for _, r := range c.RoleRules {
		if !claimPattern.MatchString(r.Claim) || r.Value == "" || r.Role == "" || len(r.Value) > 500 {
			add("role rule %q=%q→%q needs a claim name, a value and a role", r.Claim, r.Value, r.Role)
		}
	}
	for _, name := range []string{s.EmailClaim, s.NameClaim, s.UsernameClaim, s.GroupsClaim} {
		if name != "" && !claimPattern.MatchString(name) {
			add("claim name %q is not valid", name)
		}
	}
	for _, sc := range s.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \"\\") || len(sc) > 200 {
			add("scope %q is not valid", sc)
		}
	}
	oidcOnly := s.Issuer != "" || s.EmailClaim != "" || s.NameClaim != "" || s.UsernameClaim != "" ||
		s.GroupsClaim != "" || s.TrustEmail
	switch c.Type {
	case storage.ConnectorOIDC:
		if !httpURL(s.Issuer) {
			add("config.issuer must be the upstream's https URL (http only on localhost)")
		}
	case storage.ConnectorGoogle:
		if s.Issuer != "" && s.Issuer != GoogleIssuer {
			add("config.issuer is fixed for google")
		}
		s.Issuer = GoogleIssuer
		for _, d := range s.HostedDomains {
			if d == "" || strings.ContainsAny(d, " /@") {
				add("hosted domain %q is not valid", d)
			}
		}
	case storage.ConnectorGitHub:
		if oidcOnly {
			add("github connectors take no issuer, claim names or trust_email")
		}
		if s.BaseURL != "" && !httpURL(s.BaseURL) {
			add("config.base_url must be an https URL (http only on localhost)")
		}
		for _, o := range s.Orgs {
			if o == "" || strings.ContainsAny(o, " /") {
				add("organisation %q is not valid", o)
			}
		}
	default:
		add("type must be oidc, google or github")
	}
	if c.Type != storage.ConnectorGoogle && len(s.HostedDomains) > 0 {
		add("hosted_domains is for google connectors")
	}
	if c.Type != storage.ConnectorGitHub && (s.BaseURL != "" || len(s.Orgs) > 0 || s.LoadTeams) {
		add("base_url, orgs and load_teams are for github connectors")
	}
	if len(problems) > 0 {
		return invalid("%s", strings.Join(problems, "; "))
	}
	b, err := json.Marshal(s)
	if err != nil {
		return invalid("config: %v", err)
	}
	c.Config = b
	return nil
}

// httpURL accepts https URLs, and http ones on loopback hosts (tests,
// development).
func httpURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		return h == "localhost" || h == "127.0.0.1" || h == "::1"
	}
	return false
}

func iconURLOK(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || len(raw) > 2000 || u.User != nil || strings.ContainsAny(raw, " \t\r\n\\\"'") {
		return false
	}
	return (u.Scheme == "https" && u.Host != "") ||
		(u.Scheme == "" && u.Host == "" && strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//"))
}

// rolesNamed is the set of roles the connector's rules can give: the
// subset every sign-in through it replaces.
func rolesNamed(rules []storage.RoleRule) []string {
	var out []string
	for _, r := range rules {
		if !slices.Contains(out, r.Role) {
			out = append(out, r.Role)
		}
	}
	return out
}

// matchedRoles are the roles whose rule matches the identity's claims.
func matchedRoles(rules []storage.RoleRule, claims map[string][]string) []string {
	var out []string
	for _, r := range rules {
		if slices.Contains(claims[r.Claim], r.Value) && !slices.Contains(out, r.Role) {
			out = append(out, r.Role)
		}
	}
	return out
}
