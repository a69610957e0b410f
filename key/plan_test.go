package key

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func days(n float64) time.Duration { return time.Duration(n * float64(Day)) }

func at(d float64) time.Time { return t0.Add(days(d)) }

// rec builds a record with the default schedule of a key created at day c.
func rec(kid string, alg Algorithm, c float64, first bool) Record {
	o := DefaultOptions()
	var nk NewKey
	if first {
		nk = FirstKey(at(c), alg, o)
	} else {
		nk = Successor(at(c), alg, o, time.Time{})
	}
	return Record{KID: kid, Algorithm: alg, Created: nk.Created, SignsFrom: nk.SignsFrom,
		RetiresAt: nk.RetiresAt, DeleteAfter: nk.DeleteAfter, Protection: ProtectionNone, PrivateKey: []byte{1}}
}

func TestDefaults(t *testing.T) {
	o := DefaultOptions()
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if o.RotationInterval != 90*Day || o.PropagationTime != 14*Day || o.RetentionDuration != 14*Day ||
		!o.DeleteRetiredKeys || !o.Enabled || !o.ProtectKeys || o.RSAKeySize != 2048 ||
		!slices.Equal(o.Algorithms(), []Algorithm{RS256}) {
		t.Fatalf("defaults differ from the reference: %+v", o)
	}
	if got := o.EffectiveKeyCacheDuration(); got != 24*time.Hour {
		t.Fatalf("key cache default = %s, want 24h", got)
	}
	o.PropagationTime = 10 * time.Hour
	if got := o.EffectiveKeyCacheDuration(); got != 5*time.Hour {
		t.Fatalf("key cache default with 10h propagation = %s, want 5h (propagation/2)", got)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		mod    func(*Options)
		option string // must appear in the message; "" = valid
	}{
		{"defaults", func(*Options) {}, ""},
		{"rotation equal propagation", func(o *Options) { o.RotationInterval = o.PropagationTime }, "rotationInterval"},
		{"rotation below propagation", func(o *Options) { o.RotationInterval = time.Hour }, "rotationInterval"},
		{"zero rotation", func(o *Options) { o.RotationInterval = 0 }, "rotationInterval"},
		{"negative propagation", func(o *Options) { o.PropagationTime = -time.Second }, "propagationTime"},
		{"zero retention", func(o *Options) { o.RetentionDuration = 0 }, "retentionDuration"},
		{"key cache above half propagation", func(o *Options) { o.KeyCacheDuration = 7*Day + time.Second }, "keyCacheDuration"},
		{"key cache at half propagation", func(o *Options) { o.KeyCacheDuration = 7 * Day }, ""},
		{"negative key cache", func(o *Options) { o.KeyCacheDuration = -1 }, "keyCacheDuration"},
		{"duplicate algorithm", func(o *Options) {
			o.SigningAlgorithms = []AlgorithmOptions{{Algorithm: RS256}, {Algorithm: ES256}, {Algorithm: RS256}}
		}, "RS256 twice"},
		{"unknown algorithm", func(o *Options) { o.SigningAlgorithms = []AlgorithmOptions{{Algorithm: "HS256"}} }, "HS256"},
		{"none algorithm", func(o *Options) { o.SigningAlgorithms = []AlgorithmOptions{{Algorithm: "none"}} }, "none"},
		{"empty algorithms", func(o *Options) { o.SigningAlgorithms = nil }, "signingAlgorithms"},
		{"empty algorithms disabled", func(o *Options) { o.SigningAlgorithms = nil; o.Enabled = false }, ""},
		{"small rsa", func(o *Options) { o.RSAKeySize = 1024 }, "rsaKeySize"},
		{"small rsa but no rsa alg", func(o *Options) {
			o.RSAKeySize = 1024
			o.SigningAlgorithms = []AlgorithmOptions{{Algorithm: ES256}}
		}, ""},
		{"every algorithm", func(o *Options) {
			o.SigningAlgorithms = nil
			for _, a := range Algorithms() {
				o.SigningAlgorithms = append(o.SigningAlgorithms, AlgorithmOptions{Algorithm: a, X509: true})
			}
		}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := DefaultOptions()
			c.mod(&o)
			err := o.Validate()
			if c.option == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidOptions) || !strings.Contains(err.Error(), c.option) {
				t.Fatalf("error = %v, want ErrInvalidOptions naming %q", err, c.option)
			}
		})
	}
	o := DefaultOptions()
	o.SigningAlgorithms = []AlgorithmOptions{{Algorithm: "XS1"}}
	if err := o.Validate(); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Fatalf("unknown algorithm error %v does not wrap ErrUnknownAlgorithm", err)
	}
}

