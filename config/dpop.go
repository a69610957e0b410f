package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/signet-id/signet/dpop"
)

// DPoP is the dpop section: how the server checks DPoP proofs (RFC 9449).
type DPoP struct {
	// RequireNonce (dpop.requireNonce) makes every proof carry a server
	// nonce: a proof without a current one is answered use_dpop_nonce
	// with a DPoP-Nonce header.
	RequireNonce bool
	// AllowedSigningAlgorithms (dpop.allowedSigningAlgorithms) are the
	// proof algorithms accepted and announced in discovery
	// (dpop_signing_alg_values_supported); dpop.DefaultAlgorithms unless
	// set.
	AllowedSigningAlgorithms []string
	// ProofWindow (dpop.proofWindow) is how far a proof's iat may be from
	// the server's clock; dpop.DefaultWindow unless set.
	ProofWindow time.Duration
}

type dpopDoc struct {
	RequireNonce             *bool     `yaml:"requireNonce"`
	AllowedSigningAlgorithms []string  `yaml:"allowedSigningAlgorithms"`
	ProofWindow              *Duration `yaml:"proofWindow"`
}

// resolveDPoP checks the dpop section and applies the defaults.
func (p *parser) resolveDPoP(d *fileDoc, c *Config) error {
	c.DPoP = DPoP{AllowedSigningAlgorithms: dpop.DefaultAlgorithms(), ProofWindow: dpop.DefaultWindow}
	dd := d.DPoP
	if dd == nil {
		return nil
	}
	if dd.RequireNonce != nil {
		c.DPoP.RequireNonce = *dd.RequireNonce
	}
	if dd.AllowedSigningAlgorithms != nil {
		if len(dd.AllowedSigningAlgorithms) == 0 {
			return p.at("dpop.allowedSigningAlgorithms", "is empty; list at least one of %s, or remove it for the default (%s)",
				strings.Join(dpop.SupportedAlgorithms(), ", "), strings.Join(dpop.DefaultAlgorithms(), ", "))
		}
		for i, a := range dd.AllowedSigningAlgorithms {
			if _, err := dpop.New(dpop.Config{Algorithms: []string{a}}); err != nil {
				return p.at(fmt.Sprintf("dpop.allowedSigningAlgorithms[%d]", i), "%q is not a DPoP proof algorithm; use one of %s (asymmetric only: none and HS* are never accepted)",
					a, strings.Join(dpop.SupportedAlgorithms(), ", "))
			}
		}
		c.DPoP.AllowedSigningAlgorithms = dd.AllowedSigningAlgorithms
	}
	if dd.ProofWindow != nil {
		w := time.Duration(*dd.ProofWindow)
		if w < time.Second || w > dpop.MaxWindow {
			return p.at("dpop.proofWindow", "must be from 1s to %s, e.g. 60s (how far a proof's iat may be from the server's clock, either way)", dpop.MaxWindow)
		}
		c.DPoP.ProofWindow = w
	}
	if c.DPoP.RequireNonce && c.Storage.Driver == DriverPostgres && len(c.Protection.Secrets) == 0 {
		return p.at("dpop.requireNonce", "needs keyManagement.protection.secrets with the postgres store: every instance derives the nonce key from the first secret, so that a nonce from one is accepted by the others")
	}
	// The settings must make a verifier.
	if _, err := dpop.New(dpop.Config{Algorithms: c.DPoP.AllowedSigningAlgorithms, Window: c.DPoP.ProofWindow}); err != nil {
		return p.at("dpop", "%v", err)
	}
	return nil
}
