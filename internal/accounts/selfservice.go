package accounts

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/mail"
	"github.com/signet-idp/signet/internal/storage"
)

// maxBackgroundSends bounds the reset mails RequestPasswordReset sends
// after it has answered; more requests wait for a slot.
const maxBackgroundSends = 16

// backgroundSendTimeout bounds one background delivery.
const backgroundSendTimeout = 2 * time.Minute

// RegistrationEnabled reports whether people may sign up.
func (s *Service) RegistrationEnabled() bool { return s.registration }

// Registration is the sign-up form.
type Registration struct {
	Username        string
	Email           string
	Name            string
	Password        string
	PasswordConfirm string
}

// Register creates an account for a person signing up: it checks every
// field at once (a ValidationErrors naming username, email, name,
// password and password_confirm; a taken user name is a field error too),
// creates the user with the configured default role, unverified, and mails
// a verification link.
//
// An address that already has an account is NOT a field error: that would
// tell anyone which addresses are registered. Nothing is created, the
// address's owner is mailed a notice with sign-in and reset links, and
// Register returns a zero User (empty ID) and nil, so the page answers
// "check your e-mail" exactly as on success. The user and the link's token are written
// in one transaction; a failed mail is logged, not returned (the person can
// ask for another link with SendVerification).
//
// ErrRegistrationDisabled when sign-up is off.
func (s *Service) Register(ctx context.Context, r Registration) (User, error) {
	if !s.registration {
		return User{}, ErrRegistrationDisabled
	}
	r.Username = strings.TrimSpace(r.Username)
	r.Email = strings.TrimSpace(r.Email)
	r.Name = strings.TrimSpace(r.Name)
	var errs ValidationErrors
	add := func(err error) {
		var ve *ValidationError
		if errors.As(err, &ve) {
			errs = append(errs, ve)
		}
	}
	add(validateUsername(r.Username))
	add(validateEmail(r.Email))
	add(validateName(r.Name))
	pwErr := CheckPassword(r.Password, r.Username, r.Email)
	add(pwErr)
	if pwErr == nil && r.Password != r.PasswordConfirm {
		errs = append(errs, &ValidationError{Field: "password_confirm", Message: "does not match the password"})
	}
	if len(errs) > 0 {
		return User{}, errs
	}
	id, err := uuid.NewRandom()
	if err != nil {
		return User{}, fmt.Errorf("register: new id: %w", err)
	}
	hash, err := s.hashPassword(ctx, r.Password, false)
	if err != nil {
		return User{}, fmt.Errorf("register: %w", err)
	}
	raw, tokenHash, err := newLinkToken()
	if err != nil {
		return User{}, err
	}
	now := s.clock()
	rec := storage.User{ID: id.String(), Username: r.Username, Email: r.Email, Name: r.Name,
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	var out User
	var existing storage.User
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		var taken ValidationErrors
		if _, err := s.store.GetUserByLogin(ctx, r.Username); err == nil {
			taken = append(taken, &ValidationError{Field: "username", Message: "is already taken"})
		} else if !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("register: %w", err)
		}
		if len(taken) > 0 {
			return taken
		}
		if u, err := s.store.GetUserByLogin(ctx, r.Email); err == nil {
			existing = u
			return nil
		} else if !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("register: %w", err)
		}
		if _, err := s.store.GetRole(ctx, s.defaultRole); err != nil {
			return fmt.Errorf("register: default role %q: %w", s.defaultRole, err)
		}
		if err := s.store.CreateUser(ctx, rec); err != nil {
			if errors.Is(err, storage.ErrAlreadyExists) {
				return ErrUserExists // a concurrent sign-up won
			}
			return fmt.Errorf("register: %w", err)
		}
		if err := s.store.SetUserRoles(ctx, rec.ID, []string{s.defaultRole}); err != nil {
			return fmt.Errorf("register: default role: %w", err)
		}
		if err := s.store.CreateActionToken(ctx, storage.ActionToken{Hash: tokenHash, Purpose: storage.PurposeVerifyEmail,
			UserID: rec.ID, Email: rec.Email, CreatedAt: now, ExpiresAt: now.Add(s.verifyTTL)}); err != nil {
			return fmt.Errorf("register: verification token: %w", err)
		}
		var err error
		out, err = s.loadUser(ctx, rec.ID)
		return err
	})
	if err != nil {
		return User{}, err
	}
	if existing.ID != "" {
		s.audit.Record(ctx, audit.Event{Action: audit.UserRegisterExisting, Target: existing.ID})
		if err := s.mailer.SendAccountExists(ctx, existing.Email, mail.AccountExistsData{Username: existing.Username,
			SignInLink: s.issuer + SignInPath, ForgotLink: s.issuer + ForgotPasswordPath}); err != nil {
			s.logger.ErrorContext(ctx, "account-exists notice after sign-up not sent", "user_id", existing.ID, "err", err)
		}
		return User{}, nil
	}
	s.audit.Record(ctx, audit.Event{Actor: out.ID, Action: audit.UserRegister, Target: out.ID,
		Details: map[string]string{"roles": strings.Join(out.Roles, " ")}})
	if err := s.sendVerification(ctx, rec, raw); err != nil {
		s.logger.ErrorContext(ctx, "verification mail after sign-up not sent", "user_id", out.ID, "err", err)
	}
	return out, nil
}

