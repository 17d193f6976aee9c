package accounts

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/signet-idp/signet/internal/mail"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/storage"
)

// Store is what the service needs from storage: users and roles, in
// transactions; single-use link tokens (verification, reset); the calls
// that cut off a user's existing sessions and tokens; and, for the account
// page, the user's sessions, remembered consents and the clients they name.
type Store interface {
	storage.Transactor
	storage.UserStore
	storage.RoleStore
	storage.ActionTokenStore
	// DeleteUserSessions ends the user's browser sessions (exceptID "" for
	// all of them).
	DeleteUserSessions(ctx context.Context, userID, exceptID string) (int, error)
	ListUserSessions(ctx context.Context, userID string) ([]storage.Session, error)
	// DeactivateOAuthRequestsBySubject revokes the user's tokens (every
	// client when clientID is "").
	DeactivateOAuthRequestsBySubject(ctx context.Context, subject, clientID string) error
	ListConsents(ctx context.Context, userID string) ([]storage.Consent, error)
	DeleteConsent(ctx context.Context, userID, clientID string) error
	GetClient(ctx context.Context, id string) (storage.Client, error)
}

// Mailer sends the messages of the account flows (internal/mail.Postman
// is the implementation).
type Mailer interface {
	SendVerifyEmail(ctx context.Context, d mail.VerifyEmailData) error
	SendResetPassword(ctx context.Context, to string, d mail.ResetPasswordData) error
	SendEmailChanged(ctx context.Context, d mail.EmailChangedData) error
	SendAccountExists(ctx context.Context, to string, d mail.AccountExistsData) error
}

// Defaults of Options.
const (
	DefaultVerificationTokenLifespan = 24 * time.Hour
	DefaultResetTokenLifespan        = time.Hour
	DefaultRole                      = storage.RoleUser
)

