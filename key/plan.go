package key

import (
	"cmp"
	"slices"
	"time"
)

// NewKey is the schedule of a key the manager must create.
type NewKey struct {
	Algorithm   Algorithm
	X509        bool
	Created     time.Time
	SignsFrom   time.Time
	RetiresAt   time.Time
	DeleteAfter time.Time
}

// Extension moves an overdue key's retirement: the key keeps signing
// because its successor may not sign yet, so it must also stay published
// for a full retention after it really stops signing.
type Extension struct {
	KID         string
	RetiresAt   time.Time
	DeleteAfter time.Time
}

// Series is the plan of one algorithm's keys.
type Series struct {
	Algorithm Algorithm
	// Configured is false for a series left over from an earlier
	// configuration: its keys stay published until they expire, but none
	// signs and none is created.
	Configured bool
	// Signing is the kid of the key that signs, or "" when none can.
	Signing string
	// Published lists the kids in the JWKS, oldest first.
	Published []string
}

// Plan is what the key manager must do and publish at one moment.
type Plan struct {
	Now time.Time
	// Series lists the configured algorithms in order, then any other
	// algorithm that still has published keys.
	Series []Series
	// States gives every record's state at Now.
	States map[string]State
	// Create lists keys to create (at most one per configured algorithm).
	Create []NewKey
	// Extend lists overdue keys whose retirement must move.
	Extend []Extension
	// Delete lists kids to delete from the store.
	Delete []string
	// Next is the earliest moment after Now at which the plan changes
	// (a key activates, retires, expires or a successor is due); zero if
	// nothing is scheduled.
	Next time.Time
}

// SeriesFor returns the plan of alg's series.
func (p *Plan) SeriesFor(alg Algorithm) (Series, bool) {
	for _, s := range p.Series {
		if s.Algorithm == alg {
			return s, true
		}
	}
	return Series{}, false
}

// FirstKey returns the schedule of the first key of a series: it signs at
// once, since no client can hold a stale JWKS for a series that had none.
func FirstKey(now time.Time, alg Algorithm, o Options) NewKey {
	return NewKey{
		Algorithm:   alg,
		X509:        o.X509For(alg),
		Created:     now,
		SignsFrom:   now,
		RetiresAt:   now.Add(o.RotationInterval),
		DeleteAfter: now.Add(o.RotationInterval + o.RetentionDuration),
	}
}

// Successor returns the schedule of a key announced now that follows a
// key retiring at after (zero when there is none): it signs from after, or
// from now+PropagationTime if that is later, and signs for
// RotationInterval-PropagationTime, as a reference key created at the same
// moment would.
func Successor(now time.Time, alg Algorithm, o Options, after time.Time) NewKey {
	k := FirstKey(now, alg, o)
	k.SignsFrom = now.Add(o.PropagationTime)
	if after.After(k.SignsFrom) {
		k.SignsFrom = after
	}
	k.RetiresAt = k.SignsFrom.Add(o.RotationInterval - o.PropagationTime)
	k.DeleteAfter = k.RetiresAt.Add(o.RetentionDuration)
	return k
}

// Lead is how early a successor may be created before it is strictly due
// (PropagationTime before the youngest key retires): a tenth of
// PropagationTime, at most an hour. Creating within the lead lets the
// successor take over exactly when its predecessor retires, and gives
// instances room to jitter.
func Lead(o Options) time.Duration {
	return min(o.PropagationTime/10, time.Hour)
}

// SuccessorDue returns when a successor of a key retiring at retiresAt may
// be created.
func SuccessorDue(retiresAt time.Time, o Options) time.Time {
	return retiresAt.Add(-o.PropagationTime - Lead(o))
}

