// Package render turns page data into HTML: one typed function per page
// over the templates embedded from templates/, parsed once at start. It
// also builds the stylesheet with the operator's branding. Pages carry
// only generic, person-readable messages; details belong in the log.
package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/signet-idp/signet/templates"
)

// StylesheetPath is where the stylesheet is served.
const StylesheetPath = "/static/signet.css"

// DefaultProductName is the product's name, shown unless branding
// replaces it.
const DefaultProductName = "Signet"

// Branding is the operator's look: all optional.
type Branding struct {
	// Name replaces the product name in headers and titles ("Acme
	// Accounts"); the pages then say "Secured by Signet" in small print.
	Name string
	// LogoURL is an https URL or a path on Signet, shown next to the name.
	LogoURL string
	// AccentColor is a #rgb or #rrggbb colour for buttons and links; the
	// text on it is black or white, whichever contrasts more.
	AccentColor string
}

// Common is what every page's layout needs.
type Common struct {
	// CSRFToken goes into every form, including the header's sign-out.
	CSRFToken string
	// SignedInAs names the person signed in (empty: nobody, and no
	// sign-out button).
	SignedInAs string
	// AccountLink and AdminLink show links to the account page and the
	// admin console in the header (only with SignedInAs).
	AccountLink bool
	AdminLink   bool
	// WebAuthn loads Signet's own passkey script (/static/webauthn.js);
	// the page's CSP must allow it (script-src 'self').
	WebAuthn bool
}

// LoginPage is the sign-in form.
type LoginPage struct {
	Common
	// Challenge is the login challenge the form carries back (empty when
	// signing in to Signet itself).
	Challenge string
	// ClientName is the app the person signs in to.
	ClientName string
	// Username pre-fills the user name (login_hint, or what was typed).
	Username string
	Remember bool
	// ReturnTo is a Signet path to go to afterwards (no challenge).
	ReturnTo string
	// Error is a generic message shown as an alert.
	Error string
	// Notice is neutral information (why the password is asked again).
	Notice string
	// ForgotPasswordURL and RegisterURL link to the self-service pages
	// (empty: not offered).
	ForgotPasswordURL string
	RegisterURL       string
	// Passkey offers "Sign in with a passkey" (no password).
	Passkey bool
	// Connectors are the upstream providers offered ("Continue with …").
	Connectors []ConnectorButton
	// HidePassword leaves the password form out (connectors only).
	HidePassword bool
}

// ConnectorButton is one upstream provider on the login page.
type ConnectorButton struct {
	Name    string
	IconURL string
	// Href starts the sign-in there (carries the login challenge).
	Href string
}

// LinkPage asks for an existing account's password before linking an
// upstream identity with the same e-mail to it.
type LinkPage struct {
	Common
	ConnectorName string
	Email         string
	Error         string
	// CancelURL goes back to the sign-in.
	CancelURL string
}

// Scope is one requested scope in plain words.
type Scope struct {
	Name   string
	Title  string
	Detail string
}

// ConsentPage asks the person whether an app may have what it asks for.
type ConsentPage struct {
	Common
	Challenge  string
	ClientName string
	Scopes     []Scope
}

// ErrorPage explains, in plain words, something that cannot be sent back
// to an app.
type ErrorPage struct {
	Common
	// Status is the HTTP status code of the answer.
	Status  int
	Title   string
	Message string
	// Hint says what the person can do about it.
	Hint string
	// Code is the technical code, shown in small print.
	Code string
}

// LogoutPage asks the person to confirm signing out; the hidden fields
// carry the logout request back.
type LogoutPage struct {
	Common
	ClientName            string
	IDTokenHint           string
	ClientID              string
	PostLogoutRedirectURI string
	State                 string
}

// SignedOutPage confirms the person is signed out.
type SignedOutPage struct {
	Common
}

// HomePage says whether the person is signed in to Signet.
type HomePage struct {
	Common
	// Username is empty when nobody is signed in.
	Username string
	Notice   string
}

type brandView struct {
	ProductName   string
	Name          string
	LogoURL       string
	StylesheetURL string
	ShowPoweredBy bool
}

// Page widths: the default card suits a single form; the account page
// and the admin console need more room.
const (
	widthNarrow = ""
	widthMedium = "medium"
	widthWide   = "wide"
)

