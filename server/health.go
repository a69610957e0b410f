package server

import (
	"encoding/json"
	"net/http"
)

// storeHealth is implemented by key sources that know whether their store
// answers (the key manager).
type storeHealth interface {
	StoreError() error
}

func (s *Server) serveHealthz(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore
	w.Write([]byte(`{"status":"ok"}`))
}

// readiness is the /readyz body.
type readiness struct {
	// Status is "ready", "degraded" (signing, but the key store does not
	// answer) or "not ready".
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Store is "ok" or "unreachable: <reason>".
	Store string `json:"store"`
}

// serveReadyz answers 503 when a configured algorithm cannot sign. While
// the key store is unreachable the instance keeps signing with the keys it
// holds, so it stays in rotation: 200 with status "degraded" and the store
// error in the detail (a load balancer that drained every instance during
// a database outage would turn it into a token outage).
func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore
	body := readiness{Status: "ready", Store: "ok"}
	if sh, ok := s.keys.(storeHealth); ok {
		if err := sh.StoreError(); err != nil {
			body.Status, body.Store = "degraded", "unreachable: "+err.Error()
		}
	}
	code := http.StatusOK
	if err := s.keys.Ready(); err != nil {
		body.Status, body.Error = "not ready", err.Error()
		code = http.StatusServiceUnavailable
	}
	out, _ := json.Marshal(body)
	w.WriteHeader(code)
	w.Write(out)
}
