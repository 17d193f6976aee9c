package mail

import (
	"bytes"
	"context"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	mailtemplates "github.com/signet-idp/signet/templates/mail"
)

// Template names: templates/mail/NAME.txt and NAME.html.
const (
	tmplVerifyEmail   = "verify_email"
	tmplResetPassword = "reset_password"
	tmplEmailChanged  = "email_changed"
	tmplAccountExists = "account_exists"
)

// DefaultSiteName names the service in mails unless branding replaces it.
const DefaultSiteName = "Signet"

// VerifyEmailData fills the e-mail verification message.
type VerifyEmailData struct {
	Username string
	// Email is the address being verified (the recipient).
	Email string
	// Link is the verification URL with its token.
	Link      string
	ExpiresIn time.Duration
}

// ResetPasswordData fills the password reset message.
type ResetPasswordData struct {
	Username  string
	Link      string
	ExpiresIn time.Duration
}

// AccountExistsData fills the notice sent when someone signs up with an
// address that already has an account: the sign-up page answers as if it
// worked (so it reveals nothing), and the owner learns of it here.
//
// The same notice goes to the owner when someone signed in to another
// account asks to change its address to this one (EmailChange set): the
// account page answers as if the link went out.
type AccountExistsData struct {
	Username   string
	SignInLink string
	ForgotLink string
	// EmailChange: someone asked to move another account to this address,
	// rather than to sign up with it.
	EmailChange bool
}

// EmailChangedData fills the notice sent to the old address when a user's
// e-mail address changes.
type EmailChangedData struct {
	Username string
	OldEmail string
	NewEmail string
}

// Composer turns message data into Messages, from the templates in
// templates/mail: each message has a .txt body that also defines its
// "subject", and an .html body.
type Composer struct {
	siteName string
	text     map[string]*texttemplate.Template
	html     map[string]*htmltemplate.Template
}

// NewComposer parses the embedded templates. siteName names the service
// in subjects and bodies ("" means DefaultSiteName).
func NewComposer(siteName string) (*Composer, error) {
	return newComposerFS(mailtemplates.FS, siteName)
}

func newComposerFS(fsys fs.FS, siteName string) (*Composer, error) {
	if strings.TrimSpace(siteName) == "" {
		siteName = DefaultSiteName
	}
	c := &Composer{siteName: siteName, text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	for _, name := range []string{tmplVerifyEmail, tmplResetPassword, tmplEmailChanged, tmplAccountExists} {
		t, err := texttemplate.New(name+".txt").Option("missingkey=error").ParseFS(fsys, name+".txt")
		if err != nil {
			return nil, fmt.Errorf("mail template %s.txt: %w", name, err)
		}
		if t.Lookup("subject") == nil {
			return nil, fmt.Errorf("mail template %s.txt does not define a subject", name)
		}
		h, err := htmltemplate.New(name+".html").Option("missingkey=error").ParseFS(fsys, name+".html")
		if err != nil {
			return nil, fmt.Errorf("mail template %s.html: %w", name, err)
		}
		c.text[name], c.html[name] = t, h
	}
	return c, nil
}

// VerifyEmail composes the verification message to d.Email.
func (c *Composer) VerifyEmail(d VerifyEmailData) (Message, error) {
	return c.compose(tmplVerifyEmail, d.Email, map[string]any{
		"Username": d.Username, "Email": d.Email, "Link": d.Link, "ExpiresIn": humanDuration(d.ExpiresIn),
	})
}

// ResetPassword composes the password reset message to the address to.
func (c *Composer) ResetPassword(to string, d ResetPasswordData) (Message, error) {
	return c.compose(tmplResetPassword, to, map[string]any{
		"Username": d.Username, "Link": d.Link, "ExpiresIn": humanDuration(d.ExpiresIn),
	})
}

// EmailChanged composes the notice to d.OldEmail.
func (c *Composer) EmailChanged(d EmailChangedData) (Message, error) {
	return c.compose(tmplEmailChanged, d.OldEmail, map[string]any{
		"Username": d.Username, "OldEmail": d.OldEmail, "NewEmail": d.NewEmail,
	})
}

// AccountExists composes the notice to the address to.
func (c *Composer) AccountExists(to string, d AccountExistsData) (Message, error) {
	return c.compose(tmplAccountExists, to, map[string]any{
		"Username": d.Username, "SignInLink": d.SignInLink, "ForgotLink": d.ForgotLink,
		"EmailChange": d.EmailChange,
	})
}

func (c *Composer) compose(name, to string, data map[string]any) (Message, error) {
	data["SiteName"] = c.siteName
	var subject, text, html bytes.Buffer
	t := c.text[name]
	if err := t.ExecuteTemplate(&subject, "subject", data); err != nil {
		return Message{}, fmt.Errorf("mail %s subject: %w", name, err)
	}
	if err := t.Execute(&text, data); err != nil {
		return Message{}, fmt.Errorf("mail %s text: %w", name, err)
	}
	if err := c.html[name].Execute(&html, data); err != nil {
		return Message{}, fmt.Errorf("mail %s html: %w", name, err)
	}
	return Message{
		To: to,
		// A subject is one line, whatever the data held.
		Subject: strings.Join(strings.Fields(subject.String()), " "),
		Text:    strings.TrimSpace(text.String()) + "\n",
		HTML:    html.String(),
	}, nil
}

// humanDuration writes a lifetime for people: "24 hours", "1 hour",
// "30 minutes", "2 days".
func humanDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.FormatInt(n, 10) + " " + unit + "s"
	}
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return plural(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d >= time.Minute:
		return plural(int64(d/time.Minute), "minute")
	default:
		return plural(max(int64(d/time.Second), 1), "second")
	}
}

// Postman composes and sends the messages of the accounts service.
type Postman struct {
	Composer *Composer
	Sender   Sender
}

// SendVerifyEmail sends the verification message to d.Email.
func (p Postman) SendVerifyEmail(ctx context.Context, d VerifyEmailData) error {
	m, err := p.Composer.VerifyEmail(d)
	if err != nil {
		return err
	}
	return p.Sender.Send(ctx, m)
}

// SendResetPassword sends the reset message to the address to.
func (p Postman) SendResetPassword(ctx context.Context, to string, d ResetPasswordData) error {
	m, err := p.Composer.ResetPassword(to, d)
	if err != nil {
		return err
	}
	return p.Sender.Send(ctx, m)
}

// SendEmailChanged sends the notice to d.OldEmail.
func (p Postman) SendEmailChanged(ctx context.Context, d EmailChangedData) error {
	m, err := p.Composer.EmailChanged(d)
	if err != nil {
		return err
	}
	return p.Sender.Send(ctx, m)
}

// SendAccountExists composes and sends the account-exists notice.
func (p Postman) SendAccountExists(ctx context.Context, to string, d AccountExistsData) error {
	m, err := p.Composer.AccountExists(to, d)
	if err != nil {
		return err
	}
	return p.Sender.Send(ctx, m)
}
