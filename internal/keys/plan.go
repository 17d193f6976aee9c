package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-idp/signet/internal/storage"
)

// entry is a stored key as this replica sees it.
type entry struct {
	storage.SigningKey
	// jwk is the public key; pubOK says it was readable.
	jwk   jose.JSONWebKey
	pubOK bool
	// priv is the decrypted private key, nil when unavailable; secret is
	// the index of the secret that opened it (0 current, >0 old).
	priv   crypto.Signer
	secret int
	// opened says a configured secret decrypts the private key (even if
	// the key is unusable otherwise): proof the secret is right.
	opened bool
	// problem says why the key cannot sign here ("" when it can).
	problem string
	// broken lets the rotation step replace the key: its row is corrupted
	// in a way every replica sees (unreadable public key, private key not
	// matching it), or, at start, its private key does not decrypt. A
	// private key that stops decrypting on a running replica is not
	// broken: another replica may have re-encrypted it under a secret this
	// one does not know yet.
	broken bool
}

func (e entry) usable() bool { return e.pubOK && e.priv != nil && e.problem == "" }

func (e entry) info() Info {
	return Info{ID: e.ID, Algorithm: e.Algorithm, State: e.State, CreatedAt: e.CreatedAt, ActivateAt: e.ActivateAt,
		RetiredAt: e.RetiredAt, DeleteAfter: e.DeleteAfter, Problem: e.problem}
}

// classify reads every stored key: public part, private part (from the
// cache when the row did not change), and whether they belong together.
// Problems are logged once per key.
func (m *Manager) classify(all []storage.SigningKey, atOpen bool) []entry {
	cache := make(map[string]cachedKey, len(all))
	out := make([]entry, 0, len(all))
	for _, k := range all {
		e := entry{SigningKey: k, secret: -1}
		jwk, err := parsePublic(k)
		if err != nil {
			e.problem, e.broken = "public key unreadable: "+err.Error(), true
			_, _, derr := decryptPrivate(&k, m.secrets)
			e.opened = derr == nil
			out = append(out, m.report(e))
			continue
		}
		e.jwk, e.pubOK = jwk, true
		c, hit := m.cache[k.ID]
		if hit && bytes.Equal(c.public, k.PublicKey) && bytes.Equal(c.sealed, k.PrivateKey) {
			e.priv, e.secret, e.opened = c.priv, c.secret, true
			cache[k.ID] = c
			out = append(out, m.report(e))
			continue
		}
		priv, idx, err := decryptPrivate(&k, m.secrets)
		switch {
		case err != nil && hit && bytes.Equal(c.public, k.PublicKey):
			// Re-encrypted by a replica that has a secret this one does
			// not yet: it is still the key this replica opened before.
			e.priv, e.secret = c.priv, c.secret
			cache[k.ID] = c
		case err != nil:
			e.problem, e.broken = errUndecryptable.Error(), atOpen
		case !samePublic(priv, jwk.Key):
			e.problem, e.broken, e.opened = "the private key does not match the published public key", true, true
		default:
			e.priv, e.secret, e.opened = priv, idx, true
			cache[k.ID] = cachedKey{sealed: k.PrivateKey, public: k.PublicKey, priv: priv, secret: idx}
		}
		out = append(out, m.report(e))
	}
	m.cache = cache
	for kid := range m.logged {
		if !slices.ContainsFunc(out, func(e entry) bool { return e.ID == kid && e.problem != "" }) {
			delete(m.logged, kid)
		}
	}
	return out
}

// report logs the problem of e, once per key and problem.
func (m *Manager) report(e entry) entry {
	if e.problem != "" && m.logged[e.ID] != e.problem {
		m.logged[e.ID] = e.problem
		m.logger.Error("signing key skipped: it cannot be used", "kid", e.ID, "alg", e.Algorithm,
			"state", e.State, "problem", e.problem)
	}
	return e
}

// parsePublic reads the public JWK of k and checks it is what the row says:
// a public key of k's algorithm under k's id.
func parsePublic(k storage.SigningKey) (jose.JSONWebKey, error) {
	var jwk jose.JSONWebKey
	if err := json.Unmarshal(k.PublicKey, &jwk); err != nil {
		return jwk, fmt.Errorf("not a JWK: %w", err)
	}
	if !jwk.Valid() || !jwk.IsPublic() {
		return jwk, errors.New("not a valid public key")
	}
	if jwk.KeyID != k.ID {
		return jwk, fmt.Errorf("its kid %q is not the row's %q", jwk.KeyID, k.ID)
	}
	if jwk.Algorithm != k.Algorithm {
		return jwk, fmt.Errorf("its alg %q is not the row's %q", jwk.Algorithm, k.Algorithm)
	}
	if !keyFits(k.Algorithm, jwk.Key) {
		return jwk, fmt.Errorf("a %T is not a key for %q", jwk.Key, k.Algorithm)
	}
	jwk.Use = "sig"
	return jwk, nil
}

func keyFits(alg string, pub any) bool {
	switch alg {
	case AlgRS256:
		p, ok := pub.(*rsa.PublicKey)
		return ok && p.N.BitLen() >= rsaBits
	case AlgES256:
		p, ok := pub.(*ecdsa.PublicKey)
		return ok && p.Curve == elliptic.P256()
	case AlgEdDSA:
		_, ok := pub.(ed25519.PublicKey)
		return ok
	}
	return false
}

func samePublic(priv crypto.Signer, pub crypto.PublicKey) bool {
	p, ok := priv.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && p.Equal(pub)
}

