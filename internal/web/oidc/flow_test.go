package oidc_test

import (
	"net/http"
	"testing"
)

func TestCodeFlowSmoke(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			e := newEnv(t, st.open(t))
			c := e.client(nil)
			u := e.user("admin")
			v, ch := pkcePair()
			q := authorizeParams(c, ch)
			code := e.codeFor(c, u, q)
			status, tok := e.exchange(c, code, v)
			if status != http.StatusOK {
				t.Fatalf("exchange: %d %v", status, tok)
			}
			t.Logf("tokens: %v", tok)
			at := tok["access_token"].(string)
			rt := tok["refresh_token"].(string)
			t.Logf("introspect: %v", e.introspect(c, at))
			status, tok2 := e.refresh(c, rt)
			if status != http.StatusOK {
				t.Fatalf("refresh: %d %v", status, tok2)
			}
			status, tok3 := e.refresh(c, rt)
			t.Logf("reuse: %d %v", status, tok3)
			t.Logf("introspect new at after reuse: %v", e.introspect(c, tok2["access_token"].(string)))
		})
	}
}
