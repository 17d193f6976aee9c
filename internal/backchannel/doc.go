// Package backchannel implements OpenID Connect Back-Channel Logout 1.0:
// it records which clients received tokens in each browser session, and
// delivers the logout tokens that storage queues when such a session ends
// (sign-out, sign-out of other sessions, password reset, a disabled or
// deleted account).
//
// Delivery runs in the background on every replica: each claims due
// deliveries from the shared queue (a lease, so a replica that dies
// mid-delivery leaves them to the others), POSTs a signed logout_token
// through the outbound SSRF policy with a short timeout, retries with
// exponential backoff and gives up after a few attempts. Each delivery runs
// on its own goroutine (bounded), so one slow relying party delays neither
// the person signing out nor the other relying parties. Every outcome is
// logged and audited (backchannel.delivered, backchannel.failed).
//
// With the feature off a Dropper takes the delivery loop's place: it
// claims what is still queued the same way and removes it unsent
// (backchannel.dropped), so the queue does not grow forever.
package backchannel
