package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/adminclient"
)

// manageMaxPasswordInput bounds what --password-stdin reads; the server accepts
// at most 1024 bytes, so more is a mistake (a file piped by accident).
const manageMaxPasswordInput = 4096

func newUsersCreateCmd(m *manageFlags) *cobra.Command {
	var (
		u             adminclient.NewUser
		passwordStdin bool
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a user; prints it with its id",
		Example: "  printf '%s' \"$PASSWORD\" | signet users create --username alice --email alice@example.com \\\n" +
			"      --password-stdin --email-verified --role admin -o json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !passwordStdin {
				// A password flag would end up in shell history and ps.
				return errors.New("a password is required: pipe it in with --password-stdin")
			}
			pw, err := manageReadPassword(cmd.InOrStdin())
			if err != nil {
				return err
			}
			u.Password = pw
			u.Roles = manageSplit(u.Roles)
			api, err := m.client()
			if err != nil {
				return err
			}
			created, err := api.CreateUser(cmd.Context(), u)
			if err != nil {
				return err
			}
			return manageShowUser(cmd.OutOrStdout(), m, created)
		},
	}
	f := cmd.Flags()
	f.StringVar(&u.Username, "username", "", "user name: letters, digits, '.', '_', '-' (required)")
	f.StringVar(&u.Email, "email", "", "e-mail address (required)")
	f.StringVar(&u.Name, "name", "", "display name")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	f.BoolVar(&u.EmailVerified, "email-verified", false, "mark the e-mail address as verified")
	f.StringSliceVar(&u.Roles, "role", nil, "role to grant; it must exist (repeat for more)")
	_ = cmd.MarkFlagRequired("username")
	_ = cmd.MarkFlagRequired("email")
	return cmd
}

// manageReadPassword reads the whole of r, dropping one trailing line ending
// (echo adds one; the password itself may end with spaces).
func manageReadPassword(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, manageMaxPasswordInput+1))
	if err != nil {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	if len(b) > manageMaxPasswordInput {
		return "", fmt.Errorf("the password on standard input is longer than %d bytes", manageMaxPasswordInput)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return "", errors.New("standard input held no password")
	}
	return string(b), nil
}

func newUsersListCmd(m *manageFlags) *cobra.Command {
	var q adminclient.UserQuery
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List users, ordered by user name",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			users, err := api.ListUsers(cmd.Context(), q)
			if err != nil {
				return err
			}
			if m.wantJSON() {
				return managePrintJSON(cmd.OutOrStdout(), users)
			}
			rows := [][]string{{"ID", "USERNAME", "EMAIL", "NAME", "ROLES", "VERIFIED", "DISABLED", "2FA"}}
			for _, u := range users {
				rows = append(rows, []string{u.ID, u.Username, u.Email, manageOrDash(u.Name), manageList(u.Roles),
					manageYesNo(u.EmailVerified), manageYesNo(u.Disabled), manageYesNo(u.MFAEnrolled)})
			}
			return manageTable(cmd.OutOrStdout(), rows)
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Search, "search", "", "only users whose user name, e-mail or name contains this")
	f.IntVar(&q.Limit, "limit", 100, "at most this many users (up to 1000)")
	f.IntVar(&q.Offset, "offset", 0, "skip this many users first")
	return cmd
}

func newUsersGetCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get USER",
		Short: "Show a user (by id, user name or e-mail)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			u, err := api.GetUser(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return manageShowUser(cmd.OutOrStdout(), m, u)
		},
	}
}

func newUsersSetRolesCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "set-roles USER [ROLE...]",
		Short: "Replace a user's roles (no roles: remove them all); every role must exist",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			u, err := api.SetUserRoles(cmd.Context(), args[0], manageSplit(args[1:]))
			if err != nil {
				return err
			}
			return manageShowUser(cmd.OutOrStdout(), m, u)
		},
	}
}

func newUsersDisableCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "disable USER",
		Short: "Disable a user: no more logins, sessions ended, tokens revoked",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			u, err := api.DisableUser(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return manageShowUser(cmd.OutOrStdout(), m, u)
		},
	}
}

func newUsersEnableCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "enable USER",
		Short: "Enable a disabled user",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			u, err := api.EnableUser(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return manageShowUser(cmd.OutOrStdout(), m, u)
		},
	}
}

func newUsersResetMFACmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "reset-mfa USER",
		Short: "Remove a user's second factors and recovery codes (they lost them)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			u, err := api.ResetUserMFA(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return manageShowUser(cmd.OutOrStdout(), m, u)
		},
	}
}

func newUsersDeleteCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete USER",
		Short: "Delete a user with its sessions, consents and tokens",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			if err := api.DeleteUser(cmd.Context(), args[0]); err != nil {
				return err
			}
			return manageDeleted(cmd.OutOrStdout(), m, "user", args[0])
		},
	}
}

func manageShowUser(w io.Writer, m *manageFlags, u adminclient.User) error {
	if m.wantJSON() {
		return managePrintJSON(w, u)
	}
	return manageFields(w,
		"id", u.ID,
		"username", u.Username,
		"email", u.Email,
		"name", manageOrDash(u.Name),
		"email_verified", manageYesNo(u.EmailVerified),
		"disabled", manageYesNo(u.Disabled),
		"mfa_enrolled", manageYesNo(u.MFAEnrolled),
		"roles", manageList(u.Roles),
		"created_at", manageTime(u.CreatedAt),
		"updated_at", manageTime(u.UpdatedAt),
	)
}
