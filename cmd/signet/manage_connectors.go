package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/adminclient"
)

func newConnectorsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "connectors", Short: "Manage upstream identity providers (Sign in with …)"}
	m := addManageFlags(cmd)
	cmd.AddCommand(
		newConnectorsCreateCmd(m),
		newConnectorsListCmd(m),
		newConnectorsGetCmd(m),
		newConnectorsUpdateCmd(m),
		newConnectorsDeleteCmd(m),
	)
	return cmd
}

// connectorFlags are the settings create and update share. Each type
// setting becomes a key of the connector's config object.
type connectorFlags struct {
	name, iconURL, clientID, defaultRole string
	disabled, secretStdin                bool
	roleRules                            []string
	config                               string
	// Type settings, by config key.
	strs  map[string]*string
	lists map[string]*[]string
	bools map[string]*bool
}

func addConnectorFlags(cmd *cobra.Command, c *connectorFlags) {
	f := cmd.Flags()
	f.StringVar(&c.name, "name", "", `display name ("Continue with NAME")`)
	f.StringVar(&c.iconURL, "icon-url", "", "icon on the button: an https URL or a path on Signet")
	f.StringVar(&c.clientID, "client-id", "", "Signet's client id at the upstream")
	f.BoolVar(&c.secretStdin, "client-secret-stdin", false, "read the client secret from standard input")
	f.BoolVar(&c.disabled, "disabled", false, "keep it off the login page")
	f.StringVar(&c.defaultRole, "default-role", "", "role given to users the connector creates")
	f.StringSliceVar(&c.roleRules, "role-rule", nil, "CLAIM:VALUE=ROLE, e.g. groups:sre=ops or teams:acme/sre=ops (repeat for more)")
	f.StringVar(&c.config, "config", "", "the whole config object as JSON (instead of the flags below)")
	c.strs = map[string]*string{}
	c.lists = map[string]*[]string{}
	c.bools = map[string]*bool{}
	for _, s := range []struct{ flag, key, help string }{
		{"issuer", "issuer", "oidc: the upstream's issuer URL"},
		{"email-claim", "email_claim", "oidc: claim holding the e-mail (default email)"},
		{"name-claim", "name_claim", "oidc: claim holding the name (default name)"},
		{"username-claim", "username_claim", "oidc: claim holding the user name (default preferred_username)"},
		{"groups-claim", "groups_claim", "oidc: claim holding the groups (default groups)"},
		{"base-url", "base_url", "github: GitHub Enterprise Server URL (default github.com)"},
	} {
		c.strs[s.key] = f.String(s.flag, "", s.help)
	}
	for _, s := range []struct{ flag, key, help string }{
		{"scope", "scopes", "scopes to ask for (repeat for more)"},
		{"hosted-domain", "hosted_domains", "google: allowed hosted domain (hd) (repeat for more)"},
		{"org", "orgs", "github: allowed organisation (repeat for more)"},
	} {
		c.lists[s.key] = f.StringSlice(s.flag, nil, s.help)
	}
	for _, s := range []struct{ flag, key, help string }{
		{"trust-email", "trust_email", "oidc: treat the e-mail as verified without email_verified"},
		{"load-teams", "load_teams", "github: read teams for role rules"},
	} {
		c.bools[s.key] = f.Bool(s.flag, false, s.help)
	}
}

// flagOf maps a config key back to its flag name.
var connectorFlagOf = map[string]string{
	"issuer": "issuer", "email_claim": "email-claim", "name_claim": "name-claim", "username_claim": "username-claim",
	"groups_claim": "groups-claim", "base_url": "base-url", "scopes": "scope", "hosted_domains": "hosted-domain",
	"orgs": "org", "trust_email": "trust-email", "load_teams": "load-teams",
}

