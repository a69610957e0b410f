package keymanager

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/jwk"
	"github.com/signet-id/signet/key"
)

// publishLocked computes the plan at the current time from the records
// held and stores a new snapshot. It needs no store access, so announced
// keys activate on schedule during a store outage.
func (m *Manager) publishLocked() {
	now := m.now()
	plan := key.Compute(now, m.records, m.opts)
	prev := m.snap.Load()
	s := &snapshot{plan: plan, next: plan.Next}

	var problems []string
	s.storeErr = m.storeErr
	if m.static != nil {
		s.order = append(s.order, m.static)
		s.defaultKey = m.static
	}
	for _, ser := range plan.Series {
		if !ser.Configured {
			continue
		}
		if ser.Signing == "" {
			problems = append(problems, fmt.Sprintf("%s: no managed key yet", ser.Algorithm))
			continue
		}
		l := m.cache[ser.Signing]
		if l == nil {
			problems = append(problems, fmt.Sprintf("%s: signing key %s is unreadable", ser.Algorithm, ser.Signing))
			continue
		}
		s.order = append(s.order, l.key)
		if s.defaultKey == nil {
			s.defaultKey = l.key
		}
	}
	if !m.opts.Enabled && m.static == nil {
		problems = append(problems, "managed keys are disabled and no signingCredential is configured")
	}
	for _, kid := range sortedKeys(m.unreadable) {
		if st := plan.States[kid]; st == key.StateRevoked || st == key.StateExpired {
			continue
		}
		problems = append(problems, fmt.Sprintf("key %s is unreadable (%v); likely cause: %s", kid, m.unreadable[kid], likelyCause(m.unreadable[kid])))
	}
	for _, k := range s.order {
		if !slices.Contains(s.algs, k.Algorithm()) {
			s.algs = append(s.algs, k.Algorithm())
		}
	}
	if len(problems) > 0 {
		s.ready = fmt.Errorf("%w: %s", ErrNotReady, strings.Join(problems, "; "))
	}

	// The JWKS: the static signing credential, every published managed
	// key, every validation key. Re-serialized only when the set changes.
	var jwks []jose.JSONWebKey
	if m.static != nil {
		s.published = append(s.published, m.staticPK.kid)
	}
	for _, ser := range plan.Series {
		for _, kid := range ser.Published {
			if m.cache[kid] != nil {
				s.published = append(s.published, kid)
			}
		}
	}
	for _, v := range m.valid {
		s.published = append(s.published, v.kid)
	}
	if prev != nil && slices.Equal(prev.published, s.published) {
		s.jwks = prev.jwks
	} else {
		if m.static != nil {
			jwks = append(jwks, mustPublic(m.staticPK.kid, m.staticPK.alg, m.staticPK.pub, m.staticPK.certs))
		}
		for _, ser := range plan.Series {
			for _, kid := range ser.Published {
				if l := m.cache[kid]; l != nil {
					jwks = append(jwks, mustPublic(kid, l.key.Algorithm(), l.key.Public(), l.certs))
				}
			}
		}
		for _, v := range m.valid {
			jwks = append(jwks, mustPublic(v.kid, v.alg, v.pub, v.certs))
		}
		body, err := jwk.EncodeSet(jwks)
		if err != nil {
			// Every key here passed CheckAlgorithm; encoding cannot fail.
			panic(err)
		}
		sum := sha256.Sum256(body)
		s.jwks = &JWKS{Body: body, ETag: `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`}
	}

	s.keys = m.keyInfos(plan)
	m.snap.Store(s)
	m.logTransitions(plan)
}

