package mfa

import "slices"

// Authentication methods (RFC 8176) a session records and ID tokens carry
// in `amr`.
const (
	MethodPassword = "pwd"
	MethodOTP      = "otp"
	// MethodHardwareKey is any WebAuthn credential: the private key is
	// held by an authenticator, never by Signet.
	MethodHardwareKey = "hwk"
	MethodMFA         = "mfa"
)

// Authentication context classes (the `acr` claim, acr_values_supported).
const (
	ACROneFactor = "urn:signet:acr:1fa"
	ACRTwoFactor = "urn:signet:acr:2fa"
)

// SupportedACRValues lists the classes discovery publishes.
func SupportedACRValues() []string { return []string{ACROneFactor, ACRTwoFactor} }

// ACRFor is the class a sign-in with these methods reached.
func ACRFor(amr []string) string {
	if slices.Contains(amr, MethodMFA) {
		return ACRTwoFactor
	}
	return ACROneFactor
}

// WithSecondFactor adds a second factor's method to a first factor's
// methods, and "mfa".
func WithSecondFactor(first []string, method string) []string {
	out := slices.Clone(first)
	for _, m := range []string{method, MethodMFA} {
		if m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// TwoFactor reports whether a session's class is the two-factor one.
func TwoFactor(acr string) bool { return acr == ACRTwoFactor }