// applyConfig sets in cfg the type settings given on the command line;
// changed reports whether any was.
func (c *connectorFlags) applyConfig(cmd *cobra.Command, cfg map[string]any) (changed bool, err error) {
	if cmd.Flags().Changed("config") {
		clear(cfg)
		if err := json.Unmarshal([]byte(c.config), &cfg); err != nil {
			return false, fmt.Errorf("--config: %w", err)
		}
		changed = true
	}
	set := func(key string, v any, empty bool) {
		if !cmd.Flags().Changed(connectorFlagOf[key]) {
			return
		}
		changed = true
		if empty {
			delete(cfg, key)
		} else {
			cfg[key] = v
		}
	}
	for k, v := range c.strs {
		set(k, *v, *v == "")
	}
	for k, v := range c.lists {
		l := manageSplit(*v)
		set(k, l, len(l) == 0)
	}
	for k, v := range c.bools {
		set(k, *v, !*v)
	}
	return changed, nil
}

func parseRoleRules(vals []string) ([]adminclient.RoleRule, error) {
	out := []adminclient.RoleRule{}
	for _, v := range vals {
		cv, role, ok1 := cutLast(v, "=")
		claim, value, ok2 := strings.Cut(cv, ":")
		if !ok1 || !ok2 || claim == "" || value == "" || role == "" {
			return nil, fmt.Errorf("role rule %q must be CLAIM:VALUE=ROLE", v)
		}
		out = append(out, adminclient.RoleRule{Claim: claim, Value: value, Role: role})
	}
	return out, nil
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

func readSecret(r io.Reader) (string, error) {
	s, err := manageReadPassword(r)
	if err != nil {
		return "", fmt.Errorf("client secret: %w", err)
	}
	return s, nil
}

func newConnectorsCreateCmd(m *manageFlags) *cobra.Command {
	var (
		c       connectorFlags
		id, typ string
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Add an upstream identity provider; prints the redirect URL to register there",
		Example: "  printf '%s' \"$SECRET\" | signet connectors create --id corp --type oidc --name 'Corp SSO' \\\n" +
			"      --issuer https://login.corp.example --client-id signet --client-secret-stdin \\\n" +
			"      --scope openid --scope email --scope groups --role-rule groups:sre=ops --default-role user\n" +
			"  printf '%s' \"$SECRET\" | signet connectors create --id github --type github --name GitHub \\\n" +
			"      --client-id Iv1.abc --client-secret-stdin --org acme --load-teams --role-rule teams:acme/sre=ops",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n := adminclient.NewConnector{ID: id, Type: typ, Name: c.name, IconURL: c.iconURL, ClientID: c.clientID, DefaultRole: c.defaultRole}
			if c.disabled {
				off := false
				n.Enabled = &off
			}
			cfg := map[string]any{}
			if _, err := c.applyConfig(cmd, cfg); err != nil {
				return err
			}
			b, err := json.Marshal(cfg)
			if err != nil {
				return err
			}
			n.Config = b
			if n.RoleRules, err = parseRoleRules(manageSplitRules(c.roleRules)); err != nil {
				return err
			}
			if c.secretStdin {
				if n.ClientSecret, err = readSecret(cmd.InOrStdin()); err != nil {
					return err
				}
			}
			api, err := m.client()
			if err != nil {
				return err
			}
			created, err := api.CreateConnector(cmd.Context(), n)
			if err != nil {
				return err
			}
			return manageShowConnector(cmd.OutOrStdout(), m, created)
		},
	}
	cmd.Flags().StringVar(&id, "id", "", "short id: a-z, 0-9, '_', '-' (in the callback URL and the idp claim; required)")
	cmd.Flags().StringVar(&typ, "type", "", "oidc, google or github (required)")
	addConnectorFlags(cmd, &c)
	_ = cmd.MarkFlagRequired("id")
	_ = cmd.MarkFlagRequired("type")
	_ = cmd.MarkFlagRequired("name")
	_ = cmd.MarkFlagRequired("client-id")
	return cmd
}

// manageSplitRules splits comma-separated rules (a rule holds no comma).
func manageSplitRules(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, r := range strings.Split(v, ",") {
			if r = strings.TrimSpace(r); r != "" {
				out = append(out, r)
			}
		}
	}
	return out
}

