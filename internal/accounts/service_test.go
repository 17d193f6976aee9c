package accounts_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newService(t *testing.T) (*accounts.Service, storage.Store) {
	t.Helper()
	store := memory.New()
	h := accounts.PasswordHasher{Memory: 64, Time: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}
	svc := accounts.NewService(store, accounts.Options{Hasher: &h, Now: func() time.Time { return fixedNow }})
	return svc, store
}

func alice() accounts.NewUser {
	return accounts.NewUser{
		Username: "alice", Email: "alice@example.com", Name: "Alice Liddell",
		Password: "correct horse battery", EmailVerified: true, Roles: []string{"user"},
	}
}

func TestCreateUser(t *testing.T) {
	svc, store := newService(t)
	ctx := context.Background()
	in := alice()
	in.Roles = []string{"user", "admin", "user"}
	u, err := svc.CreateUser(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	id, err := uuid.Parse(u.ID)
	if err != nil || id.Version() != 4 || id.String() != u.ID {
		t.Fatalf("id %q is not a canonical UUIDv4", u.ID)
	}
	if u.Username != "alice" || u.Email != "alice@example.com" || u.Name != "Alice Liddell" ||
		!u.EmailVerified || u.Disabled || !u.HasPassword {
		t.Fatalf("created user = %+v", u)
	}
	if !slices.Equal(u.Roles, []string{"admin", "user"}) {
		t.Fatalf("roles = %v; want [admin user]", u.Roles)
	}
	if !u.CreatedAt.Equal(fixedNow) || !u.UpdatedAt.Equal(fixedNow) {
		t.Fatalf("timestamps %v %v; want the service clock", u.CreatedAt, u.UpdatedAt)
	}
	rec, err := store.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rec.PasswordHash, "$argon2id$v=19$") || strings.Contains(rec.PasswordHash, in.Password) {
		t.Fatalf("stored hash %q is not argon2id", rec.PasswordHash)
	}
}

func TestCreateUserRejectsBadInputAndWritesNothing(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*accounts.NewUser)
		field string
	}{
		{"empty username", func(u *accounts.NewUser) { u.Username = "" }, "username"},
		{"username with space", func(u *accounts.NewUser) { u.Username = "al ice" }, "username"},
		{"username with @", func(u *accounts.NewUser) { u.Username = "al@ice" }, "username"},
		{"username starting with dot", func(u *accounts.NewUser) { u.Username = ".alice" }, "username"},
		{"username too long", func(u *accounts.NewUser) { u.Username = strings.Repeat("a", 65) }, "username"},
		{"username like an id", func(u *accounts.NewUser) { u.Username = uuid.NewString() }, "username"},
		{"empty email", func(u *accounts.NewUser) { u.Email = "" }, "email"},
		{"email without @", func(u *accounts.NewUser) { u.Email = "alice.example.com" }, "email"},
		{"email with display name", func(u *accounts.NewUser) { u.Email = "Alice <alice@example.com>" }, "email"},
		{"two emails", func(u *accounts.NewUser) { u.Email = "a@example.com, b@example.com" }, "email"},
		{"name with control char", func(u *accounts.NewUser) { u.Name = "Al\x07ice" }, "name"},
		{"empty password", func(u *accounts.NewUser) { u.Password = "" }, "password"},
		{"short password", func(u *accounts.NewUser) { u.Password = "1234567" }, "password"},
		{"long password", func(u *accounts.NewUser) { u.Password = strings.Repeat("x", 1025) }, "password"},
		{"unknown role", func(u *accounts.NewUser) { u.Roles = []string{"user", "wizard"} }, "roles"},
		{"invalid role name", func(u *accounts.NewUser) { u.Roles = []string{"Not A Role"} }, "roles"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, store := newService(t)
			ctx := context.Background()
			in := alice()
			tt.edit(&in)
			_, err := svc.CreateUser(ctx, in)
			var ve *accounts.ValidationError
			if !errors.As(err, &ve) || ve.Field != tt.field {
				t.Fatalf("CreateUser = %v; want a ValidationError on %s", err, tt.field)
			}
			users, err := store.ListUsers(ctx, storage.UserQuery{})
			if err != nil || len(users) != 0 {
				t.Fatalf("after a refused create the store holds %d users (err %v)", len(users), err)
			}
			if _, err := store.GetRole(ctx, "wizard"); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("a role was created as a side effect: %v", err)
			}
		})
	}
}

