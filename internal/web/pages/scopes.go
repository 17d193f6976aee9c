package pages

import (
	"slices"

	"github.com/signet-idp/signet/internal/web/render"
)

// scopeWords says in plain words what each scope lets an app do.
var scopeWords = map[string]render.Scope{
	"openid":         {Title: "Know who you are", Detail: "A unique identifier for your account, so the app can recognise you next time."},
	"profile":        {Title: "See your name and user name"},
	"email":          {Title: "See your e-mail address", Detail: "And whether it has been verified."},
	"roles":          {Title: "See your roles", Detail: "The roles your account holds, which may decide what you can do in the app."},
	"offline_access": {Title: "Keep access while you are away", Detail: "The app stays connected when you are not using it, until you sign out of it or it is revoked."},
}

var scopeOrder = []string{"openid", "profile", "email", "roles", "offline_access"}

// describeScopes lists scopes in plain words, known ones first in a fixed
// order, unknown ones by name.
func describeScopes(scopes []string) []render.Scope {
	out := make([]render.Scope, 0, len(scopes))
	for _, name := range scopeOrder {
		if slices.Contains(scopes, name) {
			s := scopeWords[name]
			s.Name = name
			out = append(out, s)
		}
	}
	seen := map[string]bool{}
	for _, name := range scopes {
		if _, known := scopeWords[name]; known || name == "" || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, render.Scope{Name: name, Title: "Use the permission “" + name + "”"})
	}
	return out
}