type view struct {
	Title  string
	Brand  brandView
	Common Common
	Data   any
	// Width is "", "medium" or "wide".
	Width string
	// Nav is the admin console's section navigation (empty elsewhere).
	Nav []navLink
	// Refresh, when set, is a Signet path the page moves on to at once
	// (meta refresh: no script needed).
	Refresh string
}

type navLink struct {
	Href    string
	Text    string
	Current bool
}

// Renderer renders the pages. Safe for concurrent use.
type Renderer struct {
	pages      map[string]*template.Template
	brand      brandView
	css        []byte
	cssVersion string
}

var pageFiles = []string{"login", "consent", "error", "logout", "signed_out", "home",
	"message", "register", "verify_email", "forgot_password", "reset_password", "account",
	"admin_users", "admin_user", "admin_roles", "admin_clients", "admin_client_created", "admin_client_edit", "admin_audit",
	"two_factor", "two_factor_enrol", "recovery_codes", "account_two_factor", "connector_link", "admin_connectors", "admin_connector_edit"}

// New parses the embedded templates and checks the branding.
func New(b Branding) (*Renderer, error) {
	return newFromFS(templates.FS, b)
}

func newFromFS(fsys fs.FS, b Branding) (*Renderer, error) {
	brand := brandView{ProductName: DefaultProductName, Name: strings.TrimSpace(b.Name)}
	if brand.Name == "" {
		brand.Name = DefaultProductName
	} else if brand.Name != DefaultProductName {
		brand.ShowPoweredBy = true
	}
	if len(brand.Name) > 100 {
		return nil, fmt.Errorf("branding name is longer than 100 characters")
	}
	if b.LogoURL != "" {
		if err := checkLogoURL(b.LogoURL); err != nil {
			return nil, err
		}
		brand.LogoURL = b.LogoURL
	}
	accent, err := accentCSS(b.AccentColor)
	if err != nil {
		return nil, err
	}
	base, err := fs.ReadFile(fsys, "static/signet.css")
	if err != nil {
		return nil, fmt.Errorf("stylesheet: %w", err)
	}
	css := append(append([]byte{}, base...), accent...)
	sum := sha256.Sum256(css)
	r := &Renderer{pages: map[string]*template.Template{}, css: css, cssVersion: hex.EncodeToString(sum[:6])}
	brand.StylesheetURL = StylesheetPath + "?v=" + r.cssVersion
	r.brand = brand

	layout, err := template.New("layout").Funcs(funcs).Option("missingkey=error").ParseFS(fsys, "layout.html", "partials.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	for _, name := range pageFiles {
		t, err := layout.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(fsys, name+".html"); err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("template %s.html defines no content", name)
		}
		r.pages[name] = t
	}
	return r, nil
}

// Stylesheet returns the stylesheet (with branding) and a short version
// that changes whenever its bytes do.
func (r *Renderer) Stylesheet() (css []byte, version string) { return r.css, r.cssVersion }

// BrandName is the name pages show for the service.
func (r *Renderer) BrandName() string { return r.brand.Name }

// Login renders the sign-in page.
func (r *Renderer) Login(w http.ResponseWriter, status int, p LoginPage) error {
	title := "Sign in"
	if p.ClientName != "" {
		title = "Sign in to " + p.ClientName
	}
	return r.render(w, status, "login", title, p.Common, p)
}

// ConnectorLink renders the page that links an upstream identity to an
// existing account after its password.
func (r *Renderer) ConnectorLink(w http.ResponseWriter, status int, p LinkPage) error {
	return r.render(w, status, "connector_link", "Link your "+p.ConnectorName+" account", p.Common, p)
}

// Continue renders a page that moves on to next at once, with a link for
// browsers that do not. It ends a chain of redirects that began with a
// form: browsers hold every hop of such a chain to that form's CSP
// form-action (another site's, or ours, which names no upstream).
func (r *Renderer) Continue(w http.ResponseWriter, common Common, next string) error {
	return r.renderView(w, http.StatusOK, "message", view{
		Title: "Signing you in", Common: common, Refresh: next,
		Data: MessagePage{Common: common, Kind: MessageInfo, Heading: "Signing you in…",
			Links: []Link{{Href: next, Text: "Continue", Primary: true}}},
	})
}

