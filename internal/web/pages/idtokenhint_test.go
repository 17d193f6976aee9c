package pages

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-idp/signet/internal/storage"
	"github.com/signet-idp/signet/internal/storage/memory"
)

func TestKeyStoreHintVerifier(t *testing.T) {
	st := memory.New()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := json.Marshal(jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"})
	if err := st.CreateKey(t.Context(), storage.SigningKey{ID: "k1", Algorithm: "RS256", State: storage.KeyCurrent, PrivateKey: []byte("x"), PublicKey: pub, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	sign := func(k *rsa.PrivateKey, kid string, c any) string {
		t.Helper()
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: k, KeyID: kid}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := jwt.Signed(s).Claims(c).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	v := KeyStoreHintVerifier{Keys: st, Issuer: "https://id.example"}
	type claims struct {
		jwt.Claims
		Sid string `json:"sid,omitempty"`
	}
	expired := claims{Claims: jwt.Claims{Issuer: "https://id.example", Subject: "u1", Audience: jwt.Audience{"photo"}, Expiry: jwt.NewNumericDate(time.Now().Add(-24 * time.Hour))}, Sid: "s1"}

	got, err := v.VerifyIDTokenHint(t.Context(), sign(key, "k1", expired))
	if err != nil {
		t.Fatalf("expired but genuine hint: %v", err)
	}
	if got.Subject != "u1" || got.SessionID != "s1" || len(got.Audience) != 1 || got.Audience[0] != "photo" {
		t.Errorf("claims = %+v", got)
	}

	wrongIss := expired
	wrongIss.Issuer = "https://evil.example"
	genuine := sign(key, "k1", expired)
	parts := strings.Split(genuine, ".")
	for name, raw := range map[string]string{
		"other key":    sign(other, "k1", expired),
		"unknown kid":  sign(key, "k2", expired),
		"wrong issuer": sign(key, "k1", wrongIss),
		"tampered":     parts[0] + "." + parts[1] + "x." + parts[2],
		"not a JWT":    "garbage",
		"alg none":     "eyJhbGciOiJub25lIiwia2lkIjoiazEifQ." + parts[1] + ".",
		"no subject":   sign(key, "k1", claims{Claims: jwt.Claims{Issuer: "https://id.example", Audience: jwt.Audience{"photo"}}}),
		"huge":         strings.Repeat("a", 20000),
	} {
		if _, err := v.VerifyIDTokenHint(t.Context(), raw); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