func TestParseAlgorithm(t *testing.T) {
	for _, a := range Algorithms() {
		got, err := ParseAlgorithm(string(a))
		if err != nil || got != a {
			t.Fatalf("ParseAlgorithm(%s) = %v, %v", a, got, err)
		}
		if a.Family() == FamilyEC && a.Curve() == nil || a != EdDSA && a.Hash() == 0 {
			t.Fatalf("%s lacks curve or hash", a)
		}
	}
	for _, bad := range []string{"", "rs256", "HS256", "none", "ES256K"} {
		if _, err := ParseAlgorithm(bad); !errors.Is(err, ErrUnknownAlgorithm) {
			t.Fatalf("ParseAlgorithm(%q) err = %v", bad, err)
		}
	}
}

func TestComputeLifecycle(t *testing.T) {
	o := DefaultOptions()
	lead := Lead(o)
	k1 := rec("k1", RS256, 0, true)
	// k2 created at its earliest due moment: it takes over exactly at k1's retirement.
	k2c := k1.RetiresAt.Add(-o.PropagationTime - lead)
	k2nk := Successor(k2c, RS256, o, k1.RetiresAt)
	k2 := Record{KID: "k2", Algorithm: RS256, Created: k2nk.Created, SignsFrom: k2nk.SignsFrom, RetiresAt: k2nk.RetiresAt,
		DeleteAfter: k2nk.DeleteAfter, Protection: ProtectionNone, PrivateKey: []byte{1}}

	if !k2.SignsFrom.Equal(k1.RetiresAt) {
		t.Fatalf("successor signs from %s, want predecessor's retirement %s", k2.SignsFrom, k1.RetiresAt)
	}
	if got := k2.RetiresAt.Sub(k2.SignsFrom); got != o.RotationInterval-o.PropagationTime {
		t.Fatalf("successor signs for %s, want rotation-propagation", got)
	}

	type want struct {
		signing string
		pub     []string
		create  bool
		states  map[string]State
		del     []string
	}
	cases := []struct {
		name string
		now  time.Time
		recs []Record
		want want
	}{
		{"empty store: first key", at(0), nil, want{create: true}},
		{"first key signs at once", at(0), []Record{k1}, want{signing: "k1", pub: []string{"k1"}, states: map[string]State{"k1": StateActive}}},
		{"day 75: no successor yet", at(75), []Record{k1}, want{signing: "k1", pub: []string{"k1"}}},
		{"just before due", k2c.Add(-time.Second), []Record{k1}, want{signing: "k1", pub: []string{"k1"}}},
		{"successor due", k2c, []Record{k1}, want{signing: "k1", pub: []string{"k1"}, create: true}},
		{"announced, old still signs", k2c.Add(time.Hour), []Record{k1, k2}, want{signing: "k1", pub: []string{"k1", "k2"},
			states: map[string]State{"k1": StateActive, "k2": StatePending}}},
		{"handover", k1.RetiresAt, []Record{k1, k2}, want{signing: "k2", pub: []string{"k1", "k2"},
			states: map[string]State{"k1": StateRetired, "k2": StateActive}}},
		{"retired within retention", k1.DeleteAfter.Add(-time.Second), []Record{k1, k2}, want{signing: "k2", pub: []string{"k1", "k2"}}},
		{"retention over: deleted", k1.DeleteAfter, []Record{k1, k2}, want{signing: "k2", pub: []string{"k2"}, del: []string{"k1"},
			states: map[string]State{"k1": StateExpired, "k2": StateActive}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := Compute(c.now, c.recs, o)
			s, ok := p.SeriesFor(RS256)
			if !ok {
				t.Fatal("no RS256 series")
			}
			if s.Signing != c.want.signing || !slices.Equal(s.Published, c.want.pub) {
				t.Fatalf("signing %q published %v, want %q %v", s.Signing, s.Published, c.want.signing, c.want.pub)
			}
			if (len(p.Create) > 0) != c.want.create {
				t.Fatalf("create = %+v, want create %v", p.Create, c.want.create)
			}
			for kid, st := range c.want.states {
				if p.States[kid] != st {
					t.Fatalf("state of %s = %s, want %s", kid, p.States[kid], st)
				}
			}
			if !slices.Equal(p.Delete, c.want.del) {
				t.Fatalf("delete = %v, want %v", p.Delete, c.want.del)
			}
			if len(p.Extend) != 0 {
				t.Fatalf("unexpected extension %+v", p.Extend)
			}
		})
	}
}

