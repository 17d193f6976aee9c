package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/signet-idp/signet/internal/config"
	"github.com/signet-idp/signet/internal/pgtest"
)

// fakeSettingsEnv is an environment and a file system held in maps.
func fakeSettingsEnv(env, files map[string]string) settingsEnv {
	return settingsEnv{
		lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		readFile: func(p string) ([]byte, error) {
			if v, ok := files[p]; ok {
				return []byte(v), nil
			}
			return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		},
	}
}

// parsedServe is serve's command with args parsed and settings loaded.
func parsedServe(t *testing.T, args []string, env settingsEnv) (*cobra.Command, error) {
	t.Helper()
	cmd := newServeCmd()
	if err := cmd.Flags().Parse(args); err != nil {
		t.Fatal(err)
	}
	return cmd, loadSettings(cmd, env)
}

func flagValues(cmd *cobra.Command, names ...string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		out[n] = cmd.Flags().Lookup(n).Value.String()
	}
	return out
}

// TestConfigFilePrecedence: the command line wins over the environment,
// which wins over the file, which wins over the defaults; SIGNET_CONFIG
// names the file like --config.
func TestConfigFilePrecedence(t *testing.T) {
	file := `# comments are fine
issuer: https://file.example.com
listen: ":1111"
admin-listen: "127.0.0.1:2222"
log-level: debug
old-secrets:
  - first-old-secret-0123456789abcdefghij
  - second-old-secret-0123456789abcdefghi
trusted-proxies: 10.0.0.0/8, 192.168.0.0/16
registration: true
db-max-open-conns: 40
refresh-grace-period: 10s
signing-algorithms: [RS256, ES256]
brand-name:
`
	for _, via := range []string{"flag", "env"} {
		t.Run(via, func(t *testing.T) {
			env := map[string]string{
				"SIGNET_LISTEN":    ":3333",
				"SIGNET_LOG_LEVEL": "warn",
			}
			args := []string{"--log-level", "error"}
			if via == "flag" {
				args = append(args, "--config", "/etc/signet.yaml")
			} else {
				env["SIGNET_CONFIG"] = "/etc/signet.yaml"
			}
			cmd, err := parsedServe(t, args, fakeSettingsEnv(env, map[string]string{"/etc/signet.yaml": file}))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"issuer":               "https://file.example.com",                                                      // file
				"listen":               ":3333",                                                                         // env over file
				"admin-listen":         "127.0.0.1:2222",                                                                // file
				"log-level":            "error",                                                                         // flag over env and file
				"old-secrets":          "[first-old-secret-0123456789abcdefghij,second-old-secret-0123456789abcdefghi]", // YAML list
				"trusted-proxies":      "[10.0.0.0/8,192.168.0.0/16]",                                                   // comma list
				"registration":         "true",
				"db-max-open-conns":    "40",
				"refresh-grace-period": "10s",
				"signing-algorithms":   "[RS256,ES256]",
				"brand-name":           "",         // "key:" with no value keeps the default
				"key-rotation-period":  "720h0m0s", // not in the file: default
			}
			names := make([]string, 0, len(want))
			for n := range want {
				names = append(names, n)
			}
			for n, got := range flagValues(cmd, names...) {
				if got != want[n] {
					t.Errorf("--%s = %q, want %q", n, got, want[n])
				}
			}
		})
	}
}