func TestCreateUserConflicts(t *testing.T) {
	tests := []struct {
		name string
		edit func(*accounts.NewUser)
	}{
		{"same user name", func(u *accounts.NewUser) { u.Email = "other@example.com" }},
		{"same user name, other case", func(u *accounts.NewUser) { u.Username = "ALICE"; u.Email = "other@example.com" }},
		{"same e-mail", func(u *accounts.NewUser) { u.Username = "alice2" }},
		{"same e-mail, other case", func(u *accounts.NewUser) { u.Username = "alice2"; u.Email = "Alice@Example.com" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc, store := newService(t)
			ctx := context.Background()
			if _, err := svc.CreateUser(ctx, alice()); err != nil {
				t.Fatal(err)
			}
			in := alice()
			tt.edit(&in)
			if _, err := svc.CreateUser(ctx, in); !errors.Is(err, accounts.ErrUserExists) {
				t.Fatalf("CreateUser = %v; want ErrUserExists", err)
			}
			users, _ := store.ListUsers(ctx, storage.UserQuery{})
			if len(users) != 1 {
				t.Fatalf("store holds %d users; want 1", len(users))
			}
		})
	}
}

func TestGetUserByReference(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	u, err := svc.CreateUser(ctx, alice())
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{u.ID, strings.ToUpper(u.ID), "alice", "ALICE", "alice@example.com"} {
		got, err := svc.GetUser(ctx, ref)
		if err != nil || got.ID != u.ID {
			t.Errorf("GetUser(%q) = %v, %v; want user %s", ref, got.ID, err, u.ID)
		}
	}
	for _, ref := range []string{"", "bob", uuid.NewString()} {
		if _, err := svc.GetUser(ctx, ref); !errors.Is(err, accounts.ErrUserNotFound) {
			t.Errorf("GetUser(%q) = %v; want ErrUserNotFound", ref, err)
		}
	}
}

func TestAuthenticate(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	u, err := svc.CreateUser(ctx, alice())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, accounts.NewUser{Username: "mallory", Email: "m@example.com",
		Password: "mallory-password"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DisableUser(ctx, "mallory"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, login, password string
		wantErr               error
	}{
		{"user name", "alice", "correct horse battery", nil},
		{"e-mail, other case", "ALICE@example.com", "correct horse battery", nil},
		{"wrong password", "alice", "correct horse batterx", accounts.ErrInvalidCredentials},
		{"unknown user", "bob", "correct horse battery", accounts.ErrInvalidCredentials},
		{"empty login", "", "correct horse battery", accounts.ErrInvalidCredentials},
		{"disabled user, right password", "mallory", "mallory-password", accounts.ErrInvalidCredentials},
		{"huge password", "alice", strings.Repeat("x", 5000), accounts.ErrInvalidCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := svc.Authenticate(ctx, tt.login, tt.password)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Authenticate = %v; want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && (got.ID != u.ID || !slices.Equal(got.Roles, []string{"user"})) {
				t.Fatalf("Authenticate returned %+v", got)
			}
		})
	}
	// Enabling lets mallory in again.
	if _, err := svc.EnableUser(ctx, "mallory"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, "mallory", "mallory-password"); err != nil {
		t.Fatalf("after enable: %v", err)
	}
}

