// Package config holds Signet's one typed configuration struct, its defaults
// and Validate, which reports every problem at once. Flags and environment
// variables are bound in cmd/signet; nothing here reads the environment.
package config
