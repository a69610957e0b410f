package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
)

var tlNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func day(n float64) time.Duration { return time.Duration(n * float64(key.Day)) }

// managedKey is a key created at created+c that signs from c+s, retires at
// c+r and is deleted at c+d (offsets from now).
func managedKey(kid string, alg key.Algorithm, state key.State, c, s, r, d time.Duration) keymanager.KeyInfo {
	return keymanager.KeyInfo{KID: kid, Algorithm: alg, State: state,
		Created: tlNow.Add(c), SignsFrom: tlNow.Add(s), RetiresAt: tlNow.Add(r), DeleteAfter: tlNow.Add(d)}
}

// The timeline is a pure function of (now, keys); its output is compared
// with testdata/timeline/*.golden (go test -run TestTimeline -update
// rewrites them).
func TestTimelineGolden(t *testing.T) {
	cases := map[string][]keymanager.KeyInfo{
		// The defaults (90d / 14d / 14d) mid-rotation: retired, active,
		// announced; and a second algorithm with a long kid.
		"defaults": {
			managedKey("es-retired", key.ES256, key.StateRetired, -day(100), -day(100), -day(10), day(4)),
			managedKey("es-active", key.ES256, key.StateActive, -day(24), -day(10), day(66), day(80)),
			managedKey("es-next", key.ES256, key.StatePending, -day(0.5), day(66), day(142), day(156)),
			managedKey("000102030405060708090a0b0c0d0e0f", key.EdDSA, key.StateActive, -day(30), -day(30), day(60), day(74)),
		},
		// The seed's phase 1: the static key signs, a managed key is
		// announced beside it, on standby (as the manager lists it): it
		// is drawn announced, never signing.
		"migration": {
			{KID: "old-static", Algorithm: key.RS256, State: keymanager.StateStaticSigning},
			{KID: "old-validation", Algorithm: key.RS256, State: keymanager.StateValidation},
			standbyKey(managedKey("rs-managed", key.RS256, key.StateActive, -day(2), -day(2), day(88), day(102))),
		},
		// Second-long lifetimes (tests): the axis switches to times.
		"seconds": {
			managedKey("k1", key.ES256, key.StateRetired, -5*time.Second, -5*time.Second, -2*time.Second, 0+time.Second),
			managedKey("k2", key.ES256, key.StateActive, -3*time.Second, -2*time.Second, time.Second, 3*time.Second),
			managedKey("k3", key.ES256, key.StatePending, 0, time.Second, 3*time.Second, 5*time.Second),
		},
		// Not published: revoked, expired and unreadable keys are counted,
		// not drawn; a ready key is shown as pending.
		"hidden": {
			managedKey("revoked", key.ES256, key.StateRevoked, -day(20), -day(20), day(70), day(84)),
			managedKey("expired", key.ES256, key.StateExpired, -day(120), -day(120), -day(30), -day(16)),
			{KID: "unreadable", Algorithm: key.ES256, State: key.StatePending, Created: tlNow, SignsFrom: tlNow.Add(day(14)), RetiresAt: tlNow.Add(day(90)), DeleteAfter: tlNow.Add(day(104)), Unreadable: errors.New("sealed with an unknown secret")},
			managedKey("active", key.ES256, key.StateActive, -day(1), -day(1), day(89), day(103)),
			managedKey("ready", key.ES256, key.StateReady, -day(1), -day(1), day(95), day(109)),
		},
		"empty": nil,
	}
	for name, keys := range cases {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := renderTimeline(&b, tlNow, keys); err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(b.String(), "\n") {
				if n := len([]rune(line)); n > timelineWidth {
					t.Errorf("line %d is %d columns wide: %q", i+1, n, line)
				}
			}
			golden := filepath.Join("testdata", "timeline", name+".golden")
			if *updateGolden {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if b.String() != string(want) {
				t.Errorf("timeline differs from %s:\n--- got\n%s\n--- want\n%s", golden, b.String(), want)
			}
		})
	}
}

func standbyKey(k keymanager.KeyInfo) keymanager.KeyInfo { k.Standby = true; return k }

// A key reaching centuries away does not overflow the chart.
func TestTimelineFarFuture(t *testing.T) {
	k := managedKey("far", key.ES256, key.StateActive, -day(1), -day(1), day(200*365), day(201*365))
	var b bytes.Buffer
	if err := renderTimeline(&b, tlNow, []keymanager.KeyInfo{k}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "|#") || !strings.Contains(b.String(), "one column = ") {
		t.Fatalf("chart:\n%s", b.String())
	}
}

// The chart puts each phase where the schedule says, whatever the scale.
func TestTimelineCells(t *testing.T) {
	k := managedKey("k", key.ES256, key.StateActive, -day(10), day(4), day(50), day(64))
	var b bytes.Buffer
	if err := renderTimeline(&b, tlNow, []keymanager.KeyInfo{k}); err != nil {
		t.Fatal(err)
	}
	var row string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, "k ") {
			row = l[strings.IndexByte(l, '|')+1 : strings.LastIndexByte(l, '|')]
		}
	}
	if len(row) != tlColumns {
		t.Fatalf("row %q is %d cells, want %d", row, len(row), tlColumns)
	}
	// Phases appear in order, once each, with now inside the announced span.
	trimmed := strings.TrimSpace(row)
	phases := []string{}
	for i := 0; i < len(trimmed); i++ {
		if c := string(trimmed[i]); len(phases) == 0 || phases[len(phases)-1] != c {
			phases = append(phases, c)
		}
	}
	if got := strings.Join(phases, ""); got != "-#." {
		t.Fatalf("phases %q in %q, want -#.", got, row)
	}
	start, step := timelineAxis(tlNow.Add(-day(10)), tlNow.Add(day(64)))
	if row[int(tlNow.Sub(start)/step)] != cellAnnounced {
		t.Fatalf("now's cell is %q in %q; the key is announced now", row[int(tlNow.Sub(start)/step)], row)
	}
	if n := strings.Count(row, "#"); n < int(day(46)/step)-1 || n > int(day(46)/step)+1 {
		t.Fatalf("%d signing cells of %s for 46 days in %q", n, step, row)
	}
}

func TestTimelineAxis(t *testing.T) {
	for _, tc := range []struct {
		lo, hi time.Duration
		step   time.Duration
	}{
		{-day(100), day(156), 7 * key.Day},
		{-5 * time.Second, 5 * time.Second, 200 * time.Millisecond},
		{-day(1), day(1), time.Hour},
		{0, 0, 100 * time.Millisecond},
		{-day(5000), day(5000), 365 * key.Day},
		{-tlMaxReach, tlMaxReach, 4 * 365 * key.Day},
	} {
		start, step := timelineAxis(tlNow.Add(tc.lo), tlNow.Add(tc.hi))
		if step != tc.step || start.After(tlNow.Add(tc.lo)) || start.Add(tlColumns*step).Before(tlNow.Add(tc.hi)) {
			t.Errorf("[%s, %s]: start %s step %s, want step %s covering the span", tc.lo, tc.hi, start, step, tc.step)
		}
	}
}
