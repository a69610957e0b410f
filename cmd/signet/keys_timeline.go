package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/advisor"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
)

func newKeysTimelineCmd(e *env, o *keysOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "timeline",
		Short: "Chart each key's announced, signing and retained spans around now",
		Long: `timeline draws, per algorithm, each published key's schedule on one time axis
around now, in 80 columns:

  -  announced: published, does not sign yet (a key on standby: while the
     signingCredential of its algorithm signs, in phase 1 of a migration)
  #  signing window (a configured signingCredential: always)
  .  retired: still published until deleteAfter (a validation key: always)
  v  now (: on the rows)

Revoked, expired and unreadable keys are not published and not drawn; the
chart counts them. signet keys list gives the exact times.`,
		Example: `  signet keys timeline --config signet.yaml`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := openKeys(cmd.Context(), o, e, true)
			if err != nil {
				return err
			}
			defer s.close()
			warnUnreadable(e, s.m.Keys())
			if err := renderTimeline(e.stdout, s.now(), s.m.Keys()); err != nil {
				return err
			}
			return keysTrouble(s)
		},
	}
}

// The timeline's layout: a label (kid, state) then the bar between two
// edges, 80 columns in all.
const (
	timelineWidth = 80
	tlKidWidth    = 12
	tlStateWidth  = 14
	tlLabelWidth  = tlKidWidth + 1 + tlStateWidth + 1
	tlColumns     = timelineWidth - tlLabelWidth - 2
	tlMaxReach    = 50 * 365 * key.Day
)

// Cells of the chart.
const (
	cellAnnounced = '-'
	cellSigning   = '#'
	cellRetained  = '.'
	cellNow       = ':'
)

// niceSteps are the column widths the chart chooses from.
var niceSteps = []time.Duration{
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 4 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	key.Day, 2 * key.Day, 3 * key.Day, 4 * key.Day, 5 * key.Day, 7 * key.Day, 10 * key.Day, 14 * key.Day,
	30 * key.Day, 60 * key.Day, 90 * key.Day, 180 * key.Day, 365 * key.Day,
}

