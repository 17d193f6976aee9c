// Package postgres is the production storage.Store, on PostgreSQL through
// sqlx and lib/pq. Open connects, Migrate applies the embedded schema from
// package migrations under an advisory lock (so replicas may start at
// once), and every Store method takes part in the transaction carried by its
// context when there is one.
//
// Column conventions: durations are bigint nanoseconds; lists are text[];
// optional instants are NULL when zero; audit details are jsonb. Instants
// are kept with microsecond precision and returned in UTC.
package postgres