// SendVerification mails a new verification link for the user's current
// address (ref: id, user name or e-mail), replacing any earlier link. It
// does nothing for an address already verified. A delivery failure is
// returned wrapped in ErrMailNotSent.
func (s *Service) SendVerification(ctx context.Context, ref string) error {
	raw, tokenHash, err := newLinkToken()
	if err != nil {
		return err
	}
	var rec storage.User
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if rec, err = s.resolve(ctx, ref); err != nil {
			return err
		}
		if rec.EmailVerified {
			return nil
		}
		return s.replaceToken(ctx, storage.PurposeVerifyEmail, rec, tokenHash, s.verifyTTL)
	})
	if err != nil || rec.EmailVerified {
		return err
	}
	s.audit.Record(ctx, audit.Event{Action: audit.EmailVerifySent, Target: rec.ID})
	return s.sendVerification(ctx, rec, raw)
}

func (s *Service) sendVerification(ctx context.Context, rec storage.User, raw string) error {
	if s.mailer == nil {
		s.logger.WarnContext(ctx, "no mailer configured: verification link not sent", "user_id", rec.ID)
		return nil
	}
	err := s.mailer.SendVerifyEmail(ctx, mail.VerifyEmailData{Username: rec.Username, Email: rec.Email,
		Link: s.link(VerifyEmailPath, raw), ExpiresIn: s.verifyTTL})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMailNotSent, err)
	}
	return nil
}

// replaceToken deletes the user's earlier tokens of purpose and stores a
// new one for the user's current address: only the newest link works.
func (s *Service) replaceToken(ctx context.Context, purpose string, rec storage.User, tokenHash string, ttl time.Duration) error {
	if err := s.store.DeleteUserActionTokens(ctx, rec.ID, purpose); err != nil {
		return fmt.Errorf("drop earlier %s links: %w", purpose, err)
	}
	now := s.clock()
	if err := s.store.CreateActionToken(ctx, storage.ActionToken{Hash: tokenHash, Purpose: purpose, UserID: rec.ID,
		Email: rec.Email, CreatedAt: now, ExpiresAt: now.Add(ttl)}); err != nil {
		return fmt.Errorf("store %s link: %w", purpose, err)
	}
	return nil
}

// consumeToken uses up the link token raw of purpose inside the caller's
// transaction and returns it with its user. An expired token is used up
// all the same: expired reports it and the caller commits and answers
// ErrExpiredToken. A token whose address no longer is the user's is
// ErrInvalidToken, also used up (stale is true then).
func (s *Service) consumeToken(ctx context.Context, purpose, raw string) (tok storage.ActionToken, rec storage.User, expired, stale bool, err error) {
	tok, err = s.store.ConsumeActionToken(ctx, purpose, HashLinkToken(raw))
	if errors.Is(err, storage.ErrNotFound) {
		return tok, rec, false, false, ErrInvalidToken
	}
	if err != nil {
		return tok, rec, false, false, fmt.Errorf("use %s link: %w", purpose, err)
	}
	rec, expired, stale, err = s.judgeToken(ctx, tok)
	return tok, rec, expired, stale, err
}

