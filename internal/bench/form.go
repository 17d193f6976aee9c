package bench

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Forms are found the way a person finds them, not by a provider's markup:
// the login form is the one with a password field, the consent form the one
// with an allow button. That keeps the bench usable against any provider
// whose pages work without JavaScript.

// Form is a form ready to submit: where, how and what a browser would send.
type Form struct {
	Action *url.URL
	Method string
	Values url.Values
}

// Request builds the request a browser sends when the form is submitted.
func (f Form) Request() (*http.Request, error) {
	body := f.Values.Encode()
	if f.Method == http.MethodGet {
		u := *f.Action
		u.RawQuery = body
		return http.NewRequest(http.MethodGet, u.String(), nil)
	}
	req, err := http.NewRequest(f.Method, f.Action.String(), strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// LoginForm is a sign-in form before the credentials are typed in.
type LoginForm struct {
	Form
	// UserField and PasswordField name the fields Fill sets.
	UserField     string
	PasswordField string
}

// Fill returns the form as submitted with these credentials.
func (l LoginForm) Fill(username, password string) Form {
	f := l.Form
	f.Values = cloneValues(l.Values)
	f.Values.Set(l.UserField, username)
	f.Values.Set(l.PasswordField, password)
	return f
}

// errNoUserField: the page asks for a password but not for whom (an
// identifier-first login, which needs a step this bench does not take).
var errNoUserField = errors.New("the login form has no user name field")

// FindLoginForm finds the sign-in form of a page: the first form with one
// password field (a form with two is a registration or password change).
// ok is false when the page has none.
func FindLoginForm(page *url.URL, body []byte) (l LoginForm, ok bool, err error) {
	forms, err := parseForms(body)
	if err != nil {
		return LoginForm{}, false, err
	}
	var chosen *htmlForm
	for i := range forms {
		if forms[i].count("password") == 1 {
			chosen = &forms[i]
			break
		}
	}
	if chosen == nil {
		return LoginForm{}, false, nil
	}
	user := chosen.userField()
	if user == "" {
		return LoginForm{}, true, errNoUserField
	}
	l.Form, err = chosen.submission(page, chosen.firstSubmit())
	if err != nil {
		return LoginForm{}, true, err
	}
	l.UserField = user
	for _, f := range chosen.fields {
		if f.typ == "password" {
			l.PasswordField = f.name
			break
		}
	}
	if l.PasswordField == "" {
		return LoginForm{}, true, errors.New("the login form's password field has no name")
	}
	return l, true, nil
}

// Consent button words, strongest first. Signet's contract is
// name="decision" value="allow"; other providers label their button.
var (
	consentWords     = []string{"allow", "accept", "yes", "approve", "authorize", "authorise", "grant", "consent"}
	weakConsentWords = []string{"continue", "confirm", "ok"}
)

// FindConsentForm finds the consent form of a page and returns it as
// submitted with its allow button: first a button name="decision"
// value="allow", then the first button whose label says allow (or similar),
// then one that says continue. ok is false when the page has none.
func FindConsentForm(page *url.URL, body []byte) (Form, bool, error) {
	forms, err := parseForms(body)
	if err != nil {
		return Form{}, false, err
	}
	pick := func(match func(field) bool) (Form, bool, error) {
		for i := range forms {
			for _, b := range forms[i].fields {
				if b.isSubmit() && match(b) {
					f, err := forms[i].submission(page, &b)
					return f, true, err
				}
			}
		}
		return Form{}, false, nil
	}
	tries := []func(field) bool{
		func(b field) bool { return b.name == "decision" && b.value == "allow" },
		func(b field) bool { return b.says(consentWords) },
		func(b field) bool { return b.says(weakConsentWords) },
	}
	for _, m := range tries {
		if f, ok, err := pick(m); ok || err != nil {
			return f, ok, err
		}
	}
	return Form{}, false, nil
}

// htmlForm is a <form> as written in the page.
type htmlForm struct {
	action, method string
	hasAction      bool
	fields         []field
}

// field is one control of a form: input, button, select or textarea.
type field struct {
	tag     atom.Atom
	typ     string // lower-case type; inputs default to text, buttons to submit
	name    string
	value   string
	checked bool
	label   string // a button's text
}

func (f field) isSubmit() bool {
	switch f.tag {
	case atom.Button:
		return f.typ == "submit"
	case atom.Input:
		return f.typ == "submit" || f.typ == "image"
	}
	return false
}

// says reports whether the button's label or value holds one of words.
func (f field) says(words []string) bool {
	for _, s := range []string{f.label, f.value} {
		for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
			return !(r >= 'a' && r <= 'z')
		}) {
			for _, want := range words {
				if w == want {
					return true
				}
			}
		}
	}
	return false
}

