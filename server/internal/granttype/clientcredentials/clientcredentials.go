package clientcredentials

import (
	"github.com/signet-id/signet/server/internal/granttype"
	"github.com/signet-id/signet/server/internal/oauth"
)

// GrantType is client_credentials.
const GrantType = "client_credentials"

// Env is what the grant needs from the server.
type Env interface {
	// IssueAccessToken signs the access token r's client asks for (its
	// scope and resource parameters) and returns the token response.
	IssueAccessToken(r *granttype.Request) (*granttype.Response, *oauth.Error)
}

// Handler is the client_credentials grant.
type Handler struct{ Env Env }

var _ granttype.Handler = Handler{}

// GrantType returns client_credentials.
func (Handler) GrantType() string { return GrantType }

// Public returns false: only confidential clients.
func (Handler) Public() bool { return false }

// Handle issues an access token to a client allowed to use the grant.
func (h Handler) Handle(r *granttype.Request) (*granttype.Response, *oauth.Error) {
	if !r.Client.ClientCredentials {
		return nil, granttype.UnauthorizedClient(GrantType)
	}
	return h.Env.IssueAccessToken(r)
}
