package advisor

import (
	"time"

	"github.com/signet-id/signet/key"
)

// The timing rules live in package key (key.TimingOptions.Validate is
// the one implementation); these names remain for existing callers.

// Timing is what CheckTiming checks (see [key.Timing]).
type Timing = key.Timing

// Violation is one broken inequality (see [key.Violation]).
type Violation = key.Violation

// Check is one inequality evaluated with the configured numbers (see
// [key.Check]).
type Check = key.Check

// CheckTiming returns every broken inequality of the key lifecycle (see
// [key.CheckTiming]).
func CheckTiming(t Timing) []Violation { return key.CheckTiming(t) }

// Checks evaluates every inequality of CheckTiming (see [key.Checks]).
func Checks(t Timing) []Check { return key.Checks(t) }

// FormatDuration writes d as the advisor does: whole days as 14d or
// 1d12h, shorter spans in Go syntax without zero units (90m, 1m30s).
func FormatDuration(d time.Duration) string { return key.FormatDuration(d) }
