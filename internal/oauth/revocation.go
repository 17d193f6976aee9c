package oauth

import (
	"context"
	"net/http"

	"github.com/ory/fosite"

	"github.com/signet-idp/signet/internal/audit"
	"github.com/signet-idp/signet/internal/storage"
)

// Reasons of automatic revocations, kept on the rows they deactivate
// (storage.OAuthRequest.RevokedReason) so a client presenting one of the
// grant's tokens later learns why it no longer works.
const (
	// RevokedCodeReplay: the grant's authorization code was presented
	// again after it was redeemed (RFC 6749 §4.1.2: revoke what it gave).
	RevokedCodeReplay = "code_replay"
	// RevokedRefreshReuse: a rotated refresh token was presented again
	// after the grace window.
	RevokedRefreshReuse = "refresh_reuse"
	// RevokedUserUnavailable: the grant's user was deleted or disabled.
	RevokedUserUnavailable = "user_unavailable"
)

// revokedHints tell a client presenting a token of an automatically
// revoked grant what happened; "" is a token revoked on request.
var revokedHints = map[string]string{
	RevokedCodeReplay: "The grant of this refresh token was revoked because its authorization code was used twice " +
		"(a replayed code); the person must sign in again.",
	RevokedRefreshReuse: "The grant of this refresh token was revoked because one of its refresh tokens was used again " +
		"after it had been exchanged; the person must sign in again.",
	RevokedUserUnavailable: "The grant of this refresh token was revoked because its user was deleted or disabled.",
	"":                     "The refresh token was revoked.",
}

// autoRevocation is one grant revoked automatically.
type autoRevocation struct {
	requestID, reason, clientID, subject string
}

// revocationOf describes the revocation of the grant of req.
func revocationOf(req fosite.Requester, reason string) autoRevocation {
	r := autoRevocation{requestID: req.GetID(), reason: reason}
	if cl := req.GetClient(); cl != nil {
		r.clientID = cl.GetID()
	}
	if s := req.GetSession(); s != nil {
		r.subject = s.GetSubject()
	}
	return r
}

// revocationNotes follow the automatic revocations of one request. The
// adapter notes a replay when it finds one (fosite then revokes the grant
// through RevokeAccessToken and RevokeRefreshToken, which take no reason),
// and what it revoked; the provider audits them once fosite is done.
type revocationNotes struct {
	// pending is the revocation fosite is about to make.
	pending *autoRevocation
	done    []autoRevocation
	// presented: an inactive refresh token was presented, revoked for
	// this reason (see revokedHints); nil when none was.
	presented *string
}

// notes returns the request's revocation notes (nil without a request
// cache); use under c.mu.
func notesOf(ctx context.Context) (*requestCache, *revocationNotes) {
	c := cacheOf(ctx)
	if c == nil {
		return nil, nil
	}
	return c, &c.revocations
}

// notePending records that fosite is about to revoke the grant of req for
// reason.
func notePending(ctx context.Context, req fosite.Requester, reason string) {
	c, n := notesOf(ctx)
	if c == nil || req == nil {
		return
	}
	r := revocationOf(req, reason)
	c.mu.Lock()
	n.pending = &r
	c.mu.Unlock()
}

// notePresented records why the refresh token presented is inactive.
func notePresented(ctx context.Context, reason string) {
	if c, n := notesOf(ctx); c != nil {
		c.mu.Lock()
		n.presented = &reason
		c.mu.Unlock()
	}
}

// pendingReason is the reason of the revocation pending for the grant
// ("" for a revocation asked for).
func pendingReason(ctx context.Context, requestID string) string {
	c, n := notesOf(ctx)
	if c == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n.pending != nil && n.pending.requestID == requestID {
		return n.pending.reason
	}
	return ""
}

// noteDone records that the pending revocation of the grant happened.
func noteDone(ctx context.Context, requestID string) {
	c, n := notesOf(ctx)
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n.pending == nil || n.pending.requestID != requestID {
		return
	}
	for _, d := range n.done {
		if d == *n.pending {
			return
		}
	}
	n.done = append(n.done, *n.pending)
}

// takeNotes returns the notes and clears them.
func takeNotes(ctx context.Context) revocationNotes {
	c, n := notesOf(ctx)
	if c == nil {
		return revocationNotes{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := *n
	*n = revocationNotes{}
	return out
}

// NewAccessRequest is fosite's, plus what Signet adds around a replay
// fosite detects: the revocation it made is audited, and a refresh token
// of a grant revoked automatically before is answered with the reason
// instead of fosite's "already used".
func (p *Provider) NewAccessRequest(ctx context.Context, req *http.Request, session fosite.Session) (fosite.AccessRequester, error) {
	ar, err := p.OAuth2Provider.NewAccessRequest(ctx, req, session)
	notes := takeNotes(ctx)
	for _, r := range notes.done {
		p.auditRevocation(ctx, r)
	}
	if err != nil && notes.presented != nil {
		if hint, ok := revokedHints[*notes.presented]; ok {
			err = fosite.ErrInvalidGrant.WithWrap(err).WithHint(hint)
		}
	}
	return ar, err
}

// RevokeGrant deactivates every access and refresh token of the grant of
// req. A reason (Revoked*) marks an automatic revocation: it is kept on
// the rows and audited; "" is a revocation asked for.
func (p *Provider) RevokeGrant(ctx context.Context, req fosite.Requester, reason string) error {
	for _, kind := range []storage.RequestKind{storage.KindRefreshToken, storage.KindAccessToken} {
		if err := p.adapter.revoke(ctx, kind, req.GetID(), reason); err != nil {
			return err
		}
	}
	if reason != "" {
		p.auditRevocation(ctx, revocationOf(req, reason))
	}
	return nil
}

func (p *Provider) auditRevocation(ctx context.Context, r autoRevocation) {
	if p.audit == nil {
		return
	}
	p.audit.Record(ctx, audit.Event{Action: audit.GrantRevokeAutomatic, Target: r.subject,
		Details: map[string]string{"reason": r.reason, "client_id": r.clientID, "grant": r.requestID}})
}
