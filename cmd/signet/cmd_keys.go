package main

import "github.com/spf13/cobra"

// newKeysCmd lists signing keys and starts rotations through the admin API.
func newKeysCmd() *cobra.Command {
	return &cobra.Command{Use: "keys", Short: "Manage signing keys"}
}