// judgeToken tells whether a token found in the store still works: not
// expired, its user still there and still at the address it was sent to.
func (s *Service) judgeToken(ctx context.Context, tok storage.ActionToken) (rec storage.User, expired, stale bool, err error) {
	if !s.clock().Before(tok.ExpiresAt) {
		return rec, true, false, nil
	}
	rec, err = s.store.GetUser(ctx, tok.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return rec, false, true, nil
	}
	if err != nil {
		return rec, false, false, fmt.Errorf("use %s link: %w", tok.Purpose, err)
	}
	if !strings.EqualFold(rec.Email, tok.Email) {
		return rec, false, true, nil
	}
	return rec, false, false, nil
}

// VerifyEmail uses up a link mailed to confirm an address. A verification
// link marks the user's address verified, provided it is still the address
// the link was sent to. An e-mail change link (ChangeEmail) switches the
// user to the new address, verified, in one transaction, and the old
// address is told. ErrInvalidToken for an unknown, used or stale link (a
// change link whose address another account got meanwhile is stale too);
// ErrExpiredToken for one too old.
func (s *Service) VerifyEmail(ctx context.Context, token string) (User, error) {
	if !wellFormedToken(token) {
		return User{}, ErrInvalidToken
	}
	var out User
	var expired, stale, changeLink bool
	var oldEmail string
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		tok, err := s.store.ConsumeActionToken(ctx, storage.PurposeVerifyEmail, HashLinkToken(token))
		if errors.Is(err, storage.ErrNotFound) {
			tok, err = s.store.ConsumeActionToken(ctx, storage.PurposeChangeEmail, HashLinkToken(token))
		}
		if errors.Is(err, storage.ErrNotFound) {
			return ErrInvalidToken
		}
		if err != nil {
			return fmt.Errorf("use e-mail link: %w", err)
		}
		if tok.Purpose == storage.PurposeChangeEmail {
			changeLink = true
			out, oldEmail, expired, stale, err = s.confirmEmailChange(ctx, tok)
			return err
		}
		rec, exp, st, err := s.judgeToken(ctx, tok)
		if err != nil || exp || st {
			expired, stale = exp, st
			return err
		}
		if !rec.EmailVerified {
			rec.EmailVerified = true
			rec.UpdatedAt = s.clock()
			if err := s.store.UpdateUser(ctx, rec); err != nil {
				return fmt.Errorf("verify e-mail of user %s: %w", rec.ID, err)
			}
		}
		out, err = s.withRoles(ctx, rec)
		return err
	})
	switch {
	case err != nil:
		return User{}, err
	case expired:
		return User{}, ErrExpiredToken
	case stale && changeLink:
		return User{}, fmt.Errorf("%w: the account is gone or the address belongs to another account now", ErrInvalidToken)
	case stale:
		return User{}, fmt.Errorf("%w: the e-mail address changed since the link was sent", ErrInvalidToken)
	}
	if !changeLink {
		s.audit.Record(ctx, audit.Event{Actor: out.ID, Action: audit.EmailVerify, Target: out.ID})
		return out, nil
	}
	s.audit.Record(ctx, audit.Event{Actor: out.ID, Action: audit.EmailChange, Target: out.ID,
		Details: map[string]string{"step": "changed"}})
	if s.mailer != nil {
		if err := s.mailer.SendEmailChanged(ctx, mail.EmailChangedData{Username: out.Username, OldEmail: oldEmail,
			NewEmail: out.Email}); err != nil {
			s.logger.ErrorContext(ctx, "e-mail change notice not sent", "user_id", out.ID, "err", err)
		}
	}
	return out, nil
}

// MarkEmailVerified marks the user's address verified without a link (an
// administrator vouching for it) and drops outstanding verification links.
func (s *Service) MarkEmailVerified(ctx context.Context, ref string) (User, error) {
	var out User
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		rec, err := s.resolve(ctx, ref)
		if err != nil {
			return err
		}
		if !rec.EmailVerified {
			rec.EmailVerified = true
			rec.UpdatedAt = s.clock()
			if err := s.store.UpdateUser(ctx, rec); err != nil {
				return fmt.Errorf("verify e-mail of user %s: %w", rec.ID, err)
			}
		}
		if err := s.store.DeleteUserActionTokens(ctx, rec.ID, storage.PurposeVerifyEmail); err != nil {
			return fmt.Errorf("drop verification links: %w", err)
		}
		out, err = s.withRoles(ctx, rec)
		return err
	})
	if err != nil {
		return User{}, err
	}
	s.audit.Record(ctx, audit.Event{Action: audit.EmailVerify, Target: out.ID,
		Details: map[string]string{"by": "administrator"}})
	return out, nil
}

