package oauth

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ory/fosite"
)

// TestMessagesCoverFosite: every hint the fosite packages we compose can
// attach to an error has our wording in the catalog, so no fosite sentence
// reaches a client (a fosite upgrade adding hints fails here).
func TestMessagesCoverFosite(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/ory/fosite").Output()
	if err != nil {
		t.Fatalf("locate fosite: %v", err)
	}
	root := strings.TrimSpace(string(out))
	found := 0
	for _, dir := range []string{"", "handler/oauth2", "handler/openid", "handler/pkce", "handler/par"} {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			fs := token.NewFileSet()
			af, err := parser.ParseFile(fs, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(af, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) == 0 {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "WithHint" && sel.Sel.Name != "WithHintf" && sel.Sel.Name != "WithHintIDOrDefaultf") {
					return true
				}
				lit, ok := call.Args[0].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true // built at run time; the dynamic ones are in the table by hand
				}
				hint, _ := strconv.Unquote(lit.Value)
				found++
				if _, ok := fositeHints[hint]; !ok {
					t.Errorf("%s: fosite hint %q has no wording of ours", fs.Position(lit.Pos()), hint)
				}
				return true
			})
		}
	}
	if found < 100 {
		t.Fatalf("found only %d fosite hints; did the layout of fosite change?", found)
	}
}

// TestLocalizeError: descriptions and hints come out in our words, ours
// untouched, formats filled in.
func TestLocalizeError(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fosite.ErrInvalidState.WithHintf("Request parameter 'state' must be at least be %d characters long to ensure sufficient entropy.", 8),
			"The state parameter is not valid. The state parameter must be at least 8 characters long."},
		{fosite.ErrInvalidGrant.WithHint("The PKCE code challenge did not match the code verifier."),
			"The authorization code or refresh token is not valid. The code_verifier does not match the code_challenge."},
		{fosite.ErrInvalidRequest.WithHint("prompt=none cannot be combined with other values."),
			"The request is not valid. prompt=none cannot be combined with other values."},
		{fosite.ErrServerError.WithHint("Misconfigured code lead to an error that prohibited the OAuth 2.0 Framework from processing this request."),
			"The server could not complete the request."},
	} {
		if got := LocalizeError(tt.err).GetDescription(); got != tt.want {
			t.Errorf("description %q, want %q", got, tt.want)
		}
	}
}
