package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/registration"
)

// clientIn is the body of POST and PUT /clients: a clients[] entry of the
// configuration file, with secrets only as hashes (or none: one is
// generated for a client that authenticates with a secret).
type clientIn struct {
	clientreg.Client
	// Meta and RegistrationAccessTokenHash are the server's.
	Meta                        *json.RawMessage `json:"meta,omitempty"`
	RegistrationAccessTokenHash *string          `json:"registrationAccessTokenHash,omitempty"`
}

func redactClient(c clientreg.Client, secret string) json.RawMessage {
	b := clientreg.Redact(c)
	if secret == "" {
		return b
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return b
	}
	m["clientSecret"] = secret
	out, _ := json.Marshal(m)
	return out
}

func (a *api) listClients(w http.ResponseWriter, r *http.Request) error {
	p, err := page(r)
	if err != nil {
		return err
	}
	cs, next, err := a.Store.Clients(r.Context(), p)
	if err != nil {
		return err
	}
	items := make([]json.RawMessage, len(cs))
	for i, c := range cs {
		items[i] = redactClient(c, "")
	}
	writeList(w, r, p, items, next)
	return nil
}

func (a *api) getClient(w http.ResponseWriter, r *http.Request) error {
	c, err := a.Store.Client(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", c.Meta.ETag())
	writeJSON(w, http.StatusOK, redactClient(c, ""))
	return nil
}

// readClient decodes and checks a client body.
func (a *api) readClient(r *http.Request) (clientreg.Client, error) {
	var in clientIn
	if err := decode(r, &in); err != nil {
		return clientreg.Client{}, err
	}
	if in.RegistrationAccessTokenHash != nil {
		return clientreg.Client{}, badRequest("registrationAccessTokenHash: the server sets it for dynamically registered clients; leave it out")
	}
	c := in.Client
	c.Meta = clientreg.Meta{}
	return c, nil
}

// needsSecret: a client that authenticates with a secret and has none.
func needsSecret(c clientreg.Client) bool {
	switch c.TokenEndpointAuthMethod {
	case "", "client_secret_basic", "client_secret_post":
		return len(c.Secrets) == 0 && len(c.JWKS) == 0 && c.JWKSURI == ""
	}
	return false
}

// check applies the registry's rules, then Config.Check, to a change.
func (a *api) check(ctx context.Context, kind, id string, put interface{ Validate() error }) error {
	if put != nil {
		if err := put.Validate(); err != nil {
			return err
		}
	}
	if a.Check == nil {
		return nil
	}
	var v any
	switch x := put.(type) {
	case *clientreg.Client:
		v = *x
	case *clientreg.Resource:
		v = *x
	}
	if err := a.Check(ctx, kind, id, v); err != nil {
		if errors.Is(err, clientreg.ErrReserved) || errors.Is(err, clientreg.ErrNotFound) {
			return err
		}
		return badRequest("%s", trim(err))
	}
	return nil
}

func (a *api) createClient(w http.ResponseWriter, r *http.Request) error {
	c, err := a.readClient(r)
	if err != nil {
		return err
	}
	secret := ""
	if needsSecret(c) {
		s, hash, err := registration.NewSecret(a.Rand)
		if err != nil {
			return err
		}
		secret = s
		c.Secrets = []clientreg.Secret{{Hash: hash, CreatedAt: a.Now().UTC()}}
	}
	if err := a.check(r.Context(), clientreg.KindClient, c.ClientID, &c); err != nil {
		return err
	}
	c, err = a.Store.CreateClient(r.Context(), c, who(r))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", c.Meta.ETag())
	w.Header().Set("Location", location("clients", c.ClientID))
	writeJSON(w, http.StatusCreated, redactClient(c, secret))
	return nil
}

// updateClient replaces a client. Secrets left out of the body keep the
// stored ones (they change with rotate-secret); so does the registration
// access token of a dynamically registered client.
func (a *api) updateClient(w http.ResponseWriter, r *http.Request) error {
	rev, err := ifMatch(r)
	if err != nil {
		return err
	}
	c, err := a.readClient(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if c.ClientID == "" {
		c.ClientID = id
	}
	if c.ClientID != id {
		return badRequest("clientId %q differs from the path's %q; a client's id does not change (create a new client instead)", c.ClientID, id)
	}
	old, err := a.Store.Client(r.Context(), id)
	if err != nil {
		return err
	}
	if rev != 0 && old.Meta.Revision != rev {
		return clientreg.ErrConflict // the store would say so too; spare the checks
	}
	if len(c.Secrets) == 0 {
		c.Secrets = old.Secrets
	}
	c.RegistrationAccessTokenHash = old.RegistrationAccessTokenHash
	if err := a.check(r.Context(), clientreg.KindClient, id, &c); err != nil {
		return err
	}
	if rev == 0 {
		rev = old.Meta.Revision // If-Match: *, still no lost update between our read and the write
	}
	c, err = a.Store.UpdateClient(r.Context(), c, rev, who(r))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", c.Meta.ETag())
	writeJSON(w, http.StatusOK, redactClient(c, ""))
	return nil
}

func (a *api) deleteClient(w http.ResponseWriter, r *http.Request) error {
	rev, err := ifMatch(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := a.check(r.Context(), clientreg.KindClient, id, nil); err != nil {
		return err
	}
	if err := a.Store.DeleteClient(r.Context(), id, rev, who(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// rotateSecret adds a new secret and lets the others expire after the
// grace period (?gracePeriod=, default clientreg.DefaultRotationGrace): both work meanwhile. If-Match
// is optional here (the change is computed on the stored record).
func (a *api) rotateSecret(w http.ResponseWriter, r *http.Request) error {
	grace := clientreg.DefaultRotationGrace
	if g := r.URL.Query().Get("gracePeriod"); g != "" {
		d, err := time.ParseDuration(g)
		if err != nil || d < 0 || d > MaxGracePeriod {
			return badRequest("gracePeriod: %q is not a duration from 0s to %s, e.g. 24h", g, MaxGracePeriod)
		}
		grace = d
	}
	var rev int64
	if r.Header.Get("If-Match") != "" {
		var err error
		if rev, err = ifMatch(r); err != nil {
			return err
		}
	}
	c, err := a.Store.Client(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if rev != 0 && c.Meta.Revision != rev {
		return clientreg.ErrConflict
	}
	if c.TokenEndpointAuthMethod == "none" || c.TokenEndpointAuthMethod == "private_key_jwt" {
		return badRequest("client %q authenticates with %s, not a secret: there is nothing to rotate", c.ClientID, c.TokenEndpointAuthMethod)
	}
	now := a.Now().UTC()
	s, hash, err := registration.NewSecret(a.Rand)
	if err != nil {
		return err
	}
	c.Secrets = clientreg.Rotate(c.Secrets, clientreg.Secret{Hash: hash, CreatedAt: now}, now, grace)
	ch := who(r)
	ch.Action = clientreg.ActionRotateSecret
	c, err = a.Store.UpdateClient(r.Context(), c, c.Meta.Revision, ch)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", c.Meta.ETag())
	writeJSON(w, http.StatusOK, redactClient(c, s))
	return nil
}
