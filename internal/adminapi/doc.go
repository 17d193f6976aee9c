// Package adminapi holds the wire types of the JSON admin API: the request
// and response bodies of its client, user, role, key and audit endpoints
// and its error body. The server (internal/web/admin) answers with them,
// the client (internal/adminclient) sends and reads them, and the
// `signet … -o json` commands print them, so each shape is written once.
//
// The JSON tags are the API's contract: changing one changes what scripts
// and the CLI see (types_test.go pins every shape). omitempty on a request
// field only keeps the client from sending an empty value; the server
// decodes an absent field and an empty one alike.
//
// The package depends on no service: converting storage and accounts
// records into these types is the server's job.
package adminapi
