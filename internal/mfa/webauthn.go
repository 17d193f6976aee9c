package mfa

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/signet-idp/signet/internal/storage"
)

// ErrPasskey: a WebAuthn answer that cannot be accepted (unknown, expired
// or used challenge; a signature, origin or counter that does not check
// out; an unknown credential). The details go to the log only.
var ErrPasskey = errors.New("mfa: the passkey could not be verified")

// Ceremony purposes (storage.WebAuthnChallenge.Purpose).
const (
	purposeRegister     = "register"
	purposeSecondFactor = "second_factor"
	purposePasswordless = "passwordless"
)

// ChallengeLifetime is how long a WebAuthn ceremony may take.
const ChallengeLifetime = 5 * time.Minute

// MaxPasskeyName bounds a passkey's name.
const MaxPasskeyName = 64

type webAuthn struct {
	w *webauthn.WebAuthn
}

// newWebAuthn binds passkeys to the issuer: its host is the relying party
// id, its origin the only origin accepted.
func newWebAuthn(issuer, name string) (*webAuthn, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("mfa: issuer %q is not an http(s) URL", issuer)
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); ip != nil {
		// WebAuthn needs a domain; browsers refuse IP addresses as RP id.
		return &webAuthn{}, nil
	}
	w, err := webauthn.New(&webauthn.Config{
		RPID:          host,
		RPDisplayName: name,
		RPOrigins:     []string{u.Scheme + "://" + u.Host},
	})
	if err != nil {
		return nil, fmt.Errorf("mfa: webauthn: %w", err)
	}
	return &webAuthn{w: w}, nil
}

// PasskeysAvailable reports whether passkeys work with this issuer (not
// with an IP address as host).
func (s *Service) PasskeysAvailable() bool { return s.web.w != nil }

// passkeyUser is a user as the WebAuthn library sees them: the user id
// is the user handle authenticators keep.
type passkeyUser struct {
	user  storage.User
	creds []webauthn.Credential
}

