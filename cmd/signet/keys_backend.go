package main

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/key"
)

// writeBackendStatus explains, for `keys status`, where the deployment
// stands with its key backends: where new keys are made, for each
// configured algorithm which backend signs and whether a move to the
// configured backend is under way, how long keys of other backends remain
// and what must stay configured until then. It prints nothing for a
// software-only deployment. Pure: recs are the store's records at now.
func writeBackendStatus(w io.Writer, cfg *config.Config, recs []key.Record, now time.Time) {
	cur := cfg.KeyBackend.Type
	if cur == "" {
		cur = key.BackendSoftware
	}
	others := map[string][]key.Record{}
	for _, r := range recs {
		if b := r.Backend(); b != cur {
			others[b] = append(others[b], r)
		}
	}
	if cur == key.BackendSoftware && len(others) == 0 && cfg.PreviousKeyBackend == nil {
		return
	}
	fmt.Fprintf(w, "key backend: %s (new keys are made here)\n", cur)
	plan := key.Compute(now, recs, cfg.KeyManagement)
	byKID := map[string]key.Record{}
	for _, r := range recs {
		byKID[r.KID] = r
	}
	for _, ser := range plan.Series {
		if !ser.Configured {
			continue
		}
		sig, ok := byKID[ser.Signing]
		if !ok {
			fmt.Fprintf(w, "  %s: no key signs yet\n", ser.Algorithm)
			continue
		}
		if sig.Backend() == cur {
			fmt.Fprintf(w, "  %s: %s signs, in %s\n", ser.Algorithm, sig.KID, cur)
			continue
		}
		var next *key.Record
		for _, kid := range ser.Published {
			if r := byKID[kid]; r.Backend() == cur && (plan.States[kid] == key.StatePending || plan.States[kid] == key.StateReady) {
				next = &r
			}
		}
		if next != nil {
			fmt.Fprintf(w, "  %s: moving to %s: %s (%s) signs until %s (%s), then %s (%s) takes over\n",
				ser.Algorithm, cur, sig.KID, sig.Backend(), stamp(next.SignsFrom), until(now, next.SignsFrom), next.KID, cur)
		} else {
			fmt.Fprintf(w, "  %s: %s (%s) signs; a running server announces a successor in %s at its next check, which takes over after the propagation time\n",
				ser.Algorithm, sig.KID, sig.Backend(), cur)
		}
	}
	names := make([]string, 0, len(others))
	for b := range others {
		names = append(names, b)
	}
	slices.Sort(names)
	for _, b := range names {
		rs := others[b]
		last := rs[0].DeleteAfter
		for _, r := range rs {
			if r.DeleteAfter.After(last) {
				last = r.DeleteAfter
			}
		}
		fmt.Fprintf(w, "  %d key(s) remain in %s until %s (%s), when the last is deleted", len(rs), b, stamp(last), until(now, last))
		switch {
		case b == key.BackendSoftware:
			fmt.Fprintln(w, "; keep keyManagement.protection's secrets until then")
		case cfg.PreviousKeyBackend != nil && cfg.PreviousKeyBackend.Type == b:
			fmt.Fprintln(w, "; keyManagement.keyBackend.previous opens them until then")
		default:
			fmt.Fprintln(w)
			fmt.Fprintf(w, "warning: no configured backend opens the %s keys: they cannot sign, and their objects are not destroyed; set keyManagement.keyBackend.previous to the %s settings\n", b, b)
		}
	}
	if p := cfg.PreviousKeyBackend; p != nil && len(others[p.Type]) == 0 {
		fmt.Fprintf(w, "  keyManagement.keyBackend.previous (%s) holds no key any more: remove it\n", p.Type)
	}
}
