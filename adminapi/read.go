package adminapi

import (
	"net/http"

	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/keymanager"
)

// listKeys answers every key as `signet keys list --json` shows it: kid,
// algorithm, state and schedule; never key material.
func (a *api) listKeys(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, list[keymanager.KeyListing]{Items: keymanager.Listing(a.Keys())})
	return nil
}

// audit answers a page of the audit log, newest first; ?kind=client|
// resource and ?id= narrow it.
func (a *api) audit(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	q := clientreg.AuditQuery{Page: p, Kind: r.URL.Query().Get("kind"), ID: r.URL.Query().Get("id")}
	switch q.Kind {
	case "", clientreg.KindClient, clientreg.KindResource:
	default:
		return badRequest("kind: %q is neither client nor resource", q.Kind)
	}
	entries, next, err := a.Store.Audit(r.Context(), q)
	if err != nil {
		return err
	}
	writeList(w, r, p, entries, next)
	return nil
}