// Options tunes a Service; the zero value gives the production defaults.
type Options struct {
	// Hasher hashes new passwords; nil means DefaultPasswordHasher. Tests
	// pass cheap parameters.
	Hasher *PasswordHasher
	// HashLimits bound how many passwords are hashed at once and how long
	// a login waits for its turn; the zero value gives the defaults.
	HashLimits HashLimits
	// OnPasswordHash, when set, is called as each password hash or
	// verification starts (tests count them); nil does nothing.
	OnPasswordHash func()
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives failures that do not fail the call (a password
	// upgrade that could not be saved); nil means slog.Default.
	Logger *slog.Logger

	// Issuer is the base of the links in mails (Issuer + "/verify-email?
	// token=…"); it is the OIDC issuer, so the pages that serve the links
	// live next to the login page.
	Issuer string
	// Mailer sends verification and reset mails; nil sends nothing (the
	// flows still work, but nobody gets a link).
	Mailer Mailer
	// Audit records what the service does; nil records nothing.
	Audit audit.Recorder
	// RegistrationEnabled lets people sign up with Register.
	RegistrationEnabled bool
	// DefaultRole is given to people who sign up; "" means DefaultRole
	// ("user"). It must exist when Register is called.
	DefaultRole string
	// VerificationTokenLifespan and ResetTokenLifespan bound how long a
	// link works; zero means the defaults (24 hours, 1 hour).
	VerificationTokenLifespan time.Duration
	ResetTokenLifespan        time.Duration
}

// Service manages users, their passwords and roles. It is safe for
// concurrent use.
type Service struct {
	store  Store
	hasher PasswordHasher
	pool   *hashPool
	now    func() time.Time
	logger *slog.Logger

	// dummyHash is a hash of a random password with the service's
	// parameters, verified when the login is unknown so that answering
	// "no such user" costs as long as "wrong password".
	dummyOnce sync.Once
	dummyHash string
	dummyErr  error

	issuer       string
	mailer       Mailer
	audit        audit.Recorder
	registration bool
	defaultRole  string
	verifyTTL    time.Duration
	resetTTL     time.Duration

	// background tracks reset mails sent after RequestPasswordReset has
	// answered; backgroundSlots bounds how many run at once.
	background      sync.WaitGroup
	backgroundSlots chan struct{}
}

// NewService returns a Service over store.
func NewService(store Store, opts Options) *Service {
	s := &Service{store: store, hasher: DefaultPasswordHasher(), now: time.Now, logger: slog.Default()}
	if opts.Hasher != nil {
		s.hasher = *opts.Hasher
	}
	s.pool = newHashPool(opts.HashLimits, opts.OnPasswordHash)
	if opts.Now != nil {
		s.now = opts.Now
	}
	if opts.Logger != nil {
		s.logger = opts.Logger
	}
	s.issuer = strings.TrimRight(opts.Issuer, "/")
	s.mailer = opts.Mailer
	s.audit = opts.Audit
	if s.audit == nil {
		s.audit = nopRecorder{}
	}
	s.registration = opts.RegistrationEnabled
	s.defaultRole = cmp.Or(opts.DefaultRole, DefaultRole)
	s.verifyTTL = cmp.Or(opts.VerificationTokenLifespan, DefaultVerificationTokenLifespan)
	s.resetTTL = cmp.Or(opts.ResetTokenLifespan, DefaultResetTokenLifespan)
	s.backgroundSlots = make(chan struct{}, maxBackgroundSends)
	return s
}

type nopRecorder struct{}

func (nopRecorder) Record(context.Context, audit.Event) {}

// User is a user as the rest of Signet sees it: everything but the password
// hash, which never leaves this package, plus the user's role names.
type User struct {
	ID            string
	Username      string
	Email         string
	Name          string
	EmailVerified bool
	Disabled      bool
	// HasPassword is false for users who cannot log in with a password.
	HasPassword bool
	// Roles are the role names, sorted; empty (not nil) when none.
	Roles     []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NewUser is the input of CreateUser.
type NewUser struct {
	Username      string
	Email         string
	Name          string
	Password      string
	EmailVerified bool
	// Roles must all exist; CreateUser never creates a role.
	Roles []string
}

// UserQuery filters ListUsers; see storage.UserQuery.
type UserQuery = storage.UserQuery

// Role is a named role.
type Role = storage.Role

// CreateUser validates u, hashes the password and stores the user with its
// roles in one transaction: on any error nothing is written.
func (s *Service) CreateUser(ctx context.Context, u NewUser) (User, error) {
	u.Username = strings.TrimSpace(u.Username)
	u.Email = strings.TrimSpace(u.Email)
	u.Name = strings.TrimSpace(u.Name)
	if err := validateUsername(u.Username); err != nil {
		return User{}, err
	}
	if err := validateEmail(u.Email); err != nil {
		return User{}, err
	}
	if err := validateName(u.Name); err != nil {
		return User{}, err
	}
	if err := CheckPassword(u.Password, u.Username, u.Email); err != nil {
		return User{}, err
	}
	roles, err := cleanRoles(u.Roles)
	if err != nil {
		return User{}, err
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return User{}, fmt.Errorf("create user: new id: %w", err)
	}
	// Hash outside the transaction: it is the slow part and needs no rows.
	hash, err := s.hashPassword(ctx, u.Password, true)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	now := s.clock()
	rec := storage.User{
		ID:            id.String(),
		Username:      u.Username,
		Email:         u.Email,
		Name:          u.Name,
		PasswordHash:  hash,
		EmailVerified: u.EmailVerified,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	var out User
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.requireRoles(ctx, roles); err != nil {
			return err
		}
		if err := s.store.CreateUser(ctx, rec); err != nil {
			if errors.Is(err, storage.ErrAlreadyExists) {
				return ErrUserExists
			}
			return fmt.Errorf("create user: %w", err)
		}
		if err := s.store.SetUserRoles(ctx, rec.ID, roles); err != nil {
			return fmt.Errorf("create user: set roles: %w", err)
		}
		var err error
		out, err = s.loadUser(ctx, rec.ID)
		return err
	})
	if err != nil {
		return User{}, err
	}
	s.audit.Record(ctx, audit.Event{Action: audit.UserCreate, Target: out.ID,
		Details: map[string]string{"roles": strings.Join(out.Roles, " ")}})
	return out, nil
}

// GetUser finds a user by id, user name or e-mail.
func (s *Service) GetUser(ctx context.Context, ref string) (User, error) {
	var out User
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		rec, err := s.resolve(ctx, ref)
		if err != nil {
			return err
		}
		out, err = s.withRoles(ctx, rec)
		return err
	})
	return out, err
}