func TestComputeFirstKeySchedule(t *testing.T) {
	o := DefaultOptions()
	p := Compute(at(3), nil, o)
	if len(p.Create) != 1 {
		t.Fatalf("create = %+v", p.Create)
	}
	nk := p.Create[0]
	if !nk.Created.Equal(at(3)) || !nk.SignsFrom.Equal(at(3)) || !nk.RetiresAt.Equal(at(93)) || !nk.DeleteAfter.Equal(at(107)) {
		t.Fatalf("first key schedule %+v", nk)
	}
}

func TestComputeReferenceTimeline(t *testing.T) {
	// The reference's numbers: next key at day 76 (here: from day 76 minus
	// the lead), signs from day 90, old key published until day 104.
	o := DefaultOptions()
	k1 := rec("k1", RS256, 0, true)
	due := SuccessorDue(k1.RetiresAt, o)
	if due.After(at(76)) || due.Before(at(75)) {
		t.Fatalf("successor due %s, want day 76 minus at most an hour", due)
	}
	nk := Successor(at(76), RS256, o, k1.RetiresAt)
	if !nk.SignsFrom.Equal(at(90)) || !k1.DeleteAfter.Equal(at(104)) {
		t.Fatalf("successor signs from %s, old key published until %s", nk.SignsFrom, k1.DeleteAfter)
	}
}

func TestComputeOldestInWindowSigns(t *testing.T) {
	o := DefaultOptions()
	// Two instances raced before the store had a lock: both first keys.
	a := rec("a", ES256, 0, true)
	b := rec("b", ES256, 0, true)
	b.Created = b.Created.Add(time.Second)
	b.SignsFrom = b.Created
	o.SigningAlgorithms = []AlgorithmOptions{{Algorithm: ES256}}
	p := Compute(at(1), []Record{b, a}, o)
	if s, _ := p.SeriesFor(ES256); s.Signing != "a" {
		t.Fatalf("signing %q, want the oldest (a)", s.Signing)
	}
	if p.States["b"] != StateReady {
		t.Fatalf("b state %s, want ready", p.States["b"])
	}
}

func TestComputeClockSkew(t *testing.T) {
	o := DefaultOptions()
	// A peer with a clock 5 s fast created the first key "in the future".
	peer := rec("p", RS256, 0, true)
	peer.Created = peer.Created.Add(5 * time.Second)
	peer.SignsFrom = peer.Created
	p := Compute(at(0), []Record{peer}, o)
	if len(p.Create) != 0 {
		t.Fatalf("created a second first key beside the peer's: %+v", p.Create)
	}
	s, _ := p.SeriesFor(RS256)
	if s.Signing != "p" || !slices.Equal(s.Published, []string{"p"}) {
		t.Fatalf("signing %q published %v; the peer's key must sign and be published", s.Signing, s.Published)
	}
	// A successor announced by the fast peer is pending here, not signing.
	k1 := rec("k1", RS256, 0, true)
	succ := Successor(SuccessorDue(k1.RetiresAt, o).Add(5*time.Second), RS256, o, k1.RetiresAt)
	k2 := Record{KID: "k2", Algorithm: RS256, Created: succ.Created, SignsFrom: succ.SignsFrom, RetiresAt: succ.RetiresAt,
		DeleteAfter: succ.DeleteAfter, Protection: ProtectionNone, PrivateKey: []byte{1}}
	p = Compute(SuccessorDue(k1.RetiresAt, o), []Record{k1, k2}, o)
	if s, _ := p.SeriesFor(RS256); s.Signing != "k1" || len(p.Create) != 0 || p.States["k2"] != StatePending {
		t.Fatalf("signing %q create %v k2 %s", s.Signing, p.Create, p.States["k2"])
	}
}

