package mfa

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/keys"
	"github.com/signet-idp/signet/internal/storage"
)

// Errors of the service; match with errors.Is.
var (
	// ErrInvalidCode: the authenticator or recovery code is not right.
	ErrInvalidCode = errors.New("mfa: the code is not right")
	// ErrCodeUsed: the authenticator code was right but already used.
	ErrCodeUsed = errors.New("mfa: the code was already used")
	// ErrAlreadyEnrolled: the user already has an authenticator app.
	ErrAlreadyEnrolled = errors.New("mfa: an authenticator app is already set up")
	// ErrNotEnrolled: the user has no such factor.
	ErrNotEnrolled = errors.New("mfa: no such second factor")
)

// Audit actions.
const (
	AuditEnrolled     = "mfa.enrolled"
	AuditRemoved      = "mfa.removed"
	AuditRecoveryUsed = "mfa.recovery_used"
	AuditReset        = "mfa.reset"
	AuditRegenerated  = "mfa.recovery_regenerated"
	// AuditPasskeyRenamed: details passkey (the new name) and from.
	AuditPasskeyRenamed = "mfa.passkey_renamed"
)

// TOTP parameters: the defaults every authenticator app understands.
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	// totpSkew accepts the previous and the next code too (clock drift).
	totpSkew = 1
	// RecoveryCodeCount is how many recovery codes a user gets at once.
	RecoveryCodeCount = 10
)

// Store is what the service needs from storage.
type Store interface {
	storage.MFAStore
	GetUser(ctx context.Context, id string) (storage.User, error)
}

// Options configures a Service.
type Options struct {
	Store Store
	// Secrets seal authenticator-app secrets: the first seals, all open
	// (the global secret and the old ones, as for signing keys).
	Secrets [][]byte
	// Issuer is Signet's public URL: passkeys are bound to its host
	// (the relying party id) and origin.
	Issuer string
	// Name is the product name authenticator apps and passkey prompts
	// show (default "Signet").
	Name   string
	Audit  audit.Recorder
	Logger *slog.Logger
	Now    func() time.Time
}

// Service manages and checks second factors. Safe for concurrent use.
type Service struct {
	store   Store
	secrets [][]byte
	name    string
	audit   audit.Recorder
	logger  *slog.Logger
	now     func() time.Time
	web     *webAuthn
}

// New checks o and returns a Service.
func New(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, errors.New("mfa: no store")
	}
	if len(o.Secrets) == 0 || len(o.Secrets[0]) == 0 {
		return nil, errors.New("mfa: no secret to seal authenticator secrets with")
	}
	if o.Name == "" {
		o.Name = "Signet"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: o.Store, secrets: o.Secrets, name: o.Name, audit: o.Audit, logger: o.Logger, now: o.Now}
	web, err := newWebAuthn(o.Issuer, o.Name)
	if err != nil {
		return nil, err
	}
	s.web = web
	return s, nil
}

// Status summarises the user's factors.
func (s *Service) Status(ctx context.Context, userID string) (storage.MFAStatus, error) {
	m, err := s.store.MFAStatus(ctx, []string{userID})
	if err != nil {
		return storage.MFAStatus{}, err
	}
	return m[userID], nil
}

// Statuses summarises the factors of several users (the admin lists).
func (s *Service) Statuses(ctx context.Context, userIDs []string) (map[string]storage.MFAStatus, error) {
	return s.store.MFAStatus(ctx, userIDs)
}

// TOTPEnrolment is what the person needs to add Signet to an
// authenticator app.
type TOTPEnrolment struct {
	// Secret is the base32 secret, for typing in by hand.
	Secret string
	// URL is the otpauth:// URL the QR code holds.
	URL string
	// QRCode is a PNG data: URI of the QR code (rendered here, so the page
	// needs no script).
	QRCode string
}

