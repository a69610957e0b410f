package server

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/server/internal/oauth"
)

// storeHealth is implemented by key sources that know whether their store
// answers (the key manager).
type storeHealth interface {
	StoreError() error
}

// Readiness states, in /readyz's "status".
const (
	statusReady    = "ready"     // signs tokens and signs people in
	statusDegraded = "degraded"  // signs tokens; the store does not answer
	statusNotReady = "not ready" // a configured algorithm cannot sign
)

func (s *Server) serveHealthz(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Content-Type"] = oauth.HdrJSON
	h["Cache-Control"] = oauth.HdrNoStore
	w.Write([]byte(`{"status":"ok"}`))
}

// readiness is the detailed /readyz body of the admin listener.
type readiness struct {
	Status string `json:"status"`
	// Tokens is "ready" when every configured algorithm can sign, else
	// "not ready: <reason>".
	Tokens string `json:"tokens"`
	// SignIn is "ready", "unavailable: ..." while the store does not
	// answer (login, refresh and userinfo fail), or "disabled" without
	// the login flows.
	SignIn string `json:"signIn"`
	// Store is "ok" or "unreachable: <reason>".
	Store string `json:"store"`
	// Algorithms is each algorithm's state: "signing with <kid>" or
	// "cannot sign", with its keys by state.
	Algorithms map[string]algorithmState `json:"algorithms"`
}

type algorithmState struct {
	State      string         `json:"state"`
	Keys       map[string]int `json:"keys,omitempty"`
	Unreadable int            `json:"unreadable,omitempty"`
}

// readiness computes the instance's readiness and its HTTP status: 503
// when a configured algorithm cannot sign. While the store is unreachable
// the instance keeps signing with the keys it holds, so it stays in
// rotation (200, "degraded"): a load balancer that drained every instance
// during a database outage would turn it into a token outage. Sign-in
// needs the store (sessions, codes, refresh tokens), so it is unavailable
// then: the login, refresh and userinfo flows fail.
func (s *Server) readiness() (readiness, int) {
	body := readiness{Status: statusReady, Tokens: "ready", SignIn: "ready", Store: "ok"}
	if s.oidc == nil {
		body.SignIn = "disabled"
	}
	if sh, ok := s.keys.(storeHealth); ok {
		if err := sh.StoreError(); err != nil {
			body.Status, body.Store = statusDegraded, "unreachable: "+err.Error()
			if s.oidc != nil {
				body.SignIn = "unavailable: the store does not answer; sign-in, refresh and userinfo fail until it does"
			}
		}
	}
	code := http.StatusOK
	if err := s.keys.Ready(); err != nil {
		body.Status, body.Tokens = statusNotReady, "not ready: "+err.Error()
		code = http.StatusServiceUnavailable
	}
	body.Algorithms = s.algorithmStates()
	return body, code
}

// algorithmStates describes each algorithm the key manager knows.
func (s *Server) algorithmStates() map[string]algorithmState {
	signing := s.keys.SigningAlgorithms()
	out := make(map[string]algorithmState)
	for _, k := range s.keys.Keys() {
		a := out[string(k.Algorithm)]
		if a.Keys == nil {
			a.Keys = make(map[string]int)
		}
		a.Keys[string(k.State)]++
		if k.Unreadable != nil {
			a.Unreadable++
		}
		if k.State == key.StateActive || k.State == keymanager.StateStaticSigning {
			a.State = "signing with " + k.KID
		}
		out[string(k.Algorithm)] = a
	}
	for alg, a := range out {
		if !slices.Contains(signing, key.Algorithm(alg)) {
			a.State = "cannot sign"
			out[alg] = a
		}
	}
	for _, alg := range signing {
		if _, ok := out[string(alg)]; !ok {
			out[string(alg)] = algorithmState{State: "signing"}
		}
	}
	return out
}

// servePublicReadyz is /readyz on the public listener: the status alone
// ({"status":"ready"}, "degraded" or "not ready"), never the store's
// address, user, database or error. The admin listener has the detail.
func (s *Server) servePublicReadyz(w http.ResponseWriter, r *http.Request) {
	body, code := s.readiness()
	writeReadyz(w, code, struct {
		Status string `json:"status"`
	}{body.Status})
}

// serveAdminReadyz is /readyz on the admin listener, with the detail.
func (s *Server) serveAdminReadyz(w http.ResponseWriter, r *http.Request) {
	body, code := s.readiness()
	writeReadyz(w, code, body)
}

func writeReadyz(w http.ResponseWriter, code int, body any) {
	h := w.Header()
	h["Content-Type"] = oauth.HdrJSON
	h["Cache-Control"] = oauth.HdrNoStore
	out, _ := json.Marshal(body) // cannot fail: strings and numbers
	w.WriteHeader(code)
	w.Write(out)
}

// AdminHandler serves the admin endpoints, for a listener operators and
// Prometheus reach but clients do not (adminListen): GET /metrics, GET
// /readyz with the detail (store errors, sign-in, each algorithm's state)
// and GET /healthz. The public handler (ServeHTTP) serves /healthz and a
// /readyz that says only ready, degraded or not ready, and no /metrics.
func (s *Server) AdminHandler() http.Handler { return s.admin }

// adminAPIPrefix is where Config.AdminAPI is served.
const adminAPIPrefix = "/admin/v1/"

func (s *Server) buildAdminHandler(adminAPI bool) http.Handler {
	mux := http.NewServeMux()
	if adminAPI && s.adminAPI != nil {
		mux.Handle(adminAPIPrefix, s.adminAPI)
	}
	mux.HandleFunc("GET /healthz", s.serveHealthz)
	mux.HandleFunc("GET /readyz", s.serveAdminReadyz)
	mux.Handle("GET /metrics", s.metrics.handler(s.registry))
	return mux
}