// RequestPasswordReset is the "forgot password" form. It answers nil
// whether or not an account has that address, and in the same time: the
// lookup, the link and the mail all happen after it has returned, in the
// background (Wait waits for them). Only a malformed address is refused
// (a ValidationError on "email"), which reveals nothing about accounts.
// Disabled accounts get no link.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	email = strings.TrimSpace(email)
	if err := validateEmail(email); err != nil {
		return err
	}
	select {
	case s.backgroundSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.background.Add(1)
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), backgroundSendTimeout)
	go func() {
		defer func() { cancel(); <-s.backgroundSlots; s.background.Done() }()
		rec, err := s.store.GetUserByLogin(bg, email)
		if errors.Is(err, storage.ErrNotFound) {
			s.logger.InfoContext(bg, "password reset asked for an unknown address; nothing sent")
			return
		}
		if err != nil {
			s.logger.ErrorContext(bg, "password reset: look-up failed", "err", err)
			return
		}
		if rec.Disabled {
			s.logger.InfoContext(bg, "password reset asked for a disabled account; nothing sent", "user_id", rec.ID)
			return
		}
		if err := s.sendReset(bg, rec); err != nil {
			s.logger.ErrorContext(bg, "password reset link not sent", "user_id", rec.ID, "err", err)
		}
	}()
	return nil
}

// Wait blocks until the mails RequestPasswordReset sends in the background
// are out (tests; graceful shutdown).
func (s *Service) Wait() { s.background.Wait() }

// SendPasswordReset mails a reset link to the user named by ref (an
// administrator's "send reset link"), replacing earlier links. Unlike
// RequestPasswordReset it reports what happened: ErrUserNotFound,
// ErrUserDisabled, or ErrMailNotSent when delivery failed.
func (s *Service) SendPasswordReset(ctx context.Context, ref string) (User, error) {
	rec, err := s.resolve(ctx, ref)
	if err != nil {
		return User{}, err
	}
	if rec.Disabled {
		return User{}, fmt.Errorf("%w: enable %s before sending a reset link", ErrUserDisabled, rec.Username)
	}
	if err := s.sendReset(ctx, rec); err != nil {
		return User{}, err
	}
	return s.withRoles(ctx, rec)
}

func (s *Service) sendReset(ctx context.Context, rec storage.User) error {
	raw, tokenHash, err := newLinkToken()
	if err != nil {
		return err
	}
	if err := s.store.InTx(ctx, func(ctx context.Context) error {
		return s.replaceToken(ctx, storage.PurposeResetPassword, rec, tokenHash, s.resetTTL)
	}); err != nil {
		return err
	}
	s.audit.Record(ctx, audit.Event{Action: audit.PasswordResetRequest, Target: rec.ID})
	if s.mailer == nil {
		s.logger.WarnContext(ctx, "no mailer configured: reset link not sent", "user_id", rec.ID)
		return nil
	}
	if err := s.mailer.SendResetPassword(ctx, rec.Email, mail.ResetPasswordData{Username: rec.Username,
		Link: s.link(ResetPasswordPath, raw), ExpiresIn: s.resetTTL}); err != nil {
		return fmt.Errorf("%w: %v", ErrMailNotSent, err)
	}
	return nil
}