func TestComputeOverdueExtends(t *testing.T) {
	o := DefaultOptions()
	k1 := rec("k1", RS256, 0, true)
	// The server was down from day 70 to day 95: no successor exists and
	// k1 is past its retirement.
	p := Compute(at(95), []Record{k1}, o)
	s, _ := p.SeriesFor(RS256)
	if s.Signing != "k1" {
		t.Fatalf("signing %q; the overdue key must keep signing until a successor may", s.Signing)
	}
	if len(p.Create) != 1 || !p.Create[0].SignsFrom.Equal(at(95+14)) {
		t.Fatalf("create %+v, want a successor signing after a full propagation", p.Create)
	}
	if len(p.Extend) != 1 || p.Extend[0].KID != "k1" || !p.Extend[0].RetiresAt.Equal(at(109)) || !p.Extend[0].DeleteAfter.Equal(at(123)) {
		t.Fatalf("extend %+v, want k1 retiring at day 109 and published until day 123", p.Extend)
	}
}

func TestComputeRevoked(t *testing.T) {
	o := DefaultOptions()
	k1 := rec("k1", RS256, 0, true)
	k2 := rec("k2", RS256, 77, false)
	k1.Revoked = at(80)
	p := Compute(at(80), []Record{k1, k2}, o)
	s, _ := p.SeriesFor(RS256)
	if s.Signing != "k2" || !slices.Equal(s.Published, []string{"k2"}) || p.States["k1"] != StateRevoked {
		t.Fatalf("after revoking the signer: signing %q published %v state %s", s.Signing, s.Published, p.States["k1"])
	}
	if len(p.Create) != 0 {
		t.Fatalf("a pending key exists; nothing to create, got %+v", p.Create)
	}
	// Revoking the only key: a new first key.
	p = Compute(at(80), []Record{k1}, o)
	if len(p.Create) != 1 || !p.Create[0].SignsFrom.Equal(at(80)) {
		t.Fatalf("create %+v, want a key that signs at once", p.Create)
	}
	// Revoked keys are deleted after their DeleteAfter, not before.
	p = Compute(k1.DeleteAfter.Add(-time.Second), []Record{k1, k2}, o)
	if len(p.Delete) != 0 {
		t.Fatalf("deleted a revoked key early: %v", p.Delete)
	}
	p = Compute(k1.DeleteAfter, []Record{k1, k2}, o)
	if !slices.Equal(p.Delete, []string{"k1"}) {
		t.Fatalf("delete %v, want k1", p.Delete)
	}
}

func TestComputeRevokedWhileRetiredStillPublished(t *testing.T) {
	o := DefaultOptions()
	k1 := rec("k1", RS256, 0, true)    // retired at day 90, published to 104
	k2 := rec("k2", RS256, 76, false)  // signs from day 90
	k3 := rec("k3", RS256, 152, false) // announced at 152, signs from 166
	k2.Revoked = at(160)
	k1.DeleteAfter = at(170) // still published at day 160 in this test
	p := Compute(at(160), []Record{k1, k2, k3}, o)
	s, _ := p.SeriesFor(RS256)
	// The key every client already has signs until the announced one is due.
	if s.Signing != "k1" || len(p.Extend) != 1 || !p.Extend[0].RetiresAt.Equal(k3.SignsFrom) {
		t.Fatalf("signing %q extend %+v; want the retired, still published k1 until k3 signs", s.Signing, p.Extend)
	}
	// Once k1 is gone too, the announced key signs at once.
	k1.Revoked = at(160)
	p = Compute(at(160), []Record{k1, k2, k3}, o)
	if s, _ := p.SeriesFor(RS256); s.Signing != "k3" || len(p.Create) != 0 {
		t.Fatalf("signing %q create %v; want the announced k3", s.Signing, p.Create)
	}
}

func TestComputeKeepRetired(t *testing.T) {
	o := DefaultOptions()
	o.DeleteRetiredKeys = false
	k1 := rec("k1", RS256, 0, true)
	k2 := rec("k2", RS256, 76, false)
	p := Compute(at(200), []Record{k1, k2}, o)
	if len(p.Delete) != 0 || p.States["k1"] != StateExpired {
		t.Fatalf("delete %v state %s; expired keys must be kept unpublished", p.Delete, p.States["k1"])
	}
	if s, _ := p.SeriesFor(RS256); slices.Contains(s.Published, "k1") {
		t.Fatalf("expired key still published: %v", s.Published)
	}
}