// ListUsers returns the users matching q, ordered by user name, each with
// its roles.
func (s *Service) ListUsers(ctx context.Context, q UserQuery) ([]User, error) {
	if q.Limit < 0 || q.Offset < 0 {
		return nil, invalid("limit", "limit and offset must not be negative")
	}
	if q.Search != "" && !lookupable(q.Search) {
		return nil, invalid("search", "must be valid text")
	}
	var out []User
	// One transaction so the users and their roles are one snapshot.
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		recs, err := s.store.ListUsers(ctx, q)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		out = make([]User, 0, len(recs))
		for _, rec := range recs {
			u, err := s.withRoles(ctx, rec)
			if err != nil {
				return err
			}
			out = append(out, u)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SetRoles replaces the roles of the user named by ref (id, user name or
// e-mail). Every role must exist; otherwise nothing changes.
func (s *Service) SetRoles(ctx context.Context, ref string, roles []string) (User, error) {
	roles, err := cleanRoles(roles)
	if err != nil {
		return User{}, err
	}
	var out User
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		rec, err := s.resolve(ctx, ref)
		if err != nil {
			return err
		}
		if err := s.requireRoles(ctx, roles); err != nil {
			return err
		}
		if !slices.Contains(roles, storage.RoleAdmin) {
			if err := s.ensureNotLastAdmin(ctx, rec); err != nil {
				return err
			}
		}
		if err := s.store.SetUserRoles(ctx, rec.ID, roles); err != nil {
			return fmt.Errorf("set roles of user %s: %w", rec.ID, err)
		}
		// Role changes reach tokens on their next refresh; the user's
		// UpdatedAt says the account changed.
		rec.UpdatedAt = s.clock()
		if err := s.store.UpdateUser(ctx, rec); err != nil {
			return fmt.Errorf("set roles of user %s: %w", rec.ID, err)
		}
		out, err = s.loadUser(ctx, rec.ID)
		return err
	})
	if err != nil {
		return User{}, err
	}
	s.audit.Record(ctx, audit.Event{Action: audit.RoleChange, Target: out.ID,
		Details: map[string]string{"roles": strings.Join(out.Roles, " ")}})
	return out, nil
}

// DisableUser stops the user from logging in and, in the same transaction,
// ends the user's browser sessions and revokes the user's tokens, so that
// disabling takes effect at once rather than when tokens expire. It
// refuses (ErrSelf) when the acting user (audit.ActorFrom) is the user,
// and (ErrLastAdmin) when the user is the last enabled administrator.
func (s *Service) DisableUser(ctx context.Context, ref string) (User, error) {
	return s.setDisabled(ctx, ref, true)
}

// EnableUser lets a disabled user log in again.
func (s *Service) EnableUser(ctx context.Context, ref string) (User, error) {
	return s.setDisabled(ctx, ref, false)
}

func (s *Service) setDisabled(ctx context.Context, ref string, disabled bool) (User, error) {
	var out User
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		rec, err := s.resolve(ctx, ref)
		if err != nil {
			return err
		}
		if disabled {
			if err := refuseSelf(ctx, rec, "disable"); err != nil {
				return err
			}
			if err := s.ensureNotLastAdmin(ctx, rec); err != nil {
				return err
			}
		}
		if rec.Disabled != disabled {
			rec.Disabled = disabled
			rec.UpdatedAt = s.clock()
			if err := s.store.UpdateUser(ctx, rec); err != nil {
				return fmt.Errorf("update user %s: %w", rec.ID, err)
			}
		}
		if disabled {
			if err := s.revokeAccess(ctx, rec.ID); err != nil {
				return err
			}
		}
		out, err = s.withRoles(ctx, rec)
		return err
	})
	if err != nil {
		return User{}, err
	}
	action := audit.UserEnable
	if disabled {
		action = audit.UserDisable
	}
	s.audit.Record(ctx, audit.Event{Action: action, Target: out.ID})
	return out, nil
}

// DeleteUser deletes the user named by ref with its role links, sessions,
// consents and action tokens, and revokes its tokens. Like DisableUser it
// refuses the acting user's own account (ErrSelf; people delete their own
// account with DeleteAccount) and the last enabled administrator.
func (s *Service) DeleteUser(ctx context.Context, ref string) error {
	var id string
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		rec, err := s.resolve(ctx, ref)
		if err != nil {
			return err
		}
		id = rec.ID
		if err := refuseSelf(ctx, rec, "delete"); err != nil {
			return err
		}
		if err := s.ensureNotLastAdmin(ctx, rec); err != nil {
			return err
		}
		// Tokens are keyed by subject, not linked to the user row, so the
		// store's cascade does not reach them.
		if err := s.revokeAccess(ctx, rec.ID); err != nil {
			return err
		}
		if err := s.store.DeleteUser(ctx, rec.ID); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return ErrUserNotFound
			}
			return fmt.Errorf("delete user %s: %w", rec.ID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.audit.Record(ctx, audit.Event{Action: audit.UserDelete, Target: id})
	return nil
}

