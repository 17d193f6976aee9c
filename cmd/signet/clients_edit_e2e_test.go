package main

import (
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"

	"github.com/signet-idp/signet/internal/adminclient"
)

// TestOAuthE2EClientSecretRotation: on a running server (PostgreSQL, the
// client cache on), after POST /admin/clients/{id}/rotate-secret the old
// secret is refused at the token and introspection endpoints at once, the
// new one works, and the refresh and access tokens issued before the
// rotation keep working: they belong to the client id, not the secret.
func TestOAuthE2EClientSecretRotation(t *testing.T) {
	x := newE2E(t)
	u := x.newUser("user")
	old := x.newRP(adminclient.ClientRegistration{})
	tok, _, _ := old.login(u)
	if in := old.introspect(tok.AccessToken); in["active"] != true {
		t.Fatalf("introspection before the rotation: %v", in)
	}

	rotated, err := x.admin.RotateClientSecret(x.ctx, old.client.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if rotated.ClientSecret == "" || rotated.ClientSecret == old.client.ClientSecret || rotated.ClientID != old.client.ClientID {
		t.Fatalf("rotate-secret answered %+v", rotated)
	}

	// The old secret: refused at once, and the refusal spends nothing.
	_, err = old.refresh(tok.RefreshToken)
	wantRetrieveError(t, err, http.StatusUnauthorized, "invalid_client")
	if st, body, _ := old.post("/oauth2/introspect", url.Values{"token": {tok.AccessToken}}, true); st != http.StatusUnauthorized {
		t.Errorf("introspection with the old secret: %d %v, want 401", st, body)
	}

	// The new secret: the tokens issued before the rotation still work.
	fresh := x.newRPFor(rotated)
	if in := fresh.introspect(tok.AccessToken); in["active"] != true {
		t.Errorf("the access token issued before the rotation is inactive: %v", in)
	}
	tok2, err := fresh.refresh(tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh with the new secret of a token issued before the rotation: %v", err)
	}
	if _, c, _ := fresh.verify(tok2); c.Sub != u.ID {
		t.Errorf("refreshed ID token for %q, want %q", c.Sub, u.ID)
	}

	// An edit (PATCH) keeps the id and the new secret: only the new
	// redirect URI is accepted, and sign-in through it works.
	const moved = "http://127.0.0.1:7778/callback"
	updated, err := x.admin.UpdateClient(x.ctx, rotated.ClientID, adminclient.ClientPatch{RedirectURIs: &[]string{moved}})
	if err != nil {
		t.Fatal(err)
	}
	if updated.ClientSecret != "" || updated.ClientID != rotated.ClientID {
		t.Fatalf("PATCH answered %+v", updated)
	}
	// The error page, never a redirect to an unregistered URI.
	if resp := fresh.get(fresh.conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("authorization request with the removed redirect URI: %d (to %q), want 400", resp.StatusCode, resp.Header.Get("Location"))
	}
	updated.ClientSecret = rotated.ClientSecret
	movedRP := x.newRPFor(updated)
	tok3, _, _ := movedRP.login(u)
	if _, c, _ := movedRP.verify(tok3); c.Sub != u.ID {
		t.Errorf("sign-in after the edit: sub %q, want %q", c.Sub, u.ID)
	}
}
