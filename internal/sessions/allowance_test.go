package sessions

import (
	"sync"
	"testing"
	"time"
)

func TestAllowance(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		run  func(t *testing.T, a *Allowance)
	}{
		{"checks in flight count against the allowance", func(t *testing.T, a *Allowance) {
			// burst 2: two concurrent checks may start, a third may not,
			// even though none has spent anything yet.
			c1, ok1 := a.Admit(t0)
			c2, ok2 := a.Admit(t0)
			if _, ok3 := a.Admit(t0); !ok1 || !ok2 || ok3 {
				t.Fatalf("admitted %v %v %v, want true true false", ok1, ok2, ok3)
			}
			c1.Done(t0, false) // right password: nothing spent
			if _, ok := a.Admit(t0); !ok {
				t.Fatal("a right password's check was not given back")
			}
			c2.Done(t0, true)
			if _, ok := a.Admit(t0); ok {
				t.Fatal("admitted with the allowance spent")
			}
		}},
		{"wrong passwords spend, time refills", func(t *testing.T, a *Allowance) {
			for i := range 2 {
				c, ok := a.Admit(t0)
				if !ok {
					t.Fatalf("check %d refused", i)
				}
				c.Done(t0, true)
				c.Done(t0, true) // a second Done does nothing
			}
			if _, ok := a.Admit(t0); ok {
				t.Fatal("admitted after the burst was spent")
			}
			if _, ok := a.Admit(t0.Add(time.Second)); !ok {
				t.Fatal("refused after a second refilled one")
			}
		}},
		{"concurrent attempts never exceed the allowance", func(t *testing.T, a *Allowance) {
			var wg sync.WaitGroup
			var mu sync.Mutex
			checked := 0
			for range 100 {
				wg.Go(func() {
					if c, ok := a.Admit(t0); ok {
						mu.Lock()
						checked++
						mu.Unlock()
						c.Done(t0, true)
					}
				})
			}
			wg.Wait()
			if checked != 2 {
				t.Fatalf("%d wrong passwords checked at one instant, want the burst (2)", checked)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, NewAllowance(1, 2)) })
	}
	if a := NewAllowance(0, 2); a != nil {
		t.Fatal("a zero rate should mean no bound (nil)")
	}
	var none *Allowance
	c, ok := none.Admit(t0)
	if !ok {
		t.Fatal("no bound refused a check")
	}
	c.Done(t0, true)
}
