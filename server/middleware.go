package server

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/signet-id/signet/server/internal/oauth"
)

// statusWriter records the status code and whether a header was written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wrap is the outermost handler: it records each request's latency and
// status by route (the label of the mux pattern that matched; the mux sets
// r.Pattern), and turns a panic into a logged error and a 500 response
// whose body says nothing about the cause.
func (s *Server) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if sw.status == 0 {
					oauth.WriteError(sw, &oauth.Error{Status: http.StatusInternalServerError, Code: "server_error", Desc: "internal error; the server log has the details"})
				}
			}
			route, ok := s.routes[r.Pattern]
			if !ok {
				route = "unmatched"
			}
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			s.metrics.observe(route, sw.status, time.Since(start))
		}()
		next.ServeHTTP(sw, r)
	})
}