// SetPassword replaces the user's password (ref: id, user name or e-mail).
// It does not end sessions; callers that reset a forgotten password do that
// themselves where it fits their flow.
func (s *Service) SetPassword(ctx context.Context, ref, password string) error {
	if err := ValidatePassword(password); err != nil {
		return err
	}
	hash, err := s.hashPassword(ctx, password, true)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	var id string
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		rec, err := s.resolve(ctx, ref)
		if err != nil {
			return err
		}
		if err := CheckPassword(password, rec.Username, rec.Email); err != nil {
			return err
		}
		id = rec.ID
		rec.PasswordHash = hash
		rec.UpdatedAt = s.clock()
		if err := s.store.UpdateUser(ctx, rec); err != nil {
			return fmt.Errorf("set password of user %s: %w", rec.ID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.audit.Record(ctx, audit.Event{Action: audit.PasswordChange, Target: id})
	return nil
}

// Authenticate checks a login (user name or e-mail) and password. Every
// refusal is ErrInvalidCredentials, and every path spends one password
// verification, so neither the answer nor its timing tells whether the
// login exists. A correct password stored as bcrypt or with outdated
// argon2id parameters is re-hashed with the current ones. Every
// verification, the stand-in one included, waits for its turn in the
// bounded hashing pool: when too many run, the answer is ErrBusy, alike
// for known and unknown logins, and nothing was checked.
func (s *Service) Authenticate(ctx context.Context, login, password string) (User, error) {
	login = strings.TrimSpace(login)
	if !lookupable(login) || len(password) > MaxPasswordLength {
		return User{}, s.burnVerification(ctx, password, ErrInvalidCredentials)
	}
	rec, err := s.store.GetUserByLogin(ctx, login)
	if errors.Is(err, storage.ErrNotFound) {
		return User{}, s.burnVerification(ctx, password, ErrInvalidCredentials)
	}
	if err != nil {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	if rec.PasswordHash == "" {
		return User{}, s.burnVerification(ctx, password, ErrInvalidCredentials)
	}
	ok, rehash, err := s.verifyPassword(ctx, rec.PasswordHash, password)
	if err != nil && !unusableHash(err) {
		return User{}, err // busy: nothing was checked
	}
	if err != nil {
		// A broken stored hash is an operator problem worth a log line,
		// but to the person logging in it is a refusal like any other.
		s.logger.ErrorContext(ctx, "stored password hash unusable", "user_id", rec.ID, "err", err)
		return User{}, ErrInvalidCredentials
	}
	if !ok || rec.Disabled {
		return User{}, ErrInvalidCredentials
	}
	if rehash {
		s.upgradeHash(ctx, rec, password)
	}
	u, err := s.withRoles(ctx, rec)
	if err != nil {
		return User{}, fmt.Errorf("authenticate: %w", err)
	}
	return u, nil
}

// upgradeHash stores a fresh argon2id hash of a password just verified
// against an old-format hash. Failing is not fatal: the old hash still
// works and the next login tries again.
func (s *Service) upgradeHash(ctx context.Context, rec storage.User, password string) {
	hash, err := s.hashPassword(ctx, password, false)
	if err != nil {
		s.logger.ErrorContext(ctx, "password rehash failed", "user_id", rec.ID, "err", err)
		return
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		// Re-read so a concurrent change (disable, new password) is not
		// overwritten by the copy read before the slow verification.
		cur, err := s.store.GetUser(ctx, rec.ID)
		if err != nil {
			return err
		}
		if cur.PasswordHash != rec.PasswordHash {
			return nil // changed meanwhile; leave it
		}
		cur.PasswordHash = hash
		cur.UpdatedAt = s.clock()
		return s.store.UpdateUser(ctx, cur)
	})
	if err != nil {
		s.logger.WarnContext(ctx, "password rehash not saved", "user_id", rec.ID, "err", err)
	}
}

// burnVerification verifies password against a hash no password matches,
// taking as long as a real verification and waiting for its turn like
// one, then answers refusal; ErrBusy (or the context's error) when its
// turn did not come, as a real verification would.
func (s *Service) burnVerification(ctx context.Context, password string, refusal error) error {
	if len(password) > MaxPasswordLength {
		password = password[:MaxPasswordLength]
	}
	err := s.pool.run(ctx, false, func() {
		s.dummyOnce.Do(func() {
			b := make([]byte, 24)
			if _, err := rand.Read(b); err != nil {
				s.dummyErr = err
				return
			}
			s.dummyHash, s.dummyErr = s.hasher.Hash(base64.RawURLEncoding.EncodeToString(b))
		})
		if s.dummyErr == nil {
			_, _, _ = s.hasher.Verify(s.dummyHash, password)
		}
	})
	if err != nil {
		return err
	}
	return refusal
}

// hashPassword hashes a new password in the bounded pool; patient is for
// administrators' calls, which wait for a turn rather than get ErrBusy.
func (s *Service) hashPassword(ctx context.Context, password string, patient bool) (string, error) {
	var hash string
	var err error
	if perr := s.pool.run(ctx, patient, func() { hash, err = s.hasher.Hash(password) }); perr != nil {
		return "", perr
	}
	return hash, err
}

// unusableHash reports whether a Verify error is about the stored hash
// rather than the pool.
func unusableHash(err error) bool {
	return errors.Is(err, ErrMalformedHash) || errors.Is(err, ErrUnsupportedHash)
}

// verifyPassword is PasswordHasher.Verify in the bounded pool: ErrBusy or
// the context's error when its turn did not come.
func (s *Service) verifyPassword(ctx context.Context, encoded, password string) (ok, rehash bool, err error) {
	if perr := s.pool.run(ctx, false, func() { ok, rehash, err = s.hasher.Verify(encoded, password) }); perr != nil {
		return false, false, perr
	}
	return ok, rehash, err
}

// CreateRole creates a role.
func (s *Service) CreateRole(ctx context.Context, name, description string) (Role, error) {
	name = strings.TrimSpace(name)
	description = strings.TrimSpace(description)
	if err := validateRoleName(name); err != nil {
		return Role{}, err
	}
	if err := validateDescription(description); err != nil {
		return Role{}, err
	}
	r := Role{Name: name, Description: description, CreatedAt: s.clock()}
	if err := s.store.CreateRole(ctx, r); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			return Role{}, fmt.Errorf("%w: %s", ErrRoleExists, name)
		}
		return Role{}, fmt.Errorf("create role %s: %w", name, err)
	}
	s.audit.Record(ctx, audit.Event{Action: audit.RoleCreate, Target: name})
	return r, nil
}

