package none

import (
	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/server/internal/clientauthn"
	"github.com/signet-id/signet/server/internal/oauth"
)

// Name is the method's name.
const Name = "none"

// None is the method none.
type None struct{ Env clientauthn.Env }

var _ clientauthn.Method = None{}

// Name returns none.
func (None) Name() string { return Name }

// Present takes client_id from the body.
func (None) Present(r *clientauthn.Request) (clientauthn.Presented, bool, *oauth.Error) {
	if !r.Public || r.ClientID == "" {
		return clientauthn.Presented{}, false, nil
	}
	return clientauthn.Presented{Method: Name, Cred: clientauth.BasicCredentials{ID: r.ClientID}}, true, nil
}

// Verify accepts a known public client.
func (m None) Verify(r *clientauthn.Request, p clientauthn.Presented, cl *clientauthn.Client) *oauth.Error {
	switch {
	case cl == nil:
		return m.Env.Refused(r.HTTP, p.Cred.ID, "unknown client", nil)
	case !cl.Public:
		return m.Env.Refused(r.HTTP, p.Cred.ID, "no secret from a confidential client", nil)
	}
	return nil
}
