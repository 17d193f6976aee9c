package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/signet-idp/signet/internal/storage"
)

// CreateOAuthRequest stores a request row; ErrAlreadyExists for a
// duplicate (kind, signature).
func (s *Store) CreateOAuthRequest(ctx context.Context, r storage.OAuthRequest) error {
	if err := checkText(r); err != nil {
		return fmt.Errorf("create %s request: %w", r.Kind, err)
	}
	return s.do(ctx, func(d *state) error {
		k := requestKey{r.Kind, r.Signature}
		if _, ok := d.requests[k]; ok {
			return fmt.Errorf("create %s request: %w", r.Kind, storage.ErrAlreadyExists)
		}
		d.requests[k] = copyRequest(r)
		return nil
	})
}

// ListOAuthRequestsBySignature returns the rows of those kinds with that
// signature.
func (s *Store) ListOAuthRequestsBySignature(ctx context.Context, signature string, kinds []storage.RequestKind) ([]storage.OAuthRequest, error) {
	var out []storage.OAuthRequest
	err := s.do(ctx, func(d *state) error {
		for _, k := range kinds {
			if r, ok := d.requests[requestKey{k, signature}]; ok {
				out = append(out, copyRequest(r))
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b storage.OAuthRequest) int { return cmp.Compare(a.Kind, b.Kind) })
	return out, err
}

// CreateOAuthRequests stores the rows, all or none.
func (s *Store) CreateOAuthRequests(ctx context.Context, rows []storage.OAuthRequest) error {
	for _, r := range rows {
		if err := checkText(r); err != nil {
			return fmt.Errorf("create %s request: %w", r.Kind, err)
		}
	}
	return s.do(ctx, func(d *state) error {
		seen := map[requestKey]bool{}
		for _, r := range rows {
			k := requestKey{r.Kind, r.Signature}
			if _, ok := d.requests[k]; ok || seen[k] {
				return fmt.Errorf("create %s request: %w", r.Kind, storage.ErrAlreadyExists)
			}
			seen[k] = true
		}
		for _, r := range rows {
			d.requests[requestKey{r.Kind, r.Signature}] = copyRequest(r)
		}
		return nil
	})
}

// GetOAuthRequest returns the row, active or not.
func (s *Store) GetOAuthRequest(ctx context.Context, kind storage.RequestKind, signature string) (storage.OAuthRequest, error) {
	var out storage.OAuthRequest
	err := s.do(ctx, func(d *state) error {
		r, ok := d.requests[requestKey{kind, signature}]
		if !ok {
			return fmt.Errorf("get %s request: %w", kind, storage.ErrNotFound)
		}
		out = copyRequest(r)
		return nil
	})
	return out, err
}

// DeleteOAuthRequest removes the row.
func (s *Store) DeleteOAuthRequest(ctx context.Context, kind storage.RequestKind, signature string) error {
	return s.do(ctx, func(d *state) error {
		k := requestKey{kind, signature}
		if _, ok := d.requests[k]; !ok {
			return fmt.Errorf("delete %s request: %w", kind, storage.ErrNotFound)
		}
		delete(d.requests, k)
		return nil
	})
}

// DeactivateOAuthRequest marks an active row inactive: ErrNotFound when
// there is no row, ErrConflict when it was already inactive.
func (s *Store) DeactivateOAuthRequest(ctx context.Context, kind storage.RequestKind, signature string) error {
	return s.do(ctx, func(d *state) error {
		k := requestKey{kind, signature}
		r, ok := d.requests[k]
		if !ok {
			return fmt.Errorf("deactivate %s request: %w", kind, storage.ErrNotFound)
		}
		if !r.Active {
			return fmt.Errorf("deactivate %s request: already inactive: %w", kind, storage.ErrConflict)
		}
		r.Active = false // r is a copy; its slices are not touched
		d.requests[k] = r
		return nil
	})
}

// RotateRefreshToken deactivates the refresh token (stamping RotatedAt)
// and its grant's access tokens, or changes nothing.
func (s *Store) RotateRefreshToken(ctx context.Context, signature, requestID string, at time.Time) error {
	return s.do(ctx, func(d *state) error {
		k := requestKey{storage.KindRefreshToken, signature}
		r, ok := d.requests[k]
		if !ok {
			return fmt.Errorf("rotate refresh token: %w", storage.ErrNotFound)
		}
		if !r.Active {
			return fmt.Errorf("rotate refresh token: already inactive: %w", storage.ErrConflict)
		}
		r.Active, r.RotatedAt = false, at.UTC()
		d.requests[k] = r
		d.updateRequests(
			func(r storage.OAuthRequest) bool {
				return r.Kind == storage.KindAccessToken && r.RequestID == requestID
			},
			func(k requestKey, r storage.OAuthRequest) { r.Active = false; d.requests[k] = r })
		return nil
	})
}

// updateRequests applies fn to every row matching keep.
func (d *state) updateRequests(keep func(storage.OAuthRequest) bool, fn func(k requestKey, r storage.OAuthRequest)) {
	for k, r := range d.requests {
		if keep(r) {
			fn(k, r)
		}
	}
}

// DeactivateOAuthRequestsByRequestID marks every active row of that kind
// and grant inactive, with the reason.
func (s *Store) DeactivateOAuthRequestsByRequestID(ctx context.Context, kind storage.RequestKind, requestID, reason string) error {
	return s.do(ctx, func(d *state) error {
		d.updateRequests(
			func(r storage.OAuthRequest) bool { return r.Kind == kind && r.RequestID == requestID && r.Active },
			func(k requestKey, r storage.OAuthRequest) {
				r.Active, r.RevokedReason = false, reason
				d.requests[k] = r
			})
		return nil
	})
}

// DeleteOAuthRequestsByRequestID deletes every row of that kind and grant.
func (s *Store) DeleteOAuthRequestsByRequestID(ctx context.Context, kind storage.RequestKind, requestID string) error {
	return s.do(ctx, func(d *state) error {
		d.updateRequests(
			func(r storage.OAuthRequest) bool { return r.Kind == kind && r.RequestID == requestID },
			func(k requestKey, _ storage.OAuthRequest) { delete(d.requests, k) })
		return nil
	})
}

// DeactivateOAuthRequestsBySubject marks inactive every row of the subject,
// only those of clientID when it is not empty.
func (s *Store) DeactivateOAuthRequestsBySubject(ctx context.Context, subject, clientID string) error {
	return s.do(ctx, func(d *state) error {
		d.updateRequests(
			func(r storage.OAuthRequest) bool {
				return r.Subject == subject && (clientID == "" || r.ClientID == clientID)
			},
			func(k requestKey, r storage.OAuthRequest) { r.Active = false; d.requests[k] = r })
		return nil
	})
}

// DeleteExpiredOAuthRequests deletes up to limit rows (no limit when limit
// <= 0) that expired before the given time. Rows with a zero ExpiresAt
// never expire.
func (s *Store) DeleteExpiredOAuthRequests(ctx context.Context, before time.Time, limit int) (int, error) {
	return sweep(ctx, s, func(d *state) map[requestKey]storage.OAuthRequest { return d.requests }, before, limit, func(v storage.OAuthRequest) time.Time { return v.ExpiresAt })
}

// CreateLoginChallenge stores a parked authorization request.
func (s *Store) CreateLoginChallenge(ctx context.Context, c storage.LoginChallenge) error {
	if err := checkText(c); err != nil {
		return fmt.Errorf("create login challenge: %w", err)
	}
	return s.do(ctx, func(d *state) error {
		if _, ok := d.challenges[c.ID]; ok {
			return fmt.Errorf("create login challenge: %w", storage.ErrAlreadyExists)
		}
		d.challenges[c.ID] = copyChallenge(c)
		return nil
	})
}

// GetLoginChallenge returns the challenge with that id.
func (s *Store) GetLoginChallenge(ctx context.Context, id string) (storage.LoginChallenge, error) {
	var out storage.LoginChallenge
	err := s.do(ctx, func(d *state) error {
		c, ok := d.challenges[id]
		if !ok {
			return fmt.Errorf("get login challenge: %w", storage.ErrNotFound)
		}
		out = copyChallenge(c)
		return nil
	})
	return out, err
}

// UpdateLoginChallenge replaces Subject, AuthTime, SessionID, ConsentGiven
// and GrantedScopes.
func (s *Store) UpdateLoginChallenge(ctx context.Context, c storage.LoginChallenge) error {
	if err := checkText(c); err != nil {
		return fmt.Errorf("update login challenge: %w", err)
	}
	return s.do(ctx, func(d *state) error {
		old, ok := d.challenges[c.ID]
		if !ok {
			return fmt.Errorf("update login challenge: %w", storage.ErrNotFound)
		}
		old.Subject, old.AuthTime, old.SessionID = c.Subject, c.AuthTime, c.SessionID
		old.ConsentGiven, old.GrantedScopes = c.ConsentGiven, c.GrantedScopes
		d.challenges[c.ID] = copyChallenge(old)
		return nil
	})
}

// ConsumeLoginChallenge deletes and returns the challenge; ErrNotFound when
// it is gone, so exactly one caller gets it.
func (s *Store) ConsumeLoginChallenge(ctx context.Context, id string) (storage.LoginChallenge, error) {
	var out storage.LoginChallenge
	err := s.do(ctx, func(d *state) error {
		c, ok := d.challenges[id]
		if !ok {
			return fmt.Errorf("consume login challenge: %w", storage.ErrNotFound)
		}
		delete(d.challenges, id)
		out = c // deleted: no longer shared
		return nil
	})
	return out, err
}

// DeleteExpiredLoginChallenges deletes up to limit challenges (no limit
// when limit <= 0) that expired before the given time.
func (s *Store) DeleteExpiredLoginChallenges(ctx context.Context, before time.Time, limit int) (int, error) {
	return sweep(ctx, s, func(d *state) map[string]storage.LoginChallenge { return d.challenges }, before, limit, func(v storage.LoginChallenge) time.Time { return v.ExpiresAt })
}

// UpsertConsent creates or replaces the consent of (UserID, ClientID); a
// replaced consent keeps its CreatedAt. ErrNotFound when the user or client
// does not exist.
func (s *Store) UpsertConsent(ctx context.Context, c storage.Consent) error {
	if err := checkText(c); err != nil {
		return fmt.Errorf("upsert consent of user %q for client %q: %w", c.UserID, c.ClientID, err)
	}
	return s.do(ctx, func(d *state) error {
		if _, ok := d.users[c.UserID]; !ok {
			return fmt.Errorf("upsert consent of user %q: user: %w", c.UserID, storage.ErrNotFound)
		}
		if _, ok := d.clients[c.ClientID]; !ok {
			return fmt.Errorf("upsert consent of user %q: client %q: %w", c.UserID, c.ClientID, storage.ErrNotFound)
		}
		k := consentKey{c.UserID, c.ClientID}
		if old, ok := d.consents[k]; ok {
			c.CreatedAt = old.CreatedAt
		}
		d.consents[k] = copyConsent(c)
		return nil
	})
}

// GetConsent returns the user's consent for the client.
func (s *Store) GetConsent(ctx context.Context, userID, clientID string) (storage.Consent, error) {
	var out storage.Consent
	err := s.do(ctx, func(d *state) error {
		c, ok := d.consents[consentKey{userID, clientID}]
		if !ok {
			return fmt.Errorf("get consent of user %q for client %q: %w", userID, clientID, storage.ErrNotFound)
		}
		out = copyConsent(c)
		return nil
	})
	return out, err
}

// ListConsents returns the user's consents, by client id.
func (s *Store) ListConsents(ctx context.Context, userID string) ([]storage.Consent, error) {
	var out []storage.Consent
	err := s.do(ctx, func(d *state) error {
		out = []storage.Consent{}
		for k, c := range d.consents {
			if k.userID == userID {
				out = append(out, copyConsent(c))
			}
		}
		slices.SortFunc(out, func(a, b storage.Consent) int { return cmp.Compare(a.ClientID, b.ClientID) })
		return nil
	})
	return out, err
}

// DeleteConsent removes the user's consent for the client.
func (s *Store) DeleteConsent(ctx context.Context, userID, clientID string) error {
	return s.do(ctx, func(d *state) error {
		k := consentKey{userID, clientID}
		if _, ok := d.consents[k]; !ok {
			return fmt.Errorf("delete consent of user %q for client %q: %w", userID, clientID, storage.ErrNotFound)
		}
		delete(d.consents, k)
		return nil
	})
}
