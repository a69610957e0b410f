package dpopjkt

import (
	"crypto/subtle"

	"github.com/signet-id/signet/dpop"
	"github.com/signet-id/signet/server/internal/authorize"
	"github.com/signet-id/signet/server/internal/oauth"
)

// DPoPJKT is the extension. The zero value is ready to use.
type DPoPJKT struct{}

var _ authorize.Extension = DPoPJKT{}

// Name returns "dpop_jkt".
func (DPoPJKT) Name() string { return "dpop_jkt" }

// Authorize checks dpop_jkt, the base64url SHA-256 thumbprint of a JWK,
// and binds the code to it. At a pushed authorization request with a DPoP
// proof (r.DPoPJKT), the proof's key binds the code; a dpop_jkt beside it
// must name the same key.
func (DPoPJKT) Authorize(r *authorize.Request) *authorize.Error {
	jkt, sent := r.Params["dpop_jkt"]
	switch {
	case sent && !dpop.ValidThumbprint(jkt):
		return &authorize.Error{Code: "invalid_request", Desc: "dpop_jkt must be the base64url SHA-256 JWK thumbprint (RFC 7638) of the client's DPoP key: 43 characters"}
	case r.DPoPJKT != "" && sent && subtle.ConstantTimeCompare([]byte(jkt), []byte(r.DPoPJKT)) != 1:
		return &authorize.Error{Code: "invalid_dpop_proof", Desc: "dpop_jkt names another key than the DPoP proof sent with the request"}
	case r.DPoPJKT != "":
		jkt = r.DPoPJKT
	}
	r.Binding.DPoPJKT = jkt
	return nil
}

// Redeem refuses to redeem a code bound to a DPoP key without a proof by
// that key.
func (DPoPJKT) Redeem(b *authorize.Binding, r *authorize.Redemption) *oauth.Error {
	switch {
	case b.DPoPJKT == "":
		return nil
	case r.DPoPJKT == "":
		return oauth.InvalidGrant("the authorization code is bound to a DPoP key (dpop_jkt): send a DPoP proof signed by it")
	case subtle.ConstantTimeCompare([]byte(b.DPoPJKT), []byte(r.DPoPJKT)) != 1:
		return oauth.InvalidGrant("the DPoP proof is signed by another key than the authorization request's dpop_jkt")
	}
	return nil
}