func TestAuthenticateUpgradesBcrypt(t *testing.T) {
	svc, store := newService(t)
	ctx := context.Background()
	hash, err := bcrypt.GenerateFromPassword([]byte("imported-password"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	id := uuid.NewString()
	// $2y$ as PHP writes it.
	if err := store.CreateUser(ctx, storage.User{ID: id, Username: "legacy", Email: "legacy@example.com",
		PasswordHash: "$2y$" + string(hash[4:]), CreatedAt: fixedNow, UpdatedAt: fixedNow}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, "legacy", "wrong-password"); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
	if rec, _ := store.GetUser(ctx, id); !strings.HasPrefix(rec.PasswordHash, "$2y$") {
		t.Fatalf("a failed login changed the hash to %q", rec.PasswordHash)
	}
	if _, err := svc.Authenticate(ctx, "legacy", "imported-password"); err != nil {
		t.Fatalf("bcrypt login: %v", err)
	}
	rec, err := store.GetUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rec.PasswordHash, "$argon2id$") {
		t.Fatalf("hash after login = %q; want it upgraded to argon2id", rec.PasswordHash)
	}
	if _, err := svc.Authenticate(ctx, "legacy", "imported-password"); err != nil {
		t.Fatalf("login after upgrade: %v", err)
	}
}

func TestSetRoles(t *testing.T) {
	svc, store := newService(t)
	ctx := context.Background()
	u, err := svc.CreateUser(ctx, alice())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateRole(ctx, "editor", "edits things"); err != nil {
		t.Fatal(err)
	}
	got, err := svc.SetRoles(ctx, "alice", []string{"editor", "admin"})
	if err != nil || !slices.Equal(got.Roles, []string{"admin", "editor"}) {
		t.Fatalf("SetRoles = %v, %v", got.Roles, err)
	}

	_, err = svc.SetRoles(ctx, u.ID, []string{"user", "ghost"})
	var ve *accounts.ValidationError
	if !errors.As(err, &ve) || ve.Field != "roles" || !strings.Contains(ve.Message, "ghost") {
		t.Fatalf("SetRoles with a missing role = %v; want a ValidationError naming it", err)
	}
	if roles, _ := store.ListUserRoles(ctx, u.ID); !slices.Equal(roles, []string{"admin", "editor"}) {
		t.Fatalf("a refused SetRoles changed the roles to %v", roles)
	}
	if _, err := store.GetRole(ctx, "ghost"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatal("SetRoles created the missing role")
	}

	if _, err := svc.SetRoles(ctx, "nobody", []string{"user"}); !errors.Is(err, accounts.ErrUserNotFound) {
		t.Fatalf("SetRoles on a missing user = %v; want ErrUserNotFound", err)
	}
	// alice is the only administrator: she keeps the role until someone
	// else has it.
	if _, err := svc.SetRoles(ctx, "alice", nil); !errors.Is(err, accounts.ErrLastAdmin) {
		t.Fatalf("stripping the last admin = %v; want ErrLastAdmin", err)
	}
	if _, err := svc.CreateUser(ctx, accounts.NewUser{Username: "root2", Email: "root2@example.com",
		Password: "another admin password", Roles: []string{"admin"}}); err != nil {
		t.Fatal(err)
	}
	got, err = svc.SetRoles(ctx, "alice", nil)
	if err != nil || got.Roles == nil || len(got.Roles) != 0 {
		t.Fatalf("clearing roles = %#v, %v; want an empty list", got.Roles, err)
	}
}

func TestDisableAndDeleteEndSessions(t *testing.T) {
	svc, store := newService(t)
	ctx := context.Background()
	u, err := svc.CreateUser(ctx, alice())
	if err != nil {
		t.Fatal(err)
	}
	newSession := func(id string) {
		t.Helper()
		if err := store.CreateSession(ctx, storage.Session{ID: id, TokenHash: "hash-" + id, UserID: u.ID,
			AuthTime: fixedNow, CreatedAt: fixedNow, LastSeenAt: fixedNow, ExpiresAt: fixedNow.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	newSession("s1")
	d, err := svc.DisableUser(ctx, "alice")
	if err != nil || !d.Disabled {
		t.Fatalf("DisableUser = %+v, %v", d, err)
	}
	if _, err := store.GetSession(ctx, "s1"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("session after disable: %v; want it ended", err)
	}
	e, err := svc.EnableUser(ctx, u.ID)
	if err != nil || e.Disabled {
		t.Fatalf("EnableUser = %+v, %v", e, err)
	}

	newSession("s2")
	if err := svc.DeleteUser(ctx, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.GetUser(ctx, u.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("user after delete: %v", err)
	}
	if _, err := store.GetSession(ctx, "s2"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("session after delete: %v", err)
	}
	if err := svc.DeleteUser(ctx, "alice"); !errors.Is(err, accounts.ErrUserNotFound) {
		t.Fatalf("second delete = %v; want ErrUserNotFound", err)
	}
}

func TestListUsers(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	for _, n := range []string{"carol", "alice", "bob"} {
		if _, err := svc.CreateUser(ctx, accounts.NewUser{Username: n, Email: n + "@example.com",
			Password: "password-" + n, Roles: []string{"user"}}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := svc.ListUsers(ctx, accounts.UserQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range all {
		names = append(names, u.Username)
		if !slices.Equal(u.Roles, []string{"user"}) {
			t.Errorf("%s roles = %v", u.Username, u.Roles)
		}
	}
	if !slices.Equal(names, []string{"alice", "bob", "carol"}) {
		t.Fatalf("ListUsers order = %v", names)
	}
	page, err := svc.ListUsers(ctx, accounts.UserQuery{Limit: 1, Offset: 1})
	if err != nil || len(page) != 1 || page[0].Username != "bob" {
		t.Fatalf("page = %+v, %v", page, err)
	}
	found, err := svc.ListUsers(ctx, accounts.UserQuery{Search: "CAR"})
	if err != nil || len(found) != 1 || found[0].Username != "carol" {
		t.Fatalf("search = %+v, %v", found, err)
	}
	if _, err := svc.ListUsers(ctx, accounts.UserQuery{Limit: -1}); err == nil {
		t.Fatal("negative limit accepted")
	}
}

func TestRoles(t *testing.T) {
	svc, store := newService(t)
	ctx := context.Background()
	r, err := svc.CreateRole(ctx, "billing:read", "reads invoices")
	if err != nil || r.Name != "billing:read" || !r.CreatedAt.Equal(fixedNow) {
		t.Fatalf("CreateRole = %+v, %v", r, err)
	}
	if _, err := svc.CreateRole(ctx, "billing:read", ""); !errors.Is(err, accounts.ErrRoleExists) {
		t.Fatalf("duplicate role = %v; want ErrRoleExists", err)
	}
	for _, bad := range []string{"", "Admin", "with space", "-dash", strings.Repeat("r", 65)} {
		var ve *accounts.ValidationError
		if _, err := svc.CreateRole(ctx, bad, ""); !errors.As(err, &ve) {
			t.Errorf("CreateRole(%q) = %v; want a ValidationError", bad, err)
		}
	}
	roles, err := svc.ListRoles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
	}
	for _, want := range []string{"admin", "user", "billing:read"} {
		if !slices.Contains(names, want) {
			t.Errorf("ListRoles = %v; missing %s", names, want)
		}
	}

	in := alice()
	in.Roles = []string{"billing:read", "user"}
	u, err := svc.CreateUser(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, builtin := range []string{"admin", "user"} {
		if err := svc.DeleteRole(ctx, builtin); !errors.Is(err, accounts.ErrBuiltinRole) {
			t.Errorf("DeleteRole(%s) = %v; want ErrBuiltinRole", builtin, err)
		}
	}
	if err := svc.DeleteRole(ctx, "billing:read"); err != nil {
		t.Fatal(err)
	}
	if roles, _ := store.ListUserRoles(ctx, u.ID); !slices.Equal(roles, []string{"user"}) {
		t.Fatalf("user roles after role delete = %v", roles)
	}
	if err := svc.DeleteRole(ctx, "billing:read"); !errors.Is(err, accounts.ErrRoleNotFound) {
		t.Fatalf("second DeleteRole = %v; want ErrRoleNotFound", err)
	}
}

func TestSetPassword(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	if _, err := svc.CreateUser(ctx, alice()); err != nil {
		t.Fatal(err)
	}
	var ve *accounts.ValidationError
	if err := svc.SetPassword(ctx, "alice", "short"); !errors.As(err, &ve) {
		t.Fatalf("short password = %v", err)
	}
	if err := svc.SetPassword(ctx, "alice", "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, "alice", "correct horse battery"); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Fatalf("old password still works: %v", err)
	}
	if _, err := svc.Authenticate(ctx, "alice", "a brand new password"); err != nil {
		t.Fatalf("new password: %v", err)
	}
}
