package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/server"
	"github.com/signet-id/signet/signer/backend"
)

// adminServer is the admin listener (adminListen): /metrics, the detailed
// /readyz and /healthz. A nil *adminServer (no adminListen) does nothing.
type adminServer struct {
	ln net.Listener
	hs *httpServer
}

// listenAdmin binds cfg.AdminListen, before anything is served.
func listenAdmin(cfg *config.Config) (*adminServer, error) {
	if cfg.AdminListen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.AdminListen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w; free the port or choose another address with adminListen:", cfg.AdminListen, err)
	}
	return &adminServer{ln: ln}, nil
}

// addr is the admin listener's address, "" without one.
func (a *adminServer) addr() string {
	if a == nil {
		return ""
	}
	return a.ln.Addr().String()
}

// serve starts serving srv's admin endpoints in a goroutine of wg; a
// failure goes to failed.
func (a *adminServer) serve(srv *server.Server, log *slog.Logger, wg *sync.WaitGroup, failed chan<- error) {
	if a == nil {
		return
	}
	a.hs = newHTTPServer(srv.AdminHandler(), log)
	wg.Go(func() {
		if err := a.hs.Serve(a.ln); !errors.Is(err, http.ErrServerClosed) {
			failed <- fmt.Errorf("admin listener: %w", err)
		}
	})
	log.Info("admin listener started: /metrics, /readyz (detailed), /healthz", "addr", a.addr())
}

// shutdown stops the admin listener; close releases a listener never
// served (an early return of serve).
func (a *adminServer) shutdown(ctx context.Context) error {
	if a == nil || a.hs == nil {
		return nil
	}
	return a.hs.Shutdown(ctx)
}

func (a *adminServer) close() {
	if a != nil && a.hs == nil {
		a.ln.Close()
	}
}

// newHTTPServer is an HTTP server for h with serve's limits and timeouts,
// whose Shutdown does not wait for connections that sent nothing
// (drain.go).
func newHTTPServer(h http.Handler, log *slog.Logger) *httpServer {
	return newDrainingServer(&http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	})
}

// metricsBuildInfo labels signet_build_info: the version and the VCS
// revision as `signet version` reports them (the build info, or the
// release's -ldflags), and the signing backend of this build.
func metricsBuildInfo() server.BuildInfo {
	v := currentBuildInfo()
	b := server.BuildInfo{Version: v.Version, Revision: v.Revision, Backend: backend.Go}
	for _, alg := range key.Algorithms() {
		if backend.Name(alg) != backend.Go {
			b.Backend = backend.Name(alg)
		}
	}
	return b
}

// serverConfig is signet.ServerConfig with this build's signet_build_info.
func serverConfig(cfg *config.Config, keys server.Keys, grants grant.Store, log *slog.Logger) server.Config {
	sc := signet.ServerConfig(cfg, keys, grants, log)
	sc.Build = metricsBuildInfo()
	return sc
}
