package keys

import (
	"testing"

	"github.com/signet-idp/signet/internal/pgtest"
)

// Replicas starting together on one database create one key between them
// (LockKeys is a transaction advisory lock there).
func TestConcurrentOpenCreatesOneKeyOnPostgres(t *testing.T) {
	s := pgtest.NewStore(t)
	runConcurrentOpen(t, s)
}

// Replicas stepping together on one database agree (LockKeys serialises
// their changes).
func TestReplicasAgreeOnPostgres(t *testing.T) {
	s := pgtest.NewStore(t)
	runReplicasAgree(t, s)
}
