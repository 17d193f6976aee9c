package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/adminclient"
)

func newUsersVerifyEmailCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "verify-email USER",
		Short: "Mark a user's e-mail address as verified",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			u, err := api.VerifyUserEmail(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return manageShowUser(cmd.OutOrStdout(), m, u)
		},
	}
}

func newUsersSendResetCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "send-reset USER",
		Short: "E-mail a user a password reset link (earlier links stop working)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			u, err := api.SendUserReset(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if m.wantJSON() {
				return managePrintJSON(cmd.OutOrStdout(), struct {
					ID     string `json:"id"`
					SentTo string `json:"sent_to"`
				}{u.ID, u.Email})
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "reset link sent to %s (user %s)\n", u.Email, u.Username)
			return err
		},
	}
}

func newUsersLogoutCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "logout USER",
		Short: "Sign a user out everywhere: end every session, revoke every token",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			res, err := api.LogoutUser(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if m.wantJSON() {
				return managePrintJSON(cmd.OutOrStdout(), res)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "signed out %s everywhere: %d sessions ended, tokens revoked\n",
				args[0], res.SessionsEnded)
			return err
		},
	}
}

func newAuditTailCmd(m *manageFlags) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Show the latest security and admin events, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 || limit > 1000 {
				return fmt.Errorf("--limit %d must be from 1 to 1000", limit)
			}
			api, err := m.client()
			if err != nil {
				return err
			}
			events, err := api.TailAudit(cmd.Context(), limit)
			if err != nil {
				return err
			}
			if m.wantJSON() {
				if events == nil {
					events = []adminclient.AuditEvent{}
				}
				return managePrintJSON(cmd.OutOrStdout(), events)
			}
			rows := [][]string{{"TIME", "ACTION", "ACTOR", "TARGET", "IP", "DETAILS"}}
			for _, e := range events {
				rows = append(rows, []string{manageTime(e.At), e.Action, e.Actor, manageOrDash(e.Target),
					manageOrDash(e.IP), manageDetails(e.Details)})
			}
			return manageTable(cmd.OutOrStdout(), rows)
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 50, "show at most this many events (1 to 1000)")
	return cmd
}

// manageDetails writes details as sorted key=value pairs.
func manageDetails(d map[string]string) string {
	if len(d) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+d[k])
	}
	return strings.Join(parts, " ")
}