// StartTOTP begins adding an authenticator app: a new secret, kept
// unconfirmed until ConfirmTOTP gets a valid code from it. Starting again
// before confirming shows the same secret (a reload of the page).
func (s *Service) StartTOTP(ctx context.Context, userID string) (TOTPEnrolment, error) {
	u, err := s.store.GetUser(ctx, userID)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	var secret string
	switch c, err := s.store.GetTOTP(ctx, userID); {
	case err == nil && c.Confirmed():
		return TOTPEnrolment{}, ErrAlreadyEnrolled
	case err == nil:
		if plain, _, err := keys.OpenSealed(c.Secret, []byte(c.ID), s.secrets); err == nil {
			secret = string(plain)
		}
	case !errors.Is(err, storage.ErrNotFound):
		return TOTPEnrolment{}, err
	}
	if secret == "" {
		raw := make([]byte, 20) // 160 bits, as RFC 4226 recommends
		if _, err := rand.Read(raw); err != nil {
			return TOTPEnrolment{}, fmt.Errorf("totp secret: %w", err)
		}
		secret = base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
		id, err := randomID()
		if err != nil {
			return TOTPEnrolment{}, err
		}
		sealed, err := keys.Seal([]byte(secret), []byte(id), s.secrets[0])
		if err != nil {
			return TOTPEnrolment{}, fmt.Errorf("seal totp secret: %w", err)
		}
		c := storage.TOTPCredential{ID: id, UserID: userID, Secret: sealed, CreatedAt: s.now().UTC()}
		if err := s.store.PutTOTP(ctx, c); errors.Is(err, storage.ErrAlreadyExists) {
			return TOTPEnrolment{}, ErrAlreadyEnrolled
		} else if err != nil {
			return TOTPEnrolment{}, err
		}
	}
	account := u.Username
	if account == "" {
		account = u.Email
	}
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", s.name)
	v.Set("algorithm", "SHA1")
	v.Set("digits", strconv.Itoa(totpDigits.Length()))
	v.Set("period", strconv.Itoa(totpPeriod))
	link := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + s.name + ":" + account, RawQuery: v.Encode()}
	png, err := qrcode.Encode(link.String(), qrcode.Medium, 256)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("qr code: %w", err)
	}
	return TOTPEnrolment{
		Secret: secret,
		URL:    link.String(),
		QRCode: "data:image/png;base64," + base64.StdEncoding.EncodeToString(png),
	}, nil
}

// ConfirmTOTP finishes adding an authenticator app with a code from it.
// When the user had no recovery codes yet, it makes ten and returns them
// (to be shown once).
func (s *Service) ConfirmTOTP(ctx context.Context, userID, code string) ([]string, error) {
	c, err := s.store.GetTOTP(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNotEnrolled
	} else if err != nil {
		return nil, err
	}
	if c.Confirmed() {
		return nil, ErrAlreadyEnrolled
	}
	step, ok, err := s.matchTOTP(c, code)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrInvalidCode
	}
	if err := s.store.ConfirmTOTP(ctx, userID, c.ID, step, s.now().UTC()); errors.Is(err, storage.ErrNotFound) {
		return nil, ErrNotEnrolled // replaced or confirmed concurrently
	} else if err != nil {
		return nil, err
	}
	s.record(ctx, userID, AuditEnrolled, map[string]string{"method": "totp"})
	return s.firstRecoveryCodes(ctx, userID)
}

// VerifyTOTP checks a code from the user's authenticator app and uses it
// up: ErrInvalidCode when it is not right (or there is no app),
// ErrCodeUsed when it (or a later one) was already accepted, on any
// replica.
func (s *Service) VerifyTOTP(ctx context.Context, userID, code string) error {
	c, err := s.store.GetTOTP(ctx, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return ErrInvalidCode
	} else if err != nil {
		return err
	}
	if !c.Confirmed() {
		return ErrInvalidCode
	}
	step, ok, err := s.matchTOTP(c, code)
	if err != nil {
		return err
	}
	if !ok {
		return ErrInvalidCode
	}
	switch err := s.store.UseTOTPStep(ctx, userID, step, s.now().UTC()); {
	case errors.Is(err, storage.ErrConflict):
		return ErrCodeUsed
	case errors.Is(err, storage.ErrNotFound):
		return ErrInvalidCode
	case err != nil:
		return err
	}
	return nil
}

