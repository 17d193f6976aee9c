package adminapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
)

// wireTypes are the bodies both sides decode: requests (the server decodes
// strictly) and answers (the CLI decodes).
var wireTypes = []func() any{
	func() any { return &ClientRegistration{} },
	func() any { return &NewUser{} },
	func() any { return &UserRoles{} },
	func() any { return &NewRole{} },
	func() any { return &RotateKeys{} },
	func() any { return &OAuthClient{} },
	func() any { return &User{} },
	func() any { return &Role{} },
	func() any { return &AuditEvent{} },
	func() any { return &SigningKey{} },
	func() any { return &LogoutResult{} },
	func() any { return &ErrorBody{} },
	func() any { return &NewConnector{} },
	func() any { return &ConnectorPatch{} },
	func() any { return &Connector{} },
}

// decodeStrict is the server's decoding: one JSON value, no unknown
// fields, nothing after it.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return errors.New("data after the value")
	}
	return nil
}

// FuzzWireRoundTrip: any body that strictly decodes into a wire type
// encodes to JSON that the strict decoder takes back, as the same value
// (its encoding is a fixed point), and a PUT /users/:id/roles body keeps
// the difference between "roles": null (refused) and [] (remove all).
// What the CLI sends is therefore always what the server reads.
func FuzzWireRoundTrip(f *testing.F) {
	f.Add(uint8(0), []byte(`{"client_name":"App","redirect_uris":["https://a.example/cb"],"scope":"openid email","first_party":true}`))
	f.Add(uint8(0), []byte(`{"client_name":"\u00e9\ud800","redirect_uris":[]}`))
	f.Add(uint8(1), []byte(`{"username":"alice","email":"a@example.com","password":"pw","roles":[]}`))
	f.Add(uint8(1), []byte(`{"username":"alice","Username":"bob"}`))
	f.Add(uint8(2), []byte(`{"roles":[]}`))
	f.Add(uint8(2), []byte(`{"roles":null}`))
	f.Add(uint8(2), []byte(`{}`))
	f.Add(uint8(3), []byte(`{"name":"editor","description":"<b>&</b>"}`))
	f.Add(uint8(4), []byte(`{"alg":"ES256"}`))
	f.Add(uint8(5), []byte(`{"client_id":"c1","created_at":"2026-03-01T12:00:00.123456789+02:00"}`))
	f.Add(uint8(6), []byte(`{"id":"u1","created_at":"2026-03-01T12:00:00Z","updated_at":"0001-01-01T00:00:00Z"}`))
	f.Add(uint8(8), []byte(`{"id":9007199254740993,"details":{"a":"b","":""}}`))
	f.Add(uint8(9), []byte(`{"kid":"k","activate_at":null,"retired_at":"2026-03-01T12:00:00Z"}`))
	f.Add(uint8(10), []byte(`{"sessions_ended":-1}`))
	f.Add(uint8(11), []byte(`{"error":"x","error_description":"y"}`))
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		newV := wireTypes[int(kind)%len(wireTypes)]
		v := newV()
		if decodeStrict(body, v) != nil {
			return
		}
		enc, err := json.Marshal(v)
		if err != nil {
			// Only a time outside years 0..9999 cannot be encoded; the
			// server never makes one.
			return
		}
		v2 := newV()
		if err := decodeStrict(enc, v2); err != nil {
			t.Fatalf("%T: %s decoded, but its encoding %s does not: %v", v, body, enc, err)
		}
		enc2, err := json.Marshal(v2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("%T: encoding is not stable:\n%s\n%s (%v)", v, enc, enc2, err)
		}
		if r, ok := v.(*UserRoles); ok && (r.Roles == nil) != (v2.(*UserRoles).Roles == nil) {
			t.Fatalf("roles %s: null and [] got mixed up through %s", body, enc)
		}
	})
}
