package authorize

import "github.com/signet-id/signet/server/internal/oauth"

// Request is an authorization request as an extension sees it, after the
// server has checked the client, its redirect URI and the scopes.
type Request struct {
	// ClientID is the client's id; Public is true for a client without
	// secrets (token endpoint auth method none).
	ClientID string
	Public   bool
	// Params are the request's parameters (each present at most once).
	Params map[string]string
	// Binding is what the authorization code will be bound to; an
	// extension sets its fields.
	Binding *Binding
	// DPoPJKT is the thumbprint of the key of a DPoP proof sent with a
	// pushed authorization request (RFC 9449 section 10.1); "" at the
	// authorization endpoint, which gets no proof.
	DPoPJKT string
}

// Redemption is a token request redeeming a code, as an extension sees it.
type Redemption struct {
	// Form holds the request's parameters.
	Form map[string]string
	// DPoPJKT is the thumbprint of the key of the request's verified DPoP
	// proof, "" without one.
	DPoPJKT string
}

// Binding is what an authorization code is bound to by the extensions.
// It is stored in the code's grant (its fields are part of the code's
// stored JSON) and handed back to the extensions when the code is
// redeemed.
type Binding struct {
	// Challenge is the PKCE code challenge (S256), "" without PKCE.
	Challenge string `json:"code_challenge,omitempty"`
	// DPoPJKT is the dpop_jkt of the request (RFC 9449 section 10): the
	// code is redeemed only with a DPoP proof by that key.
	DPoPJKT string `json:"dpop_jkt,omitempty"`
}

// Error is an authorization error an extension reports: it is sent to
// the client's redirect URI as error and error_description.
type Error struct {
	Code string
	Desc string
}

// Extension is an authorization-request extension.
type Extension interface {
	// Name names the extension (for logs and docs).
	Name() string
	// Authorize checks the extension's parameters of an authorization
	// request and records in r.Binding what the code is bound to.
	Authorize(r *Request) *Error
	// Redeem checks, at the token endpoint, the token request against
	// the binding of the code being redeemed.
	Redeem(b *Binding, r *Redemption) *oauth.Error
}
