package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/signet-id/signet/internal/cpuprofile"
)

// baselineMain is `bench baseline-server --body-bytes N`: the HTTP floor.
// A plain net/http server with the same timeouts as signet serve whose
// one handler reads the request body and answers with a fixed JSON body
// of N bytes and the token response's headers. It prints "listening
// ADDR" once it accepts connections and runs until SIGTERM or SIGINT.
func baselineMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("baseline-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	size := fs.Int("body-bytes", 600, "size of the response body")
	listen := fs.String("listen", "127.0.0.1:0", "the address to listen on")
	profile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *profile != "" {
		stopProfile, err := cpuprofile.Start(*profile)
		if err != nil {
			fmt.Fprintf(stderr, "baseline-server: --cpuprofile: %v\n", err)
			return 1
		}
		defer stopProfile()
	}
	if *size < 2 || *size > 1<<20 {
		fmt.Fprintln(stderr, "baseline-server: --body-bytes must be from 2 to 1MiB")
		return 2
	}
	body := []byte(`"` + strings.Repeat("x", *size-2) + `"`)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "baseline-server: %v\n", err)
		return 1
	}
	hs := &http.Server{
		Handler:           baselineHandler(body),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }() // joined below
	fmt.Fprintf(stdout, "listening %s\n", ln.Addr())
	select {
	case <-ctx.Done():
	case err := <-served:
		fmt.Fprintf(stderr, "baseline-server: %v\n", err)
		return 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = hs.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		fmt.Fprintf(stderr, "baseline-server: %v\n", err)
		return 1
	}
	return 0
}

var (
	hdrJSON    = []string{"application/json"}
	hdrNoStore = []string{"no-store"}
	hdrNoCache = []string{"no-cache"}
)

// baselineHandler answers every POST with body and the token response's
// headers; anything else gets 405.
func baselineHandler(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		io.Copy(io.Discard, r.Body)
		h := w.Header()
		h["Content-Type"] = hdrJSON
		h["Cache-Control"] = hdrNoStore
		h["Pragma"] = hdrNoCache
		w.Write(body)
	})
}
