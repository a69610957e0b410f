package config

import (
	"encoding/json"

	"github.com/signet-id/signet/clientauth/privatekeyjwt"
)

// clients[].tokenEndpointAuthMethod values.
const (
	// AuthMethodNone is clients[].tokenEndpointAuthMethod of a public
	// client: no secret, PKCE required.
	AuthMethodNone = "none"
	// AuthMethodSecretBasic and AuthMethodSecretPost name a client that
	// authenticates with a secret; Signet accepts it either way, as when
	// the method is omitted.
	AuthMethodSecretBasic = "client_secret_basic"
	AuthMethodSecretPost  = "client_secret_post"
	// AuthMethodPrivateKeyJWT is a client that signs an assertion with its
	// private key (RFC 7523); its public keys are in jwks or at jwksUri.
	AuthMethodPrivateKeyJWT = privatekeyjwt.Method
)

// jwksDoc is clients[].jwks and apiResources[].jwks, a JWK Set: { keys: [...] }.
type jwksDoc struct {
	Keys []map[string]any `yaml:"keys" json:"keys"`
}

// resolveClientAuth resolves clients[].tokenEndpointAuthMethod, jwks and
// jwksUri.
func (p *parser) resolveClientAuth(path string, cd *clientDoc, cl *Client) error {
	cl.TokenEndpointAuthMethod = cd.TokenEndpointAuthMethod
	if cd.TokenEndpointAuthMethod != AuthMethodPrivateKeyJWT && (cd.JWKS != nil || cd.JWKSURI != "") {
		what := "jwks"
		if cd.JWKS == nil {
			what = "jwksUri"
		}
		return p.at(path+"."+what, "(%s) is used only with tokenEndpointAuthMethod: private_key_jwt; set it, or remove %s", cd.ClientID, what)
	}
	switch cd.TokenEndpointAuthMethod {
	case "", AuthMethodSecretBasic, AuthMethodSecretPost:
		if len(cd.Secrets) == 0 {
			return p.at(path, "(%s) has no secrets; add one: `signet hash-secret --generate` prints a new secret (give it to the client) and its hash (put that in secrets), set tokenEndpointAuthMethod: private_key_jwt for a client that signs with its own key, or set tokenEndpointAuthMethod: none for a public client (a browser or native app that cannot keep a secret)", cd.ClientID)
		}
		return nil
	case AuthMethodNone:
		if len(cd.Secrets) > 0 {
			return p.at(path+".secrets", "(%s) is a public client (tokenEndpointAuthMethod: none) and cannot have secrets; remove them, or remove tokenEndpointAuthMethod", cd.ClientID)
		}
		cl.Public = true
		return nil
	case AuthMethodPrivateKeyJWT:
		return p.resolveClientKeys(path, cd, cl)
	}
	return p.at(path+".tokenEndpointAuthMethod", "%q is not supported: write client_secret_basic or client_secret_post (or omit it) for a client that authenticates with a secret, private_key_jwt for one that signs with its own key, or none for a public client", cd.TokenEndpointAuthMethod)
}

func (p *parser) resolveClientKeys(path string, cd *clientDoc, cl *Client) error {
	if len(cd.Secrets) > 0 {
		return p.at(path+".secrets", "(%s) authenticates with private_key_jwt and cannot have secrets too (a secret that still worked would undo what the key proves); remove secrets, or keep a secret method until the client signs its assertions", cd.ClientID)
	}
	if cd.JWKS == nil && cd.JWKSURI == "" {
		return p.at(path, "(%s) tokenEndpointAuthMethod private_key_jwt needs the client's public keys: jwks: { keys: [...] } inline, or jwksUri: the https URL where the client publishes them", cd.ClientID)
	}
	var err error
	cl.JWKS, cl.JWKSURI, err = p.resolveKeys(path, "client", cd.ClientID, cd.JWKS, cd.JWKSURI)
	return err
}

// resolveResourceKeys resolves apiResources[].jwks and jwksUri: with
// either, the resource authenticates at the introspection endpoint with
// private_key_jwt only.
func (p *parser) resolveResourceKeys(path string, r *apiResourceDoc, res *APIResource) error {
	if r.JWKS == nil && r.JWKSURI == "" {
		return nil
	}
	if len(r.Secrets) > 0 {
		return p.at(path+".secrets", "(%s) authenticates at the introspection endpoint with private_key_jwt (jwks or jwksUri) and cannot have secrets too (a secret that still worked would undo what the key proves); remove secrets, or remove jwks and jwksUri until the resource signs its assertions", r.Name)
	}
	var err error
	res.JWKS, res.JWKSURI, err = p.resolveKeys(path, "API resource", r.Name, r.JWKS, r.JWKSURI)
	return err
}

// resolveKeys checks the public keys of a private_key_jwt client or API
// resource (what, named name): jwks inline (public keys only, kids unique,
// algorithms allowed) or jwksUri, exactly one of them.
func (p *parser) resolveKeys(path, what, name string, jwks *jwksDoc, jwksURI string) (*privatekeyjwt.StaticKeySet, string, error) {
	switch {
	case jwks != nil && jwksURI != "":
		return nil, "", p.at(path+".jwksUri", "(%s) give the %s's keys once: jwks inline or jwksUri, not both", name, what)
	case jwksURI != "":
		if err := privatekeyjwt.CheckURI(jwksURI); err != nil {
			return nil, "", p.at(path+".jwksUri", "(%s) %v", name, err)
		}
		return nil, jwksURI, nil
	}
	data, err := json.Marshal(jwks)
	if err != nil {
		return nil, "", p.at(path+".jwks", "(%s) cannot be read as a JWK Set: %v", name, err)
	}
	set, err := privatekeyjwt.ParseKeySet(data, nil)
	if err != nil {
		return nil, "", p.at(path+".jwks", "(%s) %v", name, err)
	}
	return set, "", nil
}
