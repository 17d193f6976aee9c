package main

import (
	"github.com/spf13/cobra"
)

// Management commands: thin clients of the admin API. The clients, users,
// roles and audit groups live in manage_*.go.

func newClientsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "clients", Short: "Manage OAuth2 clients"}
	m := addManageFlags(cmd)
	cmd.AddCommand(
		newClientsCreateCmd(m),
		newClientsListCmd(m),
		newClientsGetCmd(m),
		newClientsUpdateCmd(m),
		newClientsRotateSecretCmd(m),
		newClientsDeleteCmd(m),
	)
	return cmd
}

func newUsersCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Manage users"}
	m := addManageFlags(cmd)
	cmd.AddCommand(
		newUsersCreateCmd(m),
		newUsersListCmd(m),
		newUsersGetCmd(m),
		newUsersSetRolesCmd(m),
		newUsersDisableCmd(m),
		newUsersEnableCmd(m),
		newUsersResetMFACmd(m),
		newUsersDeleteCmd(m),
		newUsersVerifyEmailCmd(m),
		newUsersSendResetCmd(m),
		newUsersLogoutCmd(m),
	)
	return cmd
}

func newRolesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "roles", Short: "Manage roles"}
	m := addManageFlags(cmd)
	cmd.AddCommand(
		newRolesCreateCmd(m),
		newRolesListCmd(m),
		newRolesDeleteCmd(m),
	)
	return cmd
}

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Show security and admin events"}
	m := addManageFlags(cmd)
	cmd.AddCommand(newAuditTailCmd(m))
	return cmd
}
