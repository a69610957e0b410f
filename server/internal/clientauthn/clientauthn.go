package clientauthn

import (
	"net/http"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/clientauth/privatekeyjwt"
	"github.com/signet-id/signet/server/internal/oauth"
)

// Request is the client authentication a request carries.
type Request struct {
	HTTP *http.Request
	// ClientID and Secret are client_id and client_secret of the body;
	// HasSecret reports whether client_secret was sent.
	ClientID  string
	Secret    string
	HasSecret bool
	// Assertion and AssertionType are client_assertion and
	// client_assertion_type of the body (private_key_jwt).
	Assertion     string
	AssertionType string
	// Public is true where a public client may authenticate with its
	// client_id alone (the login flows, revocation); false at the
	// client_credentials grant.
	Public bool
	// Clients looks up the client a request names.
	Clients Clients
	// Dummies are verified against, at the same cost, when the client is
	// unknown or may not use a secret.
	Dummies []*clientauth.Secret
}

// Clients looks up clients.
type Clients interface {
	// AuthnClient returns the client with id, nil when there is none.
	AuthnClient(id string) *Client
}

// Client is what client authentication needs to know about a client.
type Client struct {
	ID      string
	Secrets []*clientauth.Secret
	// Public marks a client without secrets (method none).
	Public bool
	// Assertions is how a private_key_jwt client's assertions are
	// verified: its keys, algorithms and accepted aud; nil for the other
	// methods.
	Assertions *privatekeyjwt.Client
}

// Presented is what a request presents by one method.
type Presented struct {
	// Method is the Name of the method that verifies it.
	Method string
	// Cred holds the client id and, for the secret methods, the secret
	// as presented.
	Cred clientauth.BasicCredentials
	// Assertion is the parsed, not yet verified client assertion of
	// private_key_jwt.
	Assertion *privatekeyjwt.Assertion
}

// Method is one client authentication method.
type Method interface {
	// Name is the token_endpoint_auth_method (client_secret_basic, ...).
	Name() string
	// Present reports whether r uses this method (ok) and what it
	// presents; an error ends the authentication. A method may hand over
	// to another by naming it in Presented.Method.
	Present(r *Request) (p Presented, ok bool, e *oauth.Error)
	// Verify authenticates p against cl, the client p names (nil: none).
	Verify(r *Request, p Presented, cl *Client) *oauth.Error
}

// Env is what the methods need from the server.
type Env interface {
	// CheckSecret verifies cred against secrets (nil: an unknown client,
	// or one that may not use a secret, checked against dummies at the
	// same cost; unknown is the reason logged then) under the abuse
	// budgets, and logs a failure.
	CheckSecret(r *http.Request, cred clientauth.BasicCredentials, secrets, dummies []*clientauth.Secret, unknown string) *oauth.Error
	// Refused logs a failed authentication of the client id for reason
	// and returns e; e nil means invalid_client "client authentication
	// failed".
	Refused(r *http.Request, id, reason string, e *oauth.Error) *oauth.Error
}

// Authenticate authenticates the client of r with the first method of
// methods that r uses; none is an error with noAuth as its description.
// It returns the authenticated client.
func Authenticate(r *Request, methods []Method, noAuth string) (*Client, *oauth.Error) {
	for _, m := range methods {
		p, ok, e := m.Present(r)
		if e != nil {
			return nil, e
		}
		if !ok {
			continue
		}
		if p.Method != m.Name() {
			if m = byName(methods, p.Method); m == nil {
				continue
			}
		}
		cl := r.Clients.AuthnClient(p.Cred.ID)
		if e := m.Verify(r, p, cl); e != nil {
			return nil, e
		}
		return cl, nil
	}
	return nil, oauth.InvalidClient(noAuth)
}

func byName(methods []Method, name string) Method {
	for _, m := range methods {
		if m.Name() == name {
			return m
		}
	}
	return nil
}
