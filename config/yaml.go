package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LookupEnv looks up an environment variable, like os.LookupEnv.
type LookupEnv func(name string) (string, bool)

// expandEnv replaces ${NAME} in every scalar value under n (keys are left
// alone). "$${" stands for a literal "${". An unset variable is an error
// naming it and the line.
func expandEnv(n *yaml.Node, lookup LookupEnv, isKey bool) error {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if err := expandEnv(c, lookup, false); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i, c := range n.Content {
			if err := expandEnv(c, lookup, i%2 == 0); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		if isKey || !strings.Contains(n.Value, "${") {
			return nil
		}
		v, err := expandString(n.Value, lookup)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		n.Value = v
		if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
			n.Tag = "" // a plain scalar: resolve its type again from the expanded text
		}
	}
	return nil
}

func expandString(s string, lookup LookupEnv) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' { // "$${" is a literal "${"
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			// The value is not quoted: it may be a secret.
			return "", errors.New("unterminated ${ in a value (not shown, it may be a secret): write ${NAME}, or $${ for a literal ${")
		}
		name := s[i+2 : i+end]
		if !validEnvName(name) {
			return "", fmt.Errorf("invalid environment variable name %q in ${...}: use letters, digits and _, not starting with a digit", name)
		}
		v, ok := lookup(name)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set (referenced as ${%s}); set it, or write $${%s} for a literal", name, name, name)
		}
		b.WriteString(v)
		s = s[i+end+1:]
	}
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// lineIndex maps lines to option paths ("keyManagement.rotationInterval",
// "clients[1]") and back, for error messages.
type lineIndex struct {
	byLine map[int]string // the last path seen on a line
	byPath map[string]int // the line a path starts on
}

func (x *lineIndex) add(line int, path string) {
	if path == "" {
		return
	}
	x.byLine[line] = path
	if _, ok := x.byPath[path]; !ok {
		x.byPath[path] = line
	}
}

// checkKeys walks n against the Go type t and reports the first mapping key
// t has no field for, recording the line of every path on the way.
func checkKeys(n *yaml.Node, t reflect.Type, path string, paths *lineIndex) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			if err := checkKeys(c, t, path, paths); err != nil {
				return err
			}
		}
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	paths.add(n.Line, path)
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil // a type error; the decoder reports it
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Value == "<<" && k.Tag == "!!merge" {
				if err := checkKeys(v, t, path, paths); err != nil {
					return err
				}
				continue
			}
			f, ok := fields[k.Value]
			if !ok {
				where := "at the top level"
				if path != "" {
					where = "in " + path
				}
				msg := fmt.Sprintf("line %d: unknown key %q %s", k.Line, k.Value, where)
				if s := suggest(k.Value, fields); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				} else {
					msg += "; known keys: " + strings.Join(sortedKeys(fields), ", ")
				}
				return fmt.Errorf("%s", msg)
			}
			child := k.Value
			if path != "" {
				child = path + "." + k.Value
			}
			paths.add(k.Line, child)
			if err := checkKeys(v, f.Type, child, paths); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode || t.Elem().Kind() == reflect.Uint8 {
			return nil
		}
		for i, c := range n.Content {
			if err := checkKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), paths); err != nil {
				return err
			}
		}
	}
	return nil
}

func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := make(map[string]reflect.StructField, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f
	}
	return out
}

func sortedKeys(m map[string]reflect.StructField) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// suggest returns the known key closest to s (case-insensitive equal, or at
// most two edits away), or "".
func suggest(s string, fields map[string]reflect.StructField) string {
	best, bestD := "", 3
	for _, k := range sortedKeys(fields) {
		if strings.EqualFold(k, s) {
			return k
		}
		if d := editDistance(strings.ToLower(s), strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
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

// friendlyTypeError rewrites one of yaml's "line N: cannot unmarshal !!tag
// `v` into T" messages to name the option and what it expects.
// secretPath reports whether an option path holds secrets, whose values
// errors must not print.
func secretPath(path string) bool {
	p := strings.ToLower(path)
	return strings.Contains(p, "secret") || strings.Contains(p, "password") || strings.Contains(p, "dsn")
}

func friendlyTypeError(msg string, paths map[int]string) string {
	var line int
	if _, err := fmt.Sscanf(msg, "line %d:", &line); err != nil {
		return msg
	}
	rest := strings.TrimSpace(msg[strings.IndexByte(msg, ':')+1:])
	where := ""
	if p := paths[line]; p != "" {
		where = " " + p + ":"
	}
	if strings.HasPrefix(rest, "cannot unmarshal ") {
		into := rest[strings.LastIndex(rest, " into ")+len(" into "):]
		got := strings.TrimPrefix(rest, "cannot unmarshal ")
		got = got[:strings.LastIndex(got, " into ")]
		want := "a value of type " + into
		switch {
		case into == "bool":
			want = "true or false"
		case strings.HasPrefix(into, "int"), strings.HasPrefix(into, "uint"):
			want = "a whole number"
		case into == "string":
			want = "a string"
		case strings.HasPrefix(into, "[]"):
			want = "a list"
		case strings.HasPrefix(into, "config.") || strings.HasPrefix(into, "*config."):
			want = "a mapping (key: value)"
		}
		if secretPath(paths[line]) {
			got, _, _ = strings.Cut(got, " ") // the YAML tag only: the value may be a secret
		}
		return fmt.Sprintf("line %d:%s expected %s, got %s", line, where, want, got)
	}
	return fmt.Sprintf("line %d:%s %s", line, where, rest)
}