// planParams is what the rotation step decides with.
type planParams struct {
	now time.Time
	// configured algorithms get a current key and are rotated.
	configured []string
	// period: how long a key signs (0: no automatic rotation).
	period time.Duration
	// lead: how long a next key is published before it signs.
	lead time.Duration
	// retention: how long a retired key stays published.
	retention time.Duration
}

type actionKind int

const (
	actCreate actionKind = iota
	actUpdate
	actDelete
)

// action is one change of the rotation step. For actCreate, key holds the
// algorithm, state and ActivateAt of the key to make; for actUpdate the
// row as it must become; for actDelete the row to delete.
type action struct {
	kind   actionKind
	key    storage.SigningKey
	reason string
}

// plan is the rotation step's decision, a pure function of the keys and
// the time: what to create, update and delete so that, per algorithm,
//
//   - retired keys past DeleteAfter are deleted;
//   - a next key that cannot sign is deleted (it never signed anything);
//   - a next key whose ActivateAt has passed becomes current and the
//     current one retires (published until DeleteAfter = now + retention);
//   - a current key that cannot sign retires, and so do extra current keys;
//   - without a usable current key, the next key (if any) is promoted at
//     once, or else a configured algorithm gets a new current key;
//   - a configured algorithm with no next key gets one `lead` before its
//     current key has signed for `period`; an algorithm no longer
//     configured is not rotated: its current key retires at that time.
//
// Applied, the keys need no further action until time passes: plan of the
// result is empty.
func plan(es []entry, p planParams) []action {
	var acts []action
	retire := func(e entry, why string) {
		k := e.SigningKey
		k.State, k.RetiredAt, k.DeleteAfter = storage.KeyRetired, p.now, p.now.Add(p.retention)
		acts = append(acts, action{kind: actUpdate, key: k, reason: why})
	}
	algs := slices.Clone(p.configured)
	for _, e := range es {
		if !slices.Contains(algs, e.Algorithm) {
			algs = append(algs, e.Algorithm)
		}
	}
	for _, alg := range algs {
		configured := slices.Contains(p.configured, alg)
		var cur *entry
		var nexts []entry
		for _, e := range es {
			if e.Algorithm != alg {
				continue
			}
			switch e.State {
			case storage.KeyRetired:
				switch {
				case e.DeleteAfter.IsZero():
					k := e.SigningKey
					if k.RetiredAt.IsZero() {
						k.RetiredAt = p.now
					}
					k.DeleteAfter = k.RetiredAt.Add(p.retention)
					acts = append(acts, action{kind: actUpdate, key: k, reason: "retired key without a deletion date"})
				case !p.now.Before(e.DeleteAfter):
					acts = append(acts, action{kind: actDelete, key: e.SigningKey, reason: "every token it signed has expired"})
				}
			case storage.KeyNext:
				if e.broken {
					acts = append(acts, action{kind: actDelete, key: e.SigningKey, reason: "next key cannot be used: " + e.problem})
				} else {
					nexts = append(nexts, e)
				}
			case storage.KeyCurrent:
				switch {
				case e.broken:
					retire(e, "current key cannot be used: "+e.problem)
				case cur == nil:
					cur = &e
				case e.ActivateAt.After(cur.ActivateAt):
					retire(*cur, "another key of the algorithm is current")
					cur = &e
				default:
					retire(e, "another key of the algorithm is current")
				}
			}
		}
		slices.SortStableFunc(nexts, func(a, b entry) int { return a.ActivateAt.Compare(b.ActivateAt) })
		var due *entry
		var pending []entry
		for _, n := range nexts {
			if p.now.Before(n.ActivateAt) {
				pending = append(pending, n)
				continue
			}
			if due != nil {
				acts = append(acts, action{kind: actDelete, key: due.SigningKey, reason: "superseded by a later next key"})
			}
			due = &n
		}
		switch {
		case due != nil:
			if cur != nil {
				retire(*cur, "next key "+due.ID+" took over")
			}
			k := due.SigningKey
			k.State = storage.KeyCurrent
			acts = append(acts, action{kind: actUpdate, key: k, reason: "its activation time has come"})
			cur = &entry{SigningKey: k}
		case cur == nil && len(pending) > 0:
			k := pending[0].SigningKey
			pending = pending[1:]
			k.State, k.ActivateAt = storage.KeyCurrent, p.now
			acts = append(acts, action{kind: actUpdate, key: k, reason: "no usable current key: the next key takes over early"})
			cur = &entry{SigningKey: k}
		case cur == nil && configured && IsSupported(alg):
			why := "no usable current key"
			if !slices.ContainsFunc(es, func(e entry) bool { return e.Algorithm == alg }) {
				why = "first key of the algorithm"
			}
			acts = append(acts, action{kind: actCreate, key: storage.SigningKey{
				Algorithm: alg, State: storage.KeyCurrent, ActivateAt: p.now,
			}, reason: why})
			continue
		}
		if cur == nil || p.period <= 0 || len(pending) > 0 {
			continue
		}
		rotateAt := cur.ActivateAt.Add(p.period)
		switch {
		case configured && !p.now.Before(rotateAt.Add(-p.lead)):
			activate := p.now.Add(p.lead)
			if rotateAt.After(activate) {
				activate = rotateAt
			}
			acts = append(acts, action{kind: actCreate, key: storage.SigningKey{
				Algorithm: alg, State: storage.KeyNext, ActivateAt: activate,
			}, reason: "scheduled rotation"})
		case !configured && !p.now.Before(rotateAt):
			retire(*cur, "the algorithm is no longer configured")
		}
	}
	return acts
}
