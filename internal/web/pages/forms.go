package pages

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/signet-idp/signet/internal/accounts"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/web/render"
)

// fieldLabels name the self-service forms' fields in the sentences that
// explain what is wrong with them.
var fieldLabels = map[string]string{
	"username":         "User name",
	"email":            "E-mail address",
	"name":             "Name",
	"password":         "Password",
	"password_confirm": "The confirmation",
	"current_password": "Your current password",
}

// fieldMessages turns the accounts service's field errors into sentences
// for the form's fields ("User name is already taken."). Errors naming a
// field the form does not have come back as one form-level message; ok is
// false when err carries no field errors at all.
func fieldMessages(err error, fields ...string) (msgs render.FieldErrors, other string, ok bool) {
	fe := accounts.FieldErrors(err)
	if fe == nil {
		return nil, "", false
	}
	msgs = render.FieldErrors{}
	var rest []string
	for field, msg := range fe {
		known := false
		for _, f := range fields {
			if f == field {
				known = true
				break
			}
		}
		label := fieldLabels[field]
		if label == "" {
			label = strings.ReplaceAll(field, "_", " ")
		}
		if known {
			msgs[field] = sentence(label, msg)
		} else {
			rest = append(rest, sentence(label, msg))
		}
	}
	return msgs, strings.Join(rest, " "), true
}

func sentence(label, msg string) string {
	s := label + " " + msg
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// msgFixFields is the form-level summary above a form with field errors.
const msgFixFields = "Some of the details need another look. The fields below say what to change."

// formText reads a form field for showing it again: at most max bytes of
// valid UTF-8, so an over-long or broken value is never echoed whole.
func formText(c echo.Context, name string, max int) string {
	return clip(c.FormValue(name), max)
}

func clip(s string, max int) string {
	s = strings.ToValidUTF8(s, "")
	for len(s) > max {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// actAs puts who is acting, and from where, into the request's context:
// the services record their audit events with it and apply rules about
// the acting user to it.
func (h *Handler) actAs(c echo.Context, actor string) context.Context {
	r := c.Request()
	ctx := audit.WithActor(r.Context(), audit.Actor{ID: actor, IP: h.clientIP(c)})
	c.SetRequest(r.WithContext(ctx))
	return ctx
}
