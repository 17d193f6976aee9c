package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/adminclient"
)

// manageFlags are the persistent flags of each management group. Their
// environment twins (SIGNET_ADMIN_URL, SIGNET_ADMIN_TOKEN, SIGNET_OUTPUT)
// come from the root command's applyEnv.
type manageFlags struct {
	adminURL string
	token    string
	output   string
}

func addManageFlags(cmd *cobra.Command) *manageFlags {
	m := &manageFlags{}
	f := cmd.PersistentFlags()
	f.StringVar(&m.adminURL, "admin-url", adminclient.DefaultURL, "admin API base URL (the admin listener)")
	f.StringVarP(&m.output, "output", "o", "table", "output format: table or json")
	// The token belongs in the environment (SIGNET_ADMIN_TOKEN), not in
	// shell history or ps output; the flag exists, hidden, for that twin.
	f.StringVar(&m.token, "admin-token", "", "admin API bearer token (prefer SIGNET_ADMIN_TOKEN)")
	_ = f.MarkHidden("admin-token")
	return m
}

// client checks the output format and returns an admin API client.
func (m *manageFlags) client() (*adminclient.Client, error) {
	if m.output == "" { // an empty SIGNET_OUTPUT
		m.output = "table"
	}
	if m.output != "table" && m.output != "json" {
		return nil, fmt.Errorf("output format %q must be table or json", m.output)
	}
	return adminclient.New(m.adminURL, m.token, nil)
}

func (m *manageFlags) wantJSON() bool { return m.output == "json" }

// managePrintJSON writes v as indented JSON.
func managePrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// manageTable writes aligned columns; the first row is the header.
func manageTable(w io.Writer, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		if _, err := fmt.Fprintln(tw, strings.Join(r, "\t")); err != nil {
			return err
		}
	}
	return tw.Flush()
}

// manageFields writes "name  value" lines for one record.
func manageFields(w io.Writer, pairs ...string) error {
	rows := make([][]string, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		rows = append(rows, []string{pairs[i], pairs[i+1]})
	}
	return manageTable(w, rows)
}

func manageList(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

func manageYesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func manageTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// manageSplit splits list flag values further on spaces and commas, so
// --scope "openid profile" and --scope openid,profile both work.
func manageSplit(vals []string) []string {
	var out []string
	for _, v := range vals {
		out = append(out, strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })...)
	}
	return out
}

func manageOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