func newConnectorsUpdateCmd(m *manageFlags) *cobra.Command {
	var (
		c       connectorFlags
		enabled bool
	)
	cmd := &cobra.Command{
		Use:   "update ID",
		Short: "Change a connector: only the flags given change",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			var p adminclient.ConnectorPatch
			fl := cmd.Flags()
			str := func(flag string, v string) *string {
				if fl.Changed(flag) {
					return &v
				}
				return nil
			}
			p.Name, p.IconURL, p.ClientID, p.DefaultRole = str("name", c.name), str("icon-url", c.iconURL),
				str("client-id", c.clientID), str("default-role", c.defaultRole)
			switch {
			case fl.Changed("enabled") && fl.Changed("disabled"):
				return fmt.Errorf("--enabled and --disabled contradict each other")
			case fl.Changed("enabled"):
				p.Enabled = &enabled
			case fl.Changed("disabled"):
				v := !c.disabled
				p.Enabled = &v
			}
			if fl.Changed("role-rule") {
				rules, err := parseRoleRules(manageSplitRules(c.roleRules))
				if err != nil {
					return err
				}
				p.RoleRules = &rules
			}
			if c.secretStdin {
				s, err := readSecret(cmd.InOrStdin())
				if err != nil {
					return err
				}
				p.ClientSecret = &s
			}
			cur, err := api.GetConnector(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			cfg := map[string]any{}
			if len(cur.Config) > 0 {
				if err := json.Unmarshal(cur.Config, &cfg); err != nil {
					return fmt.Errorf("connector config: %w", err)
				}
			}
			if changed, err := c.applyConfig(cmd, cfg); err != nil {
				return err
			} else if changed {
				if p.Config, err = json.Marshal(cfg); err != nil {
					return err
				}
			}
			updated, err := api.UpdateConnector(cmd.Context(), args[0], p)
			if err != nil {
				return err
			}
			return manageShowConnector(cmd.OutOrStdout(), m, updated)
		},
	}
	cmd.Flags().BoolVar(&enabled, "enabled", true, "offer it on the login page")
	addConnectorFlags(cmd, &c)
	return cmd
}

func newConnectorsListCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List connectors",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			list, err := api.ListConnectors(cmd.Context())
			if err != nil {
				return err
			}
			if m.wantJSON() {
				return managePrintJSON(cmd.OutOrStdout(), list)
			}
			rows := [][]string{{"ID", "TYPE", "NAME", "ENABLED", "CLIENT_ID", "REDIRECT_URL"}}
			for _, c := range list {
				rows = append(rows, []string{c.ID, c.Type, c.Name, strconv.FormatBool(c.Enabled), c.ClientID, c.RedirectURL})
			}
			return manageTable(cmd.OutOrStdout(), rows)
		},
	}
}

func newConnectorsGetCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show a connector (never its client secret)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			c, err := api.GetConnector(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return manageShowConnector(cmd.OutOrStdout(), m, c)
		},
	}
}

func newConnectorsDeleteCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a connector and unlink every identity linked through it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			if err := api.DeleteConnector(cmd.Context(), args[0]); err != nil {
				return err
			}
			return manageDeleted(cmd.OutOrStdout(), m, "connector", args[0])
		},
	}
}

func manageShowConnector(w io.Writer, m *manageFlags, c adminclient.Connector) error {
	if m.wantJSON() {
		return managePrintJSON(w, c)
	}
	rules := make([]string, 0, len(c.RoleRules))
	for _, r := range c.RoleRules {
		rules = append(rules, r.Claim+":"+r.Value+"="+r.Role)
	}
	return manageFields(w,
		"id", c.ID, "type", c.Type, "name", c.Name, "icon_url", manageOrDash(c.IconURL),
		"enabled", strconv.FormatBool(c.Enabled), "client_id", c.ClientID,
		"client_secret", map[bool]string{true: "(set, not shown)", false: "-"}[c.HasClientSecret],
		"config", string(c.Config), "role_rules", manageList(rules), "default_role", manageOrDash(c.DefaultRole),
		"redirect_url", c.RedirectURL, "created_at", manageTime(c.CreatedAt), "updated_at", manageTime(c.UpdatedAt))
}