// ListRoles returns every role.
func (s *Service) ListRoles(ctx context.Context) ([]Role, error) {
	roles, err := s.store.ListRoles(ctx)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	if roles == nil {
		roles = []Role{}
	}
	return roles, nil
}

// DeleteRole deletes a role and removes it from every user. The built-in
// roles admin and user cannot be deleted: the admin console and default
// sign-up rely on them.
func (s *Service) DeleteRole(ctx context.Context, name string) error {
	if name == storage.RoleAdmin || name == storage.RoleUser {
		return fmt.Errorf("%w: %s", ErrBuiltinRole, name)
	}
	if !lookupable(name) {
		return fmt.Errorf("%w: %q", ErrRoleNotFound, name)
	}
	if err := s.store.DeleteRole(ctx, name); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrRoleNotFound, name)
		}
		return fmt.Errorf("delete role %s: %w", name, err)
	}
	s.audit.Record(ctx, audit.Event{Action: audit.RoleDelete, Target: name})
	return nil
}

// resolve finds the user named by ref: an id when ref is a UUID (user names
// never are), otherwise a user name or e-mail.
func (s *Service) resolve(ctx context.Context, ref string) (storage.User, error) {
	ref = strings.TrimSpace(ref)
	if !lookupable(ref) {
		return storage.User{}, ErrUserNotFound
	}
	var rec storage.User
	var err error
	if id, perr := uuid.Parse(ref); perr == nil {
		// Parse also takes upper case, braces and the urn: form; ids are
		// stored in the canonical form.
		rec, err = s.store.GetUser(ctx, id.String())
	} else {
		rec, err = s.store.GetUserByLogin(ctx, ref)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return storage.User{}, fmt.Errorf("%w: %s", ErrUserNotFound, ref)
	}
	if err != nil {
		return storage.User{}, fmt.Errorf("find user: %w", err)
	}
	return rec, nil
}

