package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/signet-idp/signet/internal/bench"
	"github.com/signet-idp/signet/internal/pgtest"
)

// readmeSection returns the README's section under heading, up to the
// next section of the same level.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q section", heading)
	}
	s = s[i+1+len(heading):]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	return s
}

// TestReadmeWalkthrough follows "Getting started, step by step" with the
// real binary, on the in-memory store and on PostgreSQL, to a person
// signed in to a newly registered client: go install, --version, the
// database as the README creates it, serve (and its hint on a fresh
// database), the first administrator and the client through the CLI, the
// sign-in URL the README gives through the real login and consent pages,
// and the code exchanged as its curl line does. Each command run here is
// checked to be the README's.
func TestReadmeWalkthrough(t *testing.T) {
	readme := readmeSection(t, "## Getting started, step by step")
	for _, cmd := range []string{
		"go install ./cmd/signet",
		"signet --version",
		"signet serve --dev",
		`psql -c "CREATE ROLE signet LOGIN PASSWORD 'signet'" -c "CREATE DATABASE signet OWNER signet"`,
		"export SIGNET_DATABASE_URL='postgres://signet:signet@127.0.0.1:5432/signet?sslmode=disable'",
		"\nsignet serve\n",
		"printf '%s' 'choose a long passphrase' | signet users create --username admin --email admin@example.com \\\n" +
			`  --name "Admin" --password-stdin --email-verified --role admin --role user`,
		`signet clients create --name "My app" --redirect-uri http://127.0.0.1:5555/callback -o json`,
		"curl -u CLIENT_ID:CLIENT_SECRET -d grant_type=authorization_code -d code=CODE \\\n" +
			"  -d redirect_uri=http://127.0.0.1:5555/callback http://localhost:8080/oauth2/token",
		"no administrator exists yet",
	} {
		if !strings.Contains(readme, cmd) {
			t.Fatalf("the README's walkthrough no longer says %q: update this test with it", cmd)
		}
	}
	signInURL := regexp.MustCompile(`(?m)^http://localhost:8080/oauth2/auth\?\S+$`).FindString(readme)
	if signInURL == "" {
		t.Fatal("the walkthrough has no sign-in URL")
	}

	// Step 1: go install ./cmd/signet, from the repository root.
	gobin := t.TempDir()
	install := exec.Command("go", "install", "./cmd/signet")
	install.Dir = filepath.Join("..", "..")
	install.Env = append(os.Environ(), "GOBIN="+gobin)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install ./cmd/signet: %v\n%s", err, out)
	}
	bin := filepath.Join(gobin, "signet")
	if out := runSignet(t, context.Background(), bin, nil, "--version"); !strings.HasPrefix(out, "signet ") {
		t.Fatalf("signet --version: %q", out)
	}

	t.Run("memory", func(t *testing.T) {
		r := newReplica(t, bin, "dev", map[string]string{"SIGNET_DEV": "true"})
		r.env = append(r.env, "SIGNET_ISSUER="+r.url())
		r.start()
		r.waitReady(30 * time.Second)
		// --dev prints the demo users; alice is an administrator.
		m := regexp.MustCompile(`demo user: alice / (\S+) \(roles: admin`).FindStringSubmatch(fileTail(r.logPath, 200))
		if m == nil {
			t.Fatalf("serve --dev did not print alice's password:\n%s", r.logTail(40))
		}
		walkthroughSignIn(t, bin, r, signInURL, "alice", m[1])
	})

	t.Run("postgres", func(t *testing.T) {
		pgtest.NewDatabase(t) // skips (fails under CI) without PostgreSQL
		server, err := url.Parse(pgtest.ServerURL())
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		name := "signet_walk_" + hex.EncodeToString(b)
		// The README's psql line, with a name of its own on the shared
		// server.
		psql := func(args ...string) {
			t.Helper()
			cmd := exec.Command("psql", append([]string{server.String(), "-v", "ON_ERROR_STOP=1"}, args...)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("psql %v: %v\n%s", args, err, out)
			}
		}
		psql("-c", "CREATE ROLE "+name+" LOGIN PASSWORD '"+name+"'", "-c", "CREATE DATABASE "+name+" OWNER "+name)
		t.Cleanup(func() {
			psql("-c", "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)", "-c", "DROP ROLE IF EXISTS "+name)
		})
		dbURL := *server
		dbURL.User = url.UserPassword(name, name)
		dbURL.Path = "/" + name
		q := dbURL.Query()
		q.Set("sslmode", "disable")
		dbURL.RawQuery = q.Encode()

		r := newReplica(t, bin, "postgres", map[string]string{
			"SIGNET_DATABASE_URL": dbURL.String(),
			"SIGNET_SECRET":       "walkthrough-secret-0123456789-abcdefghij",
		})
		r.env = append(r.env, "SIGNET_ISSUER="+r.url())
		r.start()
		r.waitReady(60 * time.Second)
		if log := fileTail(r.logPath, 200); !strings.Contains(log, "no administrator exists yet") {
			t.Fatalf("serve on a fresh database does not say how to create the first administrator:\n%s", r.logTail(40))
		}
		// Step 4: the first administrator, password on standard input.
		create := exec.Command(bin, "users", "create", "--username", "admin", "--email", "admin@example.com",
			"--name", "Admin", "--password-stdin", "--email-verified", "--role", "admin", "--role", "user")
		create.Env = append(cleanEnv(), "SIGNET_ADMIN_URL="+r.adminURL())
		create.Stdin = strings.NewReader("choose a long passphrase")
		if out, err := create.CombinedOutput(); err != nil {
			t.Fatalf("signet users create: %v\n%s", err, out)
		}
		walkthroughSignIn(t, bin, r, signInURL, "admin", "choose a long passphrase")
	})
}