// matchTOTP returns the time step whose code is code, within the skew.
// Every step is computed and compared in constant time.
func (s *Service) matchTOTP(c storage.TOTPCredential, code string) (int64, bool, error) {
	code = strings.TrimSpace(strings.ReplaceAll(code, " ", ""))
	if len(code) != totpDigits.Length() {
		return 0, false, nil
	}
	plain, _, err := keys.OpenSealed(c.Secret, []byte(c.ID), s.secrets)
	if err != nil {
		return 0, false, fmt.Errorf("open totp secret of user %q: %w", c.UserID, err)
	}
	now := s.now()
	current := now.Unix() / totpPeriod
	var found int64
	ok := false
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := current + d
		want, err := totp.GenerateCodeCustom(string(plain), time.Unix(step*totpPeriod, 0),
			totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false, fmt.Errorf("totp code: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !ok {
			found, ok = step, true
		}
	}
	return found, ok, nil
}

// RemoveTOTP removes the user's authenticator app.
func (s *Service) RemoveTOTP(ctx context.Context, userID string) error {
	if err := s.store.DeleteTOTP(ctx, userID); errors.Is(err, storage.ErrNotFound) {
		return ErrNotEnrolled
	} else if err != nil {
		return err
	}
	s.record(ctx, userID, AuditRemoved, map[string]string{"method": "totp"})
	return nil
}

// RegenerateRecoveryCodes replaces the user's recovery codes with ten new
// ones and returns them (shown once; only hashes are kept).
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	codes, err := s.newRecoveryCodes(ctx, userID)
	if err != nil {
		return nil, err
	}
	s.record(ctx, userID, AuditRegenerated, nil)
	return codes, nil
}

func (s *Service) firstRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	st, err := s.Status(ctx, userID)
	if err != nil {
		return nil, err
	}
	if st.RecoveryCodes > 0 {
		return nil, nil
	}
	return s.newRecoveryCodes(ctx, userID)
}

func (s *Service) newRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	codes := make([]string, RecoveryCodeCount)
	hashes := make([]string, RecoveryCodeCount)
	for i := range codes {
		raw := make([]byte, 8)
		if _, err := rand.Read(raw); err != nil {
			return nil, fmt.Errorf("recovery code: %w", err)
		}
		// 10 base32 characters: 50 bits, typed as two groups of five.
		enc := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw))[:10]
		codes[i] = enc[:5] + "-" + enc[5:]
		hashes[i] = recoveryHash(userID, enc)
	}
	if err := s.store.ReplaceRecoveryCodes(ctx, userID, hashes, s.now().UTC()); err != nil {
		return nil, err
	}
	return codes, nil
}

// LooksLikeRecoveryCode tells a recovery code (ten letters and digits,
// maybe with a dash or spaces) from an authenticator code (six digits).
func LooksLikeRecoveryCode(code string) bool {
	return len(normalizeRecoveryCode(code)) == 10
}

func normalizeRecoveryCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(code) {
		switch {
		case r == '-' || r == ' ':
		case (r >= 'a' && r <= 'z') || (r >= '2' && r <= '7'):
			b.WriteRune(r)
		default:
			return ""
		}
		if b.Len() > 10 {
			return ""
		}
	}
	return b.String()
}

// recoveryHash is how a recovery code is kept: SHA-256 over the user id
// and the code (50 random bits each, so a hash cannot be reversed by
// trying codes at any useful rate, and guessing online is throttled).
func recoveryHash(userID, normalized string) string {
	sum := sha256.Sum256([]byte("signet recovery code\x00" + userID + "\x00" + normalized))
	return hex.EncodeToString(sum[:])
}

