// Package mailtest gives tests an in-memory mail.Sender.
package mailtest

import (
	"context"
	"sync"

	"github.com/signet-idp/signet/internal/mail"
)

// Outbox keeps every message sent to it. Safe for concurrent use.
type Outbox struct {
	mu       sync.Mutex
	messages []mail.Message
	// Err, when set, is returned by Send (the message is not kept).
	Err error
}

// Send keeps m.
func (o *Outbox) Send(_ context.Context, m mail.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.Err != nil {
		return o.Err
	}
	o.messages = append(o.messages, m)
	return nil
}

// Messages returns a copy of what was sent, oldest first.
func (o *Outbox) Messages() []mail.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]mail.Message(nil), o.messages...)
}

// To returns the messages sent to addr, oldest first.
func (o *Outbox) To(addr string) []mail.Message {
	var out []mail.Message
	for _, m := range o.Messages() {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

// Reset forgets every message.
func (o *Outbox) Reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.messages = nil
}