// Compute plans the keys at now. records may hold any algorithms, in any
// order; they are not modified.
//
// Rules, per algorithm:
//   - Published: not revoked and now < DeleteAfter (keys "from the future",
//     created by a peer with a fast clock, are published too).
//   - Signing: the oldest published key inside its window
//     (SignsFrom <= now < RetiresAt). If none is inside, an overdue key
//     (one that should have retired) keeps signing, the one that retires
//     last, and its retirement is extended to the successor's SignsFrom.
//     If only announced keys remain (the signing key was revoked, or the
//     first key came from a peer whose clock is ahead), the one closest
//     to its window signs.
//   - Create: the first key when none is published (it signs at once);
//     a successor from [SuccessorDue] of the youngest key on.
//   - Delete: keys past DeleteAfter (revoked ones too), when
//     DeleteRetiredKeys is true.
func Compute(now time.Time, records []Record, o Options) Plan {
	p := Plan{Now: now, States: make(map[string]State, len(records))}
	next := func(t time.Time) {
		if t.After(now) && (p.Next.IsZero() || t.Before(p.Next)) {
			p.Next = t
		}
	}

	byAlg := make(map[Algorithm][]*Record)
	for i := range records {
		r := &records[i]
		switch {
		case r.IsRevoked():
			p.States[r.KID] = StateRevoked
		case !now.Before(r.DeleteAfter):
			p.States[r.KID] = StateExpired
		default:
			byAlg[r.Algorithm] = append(byAlg[r.Algorithm], r)
			next(r.SignsFrom)
			next(r.RetiresAt)
		}
		if !now.Before(r.DeleteAfter) {
			if o.DeleteRetiredKeys {
				p.Delete = append(p.Delete, r.KID)
			}
		} else {
			next(r.DeleteAfter)
		}
	}

	algs := make([]Algorithm, 0, len(byAlg)+len(o.SigningAlgorithms))
	configured := make(map[Algorithm]bool)
	if o.Enabled {
		for _, a := range o.SigningAlgorithms {
			algs = append(algs, a.Algorithm)
			configured[a.Algorithm] = true
		}
	}
	var rest []Algorithm
	for a := range byAlg {
		if !configured[a] {
			rest = append(rest, a)
		}
	}
	slices.Sort(rest)
	algs = append(algs, rest...)

	for _, alg := range algs {
		pub := byAlg[alg]
		slices.SortFunc(pub, func(a, b *Record) int {
			return cmp.Or(a.SignsFrom.Compare(b.SignsFrom), a.Created.Compare(b.Created), cmp.Compare(a.KID, b.KID))
		})
		s := Series{Algorithm: alg, Configured: configured[alg]}
		for _, r := range pub {
			s.Published = append(s.Published, r.KID)
		}

		// Successor due?
		var created *NewKey
		if s.Configured {
			if len(pub) == 0 {
				k := FirstKey(now, alg, o)
				created = &k
			} else {
				youngest := slices.MaxFunc(pub, func(a, b *Record) int { return a.RetiresAt.Compare(b.RetiresAt) })
				due := SuccessorDue(youngest.RetiresAt, o)
				if !now.Before(due) {
					k := Successor(now, alg, o, youngest.RetiresAt)
					created = &k
				} else {
					next(due)
				}
			}
			if created != nil {
				p.Create = append(p.Create, *created)
			}
		}

		for _, r := range pub {
			switch {
			case now.Before(r.SignsFrom):
				p.States[r.KID] = StatePending
			case now.Before(r.RetiresAt):
				p.States[r.KID] = StateReady
			default:
				p.States[r.KID] = StateRetired
			}
		}
		if s.Configured {
			s.Signing = chooseSigner(now, pub, created, o, &p)
			if s.Signing != "" {
				p.States[s.Signing] = StateActive
			}
		}
		p.Series = append(p.Series, s)
	}
	return p
}

// chooseSigner picks the signing key of one series (pub sorted oldest
// first) and records an extension for an overdue key.
func chooseSigner(now time.Time, pub []*Record, created *NewKey, o Options, p *Plan) string {
	for _, r := range pub {
		if !now.Before(r.SignsFrom) && now.Before(r.RetiresAt) {
			return r.KID
		}
	}
	// Overdue: a key past RetiresAt keeps signing until a successor may.
	var overdue *Record
	for _, r := range pub {
		if !now.Before(r.SignsFrom) && (overdue == nil || r.RetiresAt.After(overdue.RetiresAt)) {
			overdue = r
		}
	}
	if overdue != nil {
		var until time.Time
		for _, r := range pub {
			if now.Before(r.SignsFrom) && (until.IsZero() || r.SignsFrom.Before(until)) {
				until = r.SignsFrom
			}
		}
		if created != nil && (until.IsZero() || created.SignsFrom.Before(until)) {
			until = created.SignsFrom
		}
		if until.IsZero() {
			// Nothing will take over: extend by one propagation, the
			// soonest a successor created now may sign.
			until = now.Add(o.PropagationTime)
		}
		p.Extend = append(p.Extend, Extension{
			KID:         overdue.KID,
			RetiresAt:   until,
			DeleteAfter: maxTime(overdue.DeleteAfter, until.Add(o.RetentionDuration)),
		})
		return overdue.KID
	}
	// Only announced keys: the one closest to its window signs.
	if len(pub) > 0 {
		return pub[0].KID
	}
	return ""
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
