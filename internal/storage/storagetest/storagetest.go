package storagetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// testCase is one behaviour of the contract, run against a fresh store.
type testCase struct {
	name string
	run  func(t *testing.T, s storage.Store)
}

// RunTests runs the conformance suite. newStore must return a fresh, empty
// store (only the built-in roles present) and arrange its own clean-up with
// t.Cleanup; it is called once per case, so cases never see each other's
// rows.
func RunTests(t *testing.T, newStore func(t *testing.T) storage.Store) {
	areas := []struct {
		name  string
		cases []testCase
	}{
		{"clients", clientCases()},
		{"users", userCases()},
		{"roles", roleCases()},
		{"oauth_requests", oauthRequestCases()},
		{"login_challenges", loginChallengeCases()},
		{"sessions", sessionCases()},
		{"consents", consentCases()},
		{"keys", keyCases()},
		{"throttle", throttleCases()},
		{"action_tokens", actionTokenCases()},
		{"audit", auditCases()},
		{"client_assertions", clientAssertionCases()},
		{"mfa", mfaCases()},
		{"webauthn_challenges", webauthnCases()},
		{"connectors", connectorCases()},
		{"backchannel", backchannelCases()},
		{"registration", registrationCases()},
		{"reseal", resealCases()},
		{"transactions", txCases()},
		{"unstorable_text", textCases()},
	}
	for _, area := range areas {
		t.Run(area.name, func(t *testing.T) {
			for _, tc := range area.cases {
				t.Run(tc.name, func(t *testing.T) {
					tc.run(t, newStore(t))
				})
			}
		})
	}
}

// at returns a fixed instant plus d. Fixed (not time.Now) so runs are
// reproducible, in UTC and with microsecond precision because that is what
// PostgreSQL keeps.
func at(d time.Duration) time.Time {
	return time.Date(2030, time.March, 4, 5, 6, 7, 123456000, time.UTC).Add(d)
}

// errBoom is what test callbacks return to force a rollback.
var errBoom = errors.New("boom")

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want one matching %v", what, err, target)
	}
}

func wantEqual[T any](t *testing.T, got, want T, what string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// race runs fn n times at once (released together) and returns each result.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// wantOneWinner checks that exactly one of errs is nil and every other one
// matches loser.
func wantOneWinner(t *testing.T, errs []error, loser error, what string) {
	t.Helper()
	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
		case !errors.Is(err, loser):
			t.Errorf("%s: caller %d got %v, want nil or %v", what, i, err, loser)
		}
	}
	if winners != 1 {
		t.Fatalf("%s: %d callers succeeded, want exactly 1", what, winners)
	}
}

func sampleClient(id string) storage.Client {
	return storage.Client{
		ID:                       id,
		SecretHash:               []byte{0xde, 0xad, 0xbe, 0xef, 0x00, 0x01},
		Name:                     "Client " + id,
		RedirectURIs:             []string{"https://" + id + ".example/cb", "https://" + id + ".example/cb2"},
		PostLogoutRedirectURIs:   []string{"https://" + id + ".example/bye"},
		GrantTypes:               []string{"authorization_code", "refresh_token"},
		ResponseTypes:            []string{"code"},
		Scopes:                   []string{"openid", "profile", "email"},
		Audience:                 []string{"https://api.example"},
		TokenEndpointAuthMethod:  storage.AuthMethodClientSecretBasic,
		FirstParty:               true,
		IDTokenSignedResponseAlg: "ES256",
		RequireMFA:               true,
		// Odd nanoseconds: durations must round trip exactly.
		AccessTokenLifespan:                5*time.Minute + 7,
		IDTokenLifespan:                    time.Hour,
		RefreshTokenLifespan:               720 * time.Hour,
		AuthCodeLifespan:                   90 * time.Second,
		CreatedAt:                          at(0),
		UpdatedAt:                          at(time.Second),
		JWKS:                               `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`,
		TokenEndpointAuthSigningAlg:        "EdDSA",
		RequirePushedAuthorizationRequests: true,
		AccessTokenFormat:                  storage.AccessTokenJWT,
		BackchannelLogoutURI:               "https://" + id + ".example/backchannel-logout",
		BackchannelLogoutSessionRequired:   true,
	}
}

func sampleUser(id, username, email string) storage.User {
	return storage.User{
		ID:            id,
		Username:      username,
		Email:         email,
		Name:          "Name of " + username,
		PasswordHash:  "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		EmailVerified: true,
		CreatedAt:     at(0),
		UpdatedAt:     at(time.Minute),
	}
}

func sampleRequest(kind storage.RequestKind, signature, requestID, subject, clientID string) storage.OAuthRequest {
	return storage.OAuthRequest{
		Kind:              kind,
		Signature:         signature,
		RequestID:         requestID,
		ClientID:          clientID,
		Subject:           subject,
		RequestedAt:       at(0),
		ExpiresAt:         at(time.Hour),
		RequestedScopes:   []string{"openid", "offline_access"},
		GrantedScopes:     []string{"openid"},
		RequestedAudience: []string{"https://api.example"},
		GrantedAudience:   []string{"https://api.example"},
		Form:              "redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=xyz",
		Session:           []byte(`{"subject":"` + subject + `"}`),
		Active:            true,
		AccessSignature:   "access-of-" + signature,
	}
}

func sampleChallenge(id string) storage.LoginChallenge {
	return storage.LoginChallenge{
		ID:              id,
		ClientID:        "web",
		Form:            "client_id=web&response_type=code&scope=openid",
		RequestedScopes: []string{"openid", "email"},
		CreatedAt:       at(0),
		ExpiresAt:       at(10 * time.Minute),
	}
}

func sampleSession(id, userID string) storage.Session {
	return storage.Session{
		ID:         id,
		TokenHash:  "hash-" + id,
		UserID:     userID,
		AuthTime:   at(0),
		CreatedAt:  at(0),
		LastSeenAt: at(time.Second),
		ExpiresAt:  at(24 * time.Hour),
		Remember:   true,
		UserAgent:  "Mozilla/5.0 (test)",
		IP:         "192.0.2.1",
		AMR:        []string{"pwd", "otp", "mfa"},
		ACR:        "urn:signet:acr:2fa",
	}
}

func sampleKey(id string, created time.Time) storage.SigningKey {
	return storage.SigningKey{
		ID:         id,
		Algorithm:  "RS256",
		State:      storage.KeyNext,
		PrivateKey: []byte("encrypted-" + id),
		PublicKey:  []byte(`{"kty":"RSA","kid":"` + id + `"}`),
		CreatedAt:  created,
		ActivateAt: created.Add(time.Hour),
	}
}

func sampleActionToken(hash, purpose, userID string) storage.ActionToken {
	return storage.ActionToken{
		Hash:      hash,
		Purpose:   purpose,
		UserID:    userID,
		Email:     "someone@example.com",
		CreatedAt: at(0),
		ExpiresAt: at(time.Hour),
	}
}

// createUsers creates users named after their ids (id "u-alice" has user
// name "alice" and e-mail "alice@example.com").
func createUsers(t *testing.T, s storage.Store, names ...string) {
	t.Helper()
	for _, n := range names {
		must(t, s.CreateUser(t.Context(), sampleUser("u-"+n, n, n+"@example.com")), fmt.Sprintf("create user %s", n))
	}
}