// ResetPassword uses up a reset link's token and sets the new password. In
// the same transaction it ends every session of the user, revokes every
// access and refresh token issued to them, drops their other reset links
// and marks the address verified (the link proved the mailbox). Errors:
// ErrInvalidToken (unknown, used, stale or a disabled account),
// ErrExpiredToken, or a ValidationError on "password", in which case the
// link stays usable for another try.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) (User, error) {
	if !wellFormedToken(token) {
		return User{}, ErrInvalidToken
	}
	if err := ValidatePassword(newPassword); err != nil {
		return User{}, err
	}
	hash, err := s.hashPassword(ctx, newPassword, false)
	if err != nil {
		return User{}, fmt.Errorf("reset password: %w", err)
	}
	var out User
	var expired, unusable bool
	var ended int
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		_, rec, exp, stale, err := s.consumeToken(ctx, storage.PurposeResetPassword, token)
		if err != nil || exp || stale || rec.Disabled {
			expired, unusable = exp, stale || rec.Disabled
			return err
		}
		if err := CheckPassword(newPassword, rec.Username, rec.Email); err != nil {
			return err // rolls back: the link stays usable
		}
		rec.PasswordHash = hash
		rec.EmailVerified = true
		rec.UpdatedAt = s.clock()
		if err := s.store.UpdateUser(ctx, rec); err != nil {
			return fmt.Errorf("reset password of user %s: %w", rec.ID, err)
		}
		if ended, err = s.store.DeleteUserSessions(ctx, rec.ID, ""); err != nil {
			return fmt.Errorf("end sessions of user %s: %w", rec.ID, err)
		}
		if err := s.store.DeactivateOAuthRequestsBySubject(ctx, rec.ID, ""); err != nil {
			return fmt.Errorf("revoke tokens of user %s: %w", rec.ID, err)
		}
		if err := s.store.DeleteUserActionTokens(ctx, rec.ID, storage.PurposeResetPassword); err != nil {
			return fmt.Errorf("drop reset links of user %s: %w", rec.ID, err)
		}
		out, err = s.withRoles(ctx, rec)
		return err
	})
	switch {
	case err != nil:
		return User{}, err
	case expired:
		return User{}, ErrExpiredToken
	case unusable:
		return User{}, ErrInvalidToken
	}
	s.audit.Record(ctx, audit.Event{Actor: out.ID, Action: audit.PasswordReset, Target: out.ID,
		Details: map[string]string{"sessions_ended": strconv.Itoa(ended)}})
	return out, nil
}

// PasswordChange is the account page's change-password form.
type PasswordChange struct {
	UserID string
	// Current is the password now; New and Confirm the new one, twice.
	Current string
	New     string
	Confirm string
	// KeepSessionID is the session making the change: every other
	// session of the user ends.
	KeepSessionID string
}

// ChangePassword sets a new password after checking the current one.
// Field errors: current_password (wrong), password (policy),
// password_confirm (mismatch). Other sessions end; tokens already issued
// to apps stay valid (ResetPassword, for a forgotten password, revokes
// them).
func (s *Service) ChangePassword(ctx context.Context, c PasswordChange) error {
	rec, err := s.userByID(ctx, c.UserID)
	if err != nil {
		return err
	}
	if err := s.checkCurrentPassword(ctx, rec, c.Current); err != nil {
		return err
	}
	if err := CheckPassword(c.New, rec.Username, rec.Email); err != nil {
		return err
	}
	if c.New != c.Confirm {
		return invalid("password_confirm", "does not match the password")
	}
	hash, err := s.hashPassword(ctx, c.New, false)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	var ended int
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.store.GetUser(ctx, rec.ID)
		if err != nil {
			return fmt.Errorf("change password: %w", err)
		}
		if cur.PasswordHash != rec.PasswordHash {
			return fmt.Errorf("change password: %w", storage.ErrConflict)
		}
		cur.PasswordHash = hash
		cur.UpdatedAt = s.clock()
		if err := s.store.UpdateUser(ctx, cur); err != nil {
			return fmt.Errorf("change password of user %s: %w", cur.ID, err)
		}
		if ended, err = s.store.DeleteUserSessions(ctx, cur.ID, c.KeepSessionID); err != nil {
			return fmt.Errorf("end other sessions of user %s: %w", cur.ID, err)
		}
		return s.store.DeleteUserActionTokens(ctx, cur.ID, storage.PurposeResetPassword)
	})
	if err != nil {
		return err
	}
	s.audit.Record(ctx, audit.Event{Actor: rec.ID, Action: audit.PasswordChange, Target: rec.ID,
		Details: map[string]string{"sessions_ended": strconv.Itoa(ended)}})
	return nil
}

