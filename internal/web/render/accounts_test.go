package render

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	inputID   = regexp.MustCompile(`<(?:input|textarea|select)\s+id="([^"]+)"`)
	anyID     = regexp.MustCompile(`\sid="([^"]+)"`)
	described = regexp.MustCompile(`aria-describedby="([^"]+)"`)
)

// TestAccountAndAdminPages renders every self-service and console page
// with full data and checks what every page must hold: no inline code,
// a CSRF token in every form, a label for every field, unique ids, and
// aria-describedby naming elements that exist.
func TestAccountAndAdminPages(t *testing.T) {
	r := mustNew(t, Branding{})
	common := Common{CSRFToken: "tok-123", SignedInAs: "alice", AccountLink: true, AdminLink: true}
	at := time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)
	errs := FieldErrors{"username": "User name is already taken.", "email": "E-mail address is not a valid e-mail address.",
		"name": "Name must be at most 200 characters.", "password": "Password is too short.", "password_confirm": "The confirmation does not match.",
		"current_password": "Your current password is not correct.", "client_name": "Name is required.", "redirect_uris": "Redirect URIs are bad.",
		"description": "Description is too long."}
	user := AdminUser{ID: "0b0e6f1c-1111-4222-8333-444455556666", Username: "alice", Email: "alice@example.com", Name: "Alice <A>",
		Roles: []string{"admin", "user"}, CreatedAt: at, UpdatedAt: at}
	pages := map[string]func(w http.ResponseWriter) error{
		"message": func(w http.ResponseWriter) error {
			return r.Message(w, 200, MessagePage{Common: common, Kind: MessageSuccess, Heading: "Done", Lead: "It worked.",
				Body: []string{"More."}, Links: []Link{{Href: "/login", Text: "Sign in", Primary: true}, {Href: "/", Text: "Home"}}})
		},
		"register": func(w http.ResponseWriter) error {
			return r.Register(w, 422, RegisterPage{Common: common, Challenge: "ch 1", Username: "zoe", Email: "z@x", Errors: errs, Error: "Fix."})
		},
		"verify email": func(w http.ResponseWriter) error {
			return r.VerifyEmail(w, 200, VerifyEmailPage{Common: common, Token: "t&<1>"})
		},
		"forgot": func(w http.ResponseWriter) error {
			return r.ForgotPassword(w, 422, ForgotPasswordPage{Common: common, Email: "x", Errors: errs, Error: "Fix."})
		},
		"reset": func(w http.ResponseWriter) error {
			return r.ResetPassword(w, 422, ResetPasswordPage{Common: common, Token: "t", Errors: errs})
		},
		"account": func(w http.ResponseWriter) error {
			return r.Account(w, 422, AccountPage{Common: common, Flash: "Saved.", Form: AccountFormPassword, Errors: errs, Error: "Fix.",
				Username: "alice", Name: "Alice", Email: "alice@example.com", NewEmail: "new@example.com",
				Apps: []AccountApp{{ClientID: "photo", Name: "Photo <App>", Scopes: []Scope{{Title: "Know who you are"}}, GrantedAt: at},
					{ClientID: "notes", Name: "Notes", GrantedAt: at}},
				Sessions: []AccountSession{{Device: "Firefox on Linux", IP: "192.0.2.1", SignedIn: at, LastSeen: at, Current: true},
					{Device: "Safari on iOS", SignedIn: at, LastSeen: at, Remembered: true}},
				OtherSessions: 1})
		},
		"admin users": func(w http.ResponseWriter) error {
			return r.AdminUsers(w, 200, AdminUsersPage{Common: common, Flash: "Done.", Query: "a&b", Users: []AdminUser{user, {ID: "x", Username: "bob", Disabled: true}},
				Page: 2, PrevURL: "/admin/users?q=a%26b", NextURL: "/admin/users?page=3&q=a%26b"})
		},
		"admin user": func(w http.ResponseWriter) error {
			return r.AdminUser(w, 409, AdminUserPage{Common: common, Error: "Refused.", User: user, Self: true,
				Roles: []AdminRoleChoice{{Name: "admin", Checked: true, Description: "Administers"}, {Name: "editor"}}})
		},
		"admin roles": func(w http.ResponseWriter) error {
			return r.AdminRoles(w, 422, AdminRolesPage{Common: common, Errors: errs, Name: "Bad", Roles: []AdminRole{{Name: "admin", Builtin: true, CreatedAt: at}, {Name: "editor", Description: "Edits", CreatedAt: at}}})
		},
		"admin clients": func(w http.ResponseWriter) error {
			return r.AdminClients(w, 422, AdminClientsPage{Common: common, Errors: errs, Error: "Fix.",
				Form:    AdminClientForm{Name: "X", RedirectURIs: "https://a.example/cb\nhttps://b.example/cb", AuthMethod: "none", FirstParty: true},
				Clients: []AdminClient{{ID: "abc", Name: "Photo", RedirectURIs: []string{"https://photo.example/cb"}, AuthMethod: "client_secret_basic", CreatedAt: at}}})
		},
		"admin client created": func(w http.ResponseWriter) error {
			return r.AdminClientCreated(w, 201, AdminClientCreatedPage{Common: common, Secret: "s3cret",
				Client: AdminClient{ID: "abc", Name: "Photo", RedirectURIs: []string{"https://photo.example/cb"}, AuthMethod: "client_secret_basic"}})
		},
		"admin audit": func(w http.ResponseWriter) error {
			return r.AdminAudit(w, 200, AdminAuditPage{Common: common, Limit: 100, Events: []AdminAuditEvent{{At: at, Actor: "root", Action: "role.change", Target: "u1", IP: "192.0.2.1", Details: []string{"roles=editor user"}}}})
		},
	}
	for name, render := range pages {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			if err := render(w); err != nil {
				t.Fatal(err)
			}
			body := w.Body.String()
			if m := inlineCode.FindString(body); m != "" {
				t.Errorf("page has inline code %q", m)
			}
			if forms, tokens := strings.Count(body, "<form"), strings.Count(body, `name="csrf_token" value="tok-123"`); forms != tokens {
				t.Errorf("%d forms but %d CSRF fields", forms, tokens)
			}
			for _, m := range inputID.FindAllStringSubmatch(body, -1) {
				if !strings.Contains(body, `<label for="`+m[1]+`"`) {
					t.Errorf("field %q has no label", m[1])
				}
			}
			ids := map[string]bool{}
			for _, m := range anyID.FindAllStringSubmatch(body, -1) {
				if ids[m[1]] {
					t.Errorf("id %q is used twice", m[1])
				}
				ids[m[1]] = true
			}
			for _, m := range described.FindAllStringSubmatch(body, -1) {
				for _, id := range strings.Fields(m[1]) {
					if !ids[id] {
						t.Errorf("aria-describedby names %q, which is not on the page", id)
					}
				}
			}
			for _, bad := range []string{"<App>", "<A>", "a&b\""} {
				if strings.Contains(body, bad) {
					t.Errorf("unescaped %q", bad)
				}
			}
			if !strings.Contains(body, `href="/account"`) || !strings.Contains(body, `href="/admin"`) {
				t.Error("header lacks the account or admin link")
			}
		})
	}
}