// textLike are input types a person types a name into.
func textLike(typ string) bool { return typ == "text" || typ == "email" || typ == "" }

func (h *htmlForm) count(typ string) int {
	n := 0
	for _, f := range h.fields {
		if f.tag == atom.Input && f.typ == typ {
			n++
		}
	}
	return n
}

// userField names the field for the user name: one named username, email
// or login, else the first text or e-mail field.
func (h *htmlForm) userField() string {
	for _, want := range []string{"username", "email", "login"} {
		for _, f := range h.fields {
			if f.tag == atom.Input && textLike(f.typ) && strings.EqualFold(f.name, want) {
				return f.name
			}
		}
	}
	for _, f := range h.fields {
		if f.tag == atom.Input && textLike(f.typ) && f.name != "" {
			return f.name
		}
	}
	return ""
}

func (h *htmlForm) firstSubmit() *field {
	for i := range h.fields {
		if h.fields[i].isSubmit() {
			return &h.fields[i]
		}
	}
	return nil
}

// submission is what a browser sends when button (nil: Enter in a field)
// submits the form: every named control with its current value — hidden
// fields, pre-filled text, checked boxes, selected options — and the
// button's own name and value.
func (h *htmlForm) submission(page *url.URL, button *field) (Form, error) {
	action := page
	if h.hasAction {
		a, err := page.Parse(h.action)
		if err != nil {
			return Form{}, fmt.Errorf("form action %q: %w", h.action, err)
		}
		action = a
	}
	target := *action
	target.Fragment = ""
	method := http.MethodGet
	if strings.EqualFold(h.method, "post") {
		method = http.MethodPost
	}
	v := url.Values{}
	for _, f := range h.fields {
		if f.name == "" {
			continue
		}
		switch f.tag {
		case atom.Input:
			switch f.typ {
			case "submit", "image", "button", "reset", "file":
			case "checkbox", "radio":
				if f.checked {
					v.Add(f.name, orDefault(f.value, "on"))
				}
			default:
				v.Add(f.name, f.value)
			}
		case atom.Select, atom.Textarea:
			v.Add(f.name, f.value)
		}
	}
	if button != nil && button.name != "" {
		v.Add(button.name, button.value)
	}
	return Form{Action: &target, Method: method, Values: v}, nil
}

// maxPage bounds what is parsed: a login page is a few kilobytes.
const maxPage = 1 << 20

// parseForms returns the forms of an HTML page with their controls.
func parseForms(body []byte) ([]htmlForm, error) {
	if len(body) > maxPage {
		return nil, fmt.Errorf("page larger than %d bytes", maxPage)
	}
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parse HTML: %w", err)
	}
	var forms []htmlForm
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == atom.Form {
			f := htmlForm{method: attr(n, "method")}
			f.action, f.hasAction = attrOK(n, "action")
			collect(n, &f.fields)
			forms = append(forms, f)
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return forms, nil
}

// collect appends the controls under n in document order.
func collect(n *html.Node, out *[]field) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		switch c.DataAtom {
		case atom.Input:
			_, checked := attrOK(c, "checked")
			*out = append(*out, field{tag: atom.Input, typ: orDefault(strings.ToLower(attr(c, "type")), "text"),
				name: attr(c, "name"), value: attr(c, "value"), checked: checked})
			continue
		case atom.Button:
			*out = append(*out, field{tag: atom.Button, typ: orDefault(strings.ToLower(attr(c, "type")), "submit"),
				name: attr(c, "name"), value: attr(c, "value"), label: strings.TrimSpace(text(c))})
			continue
		case atom.Textarea:
			*out = append(*out, field{tag: atom.Textarea, name: attr(c, "name"), value: text(c)})
			continue
		case atom.Select:
			*out = append(*out, field{tag: atom.Select, name: attr(c, "name"), value: selected(c)})
			continue
		}
		collect(c, out)
	}
}

// selected is the value a select submits: its selected option, else its
// first.
func selected(sel *html.Node) string {
	var first, chosen *html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.DataAtom == atom.Option {
				if first == nil {
					first = c
				}
				if _, ok := attrOK(c, "selected"); ok && chosen == nil {
					chosen = c
				}
			}
			walk(c)
		}
	}
	walk(sel)
	if chosen == nil {
		chosen = first
	}
	if chosen == nil {
		return ""
	}
	if v, ok := attrOK(chosen, "value"); ok {
		return v
	}
	return strings.TrimSpace(text(chosen))
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.TextNode {
				b.WriteString(c.Data)
			}
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v)+2)
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// pageTitle is the <title> of a page, for error messages about pages the
// bench did not expect.
func pageTitle(body []byte) string {
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	var title string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if title != "" {
			return
		}
		if n.Type == html.ElementNode && n.DataAtom == atom.Title {
			title = strings.TrimSpace(text(n))
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return title
}