// ChangeEmail asks for a new address after checking the user's password
// (field current_password) and the address (field email, malformed). The
// user does not change yet: a link goes to the new address, and only
// opening it (VerifyEmail) switches the account to that address, verified.
// A new request replaces the user's earlier pending change.
//
// An address that belongs to another account is NOT an error: that would
// let any signed-in person probe which addresses are registered. Nothing
// changes, the address's owner gets a notice instead of the link, and
// ChangeEmail answers exactly as for a free address: the user as they are
// now, nil. A failed mail is logged, not returned, in both cases.
//
// A change of letter case only (the same mailbox) applies at once and the
// address stays verified; the user's own address is a no-op.
func (s *Service) ChangeEmail(ctx context.Context, userID, newEmail, password string) (User, error) {
	newEmail = strings.TrimSpace(newEmail)
	if err := validateEmail(newEmail); err != nil {
		return User{}, err
	}
	rec, err := s.userByID(ctx, userID)
	if err != nil {
		return User{}, err
	}
	if err := s.checkCurrentPassword(ctx, rec, password); err != nil {
		return User{}, err
	}
	if newEmail == rec.Email {
		return s.withRoles(ctx, rec)
	}
	if strings.EqualFold(newEmail, rec.Email) {
		return s.changeEmailCase(ctx, rec.ID, newEmail)
	}
	raw, tokenHash, err := newLinkToken()
	if err != nil {
		return User{}, err
	}
	var out User
	var cur, owner storage.User
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if cur, err = s.userByID(ctx, rec.ID); err != nil {
			return err
		}
		if other, err := s.store.GetUserByLogin(ctx, newEmail); err == nil && other.ID != cur.ID {
			owner = other
		} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("change e-mail: %w", err)
		}
		// Earlier pending changes go either way: the newest request wins.
		if err := s.store.DeleteUserActionTokens(ctx, cur.ID, storage.PurposeChangeEmail); err != nil {
			return fmt.Errorf("drop earlier e-mail change links: %w", err)
		}
		if owner.ID == "" {
			pending := cur
			pending.Email = newEmail
			if err := s.replaceToken(ctx, storage.PurposeChangeEmail, pending, tokenHash, s.verifyTTL); err != nil {
				return err
			}
		}
		out, err = s.withRoles(ctx, cur)
		return err
	})
	if err != nil {
		return User{}, err
	}
	details := map[string]string{"step": "requested"}
	if owner.ID != "" {
		// The audit log is for administrators; it names no address.
		details["address_in_use"] = "true"
	}
	s.audit.Record(ctx, audit.Event{Actor: out.ID, Action: audit.EmailChange, Target: out.ID, Details: details})
	if s.mailer == nil {
		s.logger.WarnContext(ctx, "no mailer configured: e-mail change link not sent", "user_id", out.ID)
		return out, nil
	}
	if owner.ID != "" {
		err = s.mailer.SendAccountExists(ctx, owner.Email, mail.AccountExistsData{Username: owner.Username,
			SignInLink: s.issuer + SignInPath, ForgotLink: s.issuer + ForgotPasswordPath, EmailChange: true})
	} else {
		err = s.mailer.SendVerifyEmail(ctx, mail.VerifyEmailData{Username: cur.Username, Email: newEmail,
			Link: s.link(VerifyEmailPath, raw), ExpiresIn: s.verifyTTL})
	}
	if err != nil {
		s.logger.ErrorContext(ctx, "mail after e-mail change request not sent", "user_id", out.ID, "err", err)
	}
	return out, nil
}

// changeEmailCase changes only the letter case of the user's address: the
// same mailbox, so it applies at once and stays verified.
func (s *Service) changeEmailCase(ctx context.Context, userID, newEmail string) (User, error) {
	var out User
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.userByID(ctx, userID)
		if err != nil {
			return err
		}
		if !strings.EqualFold(cur.Email, newEmail) {
			return fmt.Errorf("change e-mail: %w", storage.ErrConflict)
		}
		cur.Email = newEmail
		cur.UpdatedAt = s.clock()
		if err := s.store.UpdateUser(ctx, cur); err != nil {
			return fmt.Errorf("change e-mail of user %s: %w", cur.ID, err)
		}
		out, err = s.withRoles(ctx, cur)
		return err
	})
	if err != nil {
		return User{}, err
	}
	s.audit.Record(ctx, audit.Event{Actor: out.ID, Action: audit.EmailChange, Target: out.ID,
		Details: map[string]string{"step": "changed"}})
	return out, nil
}

