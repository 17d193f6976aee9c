package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
)

// TestComposeFile: docker-compose.yml is a valid Compose file (loaded and
// checked as `docker compose config` does, with compose-go, the library
// docker compose itself uses) whose signet service has a health check that
// runs `signet healthcheck`, a command the binary has.
func TestComposeFile(t *testing.T) {
	opts, err := cli.NewProjectOptions([]string{filepath.Join("..", "..", "docker-compose.yml")},
		cli.WithWorkingDirectory(filepath.Join("..", "..")), cli.WithName("signet"), cli.WithConsistency(true))
	if err != nil {
		t.Fatal(err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	svc, ok := project.Services["signet"]
	if !ok {
		t.Fatal("no signet service")
	}
	if svc.HealthCheck == nil || !slices.Equal([]string(svc.HealthCheck.Test), []string{"CMD", "/signet", "healthcheck"}) {
		t.Fatalf("signet service health check = %+v, want CMD /signet healthcheck", svc.HealthCheck)
	}
	if dep, ok := svc.DependsOn["db"]; !ok || dep.Condition != "service_healthy" {
		t.Errorf("signet does not wait for a healthy database: %+v", svc.DependsOn)
	}
	if svc.Environment["SIGNET_ADMIN_LISTEN"] == nil {
		t.Error("SIGNET_ADMIN_LISTEN unset: the health check would look at the wrong address")
	}
	if cmd, _, err := newRootCmd().Find([]string{"healthcheck"}); err != nil || cmd.Name() != "healthcheck" {
		t.Fatalf("the binary has no healthcheck command: %v", err)
	}
	dockerfile, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dockerfile), `HEALTHCHECK `) || !strings.Contains(string(dockerfile), `CMD ["/signet", "healthcheck"]`) {
		t.Error("the Dockerfile has no HEALTHCHECK running /signet healthcheck")
	}
}

// TestDockerignore: the build context leaves out .git and local build
// output but keeps everything the build compiles or embeds.
func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", ".dockerignore"))
	if err != nil {
		t.Fatalf(".dockerignore: %v", err)
	}
	var patterns []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns = append(patterns, strings.TrimPrefix(l, "/"))
		}
	}
	ignored := func(path string) bool {
		for _, p := range patterns {
			for _, cand := range []string{path, strings.SplitN(path, "/", 2)[0]} {
				if ok, _ := filepath.Match(strings.TrimPrefix(p, "**/"), cand); ok {
					return true
				}
			}
		}
		return false
	}
	for _, p := range []string{".git", "signet"} {
		if !ignored(p) {
			t.Errorf("%s is sent to the build", p)
		}
	}
	for _, p := range []string{"go.mod", "go.sum", "cmd/signet/main.go", "templates/login.html", "templates/static",
		"migrations/0001_init.sql", "internal/accounts/common_passwords.txt", "internal/web/admin/openapi.json"} {
		if ignored(p) {
			t.Errorf("%s is left out of the build context, but the build needs it", p)
		}
	}
}

// TestHealthcheckCommand: `signet healthcheck` succeeds against a ready
// server (found by its admin listen address, as in the container) and
// fails once it is gone.
func TestHealthcheckCommand(t *testing.T) {
	ts := startTestServer(t, withMemoryStore())
	admin := strings.TrimPrefix(ts.AdminURL, "http://")
	t.Setenv("SIGNET_ADMIN_LISTEN", admin)
	if out, err := runCLI(t, "", "healthcheck"); err != nil || out != "ready\n" {
		t.Fatalf("healthcheck against a ready server: %q, %v", out, err)
	}
	ts.Stop()
	if _, err := runCLI(t, "", "healthcheck", "--timeout", "2s"); err == nil || !strings.Contains(err.Error(), "not ready") {
		t.Fatalf("healthcheck against a stopped server: %v, want an error", err)
	}
	for in, want := range map[string]string{":8081": "127.0.0.1:8081", "0.0.0.0:8081": "127.0.0.1:8081",
		"[::]:8081": "127.0.0.1:8081", "10.0.0.5:9000": "10.0.0.5:9000", "localhost:8081": "localhost:8081"} {
		if got := localAddr(in); got != want {
			t.Errorf("localAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
