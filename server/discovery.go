package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keymanager"
	"github.com/signet-id/signet/server/internal/oauth"
)

// discovery is a pre-built discovery document and the signing algorithms
// it was built for.
type discovery struct {
	reg  *registry
	algs []key.Algorithm
	body []byte
}

// discoveryDoc lists only what Signet serves today.
type discoveryDoc struct {
	Issuer                            string   `json:"issuer"`
	JWKSURI                           string   `json:"jwks_uri"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	// TokenEndpointAuthSigningAlgValuesSupported are the algorithms of
	// private_key_jwt client assertions.
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported"`
	// RequestParameterSupported is true with the login flows (request
	// objects, RFC 9101: requestobject.go), else false, said explicitly.
	RequestParameterSupported bool `json:"request_parameter_supported"`
	// RequestURIParameterSupported is true with the login flows, for the
	// request_uri PAR returns (par.go; no request object is fetched from
	// a URL), else false: omitted, it would mean true (OpenID Connect
	// Discovery 3).
	RequestURIParameterSupported bool `json:"request_uri_parameter_supported"`
	// DPoPSigningAlgValuesSupported are the DPoP proof algorithms
	// accepted (RFC 9449 section 5.1).
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported"`

	// RegistrationEndpoint is there only with dynamic registration.
	RegistrationEndpoint string `json:"registration_endpoint,omitempty"`

	// The login flows (oidc.go), present only when they are served.
	loginDiscovery
}

// discoveryBody returns the discovery document for the current signing
// algorithms and clients, rebuilding it only when they changed.
func (s *Server) discoveryBody() []byte {
	algs := s.keys.SigningAlgorithms()
	reg := s.reg.Load()
	if d := s.discovery.Load(); d != nil && d.reg == reg && slices.Equal(d.algs, algs) {
		return d.body
	}
	// What key management decides comes from where an embedder gets it.
	km := keymanager.DiscoveryOf(signingAlgs(algs), s.issuer+PathJWKS)
	doc := discoveryDoc{
		Issuer:                            s.issuer,
		JWKSURI:                           km.JWKSURI,
		TokenEndpoint:                     s.issuer + PathToken,
		ScopesSupported:                   append([]string{}, reg.scopes...),
		ResponseTypesSupported:            []string{}, // no authorization endpoint yet
		GrantTypesSupported:               []string{grantClientCredentials},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		TokenEndpointAuthSigningAlgValuesSupported: s.assertionAlgorithms(),
		IDTokenSigningAlgValuesSupported:           km.IDTokenSigningAlgValuesSupported,
		DPoPSigningAlgValuesSupported:              s.dpop.Algorithms(),
	}
	if s.oidc != nil {
		s.addLoginDiscovery(&doc)
	}
	if s.register != nil {
		doc.RegistrationEndpoint = s.issuer + PathRegister
	}
	body, err := json.Marshal(doc)
	if err != nil { // cannot happen: strings and slices of strings
		panic(err)
	}
	s.discovery.Store(&discovery{reg: reg, algs: algs, body: body})
	return body
}

func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if s.keys.Ready() != nil { // it would list too few signing algorithms
		s.notReady(w)
		return
	}
	body := s.discoveryBody()
	h := w.Header()
	h["Content-Type"] = oauth.HdrJSON
	// Sent with its length, not chunked: with the login flows the
	// document is larger than net/http buffers before it chunks (2 KiB).
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	h.Set("Cache-Control", s.maxAge)
	h["Access-Control-Allow-Origin"] = oauth.HdrAllowAnyOrig
	w.Write(body)
}

// signingAlgs is a list of signing algorithms read once, as
// keymanager.DiscoveryOf takes them.
type signingAlgs []key.Algorithm

func (a signingAlgs) SigningAlgorithms() []key.Algorithm { return a }
