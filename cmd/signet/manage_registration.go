package main

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/adminclient"
)

// newRegistrationTokensCmd manages the initial access tokens of dynamic
// client registration (--client-registration token).
func newRegistrationTokensCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "registration-tokens", Short: "Manage initial access tokens for dynamic client registration (RFC 7591)"}
	m := addManageFlags(cmd)
	cmd.AddCommand(newRegistrationTokensCreateCmd(m), newRegistrationTokensListCmd(m), newRegistrationTokensRevokeCmd(m))
	return cmd
}

func newRegistrationTokensCreateCmd(m *manageFlags) *cobra.Command {
	var (
		in        adminclient.NewRegistrationToken
		expiresIn time.Duration
	)
	cmd := &cobra.Command{
		Use:     "create",
		Short:   "Issue an initial access token; prints it (shown once)",
		Example: "  signet registration-tokens create --description \"partner onboarding\" --expires-in 168h --max-uses 1 -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if expiresIn < 0 {
				return fmt.Errorf("--expires-in must not be negative")
			}
			in.ExpiresIn = int64(expiresIn / time.Second)
			api, err := m.client()
			if err != nil {
				return err
			}
			t, err := api.CreateRegistrationToken(cmd.Context(), in)
			if err != nil {
				return err
			}
			if m.wantJSON() {
				return managePrintJSON(cmd.OutOrStdout(), t)
			}
			return manageShowRegistrationToken(cmd.OutOrStdout(), t)
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.Description, "description", "", "what the token is for (shown in lists)")
	f.DurationVar(&expiresIn, "expires-in", 0, "lifetime, e.g. 24h (0: never expires)")
	f.IntVar(&in.MaxUses, "max-uses", 0, "registrations it allows (0: any number)")
	return cmd
}

func newRegistrationTokensListCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List initial access tokens (not the tokens themselves)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			list, err := api.ListRegistrationTokens(cmd.Context())
			if err != nil {
				return err
			}
			if m.wantJSON() {
				return managePrintJSON(cmd.OutOrStdout(), list)
			}
			rows := [][]string{{"ID", "DESCRIPTION", "USES", "MAX_USES", "EXPIRES_AT", "CREATED_AT"}}
			for _, t := range list {
				rows = append(rows, []string{t.ID, manageOrDash(t.Description), strconv.Itoa(t.Uses), maxUses(t.MaxUses),
					expiry(t.ExpiresAt), manageTime(t.CreatedAt)})
			}
			return manageTable(cmd.OutOrStdout(), rows)
		},
	}
}

func newRegistrationTokensRevokeCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an initial access token (clients it registered stay)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			if err := api.RevokeRegistrationToken(cmd.Context(), args[0]); err != nil {
				return err
			}
			return manageDeleted(cmd.OutOrStdout(), m, "registration token", args[0])
		},
	}
}

func maxUses(n int) string {
	if n == 0 {
		return "any"
	}
	return strconv.Itoa(n)
}

func expiry(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return manageTime(*t)
}

func manageShowRegistrationToken(w io.Writer, t adminclient.RegistrationToken) error {
	pairs := []string{"id", t.ID}
	if t.Token != "" {
		pairs = append(pairs, "token", t.Token+"   (shown only now: hand it to the client's developer)")
	}
	pairs = append(pairs,
		"description", manageOrDash(t.Description),
		"max_uses", maxUses(t.MaxUses),
		"expires_at", expiry(t.ExpiresAt),
		"created_at", manageTime(t.CreatedAt),
	)
	return manageFields(w, pairs...)
}
