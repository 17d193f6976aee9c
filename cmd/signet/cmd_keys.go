package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/adminclient"
)

// newKeysCmd lists signing keys and starts rotations through the admin API.
func newKeysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage signing keys"}
	m := addManageFlags(cmd)
	cmd.AddCommand(newKeysListCmd(m), newKeysRotateCmd(m))
	return cmd
}

func newKeysListCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List signing keys: kid, algorithm, state (next, current, retired) and dates",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			ks, err := api.ListKeys(cmd.Context())
			if err != nil {
				return err
			}
			if m.wantJSON() {
				return managePrintJSON(cmd.OutOrStdout(), ks)
			}
			return manageTable(cmd.OutOrStdout(), keyRows(ks))
		},
	}
}

func newKeysRotateCmd(m *manageFlags) *cobra.Command {
	var alg string
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Start a key rotation now: publish a next key that signs once the JWKS cache lifetime has passed",
		Long: "Publishes a next signing key for every configured algorithm (or only --alg). It signs once\n" +
			"relying parties that cached the JWKS have had time to fetch it again (the prepublication\n" +
			"window, --key-prepublish-window); the current key then retires and stays published until every\n" +
			"ID token it signed has expired. An algorithm already rotating keeps its pending next key.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			ks, err := api.RotateKeys(cmd.Context(), alg)
			if err != nil {
				return err
			}
			if m.wantJSON() {
				return managePrintJSON(cmd.OutOrStdout(), ks)
			}
			return manageTable(cmd.OutOrStdout(), keyRows(ks))
		},
	}
	cmd.Flags().StringVar(&alg, "alg", "", "rotate only this algorithm (RS256, ES256 or EdDSA)")
	return cmd
}

func keyRows(ks []adminclient.SigningKey) [][]string {
	opt := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return manageTime(*t)
	}
	rows := [][]string{{"KID", "ALG", "STATE", "CREATED_AT", "ACTIVATE_AT", "RETIRED_AT", "DELETE_AFTER", "PROBLEM"}}
	for _, k := range ks {
		rows = append(rows, []string{k.KID, k.Algorithm, k.State, manageTime(k.CreatedAt), opt(k.ActivateAt),
			opt(k.RetiredAt), opt(k.DeleteAfter), manageOrDash(k.Problem)})
	}
	return rows
}