func (u passkeyUser) WebAuthnID() []byte { return []byte(u.user.ID) }
func (u passkeyUser) WebAuthnName() string {
	if u.user.Username != "" {
		return u.user.Username
	}
	return u.user.Email
}
func (u passkeyUser) WebAuthnDisplayName() string {
	if u.user.Name != "" {
		return u.user.Name
	}
	return u.WebAuthnName()
}
func (u passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func (s *Service) loadPasskeyUser(ctx context.Context, userID string) (passkeyUser, []storage.Passkey, error) {
	u, err := s.store.GetUser(ctx, userID)
	if err != nil {
		return passkeyUser{}, nil, err
	}
	pks, err := s.store.ListPasskeys(ctx, userID)
	if err != nil {
		return passkeyUser{}, nil, err
	}
	pu := passkeyUser{user: u}
	for _, p := range pks {
		var c webauthn.Credential
		if err := json.Unmarshal(p.Credential, &c); err != nil {
			s.logger.WarnContext(ctx, "unreadable passkey skipped", "user_id", userID, "err", err)
			continue
		}
		c.Authenticator.SignCount = uint32(p.SignCount)
		pu.creds = append(pu.creds, c)
	}
	return pu, pks, nil
}

// Passkeys lists the user's passkeys, oldest first.
func (s *Service) Passkeys(ctx context.Context, userID string) ([]storage.Passkey, error) {
	return s.store.ListPasskeys(ctx, userID)
}

// begin stores the ceremony's state under its challenge and returns the
// options for navigator.credentials as JSON.
func (s *Service) begin(ctx context.Context, purpose, userID string, options any, sd *webauthn.SessionData) ([]byte, error) {
	// Expiry is checked here against the service's clock.
	sd.Expires = time.Time{}
	data, err := json.Marshal(sd)
	if err != nil {
		return nil, fmt.Errorf("webauthn session: %w", err)
	}
	now := s.now().UTC()
	if err := s.store.CreateWebAuthnChallenge(ctx, storage.WebAuthnChallenge{
		ID: challengeID(sd.Challenge), Purpose: purpose, UserID: userID, Data: data,
		CreatedAt: now, ExpiresAt: now.Add(ChallengeLifetime),
	}); err != nil {
		return nil, err
	}
	return json.Marshal(options)
}

// finish takes the ceremony whose challenge the answer signed (once): it
// must be of the purpose, for the user, and not expired.
func (s *Service) finish(ctx context.Context, purpose, userID, challenge string) (webauthn.SessionData, error) {
	if challenge == "" || len(challenge) > 256 {
		return webauthn.SessionData{}, fmt.Errorf("%w: no challenge", ErrPasskey)
	}
	c, err := s.store.ConsumeWebAuthnChallenge(ctx, challengeID(challenge))
	if errors.Is(err, storage.ErrNotFound) {
		return webauthn.SessionData{}, fmt.Errorf("%w: unknown or used challenge", ErrPasskey)
	} else if err != nil {
		return webauthn.SessionData{}, err
	}
	if c.Purpose != purpose || c.UserID != userID || !s.now().Before(c.ExpiresAt) {
		return webauthn.SessionData{}, fmt.Errorf("%w: challenge of another ceremony, user, or expired", ErrPasskey)
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(c.Data, &sd); err != nil {
		return webauthn.SessionData{}, fmt.Errorf("webauthn session: %w", err)
	}
	return sd, nil
}

func challengeID(challenge string) string {
	sum := sha256.Sum256([]byte("signet webauthn\x00" + challenge))
	return hex.EncodeToString(sum[:])
}

func (s *Service) available() error {
	if s.web.w == nil {
		return fmt.Errorf("%w: passkeys need the issuer to have a domain name", ErrPasskey)
	}
	return nil
}

// BeginPasskeyRegistration returns the options for adding a passkey (a
// discoverable credential when the authenticator can keep one).
func (s *Service) BeginPasskeyRegistration(ctx context.Context, userID string) ([]byte, error) {
	if err := s.available(); err != nil {
		return nil, err
	}
	pu, _, err := s.loadPasskeyUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range pu.creds {
		exclude = append(exclude, c.Descriptor())
	}
	opts, sd, err := s.web.w.BeginRegistration(pu,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
		webauthn.WithExclusions(exclude),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return nil, fmt.Errorf("webauthn registration: %w", err)
	}
	return s.begin(ctx, purposeRegister, userID, opts, sd)
}

// FinishPasskeyRegistration checks the authenticator's answer and keeps
// the passkey under name. When the user had no recovery codes yet, it
// makes ten and returns them.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, userID, name string, response []byte) (storage.Passkey, []string, error) {
	if err := s.available(); err != nil {
		return storage.Passkey{}, nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return storage.Passkey{}, nil, fmt.Errorf("%w: %w", ErrPasskey, err)
	}
	sd, err := s.finish(ctx, purposeRegister, userID, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return storage.Passkey{}, nil, err
	}
	pu, _, err := s.loadPasskeyUser(ctx, userID)
	if err != nil {
		return storage.Passkey{}, nil, err
	}
	cred, err := s.web.w.CreateCredential(pu, sd, parsed)
	if err != nil {
		return storage.Passkey{}, nil, fmt.Errorf("%w: %w", ErrPasskey, err)
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return storage.Passkey{}, nil, fmt.Errorf("passkey record: %w", err)
	}
	now := s.now().UTC()
	p := storage.Passkey{
		ID: base64.RawURLEncoding.EncodeToString(cred.ID), UserID: userID, Name: CleanPasskeyName(name),
		Credential: raw, SignCount: int64(cred.Authenticator.SignCount), CreatedAt: now,
	}
	if err := s.store.CreatePasskey(ctx, p); errors.Is(err, storage.ErrAlreadyExists) {
		return storage.Passkey{}, nil, fmt.Errorf("%w: credential already registered", ErrPasskey)
	} else if err != nil {
		return storage.Passkey{}, nil, err
	}
	s.record(ctx, userID, AuditEnrolled, map[string]string{"method": "passkey", "passkey": p.Name})
	codes, err := s.firstRecoveryCodes(ctx, userID)
	return p, codes, err
}

// CleanPasskeyName trims a passkey's name to something showable.
func CleanPasskeyName(name string) string {
	name = strings.Join(strings.Fields(strings.ToValidUTF8(name, "")), " ")
	for len(name) > MaxPasskeyName {
		_, n := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-n]
	}
	if name == "" {
		name = "Passkey"
	}
	return name
}

// BeginPasskeyLogin returns the options for signing in with one of the
// user's passkeys as the second factor.
func (s *Service) BeginPasskeyLogin(ctx context.Context, userID string) ([]byte, error) {
	if err := s.available(); err != nil {
		return nil, err
	}
	pu, _, err := s.loadPasskeyUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	if len(pu.creds) == 0 {
		return nil, ErrNotEnrolled
	}
	opts, sd, err := s.web.w.BeginLogin(pu, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, fmt.Errorf("webauthn login: %w", err)
	}
	return s.begin(ctx, purposeSecondFactor, userID, opts, sd)
}

// FinishPasskeyLogin checks the answer to BeginPasskeyLogin.
func (s *Service) FinishPasskeyLogin(ctx context.Context, userID string, response []byte) error {
	if err := s.available(); err != nil {
		return err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPasskey, err)
	}
	sd, err := s.finish(ctx, purposeSecondFactor, userID, parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return err
	}
	pu, _, err := s.loadPasskeyUser(ctx, userID)
	if err != nil {
		return err
	}
	cred, err := s.web.w.ValidateLogin(pu, sd, parsed)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrPasskey, err)
	}
	return s.usePasskey(ctx, cred)
}

