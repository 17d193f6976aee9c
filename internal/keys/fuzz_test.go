package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-idp/signet/internal/storage"
)

// FuzzOpenPrivate: a key row's encrypted private key opens only as it was
// sealed, under its own kid and secret: any other bytes or kid (or a wrong
// secret) fail, never panic, never yield a key. And whatever the kid and
// secret, what encryptPrivate seals opens to the same key with them and
// with nothing else.
//
// The sealed keys are fixed (derived from constant seeds): the fuzzing
// workers are separate processes, and the seeds sealed in one must be
// recognisable in another.
func FuzzOpenPrivate(f *testing.F) {
	seed := func(s string) []byte { sum := sha256.Sum256([]byte(s)); return sum[:] }
	edKey := ed25519.NewKeyFromSeed(seed("ed"))
	ecKey, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), seed("ec"))
	if err != nil {
		f.Fatal(err)
	}
	// Under secret1, nothing but these kids was ever sealed, with these keys.
	sealedUnder := map[string]crypto.Signer{"kid-ed": edKey, "kid-ec": ecKey}
	for _, kid := range []string{"kid-ed", "kid-ec"} {
		sealed, err := encryptPrivate(sealedUnder[kid], kid, secret1)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(sealed, kid, secret1)
		f.Add(sealed, kid+"x", secret1)
		f.Add(sealed, kid, secret2)
		f.Add(sealed[:len(sealed)-1], kid, secret1)
		f.Add(append([]byte{2}, sealed[1:]...), kid, secret1)
		flipped := bytes.Clone(sealed)
		flipped[len(flipped)/2] ^= 1
		f.Add(flipped, kid, secret1)
	}
	f.Add([]byte{formatV1}, "", []byte(nil))
	f.Add([]byte{}, "kid", []byte("s"))
	f.Add(bytes.Repeat([]byte{formatV1}, 13), "kid", secret1)
	f.Fuzz(func(t *testing.T, sealed []byte, kid string, secret []byte) {
		priv, err := openPrivate(sealed, kid, secret1)
		if err == nil {
			want, ok := sealedUnder[kid]
			switch {
			case !ok:
				t.Fatalf("openPrivate(%x, %q) opened a row that was never sealed so", sealed, kid)
			case priv == nil || !samePublic(priv, want.Public()):
				t.Fatalf("openPrivate(%q) opened another key than was sealed", kid)
			}
			if !bytes.Equal(secret, secret1) {
				if _, err := openPrivate(sealed, kid, secret); err == nil {
					t.Fatalf("row %q opened with a wrong secret %x", kid, secret)
				}
			}
		}

		// Round trip with the fuzzed kid and secret.
		b, err := encryptPrivate(edKey, kid, secret)
		if err != nil {
			t.Fatal(err)
		}
		got, err := openPrivate(b, kid, secret)
		if err != nil || !samePublic(got, edKey.Public()) {
			t.Fatalf("sealed under kid %q, secret %x: does not open to the same key: %v", kid, secret, err)
		}
		if _, err := openPrivate(b, kid+"\x00", secret); err == nil {
			t.Fatalf("sealed under kid %q: opens under another kid", kid)
		}
		if _, err := openPrivate(b, kid, append(bytes.Clone(secret), 0)); err == nil {
			t.Fatalf("sealed under secret %x: opens under another secret", secret)
		}
	})
}

// FuzzParsePublic: a key row's public JWK is accepted only as a public key
// of the row's algorithm (RSA of at least rsaBits, P-256, Ed25519) under
// the row's kid; never a private or symmetric key. What is accepted
// encodes and reads back as the same key.
func FuzzParsePublic(f *testing.F) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		f.Fatal(err)
	}
	smallRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	ec384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	edPub, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	jwk := func(key any, kid, alg string) []byte {
		b, err := json.Marshal(jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: alg, Use: "sig"})
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(AlgRS256, "k1", jwk(rsaKey.Public(), "k1", AlgRS256))
	f.Add(AlgES256, "k2", jwk(ecKey.Public(), "k2", AlgES256))
	f.Add(AlgEdDSA, "k3", jwk(edPub, "k3", AlgEdDSA))
	f.Add(AlgRS256, "k1", jwk(rsaKey, "k1", AlgRS256))
	f.Add(AlgEdDSA, "k3", jwk(edKey, "k3", AlgEdDSA))
	f.Add(AlgRS256, "k4", jwk(smallRSA.Public(), "k4", AlgRS256))
	f.Add(AlgES256, "k5", jwk(ec384.Public(), "k5", AlgES256))
	f.Add(AlgES256, "k2", jwk(ecKey.Public(), "k2", AlgRS256))
	f.Add(AlgES256, "other", jwk(ecKey.Public(), "k2", AlgES256))
	f.Add(AlgRS256, "k6", jwk(edPub, "k6", AlgRS256))
	f.Add("HS256", "k7", jwk([]byte("0123456789abcdef0123456789abcdef"), "k7", "HS256"))
	f.Add(AlgES256, "k8", []byte(`{"kty":"EC","crv":"P-256","x":"AA","y":"AA","kid":"k8","alg":"ES256"}`))
	f.Add(AlgRS256, "k9", []byte(`{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"k9","alg":"RS256"}`))
	f.Add(AlgRS256, "", []byte(`null`))
	f.Add("", "", []byte(`{}`))
	f.Fuzz(func(t *testing.T, alg, kid string, pub []byte) {
		got, err := parsePublic(storage.SigningKey{ID: kid, Algorithm: alg, PublicKey: pub})
		if err != nil {
			return
		}
		switch {
		case got.KeyID != kid || got.Algorithm != alg:
			t.Fatalf("row (%q, %q) accepted a JWK of (%q, %q)", kid, alg, got.KeyID, got.Algorithm)
		case !IsSupported(alg):
			t.Fatalf("accepted a key of unsupported algorithm %q", alg)
		case !got.IsPublic() || !keyFits(alg, got.Key):
			t.Fatalf("accepted %T for %q (public: %v)", got.Key, alg, got.IsPublic())
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("accepted JWK does not encode: %v", err)
		}
		again, err := parsePublic(storage.SigningKey{ID: kid, Algorithm: alg, PublicKey: b})
		if err != nil {
			t.Fatalf("accepted JWK re-encoded as %s is refused: %v", b, err)
		}
		p, ok := got.Key.(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !p.Equal(again.Key) {
			t.Fatalf("accepted JWK reads back as another key: %s", b)
		}
	})
}