func TestComputeOptionsChangeAffectsNewKeysOnly(t *testing.T) {
	o := DefaultOptions()
	k1 := rec("k1", RS256, 0, true)
	short := o
	short.RotationInterval, short.PropagationTime, short.RetentionDuration = 10*Day, 2*Day, 2*Day
	p := Compute(at(30), []Record{k1}, short)
	s, _ := p.SeriesFor(RS256)
	if s.Signing != "k1" || len(p.Create) != 0 || len(p.Extend) != 0 {
		t.Fatalf("shorter options changed an existing key: signing %q create %v extend %v", s.Signing, p.Create, p.Extend)
	}
	// The successor follows the new options.
	p = Compute(k1.RetiresAt.Add(-2*Day), []Record{k1}, short)
	if len(p.Create) != 1 || p.Create[0].RetiresAt.Sub(p.Create[0].SignsFrom) != 8*Day {
		t.Fatalf("successor under new options: %+v", p.Create)
	}
}

func TestComputeSeveralAlgorithms(t *testing.T) {
	o := DefaultOptions()
	o.SigningAlgorithms = []AlgorithmOptions{{Algorithm: ES256}, {Algorithm: RS256, X509: true}}
	p := Compute(at(0), nil, o)
	if len(p.Create) != 2 || p.Create[0].Algorithm != ES256 || p.Create[1].Algorithm != RS256 || !p.Create[1].X509 || p.Create[0].X509 {
		t.Fatalf("create %+v, want ES256 then RS256 (x509)", p.Create)
	}
	// A series dropped from the options stays published, never signs.
	old := rec("old", PS256, 0, true)
	p = Compute(at(1), []Record{old}, o)
	s, ok := p.SeriesFor(PS256)
	if !ok || s.Configured || s.Signing != "" || !slices.Equal(s.Published, []string{"old"}) {
		t.Fatalf("leftover series %+v", s)
	}
	if p.Series[0].Algorithm != ES256 || p.Series[1].Algorithm != RS256 {
		t.Fatalf("series order %v", p.Series)
	}
}

func TestComputeNext(t *testing.T) {
	o := DefaultOptions()
	k1 := rec("k1", RS256, 0, true)
	p := Compute(at(1), []Record{k1}, o)
	if want := SuccessorDue(k1.RetiresAt, o); !p.Next.Equal(want) {
		t.Fatalf("next %s, want successor due %s", p.Next, want)
	}
	k2 := rec("k2", RS256, 76, false)
	p = Compute(at(77), []Record{k1, k2}, o)
	if !p.Next.Equal(k1.RetiresAt) {
		t.Fatalf("next %s, want k1 retirement %s", p.Next, k1.RetiresAt)
	}
}

func TestComputeDisabled(t *testing.T) {
	o := DefaultOptions()
	o.Enabled = false
	k1 := rec("k1", RS256, 0, true)
	p := Compute(at(1), []Record{k1}, o)
	s, _ := p.SeriesFor(RS256)
	if len(p.Create) != 0 || s.Signing != "" || !slices.Equal(s.Published, []string{"k1"}) {
		t.Fatalf("disabled: create %v signing %q published %v", p.Create, s.Signing, s.Published)
	}
}

func TestRecordValidate(t *testing.T) {
	good := rec("k", RS256, 0, true)
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*Record){
		"empty kid":        func(r *Record) { r.KID = "" },
		"bad alg":          func(r *Record) { r.Algorithm = "HS256" },
		"no schedule":      func(r *Record) { r.RetiresAt = time.Time{} },
		"signs before":     func(r *Record) { r.SignsFrom = r.Created.Add(-time.Second) },
		"retires early":    func(r *Record) { r.RetiresAt = r.SignsFrom },
		"deleted early":    func(r *Record) { r.DeleteAfter = r.RetiresAt.Add(-time.Second) },
		"bad protection":   func(r *Record) { r.Protection = "rot13" },
		"no private key":   func(r *Record) { r.PrivateKey = nil },
		"x509 without der": func(r *Record) { r.X509 = true },
	} {
		r := good
		mod(&r)
		if err := r.Validate(); !errors.Is(err, ErrInvalidRecord) {
			t.Errorf("%s: err = %v, want ErrInvalidRecord", name, err)
		}
	}
}
