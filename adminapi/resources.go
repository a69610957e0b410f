package adminapi

import (
	"encoding/json"
	"net/http"

	"github.com/signet-id/signet/clientreg"
)

type resourceIn struct {
	clientreg.Resource
	Meta *json.RawMessage `json:"meta,omitempty"`
}

func (a *api) listResources(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	rs, next, err := a.Store.Resources(r.Context(), p)
	if err != nil {
		return err
	}
	items := make([]json.RawMessage, len(rs))
	for i, res := range rs {
		items[i] = clientreg.Redact(res)
	}
	writeList(w, r, p, items, next)
	return nil
}

func (a *api) getResource(w http.ResponseWriter, r *http.Request) error {
	res, err := a.Store.Resource(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", res.Meta.ETag())
	writeJSON(w, http.StatusOK, clientreg.Redact(res))
	return nil
}

func (a *api) readResource(r *http.Request) (clientreg.Resource, error) {
	var in resourceIn
	if err := decode(r, &in); err != nil {
		return clientreg.Resource{}, err
	}
	res := in.Resource
	res.Meta = clientreg.Meta{}
	return res, nil
}

func (a *api) createResource(w http.ResponseWriter, r *http.Request) error {
	res, err := a.readResource(r)
	if err != nil {
		return err
	}
	if err := a.check(r.Context(), clientreg.KindResource, res.Name, &res); err != nil {
		return err
	}
	res, err = a.Store.CreateResource(r.Context(), res, who(r))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", res.Meta.ETag())
	w.Header().Set("Location", location("resources", res.Name))
	writeJSON(w, http.StatusCreated, clientreg.Redact(res))
	return nil
}

func (a *api) updateResource(w http.ResponseWriter, r *http.Request) error {
	rev, err := ifMatch(r)
	if err != nil {
		return err
	}
	res, err := a.readResource(r)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	if res.Name == "" {
		res.Name = name
	}
	if res.Name != name {
		return badRequest("name %q differs from the path's %q; a resource's name does not change (create a new one instead)", res.Name, name)
	}
	old, err := a.Store.Resource(r.Context(), name)
	if err != nil {
		return err
	}
	if rev != 0 && old.Meta.Revision != rev {
		return clientreg.ErrConflict
	}
	if len(res.Secrets) == 0 {
		res.Secrets = old.Secrets
	}
	if err := a.check(r.Context(), clientreg.KindResource, name, &res); err != nil {
		return err
	}
	if rev == 0 {
		rev = old.Meta.Revision
	}
	res, err = a.Store.UpdateResource(r.Context(), res, rev, who(r))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", res.Meta.ETag())
	writeJSON(w, http.StatusOK, clientreg.Redact(res))
	return nil
}

func (a *api) deleteResource(w http.ResponseWriter, r *http.Request) error {
	rev, err := ifMatch(r)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	if err := a.check(r.Context(), clientreg.KindResource, name, nil); err != nil {
		return err
	}
	if err := a.Store.DeleteResource(r.Context(), name, rev, who(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
