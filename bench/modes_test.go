package main

import (
	"strings"
	"testing"
)

// evaluateModes: each mode's EXTRA is compared with one ES256
// verification plus 20 % of the floor, and a mode over it fails the run.
func TestEvaluateModes(t *testing.T) {
	floor := &phaseResult{PerSecond: 50_000} // 20 µs
	rep := &report{Baseline: floor,
		PrivateKeyJWT: &modeResult{Mode: "private_key_jwt", Tokens: &phaseResult{PerSecond: 1, ServerIdle: 0.5}, ExtraUs: 57, ES256VerifyUs: 54},
		DPoP:          &modeResult{Mode: "dpop", Tokens: &phaseResult{PerSecond: 1}, ExtraUs: 59, ES256VerifyUs: 54},
	}
	rep.evaluateModes()
	if m := rep.PrivateKeyJWT; m.AllowanceUs != 58 || m.FloorUs != 20 {
		t.Fatalf("allowance %v, floor %v; want 58, 20", m.AllowanceUs, m.FloorUs)
	}
	want := map[string]bool{"private_key_jwt extra µs / (ES256 verify + 20% floor)": true, "dpop extra µs / (ES256 verify + 20% floor)": false}
	for _, tg := range rep.Targets {
		if pass, ok := want[tg.Name]; !ok || tg.Pass != pass {
			t.Errorf("target %q: pass %v", tg.Name, tg.Pass)
		}
		delete(want, tg.Name)
	}
	if len(want) != 0 {
		t.Errorf("targets missing: %v", want)
	}
	if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "private_key_jwt: the server's core was idle 50%") {
		t.Errorf("notes %q; want one about private_key_jwt's idle core", rep.Notes)
	}
}
