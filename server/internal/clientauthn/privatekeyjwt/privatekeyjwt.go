package privatekeyjwt

import (
	"github.com/signet-id/signet/clientauth"
	pkj "github.com/signet-id/signet/clientauth/privatekeyjwt"
	"github.com/signet-id/signet/server/internal/clientauthn"
	"github.com/signet-id/signet/server/internal/oauth"
)

// Name is the method's name.
const Name = pkj.Method

// Method is private_key_jwt.
type Method struct {
	Env      clientauthn.Env
	Verifier *pkj.Verifier
}

var _ clientauthn.Method = Method{}

// Name returns private_key_jwt.
func (Method) Name() string { return Name }

// Present parses client_assertion when the body has client_assertion or
// client_assertion_type.
func (m Method) Present(r *clientauthn.Request) (clientauthn.Presented, bool, *oauth.Error) {
	if r.Assertion == "" && r.AssertionType == "" {
		return clientauthn.Presented{}, false, nil
	}
	switch {
	case r.AssertionType != pkj.AssertionType:
		return clientauthn.Presented{}, false, oauth.InvalidRequest("client_assertion_type must be " + pkj.AssertionType)
	case r.Assertion == "":
		return clientauthn.Presented{}, false, oauth.InvalidRequest("client_assertion is missing")
	case r.HasSecret || r.HTTP.Header.Get("Authorization") != "":
		return clientauthn.Presented{}, false, oauth.InvalidRequest("the client authenticated twice (a client assertion and a secret); use one method")
	}
	a, err := m.Verifier.Parse(r.Assertion)
	if err != nil {
		return clientauthn.Presented{}, false, m.Env.Refused(r.HTTP, r.ClientID, err.Error(), nil)
	}
	if r.ClientID != "" && r.ClientID != a.ClientID() {
		return clientauthn.Presented{}, false, oauth.InvalidRequest("client_id in the body differs from the client assertion's iss")
	}
	return clientauthn.Presented{Method: Name, Cred: clientauth.BasicCredentials{ID: a.ClientID()}, Assertion: a}, true, nil
}

// Verify checks the assertion against the keys of cl.
func (m Method) Verify(r *clientauthn.Request, p clientauthn.Presented, cl *clientauthn.Client) *oauth.Error {
	switch {
	case cl == nil:
		return m.Env.Refused(r.HTTP, p.Cred.ID, "client assertion of an unknown client", nil)
	case cl.Assertions == nil:
		return m.Env.Refused(r.HTTP, p.Cred.ID, "client assertion from a client that does not use private_key_jwt", nil)
	}
	if _, err := m.Verifier.Verify(r.HTTP.Context(), p.Assertion, *cl.Assertions); err != nil {
		return m.Env.Refused(r.HTTP, p.Cred.ID, err.Error(), nil)
	}
	return nil
}