// BeginPasswordless returns the options for signing in with a
// discoverable passkey and no password: the authenticator names the user
// and must verify them (PIN or biometrics), so it counts as two factors.
func (s *Service) BeginPasswordless(ctx context.Context) ([]byte, error) {
	if err := s.available(); err != nil {
		return nil, err
	}
	opts, sd, err := s.web.w.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("webauthn login: %w", err)
	}
	return s.begin(ctx, purposePasswordless, "", opts, sd)
}

// FinishPasswordless checks the answer to BeginPasswordless and returns
// the user it signs in. A disabled user is refused like an unknown key.
func (s *Service) FinishPasswordless(ctx context.Context, response []byte) (string, error) {
	if err := s.available(); err != nil {
		return "", err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrPasskey, err)
	}
	sd, err := s.finish(ctx, purposePasswordless, "", parsed.Response.CollectedClientData.Challenge)
	if err != nil {
		return "", err
	}
	var userID string
	var lookupErr error
	user, cred, err := s.web.w.ValidatePasskeyLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
		p, err := s.store.GetPasskey(ctx, base64.RawURLEncoding.EncodeToString(rawID))
		if err != nil {
			lookupErr = err
			return nil, err
		}
		if p.UserID != string(userHandle) {
			return nil, errors.New("user handle of another user")
		}
		pu, _, err := s.loadPasskeyUser(ctx, p.UserID)
		if err != nil {
			lookupErr = err
			return nil, err
		}
		userID = p.UserID
		return pu, nil
	}, sd, parsed)
	if lookupErr != nil && !errors.Is(lookupErr, storage.ErrNotFound) {
		return "", lookupErr
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrPasskey, err)
	}
	if pu, ok := user.(passkeyUser); !ok || pu.user.Disabled {
		return "", fmt.Errorf("%w: user disabled", ErrPasskey)
	}
	if err := s.usePasskey(ctx, cred); err != nil {
		return "", err
	}
	return userID, nil
}

// usePasskey records the sign-in; a counter that did not move forward
// (a cloned authenticator, or a replay) refuses it, on every replica.
func (s *Service) usePasskey(ctx context.Context, cred *webauthn.Credential) error {
	if cred.Authenticator.CloneWarning {
		return fmt.Errorf("%w: signature counter did not move forward", ErrPasskey)
	}
	id := base64.RawURLEncoding.EncodeToString(cred.ID)
	err := s.store.UsePasskey(ctx, id, int64(cred.Authenticator.SignCount), s.now().UTC())
	if errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrPasskey, err)
	}
	return err
}

// ErrPasskeyName: a new name for a passkey that is empty, too long or
// not printable.
var ErrPasskeyName = fmt.Errorf("mfa: a passkey's name must be 1 to %d printable characters", MaxPasskeyName)

// CheckPasskeyName returns a name someone typed for a passkey with its
// white space tidied, or ErrPasskeyName. Unlike CleanPasskeyName (for the
// name given when adding one, which may be left empty) it refuses rather
// than repairs: the person renaming sees why.
func CheckPasskeyName(name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", ErrPasskeyName
	}
	for _, r := range name {
		// Tabs and line breaks are tidied to spaces below; every other
		// control or format character (bidi overrides among them) could
		// disguise the name.
		if !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return "", ErrPasskeyName
		}
	}
	name = strings.Join(strings.Fields(name), " ")
	if name == "" || utf8.RuneCountInString(name) > MaxPasskeyName {
		return "", ErrPasskeyName
	}
	return name, nil
}

// RenamePasskey renames one of the user's passkeys: ErrNotEnrolled when
// the user has no passkey id (someone else's is not theirs either),
// ErrPasskeyName for a name CheckPasskeyName refuses.
func (s *Service) RenamePasskey(ctx context.Context, userID, id, name string) error {
	name, err := CheckPasskeyName(name)
	if err != nil {
		return err
	}
	// The old name is for the audit line only; the rename itself checks
	// the owner again.
	p, err := s.store.GetPasskey(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && p.UserID != userID) {
		return ErrNotEnrolled
	} else if err != nil {
		return err
	}
	if err := s.store.RenamePasskey(ctx, userID, id, name); errors.Is(err, storage.ErrNotFound) {
		return ErrNotEnrolled
	} else if err != nil {
		return err
	}
	s.record(ctx, userID, AuditPasskeyRenamed, map[string]string{"passkey": name, "from": p.Name})
	return nil
}

// RemovePasskey removes one of the user's passkeys.
func (s *Service) RemovePasskey(ctx context.Context, userID, id string) error {
	p, err := s.store.GetPasskey(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && p.UserID != userID) {
		return ErrNotEnrolled
	} else if err != nil {
		return err
	}
	if err := s.store.DeletePasskey(ctx, userID, id); errors.Is(err, storage.ErrNotFound) {
		return ErrNotEnrolled
	} else if err != nil {
		return err
	}
	s.record(ctx, userID, AuditRemoved, map[string]string{"method": "passkey", "passkey": p.Name})
	return nil
}