// renderTimeline writes the chart of keys at now. It is a pure function
// of its arguments; every line fits in timelineWidth columns.
func renderTimeline(w io.Writer, now time.Time, keys []keymanager.KeyInfo) error {
	now = now.UTC()
	var shown []keymanager.KeyInfo
	var revoked, expired, unreadable int
	lo, hi := now, now
	managed := false
	staticAlgs := map[key.Algorithm]bool{}
	for _, k := range keys {
		if k.State == keymanager.StateStaticSigning {
			staticAlgs[k.Algorithm] = true
		}
		switch {
		case k.Unreadable != nil:
			unreadable++
		case k.State == key.StateRevoked:
			revoked++
		case k.State == key.StateExpired:
			expired++
		default:
			shown = append(shown, k)
			if !k.Created.IsZero() {
				managed = true
				lo, hi = minTime(lo, k.Created), maxTime(hi, k.DeleteAfter)
			}
		}
	}
	if !managed {
		lo, hi = now.Add(-key.Day), now.Add(key.Day)
	}
	// Beyond a century the chart says nothing useful (and durations
	// overflow): keys reaching further run off its edge.
	lo, hi = maxTime(lo, now.Add(-tlMaxReach)), minTime(hi, now.Add(tlMaxReach))
	start, step := timelineAxis(lo, hi)
	col := func(t time.Time) int { return int(t.Sub(start) / step) }
	nowCol := clampCol(col(now))

	var b strings.Builder
	fmt.Fprintf(&b, "now %s; one column = %s\n", now.Format(time.RFC3339), advisor.FormatDuration(step))
	if len(shown) == 0 {
		b.WriteString("\nno published keys\n")
	}
	for _, alg := range timelineAlgorithms(shown) {
		b.WriteString("\n" + string(alg) + "\n")
		b.WriteString(dateLine(start, step, nowCol))
		axis := []byte(strings.Repeat("-", tlColumns))
		axis[nowCol] = 'v'
		fmt.Fprintf(&b, "%-*s %-*s +%s+\n", tlKidWidth, "kid", tlStateWidth, "state", axis)
		for _, k := range shown {
			if k.Algorithm != alg {
				continue
			}
			row := []byte(strings.Repeat(" ", tlColumns))
			paint := func(from, to time.Time, c byte) {
				if !to.After(from) {
					return
				}
				first, last := col(from), col(to.Add(-1))
				for i := max(first, 0); i <= min(last, tlColumns-1); i++ {
					row[i] = c
				}
			}
			switch {
			case k.State == keymanager.StateStaticSigning:
				paint(start, start.Add(tlColumns*step), cellSigning)
			case k.State == keymanager.StateValidation:
				paint(start, start.Add(tlColumns*step), cellRetained)
			case staticAlgs[k.Algorithm]:
				// Phase 1: the static credential signs in its place;
				// the key signs only after the migration's next step.
				paint(k.RetiresAt, k.DeleteAfter, cellRetained)
				paint(k.Created, k.RetiresAt, cellAnnounced)
			default:
				paint(k.RetiresAt, k.DeleteAfter, cellRetained)
				paint(k.Created, k.SignsFrom, cellAnnounced)
				paint(k.SignsFrom, k.RetiresAt, cellSigning)
			}
			if row[nowCol] == ' ' {
				row[nowCol] = cellNow
			}
			fmt.Fprintf(&b, "%-*s %-*s |%s|\n", tlKidWidth, shortKID(k.KID), tlStateWidth, listedState(k), row)
		}
	}
	b.WriteString("\n- announced, does not sign yet   # signing   . retired, still published\n")
	b.WriteString("v now (: where a row is empty)\n")
	var hidden []string
	for _, h := range []struct {
		n    int
		what string
	}{{revoked, "revoked"}, {expired, "expired"}, {unreadable, "unreadable"}} {
		if h.n > 0 {
			hidden = append(hidden, fmt.Sprintf("%d %s", h.n, h.what))
		}
	}
	if len(hidden) > 0 {
		fmt.Fprintf(&b, "not drawn: %s (see signet keys list)\n", strings.Join(hidden, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// timelineAxis chooses the chart's first instant and column width: the
// smallest nice width whose columns, from a start aligned to it, cover
// [lo, hi].
func timelineAxis(lo, hi time.Time) (time.Time, time.Duration) {
	step := niceSteps[len(niceSteps)-1]
	for _, s := range niceSteps {
		if !lo.Truncate(s).Add(tlColumns * s).Before(hi) {
			step = s
			break
		}
	}
	for lo.Truncate(step).Add(tlColumns * step).Before(hi) {
		step *= 2
	}
	return lo.Truncate(step), step
}

// dateLine writes the axis' first and last instants and "now" above its
// column, when there is room.
func dateLine(start time.Time, step time.Duration, nowCol int) string {
	layout := "15:04:05"
	switch {
	case step < time.Second:
		layout = "15:04:05.0"
	case step >= key.Day:
		layout = "2006-01-02"
	case step >= time.Minute:
		layout = "2006-01-02 15:04"
	}
	line := []byte(strings.Repeat(" ", timelineWidth))
	first, last := start.Format(layout), start.Add(tlColumns*step).Format(layout)
	copy(line[tlLabelWidth:], first)
	copy(line[timelineWidth-len(last):], last)
	if at := tlLabelWidth + 1 + nowCol - 1; at > tlLabelWidth+len(first) && at+3 < timelineWidth-len(last) {
		copy(line[at:], "now")
	}
	return strings.TrimRight(string(line), " ") + "\n"
}

// timelineAlgorithms lists the algorithms of keys in order of appearance.
func timelineAlgorithms(keys []keymanager.KeyInfo) []key.Algorithm {
	var out []key.Algorithm
	seen := map[key.Algorithm]bool{}
	for _, k := range keys {
		if !seen[k.Algorithm] {
			seen[k.Algorithm] = true
			out = append(out, k.Algorithm)
		}
	}
	return out
}

func shortKID(kid string) string {
	if len(kid) <= tlKidWidth {
		return kid
	}
	return kid[:tlKidWidth-2] + ".."
}

func clampCol(c int) int { return min(max(c, 0), tlColumns-1) }

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
