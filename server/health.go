package server

import (
	"encoding/json"
	"net/http"
)

func (s *Server) serveHealthz(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore
	w.Write([]byte(`{"status":"ok"}`))
}

// serveReadyz answers 200 when every configured algorithm can sign and
// the store answered, 503 with the reason otherwise.
func (s *Server) serveReadyz(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore
	if err := s.keys.Ready(); err != nil {
		body, _ := json.Marshal(struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		}{"not ready", err.Error()})
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write(body)
		return
	}
	w.Write([]byte(`{"status":"ready"}`))
}
