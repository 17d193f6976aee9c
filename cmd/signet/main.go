// Command signet is the Signet OpenID Connect provider: the server and the
// management commands that talk to its admin API.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "signet:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "signet",
		Short:         "Signet: an OpenID Connect provider with its own users, roles and pages",
		SilenceUsage:  true,
		SilenceErrors: true,
		// --version prints the same line as the version command.
		Version: buildVersion(),
		// Every flag has an environment twin (SIGNET_ + upper-case name)
		// and, for serve and migrate, a key in the --config file; an
		// explicit flag wins over the environment, which wins over the file.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return loadSettings(cmd, osSettingsEnv)
		},
	}
	root.SetVersionTemplate("signet {{.Version}}\n")
	root.AddCommand(
		newServeCmd(),
		newMigrateCmd(),
		newClientsCmd(),
		newUsersCmd(),
		newRolesCmd(),
		newConnectorsCmd(),
		newKeysCmd(),
		newAuditCmd(),
		newRegistrationTokensCmd(),
		newBenchCmd(),
		newVersionCmd(),
		newHealthcheckCmd(),
	)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), "signet", buildVersion())
			return err
		},
	}
}

// envName is the environment twin of a flag: --database-url → SIGNET_DATABASE_URL.
func envName(flag string) string {
	return "SIGNET_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
