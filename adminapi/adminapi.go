package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/signet-id/signet/adminauth"
	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/keymanager"
)

// Prefix is the path every admin API route starts with.
const Prefix = "/admin/v1/"

// MaxBodyBytes bounds a request body.
const MaxBodyBytes = 256 << 10

// MaxGracePeriod bounds the grace period of POST .../rotate-secret.
const MaxGracePeriod = 30 * 24 * time.Hour

// Config configures the admin API.
type Config struct {
	// Store is the registry; the server passes it wrapped by
	// clientreg.Reserve, so the YAML file's ids are refused. Required.
	Store clientreg.Store
	// Verifier authorises the requests. Required.
	Verifier *adminauth.Verifier
	// Keys lists the keys (the key manager's Keys). Required.
	Keys func() []keymanager.KeyInfo
	// Check applies the configuration's rules (grant types, scopes,
	// redirect URIs, ...) to a change before it is written: put is the
	// clientreg.Client or clientreg.Resource written, nil for a delete of
	// kind (clientreg.KindClient or KindResource) and id. A change the
	// servers would refuse, or that would stop them serving another
	// entry, is answered 400 instead of stored (signet.CheckChange). Nil
	// checks only the registry's own rules.
	Check func(ctx context.Context, kind, id string, put any) error
	// Rand makes client secrets; nil: crypto/rand.
	Rand io.Reader
	// Now is the clock of secret expiries; nil: time.Now.
	Now func() time.Time
	// Logger receives store errors; nil discards.
	Logger *slog.Logger
}

type api struct {
	Config
}

// New returns the handler of every /admin/v1/ route.
func New(cfg Config) (http.Handler, error) {
	if cfg.Store == nil || cfg.Verifier == nil || cfg.Keys == nil {
		return nil, errors.New("adminapi: Config.Store, Verifier and Keys are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &api{Config: cfg}
	mux := http.NewServeMux()
	read := func(pattern string, h func(http.ResponseWriter, *http.Request) error) {
		mux.Handle(pattern, cfg.Verifier.Require(adminauth.ScopeRead, a.wrap(h)))
	}
	write := func(pattern string, h func(http.ResponseWriter, *http.Request) error) {
		mux.Handle(pattern, cfg.Verifier.Require(adminauth.ScopeWrite, a.wrap(h)))
	}
	read("GET "+Prefix+"clients", a.listClients)
	write("POST "+Prefix+"clients", a.createClient)
	read("GET "+Prefix+"clients/{id}", a.getClient)
	write("PUT "+Prefix+"clients/{id}", a.updateClient)
	write("DELETE "+Prefix+"clients/{id}", a.deleteClient)
	write("POST "+Prefix+"clients/{id}/rotate-secret", a.rotateSecret)
	read("GET "+Prefix+"resources", a.listResources)
	write("POST "+Prefix+"resources", a.createResource)
	read("GET "+Prefix+"resources/{name}", a.getResource)
	write("PUT "+Prefix+"resources/{name}", a.updateResource)
	write("DELETE "+Prefix+"resources/{name}", a.deleteResource)
	read("GET "+Prefix+"keys", a.listKeys)
	read("GET "+Prefix+"audit", a.audit)
	// Anything else under the prefix: authenticate first (no route map
	// for strangers), then 404 or 405.
	mux.Handle(Prefix, cfg.Verifier.Require(adminauth.ScopeRead, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no admin API route "+r.Method+" "+r.URL.Path+"; see docs/admin-api.yaml")
	})))
	return mux, nil
}

// apiError is an answer other than 2xx.
type apiError struct {
	status int
	code   string
	desc   string
}

func (e *apiError) Error() string { return e.desc }

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, "invalid_request", fmt.Sprintf(format, args...)}
}

// wrap turns a handler's error into its answer.
func (a *api) wrap(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		var ae *apiError
		switch {
		case errors.As(err, &ae):
		case errors.Is(err, clientreg.ErrNotFound):
			ae = &apiError{http.StatusNotFound, "not_found", trim(err)}
		case errors.Is(err, clientreg.ErrConflict):
			ae = &apiError{http.StatusPreconditionFailed, "precondition_failed", trim(err)}
		case errors.Is(err, clientreg.ErrExists), errors.Is(err, clientreg.ErrReserved):
			ae = &apiError{http.StatusConflict, "conflict", trim(err)}
		case errors.Is(err, clientreg.ErrInvalid):
			ae = &apiError{http.StatusBadRequest, "invalid_request", trim(err)}
		default:
			a.Logger.Error("admin API: the registry failed", "method", r.Method, "path", r.URL.Path, "error", err)
			ae = &apiError{http.StatusServiceUnavailable, "temporarily_unavailable", "the store did not answer; retry shortly (the server log has the details)"}
		}
		writeError(w, ae.status, ae.code, ae.desc)
	})
}

func trim(err error) string { return strings.TrimPrefix(err.Error(), "clientreg: ") }

func writeError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error","error_description":"the answer could not be encoded"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// decode reads a JSON object into v, refusing unknown members, trailing
// data and bodies over MaxBodyBytes; errors name the member.
func decode(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &apiError{http.StatusUnsupportedMediaType, "invalid_request", "send the body as Content-Type: application/json"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return badRequest("reading the body: %v", err)
	}
	if len(body) > MaxBodyBytes {
		return &apiError{http.StatusRequestEntityTooLarge, "invalid_request", fmt.Sprintf("the body is over %d bytes", MaxBodyBytes)}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("the body is not the expected JSON object: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return badRequest("the body has data after the JSON object")
	}
	return nil
}

// ifMatch reads the If-Match of a change: 428 without it, 400 when it is
// not an ETag this API gave; "*" means any revision.
func ifMatch(r *http.Request) (int64, error) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	switch v {
	case "":
		return 0, &apiError{http.StatusPreconditionRequired, "precondition_required",
			"send If-Match with the ETag of the record you read (GET it first), so that a concurrent change is not overwritten; If-Match: * skips the check"}
	case "*":
		return 0, nil
	}
	rev, err := clientreg.ParseETag(v)
	if err != nil {
		return 0, badRequest("If-Match: %s", trim(err))
	}
	return rev, nil
}

// page reads ?limit and ?cursor.
func page(r *http.Request) (clientreg.Page, error) {
	q := r.URL.Query()
	p := clientreg.Page{Cursor: q.Get("cursor")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > clientreg.MaxLimit {
			return p, badRequest("limit: %q is not a number from 1 to %d", l, clientreg.MaxLimit)
		}
		p.Limit = n
	}
	return p, nil
}

// list is the body of every list answer.
type list[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

// writeList answers a page, with a Link rel="next" when there is more.
func writeList[T any](w http.ResponseWriter, r *http.Request, p clientreg.Page, items []T, next string) {
	if items == nil {
		items = []T{}
	}
	if next != "" {
		q := r.URL.Query()
		q.Set("cursor", next)
		q.Set("limit", strconv.Itoa(p.EffectiveLimit()))
		w.Header().Set("Link", "<"+r.URL.Path+"?"+q.Encode()+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, list[T]{Items: items, Next: next})
}

// who is the author of a change: the token's client_id.
func who(r *http.Request) clientreg.Change {
	return clientreg.Change{By: adminauth.ClaimsFrom(r.Context()).ClientID}
}

func location(kind, id string) string { return Prefix + kind + "/" + url.PathEscape(id) }