// TestConfigFileReportsEveryProblem: unknown keys, values of the wrong
// type and shape, unreadable secret files and a key given twice are all
// reported in one error, with file, line and key.
func TestConfigFileReportsEveryProblem(t *testing.T) {
	file := `issuer: https://id.example.com
issuer-url: https://typo.example.com
frobnicate: 1
access-token-lifespan: soon
db-max-open-conns: many
registration: maybe
listen: [":1", ":2"]
trusted-proxies: {a: b}
admin-token-file: /run/secrets/missing
secret: inline-secret-0123456789abcdefghijklmn
secret-file: /run/secrets/secret
`
	_, err := parsedServe(t, []string{"--config", "signet.yaml"}, fakeSettingsEnv(
		map[string]string{"SIGNET_ARGON2_TIME": "lots"},
		map[string]string{"signet.yaml": file, "/run/secrets/secret": "x"}))
	if err == nil {
		t.Fatal("loadSettings accepted a bad file")
	}
	msg := err.Error()
	for _, want := range []string{
		`signet.yaml:2: issuer-url: unknown key (did you mean issuer?)`,
		`signet.yaml:3: frobnicate: unknown key`,
		`signet.yaml:4: access-token-lifespan: invalid argument "soon"`,
		`signet.yaml:5: db-max-open-conns: invalid argument "many"`,
		`signet.yaml:6: registration: invalid argument "maybe"`,
		`signet.yaml:7: listen: must be a single value`,
		`signet.yaml:8: trusted-proxies: must be a list or a comma-separated value`,
		`signet.yaml:9: admin-token-file: open /run/secrets/missing`,
		`signet.yaml:11: secret-file: secret is already set by secret`,
		`SIGNET_ARGON2_TIME: invalid argument "lots"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, strings.ReplaceAll(msg, "; ", "\n"))
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans several lines: %q", msg)
	}

	// A file that is not a mapping, or not YAML, or not there.
	for name, content := range map[string]string{"list": "- a\n- b\n", "broken": "issuer: [\n"} {
		_, err := parsedServe(t, []string{"--config", "c.yaml"}, fakeSettingsEnv(nil, map[string]string{"c.yaml": content}))
		if err == nil || !strings.Contains(err.Error(), "c.yaml") {
			t.Errorf("%s: err = %v, want one naming the file", name, err)
		}
	}
	if _, err := parsedServe(t, []string{"--config", "absent.yaml"}, fakeSettingsEnv(nil, nil)); err == nil {
		t.Error("a missing configuration file was accepted")
	}
}

// TestSecretsFromFiles: SIGNET_X_FILE and the key x-file read the value
// from a file (the line end dropped); the environment's file wins over
// the configuration file, and a value given both ways is refused.
func TestSecretsFromFiles(t *testing.T) {
	files := map[string]string{
		"signet.yaml":           "admin-token-file: /run/secrets/admin\nsecret: from-config-file-0123456789abcdefghij\nsmtp-password-file: /run/secrets/smtp\n",
		"/run/secrets/admin":    "admin-token-from-a-file\n",
		"/run/secrets/secret":   "secret-from-a-file-0123456789abcdefghij\r\n",
		"/run/secrets/database": "postgres://signet:pw@db/signet",
		"/run/secrets/smtp":     "  spaces kept  ",
	}
	env := map[string]string{
		"SIGNET_SECRET_FILE":       "/run/secrets/secret",
		"SIGNET_DATABASE_URL_FILE": "/run/secrets/database",
	}
	cmd, err := parsedServe(t, []string{"--config", "signet.yaml"}, fakeSettingsEnv(env, files))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"admin-token":   "admin-token-from-a-file",
		"secret":        "secret-from-a-file-0123456789abcdefghij", // env's file over the config file
		"database-url":  "postgres://signet:pw@db/signet",
		"smtp-password": "  spaces kept  ",
	}
	for n, got := range flagValues(cmd, "admin-token", "secret", "database-url", "smtp-password") {
		if got != want[n] {
			t.Errorf("--%s = %q, want %q", n, got, want[n])
		}
	}

	env["SIGNET_SECRET"] = "direct-secret-0123456789abcdefghijklmno"
	env["SIGNET_ADMIN_TOKEN_FILE"] = "/run/secrets/nope"
	_, err = parsedServe(t, nil, fakeSettingsEnv(env, files))
	if err == nil {
		t.Fatal("SIGNET_SECRET with SIGNET_SECRET_FILE was accepted")
	}
	for _, want := range []string{"SIGNET_SECRET and SIGNET_SECRET_FILE are both set", "SIGNET_ADMIN_TOKEN_FILE: open /run/secrets/nope"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestExampleConfigFile: signet.example.yaml holds only real keys with
// valid values, and together with its secrets makes a configuration
// serve accepts.
func TestExampleConfigFile(t *testing.T) {
	example, err := os.ReadFile("../../signet.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"signet.example.yaml": string(example)}
	// Every *-file entry of the example reads a stand-in secret.
	env := fakeSettingsEnv(nil, secrets)
	read := env.readFile
	env.readFile = func(p string) ([]byte, error) {
		if strings.HasPrefix(p, "/") {
			if strings.Contains(p, "database") {
				return []byte("postgres://signet@db/signet"), nil
			}
			return []byte("stand-in-secret-0123456789abcdefghijkl"), nil
		}
		return read(p)
	}
	c := config.Default()
	cmd := newServeCmdWith(&c)
	if err := cmd.Flags().Parse([]string{"--config", "signet.example.yaml"}); err != nil {
		t.Fatal(err)
	}
	if err := loadSettings(cmd, env); err != nil {
		t.Fatal(err)
	}
	if !cmd.Flags().Lookup("issuer").Changed || !cmd.Flags().Lookup("secret").Changed {
		t.Error("the example sets no issuer or no secret")
	}
	if err := c.Validate(); err != nil {
		t.Errorf("the example configuration does not validate: %v", err)
	}
}

// TestMigrateReadsConfigFile: `signet migrate --config` takes the
// database URL from the file serve uses (its serve-only keys are not
// migrate's business), through the real command line.
func TestMigrateReadsConfigFile(t *testing.T) {
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "database-url")
	if err := os.WriteFile(urlFile, []byte(pgtest.NewDatabase(t)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "signet.yaml")
	if err := os.WriteFile(conf, []byte("issuer: https://id.example.com\ndatabase-url-file: "+urlFile+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"SIGNET_DATABASE_URL", "SIGNET_DATABASE_URL_FILE", "SIGNET_CONFIG"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	var out bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetArgs([]string{"migrate", "--config", conf})
	if err := root.Execute(); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if !strings.Contains(out.String(), "migrations applied") {
		t.Errorf("migrate printed %q", out.String())
	}

	// A bad key fails migrate too, before touching the database.
	if err := os.WriteFile(conf, []byte("databse-url: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	root = newRootCmd()
	root.SetArgs([]string{"migrate", "--config", conf})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "did you mean database-url?") {
		t.Errorf("migrate with a misspelt key: %v", err)
	}
}