// confirmEmailChange applies a consumed change_email token inside the
// caller's transaction: the user's address becomes the token's, verified,
// and the links sent to the old address stop working. taken reports an
// address another account got in the meantime (nothing changes then).
func (s *Service) confirmEmailChange(ctx context.Context, tok storage.ActionToken) (out User, oldEmail string, expired, stale bool, err error) {
	if !s.clock().Before(tok.ExpiresAt) {
		return out, "", true, false, nil
	}
	rec, err := s.store.GetUser(ctx, tok.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return out, "", false, true, nil
	}
	if err != nil {
		return out, "", false, false, fmt.Errorf("use %s link: %w", tok.Purpose, err)
	}
	if other, err := s.store.GetUserByLogin(ctx, tok.Email); err == nil && other.ID != rec.ID {
		return out, "", false, true, nil
	} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return out, "", false, false, fmt.Errorf("use %s link: %w", tok.Purpose, err)
	}
	oldEmail = rec.Email
	rec.Email = tok.Email
	rec.EmailVerified = true
	rec.UpdatedAt = s.clock()
	if err := s.store.UpdateUser(ctx, rec); err != nil {
		if errors.Is(err, storage.ErrAlreadyExists) {
			// Taken a moment ago: roll back; the link stays and says so again.
			return out, "", false, false, fmt.Errorf("%w: the address belongs to another account now", ErrInvalidToken)
		}
		return out, "", false, false, fmt.Errorf("change e-mail of user %s: %w", rec.ID, err)
	}
	for _, purpose := range []string{storage.PurposeResetPassword, storage.PurposeVerifyEmail, storage.PurposeChangeEmail} {
		if err := s.store.DeleteUserActionTokens(ctx, rec.ID, purpose); err != nil {
			return out, "", false, false, fmt.Errorf("drop %s links: %w", purpose, err)
		}
	}
	out, err = s.withRoles(ctx, rec)
	return out, oldEmail, false, false, err
}

// UpdateProfile sets the user's display name (field name).
func (s *Service) UpdateProfile(ctx context.Context, userID, name string) (User, error) {
	name = strings.TrimSpace(name)
	if err := validateName(name); err != nil {
		return User{}, err
	}
	var out User
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		rec, err := s.userByID(ctx, userID)
		if err != nil {
			return err
		}
		rec.Name = name
		rec.UpdatedAt = s.clock()
		if err := s.store.UpdateUser(ctx, rec); err != nil {
			return fmt.Errorf("update profile of user %s: %w", rec.ID, err)
		}
		out, err = s.withRoles(ctx, rec)
		return err
	})
	if err != nil {
		return User{}, err
	}
	s.audit.Record(ctx, audit.Event{Actor: out.ID, Action: audit.UserUpdate, Target: out.ID})
	return out, nil
}

