package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/signet-id/signet/key"
)

// Duration is a time.Duration written in Go syntax ("90m", "12h30m") or
// with a leading count of days ("90d", "1d12h", "0.5d").
type Duration time.Duration

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a duration like 90d, 12h or 30m", n.Line)
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// ParseDuration parses a non-negative duration in Go syntax, optionally
// preceded by days: "90d", "1d12h", "36h", "1.5d", "0".
func ParseDuration(s string) (time.Duration, error) {
	bad := func() (time.Duration, error) {
		return 0, fmt.Errorf("invalid duration %q: use Go syntax like 90m or 12h, or days like 90d or 1d12h", s)
	}
	in := strings.TrimSpace(s)
	if in == "" || in[0] == '-' || in[0] == '+' {
		if in != "" && in[0] == '-' {
			return 0, errors.New("invalid duration " + strconv.Quote(s) + ": durations must not be negative")
		}
		return bad()
	}
	var total float64
	if i := strings.IndexByte(in, 'd'); i >= 0 {
		days, err := strconv.ParseFloat(in[:i], 64)
		if err != nil || i == 0 || math.IsInf(days, 0) || math.IsNaN(days) || days < 0 {
			return bad()
		}
		total = days * float64(24*time.Hour)
		in = in[i+1:]
		if in == "" {
			if total > math.MaxInt64 {
				return bad()
			}
			return time.Duration(total), nil
		}
		if in[0] == '-' || in[0] == '+' {
			return bad()
		}
	}
	rest, err := time.ParseDuration(in)
	if err != nil {
		return bad()
	}
	total += float64(rest)
	if total > math.MaxInt64 {
		return bad()
	}
	return time.Duration(total), nil
}

// FormatDuration writes d with days when it is a whole number of days
// ("14d"), in Go syntax otherwise.
func FormatDuration(d time.Duration) string { return key.FormatOptionDuration(d) }
