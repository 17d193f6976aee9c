// Command signet is the Signet OpenID Connect provider: the server and the
// management commands that talk to its admin API.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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
		// Every flag has an environment twin (SIGNET_ + upper-case name);
		// an explicit flag wins over the environment.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyEnv(cmd.Flags(), os.LookupEnv)
		},
	}
	root.SetVersionTemplate("signet {{.Version}}\n")
	root.AddCommand(
		newServeCmd(),
		newMigrateCmd(),
		newClientsCmd(),
		newUsersCmd(),
		newRolesCmd(),
		newKeysCmd(),
		newAuditCmd(),
		newBenchCmd(),
		newVersionCmd(),
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

// applyEnv sets every flag the command line left unset from its environment
// twin. List flags take a comma-separated value.
func applyEnv(fs *pflag.FlagSet, lookup func(string) (string, bool)) error {
	var firstErr error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || firstErr != nil || f.Name == "help" {
			return
		}
		v, ok := lookup(envName(f.Name))
		if !ok {
			return
		}
		if sv, isSlice := f.Value.(pflag.SliceValue); isSlice {
			if err := sv.Replace(splitList(v)); err != nil {
				firstErr = fmt.Errorf("%s: %w", envName(f.Name), err)
			}
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			firstErr = fmt.Errorf("%s: %w", envName(f.Name), err)
		}
	})
	return firstErr
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
