// Package pages serves what a person sees in a browser: the login form,
// the consent page, RP-initiated logout with its confirmation, the
// signed-out and error pages, Signet's small start page and the
// stylesheet. It works on a login challenge parked by the authorization
// endpoint: it authenticates the person (through accounts, throttled by
// sessions), starts a browser session, settles consent, and hands the
// challenge back to the authorization endpoint's resume URL.
//
// With the self-service parts configured it also serves sign-up
// (/register, only while registration is on; 404 otherwise), the links
// Signet mails (/verify-email, /reset-password), the forgotten-password
// form (/forgot-password, one answer whether or not an account has the
// address) and the signed-in person's account page (/account: profile,
// e-mail address, password, connected apps, sessions, deleting the
// account). Opening a mailed link changes nothing, since mail scanners
// open links too: /verify-email verifies only when its button (a form) is
// sent, /reset-password only with the new password; both say at once
// when a link expired or cannot be used. Their forms answer a change with
// a redirect and a flash message (post/redirect/get) and a refusal with
// the form again, a message at each field at fault (422) and nothing
// written. Checks of the current password, reset requests and sign-ups
// are throttled.
//
// Every form carries a CSRF token (Echo's CSRF middleware, which also
// rejects cross-site and same-site form posts by their Sec-Fetch-Site
// header); every message on a page is generic, details go to the log.
// Other handlers on the same listener (the admin console) use the same
// middleware through Handler.CSRF.
package pages
