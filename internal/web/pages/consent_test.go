package pages

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestConsentAllowIsRememberedForSameOrFewerScopes(t *testing.T) {
	e := newEnv(t)
	e.ch.add("c1", photoChallenge())
	b := e.browser()
	wantRedirect(t, b.login("c1", "alice", alicePassword, false), consentURL("c1"))
	p := b.get(consentURL("c1"))
	wantStatus(t, p, http.StatusOK)
	for _, want := range []string{"Photo App", "Know who you are", "See your name and user name", "See your roles", `value="allow"`, `value="deny"`, "Signed in as <strong>alice</strong>"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	wantRedirect(t, b.post(ConsentPath, url.Values{CSRFField: {csrfOf(t, p)}, ChallengeParam: {"c1"}, "decision": {"allow"}}), resumeURL("c1"))
	if d, ok := e.ch.decision("c1"); !ok || !d.allow || !slices.Equal(d.granted, []string{"openid", "profile", "roles"}) {
		t.Errorf("decision = %+v, %v", d, ok)
	}
	c, err := e.store.GetConsent(t.Context(), e.alice.ID, "photo")
	if err != nil || !slices.Equal(c.Scopes, []string{"openid", "profile", "roles"}) {
		t.Errorf("remembered consent = %+v, %v", c, err)
	}

	// Same client, fewer scopes, by single sign-on: no form, no question.
	e.ch.add("c2", Challenge{ClientID: "photo", ClientName: "Photo App", Scopes: []string{"openid", "roles"}})
	wantRedirect(t, b.get("/login?login_challenge=c2"), resumeURL("c2"))
	if d, _ := e.ch.decision("c2"); !d.allow || !slices.Equal(d.granted, []string{"openid", "roles"}) {
		t.Errorf("remembered decision = %+v", d)
	}
	if ch := e.ch.get("c2"); ch.Subject != e.alice.ID || ch.SessionID == "" {
		t.Errorf("SSO did not accept the login: %+v", ch)
	}

	// More scopes: asked again. prompt=consent: asked again.
	e.ch.add("c3", Challenge{ClientID: "photo", ClientName: "Photo App", Scopes: []string{"openid", "email"}})
	wantRedirect(t, b.get("/login?login_challenge=c3"), consentURL("c3"))
	e.ch.add("c4", Challenge{ClientID: "photo", ClientName: "Photo App", Scopes: []string{"openid"}, Prompt: []string{"consent"}})
	wantRedirect(t, b.get("/login?login_challenge=c4"), consentURL("c4"))
	wantStatus(t, b.get(consentURL("c4")), http.StatusOK)
}

func TestConsentDenyAndForget(t *testing.T) {
	e := newEnv(t)
	if err := e.store.UpsertConsent(t.Context(), storageConsent(e.alice.ID, "photo", "openid")); err != nil {
		t.Fatal(err)
	}
	e.ch.add("c1", photoChallenge())
	b := e.browser()
	wantRedirect(t, b.login("c1", "alice", alicePassword, false), consentURL("c1"))
	p := b.get(consentURL("c1"))
	wantRedirect(t, b.post(ConsentPath, url.Values{CSRFField: {csrfOf(t, p)}, ChallengeParam: {"c1"}, "decision": {"deny"}}), resumeURL("c1"))
	if d, ok := e.ch.decision("c1"); !ok || d.allow || len(d.granted) != 0 {
		t.Errorf("decision = %+v, %v", d, ok)
	}
	if _, err := e.store.GetConsent(t.Context(), e.alice.ID, "photo"); err == nil {
		t.Error("denying kept the remembered consent")
	}
}

func TestFirstPartySkipsConsent(t *testing.T) {
	e := newEnv(t)
	e.ch.add("c1", Challenge{ClientID: "portal", ClientName: "Portal", FirstParty: true, Scopes: []string{"openid", "email"}})
	wantRedirect(t, e.browser().login("c1", "alice", alicePassword, false), resumeURL("c1"))
	if d, _ := e.ch.decision("c1"); !d.allow || !slices.Equal(d.granted, []string{"openid", "email"}) {
		t.Errorf("decision = %+v", d)
	}
}

func TestConsentBoundToTheBrowserThatLoggedIn(t *testing.T) {
	e := newEnv(t)
	e.ch.add("c1", photoChallenge())
	b := e.browser()
	wantRedirect(t, b.login("c1", "alice", alicePassword, false), consentURL("c1"))
	p := b.get(consentURL("c1"))

	// Another browser (no session) cannot decide for it…
	other := e.browser()
	form := other.get("/login")
	q := other.post(ConsentPath, url.Values{CSRFField: {csrfOf(t, form)}, ChallengeParam: {"c1"}, "decision": {"allow"}})
	wantStatus(t, q, http.StatusForbidden)
	if _, decided := e.ch.decision("c1"); decided {
		t.Fatal("another browser decided consent")
	}
	// …and is sent to log in when it opens the page.
	wantRedirect(t, other.get(consentURL("c1")), "/login?login_challenge=c1")

	// An unknown decision is refused.
	wantStatus(t, b.post(ConsentPath, url.Values{CSRFField: {csrfOf(t, p)}, ChallengeParam: {"c1"}, "decision": {"maybe"}}), http.StatusBadRequest)
}

func TestSingleSignOnAndReauthentication(t *testing.T) {
	e := newEnv(t)
	e.ch.add("c1", Challenge{ClientID: "portal", ClientName: "Portal", FirstParty: true, Scopes: []string{"openid"}})
	b := e.browser()
	wantRedirect(t, b.login("c1", "alice", alicePassword, false), resumeURL("c1"))
	first := e.ch.get("c1")

	// Another client: signed in by the session, auth_time unchanged.
	e.clock.Advance(5 * time.Minute)
	e.ch.add("c2", Challenge{ClientID: "notes", ClientName: "Notes", Scopes: []string{"openid"}})
	wantRedirect(t, b.get("/login?login_challenge=c2"), consentURL("c2"))
	if ch := e.ch.get("c2"); ch.Subject != e.alice.ID || !ch.AuthTime.Equal(first.AuthTime) || ch.SessionID != first.SessionID {
		t.Errorf("SSO challenge = %+v, first %+v", ch, first)
	}

	// prompt=login, an exceeded max_age and a hint for someone else all
	// show the form; max_age within bounds does not.
	for name, ch := range map[string]Challenge{
		"prompt=login":  {ClientID: "portal", FirstParty: true, Prompt: []string{"login"}},
		"max_age":       {ClientID: "portal", FirstParty: true, MaxAge: time.Minute, MaxAgeSet: true},
		"max_age=0":     {ClientID: "portal", FirstParty: true, MaxAge: 0, MaxAgeSet: true},
		"id_token_hint": {ClientID: "portal", FirstParty: true, IDTokenHintSubject: "someone-else"},
	} {
		e.ch.add(name, ch)
		p := b.get("/login?" + url.Values{ChallengeParam: {name}}.Encode())
		wantStatus(t, p, http.StatusOK)
		if !strings.Contains(p.body, `name="password"`) {
			t.Errorf("%s: no login form", name)
		}
		if e.ch.get(name).Subject != "" {
			t.Errorf("%s: accepted without a password", name)
		}
	}
	e.ch.add("fresh", Challenge{ClientID: "portal", FirstParty: true, MaxAge: time.Hour, MaxAgeSet: true})
	wantRedirect(t, b.get("/login?login_challenge=fresh"), resumeURL("fresh"))

	// Re-authenticating moves auth_time and replaces the session.
	e.clock.Advance(time.Minute)
	wantRedirect(t, b.login("max_age", "alice", alicePassword, false), resumeURL("max_age"))
	re := e.ch.get("max_age")
	if !re.AuthTime.After(first.AuthTime) || re.SessionID == first.SessionID {
		t.Errorf("re-authentication: %+v, first %+v", re, first)
	}
}