// DeleteAccount deletes the user's own account after checking the
// password (field current_password): the user row and with it the
// personal data (user name, address, name, password hash), role links,
// sessions, remembered consents and links; every token issued to the user
// is revoked. The audit log keeps only the user's id. ErrLastAdmin when
// the user is the last enabled administrator.
func (s *Service) DeleteAccount(ctx context.Context, userID, password string) error {
	rec, err := s.userByID(ctx, userID)
	if err != nil {
		return err
	}
	if err := s.checkCurrentPassword(ctx, rec, password); err != nil {
		return err
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.userByID(ctx, rec.ID)
		if err != nil {
			return err
		}
		if err := s.ensureNotLastAdmin(ctx, cur); err != nil {
			return err
		}
		if err := s.revokeAccess(ctx, cur.ID); err != nil {
			return err
		}
		if err := s.store.DeleteUser(ctx, cur.ID); err != nil {
			return fmt.Errorf("delete account %s: %w", cur.ID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.audit.Record(ctx, audit.Event{Actor: rec.ID, Action: audit.UserDelete, Target: rec.ID,
		Details: map[string]string{"by": "self"}})
	return nil
}

// SignOutEverywhere ends every session of the user named by ref and
// revokes every token issued to them, in one transaction; it returns how
// many sessions ended.
func (s *Service) SignOutEverywhere(ctx context.Context, ref string) (int, error) {
	var id string
	var ended int
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		rec, err := s.resolve(ctx, ref)
		if err != nil {
			return err
		}
		id = rec.ID
		if ended, err = s.store.DeleteUserSessions(ctx, rec.ID, ""); err != nil {
			return fmt.Errorf("end sessions of user %s: %w", rec.ID, err)
		}
		if err := s.store.DeactivateOAuthRequestsBySubject(ctx, rec.ID, ""); err != nil {
			return fmt.Errorf("revoke tokens of user %s: %w", rec.ID, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.audit.Record(ctx, audit.Event{Action: audit.SessionRevokeAll, Target: id,
		Details: map[string]string{"sessions_ended": strconv.Itoa(ended)}})
	return ended, nil
}

// Sessions returns the user's browser sessions, newest first (the account
// page's "active sessions").
func (s *Service) Sessions(ctx context.Context, userID string) ([]storage.Session, error) {
	list, err := s.store.ListUserSessions(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("sessions of user %s: %w", userID, err)
	}
	if list == nil {
		list = []storage.Session{}
	}
	return list, nil
}

// SignOutOtherSessions ends every session of the user but keepSessionID
// and returns how many ended.
func (s *Service) SignOutOtherSessions(ctx context.Context, userID, keepSessionID string) (int, error) {
	n, err := s.store.DeleteUserSessions(ctx, userID, keepSessionID)
	if err != nil {
		return 0, fmt.Errorf("end other sessions of user %s: %w", userID, err)
	}
	s.audit.Record(ctx, audit.Event{Actor: userID, Action: audit.SessionRevokeAll, Target: userID,
		Details: map[string]string{"sessions_ended": strconv.Itoa(n), "kept": keepSessionID}})
	return n, nil
}

// ConnectedApp is a client the user gave remembered consent to.
type ConnectedApp struct {
	ClientID   string
	ClientName string
	Scopes     []string
	GrantedAt  time.Time
	UpdatedAt  time.Time
}

// ConnectedApps lists the clients with remembered consent of the user,
// for the account page. Consents of clients deleted since are skipped.
func (s *Service) ConnectedApps(ctx context.Context, userID string) ([]ConnectedApp, error) {
	consents, err := s.store.ListConsents(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("consents of user %s: %w", userID, err)
	}
	out := make([]ConnectedApp, 0, len(consents))
	for _, c := range consents {
		cl, err := s.store.GetClient(ctx, c.ClientID)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("client %s: %w", c.ClientID, err)
		}
		out = append(out, ConnectedApp{ClientID: c.ClientID, ClientName: cl.Name, Scopes: c.Scopes,
			GrantedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
	}
	return out, nil
}

// RevokeApp forgets the user's consent for the client and revokes every
// token the client holds for the user, in one transaction: the app's
// refresh token stops working at once and the next sign-in asks for
// consent again. Revoking an app with no consent still revokes its tokens.
func (s *Service) RevokeApp(ctx context.Context, userID, clientID string) error {
	if !lookupable(userID) || !lookupable(clientID) {
		return ErrUserNotFound
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.DeleteConsent(ctx, userID, clientID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("forget consent: %w", err)
		}
		if err := s.store.DeactivateOAuthRequestsBySubject(ctx, userID, clientID); err != nil {
			return fmt.Errorf("revoke tokens of client %s: %w", clientID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.audit.Record(ctx, audit.Event{Actor: userID, Action: audit.ConsentRevoke, Target: clientID})
	return nil
}

// userByID reads the user with that id (the signed-in user); ErrUserNotFound
// when there is none.
func (s *Service) userByID(ctx context.Context, id string) (storage.User, error) {
	if !lookupable(id) {
		return storage.User{}, ErrUserNotFound
	}
	rec, err := s.store.GetUser(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.User{}, fmt.Errorf("%w: %s", ErrUserNotFound, id)
	}
	if err != nil {
		return storage.User{}, fmt.Errorf("read user %s: %w", id, err)
	}
	return rec, nil
}

// checkCurrentPassword verifies the password the signed-in person typed to
// confirm a sensitive change; a wrong one is a field error on
// current_password. Callers should throttle attempts like logins. ErrBusy:
// the bounded hashing pool had no turn for it, nothing was checked.
func (s *Service) checkCurrentPassword(ctx context.Context, rec storage.User, password string) error {
	wrong := invalid("current_password", "is not correct")
	if password == "" {
		return invalid("current_password", "is required")
	}
	if rec.PasswordHash == "" || len(password) > MaxPasswordLength {
		return s.burnVerification(ctx, password, wrong)
	}
	ok, _, err := s.verifyPassword(ctx, rec.PasswordHash, password)
	if err != nil && !unusableHash(err) {
		return err
	}
	if err != nil {
		s.logger.ErrorContext(ctx, "stored password hash unusable", "user_id", rec.ID, "err", err)
		return wrong
	}
	if !ok {
		return wrong
	}
	return nil
}
