// Package pages serves what a person sees in a browser: the login form,
// the consent page, RP-initiated logout with its confirmation, the
// signed-out and error pages, Signet's small start page and the
// stylesheet. It works on a login challenge parked by the authorization
// endpoint: it authenticates the person (through accounts, throttled by
// sessions), starts a browser session, settles consent, and hands the
// challenge back to the authorization endpoint's resume URL.
//
// Every form carries a CSRF token (Echo's CSRF middleware, which also
// rejects cross-site and same-site form posts by their Sec-Fetch-Site
// header); every message on a page is generic, details go to the log.
package pages
