package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// configFlag names the configuration file flag of serve and migrate; its
// environment twin is SIGNET_CONFIG.
const configFlag = "config"

// fileSuffix turns a setting into its read-from-a-file twin: the key
// secret-file (or SIGNET_SECRET_FILE) holds the path of a file whose
// contents are the secret, so secrets can come from mounted Kubernetes or
// Docker secrets instead of the environment or the command line.
const fileSuffix = "-file"

// addConfigFlag gives a command the --config flag. The keys of the file
// are the flag names of serve, so every flag registered on serve is a key
// without further wiring.
func addConfigFlag(cmd *cobra.Command) {
	cmd.Flags().String(configFlag, "", "YAML configuration file whose keys are the flag names (flags and environment win over it)")
}

// settingsEnv is where loadSettings reads the environment and files;
// tests replace both.
type settingsEnv struct {
	lookup   func(string) (string, bool)
	readFile func(string) ([]byte, error)
}

var osSettingsEnv = settingsEnv{lookup: os.LookupEnv, readFile: os.ReadFile}

// loadSettings fills every flag the command line left unset, from (in
// this order) its environment twin SIGNET_X or SIGNET_X_FILE, then the
// configuration file's key x or x-file. Every problem (unknown keys, bad
// values, unreadable files, a setting given twice) is reported at once.
func loadSettings(cmd *cobra.Command, env settingsEnv) error {
	fs := cmd.Flags()
	var problems []string
	var file map[string]fileSetting
	if f := fs.Lookup(configFlag); f != nil {
		path := f.Value.String()
		if !f.Changed {
			if v, ok := env.lookup(envName(configFlag)); ok {
				path = v
			}
		}
		if path != "" {
			var err error
			file, err = readConfigFile(path, serveKeys(), env.readFile)
			if err != nil {
				problems = append(problems, err.Error())
			}
		}
	}
	problems = append(problems, applySettings(fs, env, file)...)
	if len(problems) == 0 {
		return nil
	}
	return errors.New("invalid configuration: " + strings.Join(problems, "; "))
}

// applyEnv sets every flag the command line left unset from its
// environment twin (SIGNET_X, or the contents of the file SIGNET_X_FILE
// names). List flags take a comma-separated value.
func applyEnv(fs *pflag.FlagSet, lookup func(string) (string, bool)) error {
	problems := applySettings(fs, settingsEnv{lookup: lookup, readFile: os.ReadFile}, nil)
	if len(problems) == 0 {
		return nil
	}
	return errors.New("invalid configuration: " + strings.Join(problems, "; "))
}

// applySettings is the precedence: the command line, then the
// environment, then the file.
func applySettings(fs *pflag.FlagSet, env settingsEnv, file map[string]fileSetting) []string {
	var problems []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" || f.Name == configFlag {
			return
		}
		name := envName(f.Name)
		v, direct := env.lookup(name)
		path, fromFile := env.lookup(name + "_FILE")
		switch {
		case direct && fromFile:
			problems = append(problems, fmt.Sprintf("%s and %s_FILE are both set", name, name))
			return
		case fromFile:
			data, err := env.readFile(path)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s_FILE: %v", name, err))
				return
			}
			v, direct = trimFileValue(data), true
		}
		if direct {
			if err := setFlag(fs, f, splitList(v), v); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			}
			return
		}
		if s, ok := file[f.Name]; ok {
			if err := setFlag(fs, f, s.list, s.value); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", s.where, err))
			}
		}
	})
	return problems
}

// setFlag sets a list flag to list and any other flag to value.
func setFlag(fs *pflag.FlagSet, f *pflag.Flag, list []string, value string) error {
	if sv, isSlice := f.Value.(pflag.SliceValue); isSlice {
		return sv.Replace(list)
	}
	return fs.Set(f.Name, value)
}

// trimFileValue drops the line end editors and `echo` leave at the end of
// a secret file; other white space is part of the value.
func trimFileValue(data []byte) string {
	return strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
}

