package pages

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

func storageConsent(userID, clientID string, scopes ...string) storage.Consent {
	now := time.Now().UTC()
	return storage.Consent{UserID: userID, ClientID: clientID, Scopes: scopes, CreatedAt: now, UpdatedAt: now}
}

// signedIn returns a browser with alice signed in and her session id.
func signedIn(t *testing.T, e *env) (*browser, string) {
	t.Helper()
	b := e.browser()
	wantRedirect(t, b.login("", "alice", alicePassword, true), "/")
	ss, err := e.store.ListUserSessions(t.Context(), e.alice.ID)
	if err != nil || len(ss) == 0 {
		t.Fatalf("sessions: %v %v", ss, err)
	}
	return b, ss[0].ID
}

func sessionsOf(t *testing.T, e *env) int {
	t.Helper()
	ss, err := e.store.ListUserSessions(t.Context(), e.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	return len(ss)
}

func TestLogoutWithProvingHintRedirectsWithState(t *testing.T) {
	e := newEnv(t)
	b, sid := signedIn(t, e)
	q := url.Values{"id_token_hint": {"hint:" + e.alice.ID + ":photo:" + sid}, "post_logout_redirect_uri": {photoLogout}, "state": {"xyz 1"}}
	p := b.get("/logout?" + q.Encode())
	wantRedirect(t, p, photoLogout+"?state=xyz+1")
	if sessionsOf(t, e) != 0 {
		t.Error("session survived logout")
	}
	if b.sessionCookie() != nil {
		t.Error("session cookie survived logout")
	}
	if home := b.get("/"); !strings.Contains(home.body, "You are not signed in") {
		t.Error("still signed in after logout")
	}
}

func TestLogoutRejectsUnregisteredRedirect(t *testing.T) {
	e := newEnv(t)
	b, sid := signedIn(t, e)
	hint := "hint:" + e.alice.ID + ":photo:" + sid
	for name, q := range map[string]url.Values{
		"unregistered":       {"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.example/"}},
		"other client's":     {"client_id": {"notes"}, "post_logout_redirect_uri": {photoLogout}},
		"no client named":    {"post_logout_redirect_uri": {photoLogout}},
		"client_id not aud":  {"id_token_hint": {hint}, "client_id": {"notes"}, "post_logout_redirect_uri": {photoLogout}},
		"unverifiable hint":  {"id_token_hint": {"garbage"}, "post_logout_redirect_uri": {photoLogout}},
		"unknown client_id":  {"client_id": {"ghost"}, "post_logout_redirect_uri": {photoLogout}},
		"prefix of register": {"client_id": {"photo"}, "post_logout_redirect_uri": {photoLogout + "/../x"}},
	} {
		t.Run(name, func(t *testing.T) {
			p := b.get("/logout?" + q.Encode())
			wantStatus(t, p, http.StatusBadRequest)
			if p.location != "" {
				t.Errorf("redirected to %q", p.location)
			}
			if !strings.Contains(p.body, "This sign-out link is not valid") {
				t.Errorf("error page:\n%s", p.body)
			}
			if sessionsOf(t, e) != 1 {
				t.Error("session ended by an invalid request")
			}
		})
	}
}

func TestLogoutWithoutProofAsksFirst(t *testing.T) {
	e := newEnv(t)
	b, _ := signedIn(t, e)
	q := url.Values{"client_id": {"photo"}, "post_logout_redirect_uri": {photoLogout}, "state": {"s1"}}
	// A hint for another user or another session proves nothing either.
	for _, extra := range []url.Values{{}, {"id_token_hint": {"hint:someone-else:photo"}}, {"id_token_hint": {"hint:" + e.alice.ID + ":photo:old-sid"}}} {
		v := url.Values{}
		for k, x := range q {
			v[k] = x
		}
		for k, x := range extra {
			v[k] = x
		}
		p := b.get("/logout?" + v.Encode())
		wantStatus(t, p, http.StatusOK)
		if !strings.Contains(p.body, "Sign out?") || !strings.Contains(p.body, "Photo App") {
			t.Fatalf("confirmation page:\n%s", p.body)
		}
		if sessionsOf(t, e) != 1 {
			t.Fatal("signed out without confirmation")
		}
	}
	p := b.get("/logout?" + q.Encode())
	form := url.Values{CSRFField: {csrfOf(t, p)}, "client_id": {"photo"}, "post_logout_redirect_uri": {photoLogout}, "state": {"s1"}}

	// "Stay signed in" keeps the session.
	form.Set("decision", "cancel")
	c := b.post(LogoutPath, form)
	wantStatus(t, c, http.StatusOK)
	if !strings.Contains(c.body, "You are still signed in") || sessionsOf(t, e) != 1 {
		t.Fatal("cancel signed out")
	}
	// A forged confirmation is refused.
	forged := url.Values{CSRFField: {"forged"}, "decision": {"logout"}}
	if p := b.post(LogoutPath, forged, "Sec-Fetch-Site", "cross-site"); p.status != http.StatusForbidden || sessionsOf(t, e) != 1 {
		t.Fatalf("forged confirmation: %d", p.status)
	}
	form.Set("decision", "logout")
	wantRedirect(t, b.post(LogoutPath, form), photoLogout+"?state=s1")
	if sessionsOf(t, e) != 0 {
		t.Error("confirmed logout left the session")
	}
}

func TestRelyingPartyPostIsTreatedAsRequest(t *testing.T) {
	e := newEnv(t)
	b, _ := signedIn(t, e)
	p := b.post(LogoutPath, url.Values{"client_id": {"photo"}, "post_logout_redirect_uri": {photoLogout}}, "Sec-Fetch-Site", "cross-site")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, LogoutPath+"?") {
		t.Fatalf("RP POST: %d %q", p.status, p.location)
	}
	if sessionsOf(t, e) != 1 {
		t.Error("a cross-site POST signed out without confirmation")
	}
	wantStatus(t, b.get(p.location), http.StatusOK)
}

func TestSignOutButtonAndSignedOutPage(t *testing.T) {
	e := newEnv(t)
	b, _ := signedIn(t, e)
	home := b.get("/")
	if !strings.Contains(home.body, `action="/logout"`) {
		t.Fatalf("no sign-out form on the home page:\n%s", home.body)
	}
	p := b.post(LogoutPath, url.Values{CSRFField: {csrfOf(t, home)}})
	wantStatus(t, p, http.StatusOK)
	if !strings.Contains(p.body, "You are signed out") || sessionsOf(t, e) != 0 {
		t.Errorf("sign out: sessions %d\n%s", sessionsOf(t, e), p.body)
	}
	// Without a session, a valid request just goes back.
	q := url.Values{"client_id": {"photo"}, "post_logout_redirect_uri": {photoLogout}}
	wantRedirect(t, b.get("/logout?"+q.Encode()), photoLogout)
	wantStatus(t, b.get("/logout"), http.StatusOK)
}
