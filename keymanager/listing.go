package keymanager

import (
	"time"

	"github.com/signet-id/signet/key"
)

// StateStandby is the listed state of a managed key that would be active
// while the static signing credential of its algorithm signs (KeyInfo.Standby).
const StateStandby key.State = "standby"

// ListedState is the state `signet keys list` and the admin API show: a
// key in standby is "standby", a ready key "pending".
func (k KeyInfo) ListedState() string {
	switch {
	case k.Standby:
		return string(StateStandby)
	case k.State == key.StateReady:
		return string(key.StatePending)
	}
	return string(k.State)
}

// KeyListing is one key as `signet keys list --json` and the admin API
// (GET /admin/v1/keys) show it: public facts only, never key material.
// Configured keys have no schedule: their times are null.
type KeyListing struct {
	KID         string  `json:"kid"`
	Alg         string  `json:"alg"`
	State       string  `json:"state"`
	Created     *string `json:"created"`
	SignsFrom   *string `json:"signsFrom"`
	RetiresAt   *string `json:"retiresAt"`
	DeleteAfter *string `json:"deleteAfter"`
	X509        bool    `json:"x509"`
	// Backend holds a managed key's private half: software, pkcs11 or
	// awskms. Absent for configured keys.
	Backend string `json:"backend,omitempty"`
}

// Listing returns keys as KeyListing, times in RFC 3339 UTC.
func Listing(keys []KeyInfo) []KeyListing {
	stamp := func(t time.Time) *string { s := t.UTC().Format(time.RFC3339); return &s }
	out := make([]KeyListing, 0, len(keys))
	for _, k := range keys {
		j := KeyListing{KID: k.KID, Alg: string(k.Algorithm), State: k.ListedState(), X509: k.X509, Backend: k.Backend}
		if !k.Created.IsZero() {
			j.Created, j.SignsFrom, j.RetiresAt, j.DeleteAfter = stamp(k.Created), stamp(k.SignsFrom), stamp(k.RetiresAt), stamp(k.DeleteAfter)
		}
		out = append(out, j)
	}
	return out
}
