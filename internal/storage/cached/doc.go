// Package cached puts a short-lived, bounded cache in front of the
// storage reads every token request makes (clients), so the token endpoint
// does not pay a database round trip for a record that almost never
// changes.
//
// A change made through the cached store is seen at once by this process;
// a change made elsewhere (another replica) is seen within the TTL. Only
// records that exist are cached: unknown ids always reach the database, so
// nobody can fill the cache with made-up client ids.
package cached