// requireRoles returns a ValidationError naming the first role that does
// not exist.
func (s *Service) requireRoles(ctx context.Context, roles []string) error {
	for _, r := range roles {
		if _, err := s.store.GetRole(ctx, r); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return invalid("roles", "role %q does not exist", r)
			}
			return fmt.Errorf("check role %s: %w", r, err)
		}
	}
	return nil
}

// refuseSelf returns ErrSelf when the acting user (audit.ActorFrom) is
// rec: an administrator in the console must not lock themselves out.
func refuseSelf(ctx context.Context, rec storage.User, what string) error {
	if a, ok := audit.ActorFrom(ctx); ok && a.ID == rec.ID {
		return fmt.Errorf("%w: you cannot %s your own account here", ErrSelf, what)
	}
	return nil
}

// ensureNotLastAdmin returns ErrLastAdmin when rec is an enabled holder of
// the admin role and no other enabled user holds it: disabling, deleting
// or demoting rec would leave nobody to administer Signet.
//
// The check runs inside the caller's transaction under LockAdmins, so two
// concurrent requests demoting the last two administrators cannot both
// pass: the second reads the administrators only after the first
// committed.
func (s *Service) ensureNotLastAdmin(ctx context.Context, rec storage.User) error {
	if rec.Disabled {
		return nil
	}
	if err := s.store.LockAdmins(ctx); err != nil {
		return fmt.Errorf("lock administrators: %w", err)
	}
	roles, err := s.store.ListUserRoles(ctx, rec.ID)
	if err != nil {
		return fmt.Errorf("roles of user %s: %w", rec.ID, err)
	}
	if !slices.Contains(roles, storage.RoleAdmin) {
		return nil
	}
	ids, err := s.store.ListUsersWithRole(ctx, storage.RoleAdmin)
	if err != nil {
		return fmt.Errorf("list administrators: %w", err)
	}
	for _, id := range ids {
		if id == rec.ID {
			continue
		}
		other, err := s.store.GetUser(ctx, id)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read administrator %s: %w", id, err)
		}
		if !other.Disabled {
			return nil
		}
	}
	return fmt.Errorf("%w: %s is the only enabled administrator; make someone else an administrator first",
		ErrLastAdmin, rec.Username)
}

// revokeAccess ends the user's sessions and revokes its tokens.
func (s *Service) revokeAccess(ctx context.Context, userID string) error {
	if _, err := s.store.DeleteUserSessions(ctx, userID, ""); err != nil {
		return fmt.Errorf("end sessions of user %s: %w", userID, err)
	}
	if err := s.store.DeactivateOAuthRequestsBySubject(ctx, userID, ""); err != nil {
		return fmt.Errorf("revoke tokens of user %s: %w", userID, err)
	}
	return nil
}

func (s *Service) loadUser(ctx context.Context, id string) (User, error) {
	rec, err := s.store.GetUser(ctx, id)
	if err != nil {
		return User{}, fmt.Errorf("read user %s: %w", id, err)
	}
	return s.withRoles(ctx, rec)
}

func (s *Service) withRoles(ctx context.Context, rec storage.User) (User, error) {
	roles, err := s.store.ListUserRoles(ctx, rec.ID)
	if err != nil {
		return User{}, fmt.Errorf("roles of user %s: %w", rec.ID, err)
	}
	if roles == nil {
		roles = []string{}
	}
	return User{
		ID:            rec.ID,
		Username:      rec.Username,
		Email:         rec.Email,
		Name:          rec.Name,
		EmailVerified: rec.EmailVerified,
		Disabled:      rec.Disabled,
		HasPassword:   rec.PasswordHash != "",
		Roles:         roles,
		CreatedAt:     rec.CreatedAt,
		UpdatedAt:     rec.UpdatedAt,
	}, nil
}

// clock is the current time as stored: UTC, truncated to the microsecond
// PostgreSQL keeps, so a value returned before a read-back equals the one
// read back on either backend.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// lookupable reports whether s can be looked up at all: not empty, valid
// UTF-8 and free of NUL, which PostgreSQL rejects in text with an error
// that would otherwise surface as a 500 instead of "not found".
func lookupable(s string) bool {
	return s != "" && utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
