package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/signet-idp/signet/internal/adminclient"
	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/oauth"
)

// automaticRevocations are the audit entries of automatic revocations.
func automaticRevocations(x *e2e) []adminclient.AuditEvent {
	x.t.Helper()
	events, err := x.admin.TailAudit(x.ctx, 100)
	if err != nil {
		x.t.Fatal(err)
	}
	var out []adminclient.AuditEvent
	for _, e := range events {
		if e.Action == audit.GrantRevokeAutomatic {
			out = append(out, e)
		}
	}
	return out
}

// wantRevocationAudited checks that exactly one automatic revocation with
// this reason, of this client and user, is in the audit log.
func wantRevocationAudited(x *e2e, reason string, r *rp, u adminclient.User) {
	x.t.Helper()
	n := 0
	for _, e := range automaticRevocations(x) {
		if e.Details["reason"] == reason && e.Details["client_id"] == r.client.ClientID {
			n++
			if e.Target != u.ID || e.Details["grant"] == "" || e.Actor != audit.ActorSystem {
				x.t.Errorf("audit entry %+v: want target %s, the grant and actor system", e, u.ID)
			}
		}
	}
	if n != 1 {
		x.t.Fatalf("%d audit entries for a %s revocation of client %s, want 1: %+v", n, reason, r.client.ClientID, automaticRevocations(x))
	}
}

// TestOAuthE2EAutomaticRevocationReasons: after an authorization code is
// replayed, the grant's refresh token is refused with the reason (not
// "already used"); after a rotated refresh token is replayed, the newest one
// is refused with that reason; each automatic revocation is audited once.
func TestOAuthE2EAutomaticRevocationReasons(t *testing.T) {
	x := newE2E(t)

	t.Run("code replay", func(t *testing.T) {
		r := x.newRP(adminclient.ClientRegistration{})
		u := x.newUser()
		code, f, _ := r.code(u)
		tok, err := r.conf.Exchange(x.ctx, code, oauth2.VerifierOption(f.verifier))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.conf.Exchange(x.ctx, code, oauth2.VerifierOption(f.verifier))
		wantRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
		if !strings.Contains(err.Error(), "already used") || !strings.Contains(err.Error(), "revoked") {
			t.Fatalf("replayed code: %v; want it to say the code was used and its tokens revoked", err)
		}
		_, err = r.refresh(tok.RefreshToken)
		wantRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
		if !strings.Contains(err.Error(), "authorization code was used twice") {
			t.Fatalf("refresh after the code replay: %v; want the reason (code used twice)", err)
		}
		if got := r.introspect(tok.AccessToken); got["active"] != false {
			t.Fatalf("access token after the code replay: %v", got)
		}
		wantRevocationAudited(x, oauth.RevokedCodeReplay, r, u)
	})

	t.Run("user disabled", func(t *testing.T) {
		r := x.newRP(adminclient.ClientRegistration{})
		u := x.newUser()
		tok, _, _ := r.login(u)
		// Disabled behind the services' back: the admin API would revoke
		// the user's tokens itself; here the refresh finds out.
		setDisabled(t, x, u.ID, true)
		_, err := r.refresh(tok.RefreshToken)
		wantRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
		setDisabled(t, x, u.ID, false)
		_, err = r.refresh(tok.RefreshToken)
		wantRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
		if !strings.Contains(err.Error(), "user was deleted or disabled") {
			t.Fatalf("refresh after the user came back: %v; want the reason", err)
		}
		wantRevocationAudited(x, oauth.RevokedUserUnavailable, r, u)
	})
	t.Run("refresh token reuse", func(t *testing.T) {
		r := x.newRP(adminclient.ClientRegistration{})
		u := x.newUser()
		tok, _, _ := r.login(u)
		next, err := r.refresh(tok.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		x.ts.Clock.Advance(x.ts.Deps.cfg.RefreshGracePeriod + time.Second)
		_, err = r.refresh(tok.RefreshToken)
		wantRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
		if !strings.Contains(err.Error(), "already used") {
			t.Fatalf("replayed refresh token: %v", err)
		}
		_, err = r.refresh(next.RefreshToken)
		wantRetrieveError(t, err, http.StatusBadRequest, "invalid_grant")
		if !strings.Contains(err.Error(), "refresh tokens was used again") {
			t.Fatalf("newest refresh token after the replay: %v; want the reason (a refresh token reused)", err)
		}
		wantRevocationAudited(x, oauth.RevokedRefreshReuse, r, u)
	})
}

func setDisabled(t *testing.T, x *e2e, id string, disabled bool) {
	t.Helper()
	u, err := x.ts.Store.GetUser(x.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	u.Disabled = disabled
	if err := x.ts.Store.UpdateUser(x.ctx, u); err != nil {
		t.Fatal(err)
	}
}
