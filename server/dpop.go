package server

import (
	"fmt"
	"io"

	"github.com/signet-id/signet/dpop"
	"github.com/signet-id/signet/server/internal/dpopbinding"
)

// maxMemoryReplay bounds the proofs remembered by a server without a
// grant store (client_credentials only): at the default window, 100,000
// DPoP token requests a minute (about 20 MB); beyond, requests are
// answered 503 rather than a proof accepted unrecorded.
const maxMemoryReplay = 100_000

// newDPoP makes the server's DPoP checks (server/internal/dpopbinding):
// proofs at the token endpoint and userinfo, their jtis recorded in the
// grant store (so a replay at another instance is refused), nonces keyed
// by cfg.DPoP.NonceSecret.
func (s *Server) newDPoP(cfg Config) (*dpopbinding.Binding, error) {
	var replay dpop.Replay
	if cfg.Grants != nil {
		replay = dpopbinding.NewStoreReplay(cfg.Grants, s.now)
	} else {
		m, err := dpop.NewMemoryReplay(maxMemoryReplay, s.now)
		if err != nil {
			return nil, err
		}
		replay = m
	}
	secret := cfg.DPoP.NonceSecret
	if cfg.DPoP.RequireNonce && secret == nil {
		secret = make([]byte, 32)
		if _, err := io.ReadFull(s.rand, secret); err != nil {
			return nil, fmt.Errorf("server: DPoP nonce secret: %w", err)
		}
	}
	if !cfg.DPoP.RequireNonce {
		secret = nil
	}
	b, err := dpopbinding.New(dpopbinding.Config{Algorithms: cfg.DPoP.Algorithms, Window: cfg.DPoP.ProofWindow, NonceSecret: secret,
		Replay: replay, TokenURI: s.issuer + PathToken, UserinfoURI: s.issuer + PathUserinfo, Now: s.now, Log: s.log})
	if err != nil {
		return nil, fmt.Errorf("server: DPoP: %w", err)
	}
	return b, nil
}
