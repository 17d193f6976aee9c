package main

import (
	"github.com/spf13/cobra"
)

func newRolesCreateCmd(m *manageFlags) *cobra.Command {
	var description string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a role (lower-case letters, digits, '.', '_', ':', '-')",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			r, err := api.CreateRole(cmd.Context(), args[0], description)
			if err != nil {
				return err
			}
			if m.wantJSON() {
				return managePrintJSON(cmd.OutOrStdout(), r)
			}
			return manageFields(cmd.OutOrStdout(),
				"name", r.Name, "description", manageOrDash(r.Description), "created_at", manageTime(r.CreatedAt))
		},
	}
	cmd.Flags().StringVar(&description, "description", "", "what the role is for")
	return cmd
}

func newRolesListCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List roles",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			roles, err := api.ListRoles(cmd.Context())
			if err != nil {
				return err
			}
			if m.wantJSON() {
				return managePrintJSON(cmd.OutOrStdout(), roles)
			}
			rows := [][]string{{"NAME", "DESCRIPTION", "CREATED_AT"}}
			for _, r := range roles {
				rows = append(rows, []string{r.Name, manageOrDash(r.Description), manageTime(r.CreatedAt)})
			}
			return manageTable(cmd.OutOrStdout(), rows)
		},
	}
}

func newRolesDeleteCmd(m *manageFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a role and remove it from every user (admin and user cannot be deleted)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, err := m.client()
			if err != nil {
				return err
			}
			if err := api.DeleteRole(cmd.Context(), args[0]); err != nil {
				return err
			}
			return manageDeleted(cmd.OutOrStdout(), m, "role", args[0])
		},
	}
}
