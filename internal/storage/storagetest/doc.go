// Package storagetest is the conformance suite every storage.Store
// implementation must pass. RunTests drives a fresh store per case through
// the whole contract of package storage: values round trip, the fixed
// errors come back where the contract names them (checked with errors.Is),
// cascades and single-use records behave, transactions commit and roll back
// as a unit, and racing writers get exactly one winner.
//
// The suite uses instants with microsecond precision in UTC, because that is
// what PostgreSQL keeps; implementations return every instant in UTC.
package storagetest