// fileSetting is one key of the configuration file.
type fileSetting struct {
	// value is a scalar's text; list the items of a list flag (a YAML
	// sequence, or a scalar split at commas like the environment's).
	value string
	list  []string
	// where names the file, line and key for messages.
	where string
}

// serveKeys are the keys a configuration file may hold: serve's flags
// (migrate's are a subset, so one file serves both).
func serveKeys() map[string]*pflag.Flag {
	keys := map[string]*pflag.Flag{}
	newServeCmd().Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" && f.Name != configFlag {
			keys[f.Name] = f
		}
	})
	return keys
}

// readConfigFile parses a flat YAML mapping of flag names to values. It
// reports every unknown key and malformed value at once; values are
// checked by setting them on the flags, in applySettings.
func readConfigFile(path string, known map[string]*pflag.Flag, readFile func(string) ([]byte, error)) (map[string]fileSetting, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("configuration file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("configuration file %s: %w", path, err)
	}
	out := map[string]fileSetting{}
	if len(doc.Content) == 0 { // an empty file sets nothing
		return out, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("configuration file %s: must be a mapping of flag names to values", path)
	}
	var problems []string
	seen := map[string]string{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		where := fmt.Sprintf("%s:%d: %s", path, k.Line, k.Value)
		key, viaFile := k.Value, false
		if _, ok := known[key]; !ok && strings.HasSuffix(key, fileSuffix) {
			if _, ok := known[strings.TrimSuffix(key, fileSuffix)]; ok {
				key, viaFile = strings.TrimSuffix(key, fileSuffix), true
			}
		}
		flag, ok := known[key]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: unknown key%s", where, suggestKey(k.Value, known)))
			continue
		}
		if other, dup := seen[key]; dup {
			problems = append(problems, fmt.Sprintf("%s: %s is already set by %s", where, key, other))
			continue
		}
		seen[key] = k.Value
		if v.Tag == "!!null" {
			continue // "key:" with nothing after it leaves the default
		}
		s := fileSetting{where: where}
		_, isList := flag.Value.(pflag.SliceValue)
		switch {
		case viaFile:
			if v.Kind != yaml.ScalarNode {
				problems = append(problems, where+": must be a file path")
				continue
			}
			b, err := readFile(v.Value)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", where, err))
				continue
			}
			s.value = trimFileValue(b)
			s.list = splitList(s.value)
		case v.Kind == yaml.ScalarNode:
			s.value, s.list = v.Value, splitList(v.Value)
		case v.Kind == yaml.SequenceNode && isList:
			bad := false
			for _, item := range v.Content {
				if item.Kind != yaml.ScalarNode {
					bad = true
					break
				}
				s.list = append(s.list, item.Value)
			}
			if bad {
				problems = append(problems, where+": list items must be plain values")
				continue
			}
			if s.list == nil {
				s.list = []string{}
			}
		default:
			want := "a single value"
			if isList {
				want = "a list or a comma-separated value"
			}
			problems = append(problems, fmt.Sprintf("%s: must be %s", where, want))
			continue
		}
		out[key] = s
	}
	if len(problems) > 0 {
		return out, errors.New(strings.Join(problems, "; "))
	}
	return out, nil
}

// suggestKey names the known key closest to a misspelt one, if any is
// close: "issuer-url" → "(did you mean issuer?)".
func suggestKey(key string, known map[string]*pflag.Flag) string {
	names := make([]string, 0, len(known))
	for n := range known {
		names = append(names, n)
	}
	sort.Strings(names)
	best, bestDist := "", 3
	norm := strings.ReplaceAll(strings.ToLower(key), "_", "-")
	for _, n := range names {
		if norm == n {
			return fmt.Sprintf(" (did you mean %s? keys are the flag names)", n)
		}
		d := editDistance(norm, n)
		if strings.HasPrefix(norm, n+"-") {
			d = 1 // issuer-url → issuer
		}
		if d < bestDist {
			best, bestDist = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