// Consent renders the consent page.
func (r *Renderer) Consent(w http.ResponseWriter, status int, p ConsentPage) error {
	return r.render(w, status, "consent", "Allow "+p.ClientName+"?", p.Common, p)
}

// Error renders an error page with p.Status (500 when unset).
func (r *Renderer) Error(w http.ResponseWriter, p ErrorPage) error {
	if p.Status == 0 {
		p.Status = http.StatusInternalServerError
	}
	if p.Title == "" {
		p.Title = "Something went wrong"
	}
	return r.render(w, p.Status, "error", p.Title, p.Common, p)
}

// Logout renders the sign-out confirmation.
func (r *Renderer) Logout(w http.ResponseWriter, status int, p LogoutPage) error {
	return r.render(w, status, "logout", "Sign out", p.Common, p)
}

// SignedOut renders the page shown after signing out.
func (r *Renderer) SignedOut(w http.ResponseWriter, status int, p SignedOutPage) error {
	return r.render(w, status, "signed_out", "Signed out", p.Common, p)
}

// Home renders Signet's own start page.
func (r *Renderer) Home(w http.ResponseWriter, status int, p HomePage) error {
	return r.render(w, status, "home", r.brand.Name, p.Common, p)
}

// render executes into a buffer first, so a template failure never leaves
// half a page on the wire.
func (r *Renderer) render(w http.ResponseWriter, status int, page, title string, common Common, data any) error {
	return r.renderView(w, status, page, view{Title: title, Common: common, Data: data})
}

func (r *Renderer) renderView(w http.ResponseWriter, status int, page string, v view) error {
	v.Brand = r.brand
	var buf bytes.Buffer
	if err := r.pages[page].ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("render %s: %w", page, err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

func checkLogoURL(raw string) error {
	u, err := url.Parse(raw)
	bad := err != nil || len(raw) > 2000 || u.User != nil || strings.ContainsAny(raw, " \t\r\n\\")
	if !bad {
		switch {
		case u.Scheme == "https" && u.Host != "":
		case u.Scheme == "" && u.Host == "" && strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//"):
		default:
			bad = true
		}
	}
	if bad {
		return fmt.Errorf("branding logo URL %q must be an https URL or a path on Signet", raw)
	}
	return nil
}

var hexColour = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)

// accentCSS turns the accent colour into CSS custom properties appended to
// the stylesheet. Only a strict hex colour is accepted, so nothing an
// operator types can escape into other CSS.
func accentCSS(colour string) ([]byte, error) {
	colour = strings.TrimSpace(colour)
	if colour == "" {
		return nil, nil
	}
	if !hexColour.MatchString(colour) {
		return nil, fmt.Errorf("branding accent colour %q must be #rgb or #rrggbb", colour)
	}
	hexDigits := colour[1:]
	if len(hexDigits) == 3 {
		hexDigits = string([]byte{hexDigits[0], hexDigits[0], hexDigits[1], hexDigits[1], hexDigits[2], hexDigits[2]})
	}
	v, _ := strconv.ParseUint(hexDigits, 16, 32)
	lum := luminance(uint8(v>>16), uint8(v>>8), uint8(v))
	onWhite := 1.05 / (lum + 0.05)
	onBlack := (lum + 0.05) / 0.05
	text := "#ffffff"
	if onBlack > onWhite {
		text = "#000000"
	}
	colour = "#" + strings.ToLower(hexDigits)
	css := fmt.Sprintf("\n/* operator branding */\n:root { --accent: %s; --accent-text: %s; --focus: %s;", colour, text, colour)
	// Links sit on the card: use the accent only where it is readable
	// there (4.5:1 on white).
	if onWhite >= 4.5 {
		css += fmt.Sprintf(" --link: %s;", colour)
	}
	css += " }\n"
	if onWhite >= 4.5 {
		// A dark accent on a dark card would vanish: keep the dark
		// scheme's own link and focus colours.
		css += "@media (prefers-color-scheme: dark) { :root { --link: #a8c1ff; --focus: #a8c1ff; } }\n"
	}
	return []byte(css), nil
}

// luminance is WCAG 2's relative luminance of an sRGB colour.
func luminance(r, g, b uint8) float64 {
	lin := func(c uint8) float64 {
		s := float64(c) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}