// walkthroughSignIn registers the README's client with the CLI, opens the
// README's sign-in URL, signs in and consents on the real pages, and
// exchanges the code as the README's curl line does; the ID token must
// verify for the new client.
func walkthroughSignIn(t *testing.T, bin string, r *replica, signInURL, username, password string) {
	t.Helper()
	out := runSignet(t, context.Background(), bin, map[string]string{"SIGNET_ADMIN_URL": r.adminURL()},
		"clients", "create", "--name", "My app", "--redirect-uri", "http://127.0.0.1:5555/callback", "-o", "json")
	var client struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(out), &client); err != nil || client.ClientID == "" || client.ClientSecret == "" {
		t.Fatalf("signet clients create -o json printed %q (%v)", out, err)
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Timeout: 10 * time.Second, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	u := strings.ReplaceAll(strings.Replace(signInURL, "http://localhost:8080", r.url(), 1), "CLIENT_ID", client.ClientID)
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	var code string
	signedIn, consented := false, false
	for step := 0; step < 12 && code == ""; step++ {
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != "" {
			next, err := req.URL.Parse(loc)
			if err != nil {
				t.Fatal(err)
			}
			if next.Host == "127.0.0.1:5555" {
				if e := next.Query().Get("error"); e != "" {
					t.Fatalf("sent back to the app with %s: %s", e, next.Query().Get("error_description"))
				}
				code = next.Query().Get("code")
				break
			}
			req, _ = http.NewRequest(http.MethodGet, next.String(), nil)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s answered %d:\n%s", req.URL.Path, resp.StatusCode, body)
		}
		var f bench.Form
		if l, ok, err := bench.FindLoginForm(req.URL, body); err == nil && ok && !signedIn {
			f, signedIn = l.Fill(username, password), true
		} else if c, ok, err := bench.FindConsentForm(req.URL, body); err == nil && ok && !consented {
			f, consented = c, true
		} else {
			t.Fatalf("%s has neither a login nor a consent form to fill:\n%s", req.URL.Path, body)
		}
		if req, err = f.Request(); err != nil {
			t.Fatal(err)
		}
	}
	if code == "" || !signedIn {
		t.Fatalf("no code after signing in (signed in %v, consented %v)", signedIn, consented)
	}

	// The README's curl line.
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"http://127.0.0.1:5555/callback"}}
	tokReq, _ := http.NewRequest(http.MethodPost, r.url()+"/oauth2/token", strings.NewReader(form.Encode()))
	tokReq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	tokReq.SetBasicAuth(client.ClientID, client.ClientSecret)
	resp, err := http.DefaultClient.Do(tokReq)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var tok struct {
		IDToken     string `json:"id_token"`
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.IDToken == "" {
		t.Fatalf("code exchange: %d %s", resp.StatusCode, body)
	}
	ctx := context.Background()
	provider, err := gooidc.NewProvider(ctx, r.url())
	if err != nil {
		t.Fatal(err)
	}
	idt, err := provider.Verifier(&gooidc.Config{ClientID: client.ClientID}).Verify(ctx, tok.IDToken)
	if err != nil {
		t.Fatalf("the ID token does not verify: %v", err)
	}
	var claims struct {
		Username string `json:"preferred_username"`
	}
	if err := idt.Claims(&claims); err != nil || claims.Username != username {
		t.Fatalf("ID token for %q (%v), want %s", claims.Username, err, username)
	}
	if !bytes.HasPrefix([]byte(tok.AccessToken), []byte("signet_at_")) {
		t.Errorf("access token %q lacks the signet_at_ prefix", tok.AccessToken)
	}
}