func mustPublic(kid string, alg key.Algorithm, pub any, certs []*x509.Certificate) jose.JSONWebKey {
	jk, err := jwk.Public(kid, alg, pub, certs)
	if err != nil {
		panic(err) // only public keys reach here
	}
	return jk
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (m *Manager) keyInfos(plan key.Plan) []KeyInfo {
	var out []KeyInfo
	if m.static != nil {
		out = append(out, KeyInfo{KID: m.staticPK.kid, Algorithm: m.staticPK.alg, State: StateStaticSigning, X509: len(m.staticPK.certs) > 0})
	}
	for _, v := range m.valid {
		out = append(out, KeyInfo{KID: v.kid, Algorithm: v.alg, State: StateValidation, X509: len(v.certs) > 0})
	}
	recs := slices.Clone(m.records)
	slices.SortFunc(recs, func(a, b key.Record) int {
		if c := strings.Compare(string(a.Algorithm), string(b.Algorithm)); c != 0 {
			return c
		}
		return a.SignsFrom.Compare(b.SignsFrom)
	})
	for _, r := range recs {
		out = append(out, KeyInfo{
			KID: r.KID, Algorithm: r.Algorithm, State: plan.States[r.KID],
			Created: r.Created, SignsFrom: r.SignsFrom, RetiresAt: r.RetiresAt, DeleteAfter: r.DeleteAfter,
			Revoked: r.Revoked, X509: r.X509, Unreadable: m.unreadable[r.KID], Backend: r.Backend(),
			Standby: m.standby(r.Algorithm, plan.States[r.KID]),
		})
	}
	return out
}

// standby reports whether a managed key of alg in state st is on standby:
// active by its schedule, while the static signing credential of the same
// algorithm signs first (SigningKey hands out the static credential before
// managed keys).
func (m *Manager) standby(alg key.Algorithm, st key.State) bool {
	return m.static != nil && m.staticPK.alg == alg && st == key.StateActive
}

// logTransitions logs every key event between the last published plan
// and this one at Info, each with the key's kid, algorithm, state and
// times: a key announced or activated (or on standby), retired, revoked,
// unpublished after its retention, deleted. A key new in the store that
// another process (signet keys rotate, another instance) created is
// logged as such; one this instance created was logged as "key created"
// when written. At the first publish it logs what signs.
func (m *Manager) logTransitions(plan key.Plan) {
	prev, prevRecs, created := m.lastPlan, m.lastRecords, m.createdHere
	m.lastPlan, m.createdHere = &plan, nil
	cur := make(map[string]key.Record, len(m.records))
	for _, r := range m.records {
		cur[r.KID] = r
	}
	m.lastRecords = cur
	if prev == nil {
		if m.static != nil {
			m.log.Info("signing key: the static signing credential", "kid", m.staticPK.kid, "alg", string(m.staticPK.alg))
		}
		for _, ser := range plan.Series {
			if r, ok := cur[ser.Signing]; ok && !created[r.KID] {
				m.logKey(m.activeMsg("signing key", r.Algorithm), r, plan.States[r.KID])
			}
		}
		prev = &key.Plan{} // what this instance created is logged below
	}
	for _, kid := range sortedKeys(plan.States) {
		was, now := prev.States[kid], plan.States[kid]
		if was == now || (prev.States == nil && !created[kid]) {
			continue
		}
		r := cur[kid]
		var msg string
		switch now {
		case key.StatePending, key.StateReady:
			msg = "key announced"
		case key.StateActive:
			msg = m.activeMsg("key activated", r.Algorithm)
		case key.StateRetired:
			msg = "key retired"
		case key.StateRevoked:
			msg = "key revoked"
		case key.StateExpired:
			msg = "key unpublished: retention over"
		}
		if was == "" && !created[kid] {
			// New in the store, written by another process (signet
			// keys rotate, another instance).
			msg = "key created by another process, " + strings.TrimPrefix(msg, "key ")
		}
		if msg != "" {
			m.logKey(msg, r, now, "was", string(was))
		}
	}
	for _, kid := range sortedKeys(prev.States) {
		if _, ok := plan.States[kid]; !ok {
			m.logKey("key deleted", prevRecs[kid], prev.States[kid])
		}
	}
}

// activeMsg is msg for a key becoming active, or the standby message when
// the static credential signs in its place.
func (m *Manager) activeMsg(msg string, alg key.Algorithm) string {
	if m.standby(alg, key.StateActive) {
		return msg + ", on standby: announced; the static credential signs"
	}
	return msg
}

// logKey logs one key event with the key's kid, algorithm, state and
// times (UTC), and any extra attributes.
func (m *Manager) logKey(msg string, r key.Record, st key.State, extra ...any) {
	state := string(st)
	if m.standby(r.Algorithm, st) {
		state = "standby"
	}
	attrs := []any{"kid", r.KID, "alg", string(r.Algorithm), "state", state,
		"created", r.Created.UTC(), "signs_from", r.SignsFrom.UTC(), "retires_at", r.RetiresAt.UTC(), "delete_after", r.DeleteAfter.UTC()}
	if r.IsRevoked() {
		attrs = append(attrs, "revoked", r.Revoked.UTC())
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if v, ok := extra[i+1].(string); ok && v == "" {
			continue
		}
		attrs = append(attrs, extra[i], extra[i+1])
	}
	m.log.Info(msg, attrs...)
}