// UseRecoveryCode checks a recovery code and uses it up: ErrInvalidCode
// when it is not one of the user's unused codes.
func (s *Service) UseRecoveryCode(ctx context.Context, userID, code string) error {
	n := normalizeRecoveryCode(code)
	if len(n) != 10 {
		return ErrInvalidCode
	}
	if err := s.store.ConsumeRecoveryCode(ctx, userID, recoveryHash(userID, n)); errors.Is(err, storage.ErrNotFound) {
		return ErrInvalidCode
	} else if err != nil {
		return err
	}
	left := 0
	if st, err := s.Status(ctx, userID); err == nil {
		left = st.RecoveryCodes
	}
	s.record(ctx, userID, AuditRecoveryUsed, map[string]string{"remaining": strconv.Itoa(left)})
	return nil
}

// Reset removes every second factor and recovery code of the user (an
// administrator's action: the person lost them); the actor comes from ctx.
func (s *Service) Reset(ctx context.Context, userID string) error {
	if _, err := s.store.GetUser(ctx, userID); err != nil {
		return err
	}
	if err := s.store.DeleteUserMFA(ctx, userID); err != nil {
		return err
	}
	if s.audit != nil {
		s.audit.Record(ctx, audit.Event{Action: AuditReset, Target: userID})
	}
	return nil
}

// record writes an event the user caused about their own factors.
func (s *Service) record(ctx context.Context, userID, action string, details map[string]string) {
	if s.audit == nil {
		return
	}
	e := audit.Event{Action: action, Target: userID, Details: details}
	if _, ok := audit.ActorFrom(ctx); !ok {
		e.Actor = userID
	}
	s.audit.Record(ctx, e)
}

func randomID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("crypto/rand: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// resealPage is how many authenticator apps one read returns while
// re-sealing: bounded memory however many people use one.
const resealPage = 500

// ResealSecrets seals again under the current secret every
// authenticator-app secret that opens only with an old one, so the old
// secret can be dropped after this start. Each row is swapped on its own,
// and only while its sealed secret is unchanged (storage ResealTOTP): replicas
// starting together re-seal each row once between them, and a person
// re-enrolling meanwhile loses nothing. It returns how many it re-sealed
// and the users whose secret opens with no configured secret (left as
// they are; they must set their app up again), for the caller to report.
func (s *Service) ResealSecrets(ctx context.Context) (resealed int, unreadable []string, err error) {
	if len(s.secrets) < 2 {
		return 0, nil, nil // without old secrets every readable value is current
	}
	after := ""
	for {
		page, err := s.store.ListTOTPCredentials(ctx, after, resealPage)
		if err != nil {
			return resealed, unreadable, fmt.Errorf("re-seal authenticator secrets: %w", err)
		}
		for _, c := range page {
			plain, which, err := keys.OpenSealed(c.Secret, []byte(c.ID), s.secrets)
			if err != nil {
				unreadable = append(unreadable, c.UserID)
				continue
			}
			if which == 0 {
				continue
			}
			sealed, err := keys.Seal(plain, []byte(c.ID), s.secrets[0])
			if err != nil {
				return resealed, unreadable, fmt.Errorf("re-seal authenticator secret of user %q: %w", c.UserID, err)
			}
			switch err := s.store.ResealTOTP(ctx, c.ID, c.Secret, sealed); {
			case err == nil:
				resealed++
			case errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound):
				// Another replica re-sealed it, or it was replaced or
				// removed meanwhile: whatever is there now is not ours.
			default:
				return resealed, unreadable, fmt.Errorf("re-seal authenticator secret of user %q: %w", c.UserID, err)
			}
		}
		if len(page) < resealPage {
			return resealed, unreadable, nil
		}
		after = page[len(page)-1].ID
	}
}