func TestAdminPagesAreWideWithNavigation(t *testing.T) {
	r := mustNew(t, Branding{})
	w := httptest.NewRecorder()
	if err := r.AdminRoles(w, 200, AdminRolesPage{}); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	for _, want := range []string{`<main id="main" class="card wide"`, `<nav class="sections wide" aria-label="Administration">`,
		`<a href="/admin/roles" aria-current="page">Roles</a>`, `<a href="/admin/users">Users</a>`, "<title>Roles · Admin · Signet</title>"} {
		if !strings.Contains(body, want) {
			t.Errorf("roles page lacks %q", want)
		}
	}
	w = httptest.NewRecorder()
	if err := r.Login(w, 200, LoginPage{}); err != nil {
		t.Fatal(err)
	}
	if body := w.Body.String(); strings.Contains(body, "sections") || !strings.Contains(body, `<main id="main" class="card"`) {
		t.Error("login page is not the narrow card without navigation")
	}
}

func TestFieldMessagesAreTiedToTheirInputs(t *testing.T) {
	r := mustNew(t, Branding{})
	w := httptest.NewRecorder()
	if err := r.Register(w, 422, RegisterPage{Errors: FieldErrors{"email": "E-mail address is not valid."}}); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	for _, want := range []string{
		`<p class="field-error" id="email-error">E-mail address is not valid.</p>`,
		`aria-invalid="true" aria-describedby="email-error email-hint"`,
		`autocomplete="new-password"`, `type="email"`, `maxlength="254"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("register page lacks %q", want)
		}
	}
	if strings.Count(body, `aria-invalid="true"`) != 1 {
		t.Error("fields without errors are marked invalid")
	}
}

// TestVerifyEmailPageIsAForm: the verification link's page verifies
// nothing by itself; it is a form posting the link's token (escaped) with
// the CSRF token.
func TestVerifyEmailPageIsAForm(t *testing.T) {
	r := mustNew(t, Branding{})
	w := httptest.NewRecorder()
	if err := r.VerifyEmail(w, 200, VerifyEmailPage{Common: Common{CSRFToken: "tok-123"}, Token: `a"b<c>`}); err != nil {
		t.Fatal(err)
	}
	body := w.Body.String()
	for _, want := range []string{
		"<title>Confirm your e-mail address · Signet</title>", "<h1>Confirm your e-mail address</h1>",
		`<form class="stack" method="post" action="/verify-email">`,
		`<input type="hidden" name="csrf_token" value="tok-123">`,
		`<input type="hidden" name="token" value="a&#34;b&lt;c&gt;">`,
		`<button type="submit" class="button primary">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("verify-email page lacks %q:\n%s", want, body)
		}
	}
	if strings.Count(body, "<form") != 1 {
		t.Error("the verify-email page should hold exactly one form")
	}
}
