package secret

import (
	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/server/internal/clientauthn"
	"github.com/signet-id/signet/server/internal/oauth"
)

// Names of the methods.
const (
	NameBasic = "client_secret_basic"
	NamePost  = "client_secret_post"
	nameNone  = "none"
)

// Basic is client_secret_basic: the Authorization header. Where public
// clients may authenticate (Request.Public), an empty password counts as
// none.
type Basic struct{ Env clientauthn.Env }

// Post is client_secret_post: client_id and client_secret in the body.
type Post struct{ Env clientauthn.Env }

var (
	_ clientauthn.Method = Basic{}
	_ clientauthn.Method = Post{}
)

// Name returns client_secret_basic.
func (Basic) Name() string { return NameBasic }

// Name returns client_secret_post.
func (Post) Name() string { return NamePost }

// Present parses the Authorization header, when there is one.
func (b Basic) Present(r *clientauthn.Request) (clientauthn.Presented, bool, *oauth.Error) {
	authz := r.HTTP.Header.Get("Authorization")
	if authz == "" {
		return clientauthn.Presented{}, false, nil
	}
	if !clientauth.IsBasic(authz) {
		if r.Public {
			return clientauthn.Presented{}, false, oauth.InvalidClient("unsupported Authorization scheme; use Basic (client_secret_basic), client_id and client_secret in the body, or client_id alone for a public client")
		}
		return clientauthn.Presented{}, false, oauth.InvalidClient("unsupported Authorization scheme; use Basic (client_secret_basic) or client_id and client_secret in the body")
	}
	cred, ok := clientauth.ParseBasicCredentials(authz)
	if !ok {
		return clientauthn.Presented{}, false, b.Env.Refused(r.HTTP, "", "malformed Basic credentials", oauth.InvalidClient("malformed Basic credentials"))
	}
	if r.HasSecret {
		return clientauthn.Presented{}, false, oauth.InvalidRequest("the client authenticated twice (client_secret_basic and client_secret_post); use one method")
	}
	cred.Resolve(func(id string) bool { return r.Clients.AuthnClient(id) != nil })
	if r.ClientID != "" && r.ClientID != cred.ID {
		return clientauthn.Presented{}, false, oauth.InvalidRequest("client_id in the body differs from the Basic credentials")
	}
	p := clientauthn.Presented{Method: NameBasic, Cred: cred}
	if r.Public && cred.Secret == "" {
		p.Method = nameNone
	}
	return p, true, nil
}

// Present takes client_id and client_secret from the body, when
// client_secret was sent.
func (Post) Present(r *clientauthn.Request) (clientauthn.Presented, bool, *oauth.Error) {
	if !r.HasSecret {
		return clientauthn.Presented{}, false, nil
	}
	if r.ClientID == "" {
		return clientauthn.Presented{}, false, oauth.InvalidRequest("client_secret was sent without client_id")
	}
	return clientauthn.Presented{Method: NamePost, Cred: clientauth.BasicCredentials{ID: r.ClientID, Secret: r.Secret}}, true, nil
}

// Verify checks the secret.
func (b Basic) Verify(r *clientauthn.Request, p clientauthn.Presented, cl *clientauthn.Client) *oauth.Error {
	return verify(b.Env, r, p, cl)
}

// Verify checks the secret.
func (m Post) Verify(r *clientauthn.Request, p clientauthn.Presented, cl *clientauthn.Client) *oauth.Error {
	return verify(m.Env, r, p, cl)
}

// verify checks p's secret against cl's secrets; an unknown client, and
// a public one, are checked against dummies at the same cost.
func verify(env clientauthn.Env, r *clientauthn.Request, p clientauthn.Presented, cl *clientauthn.Client) *oauth.Error {
	var secrets []*clientauth.Secret
	unknown := "unknown client"
	switch {
	case cl != nil && cl.Public && r.Public:
		unknown = "a secret from a public client"
	case cl != nil && cl.Assertions != nil:
		unknown = "a secret from a private_key_jwt client"
	case cl != nil:
		secrets = cl.Secrets
	}
	return env.CheckSecret(r.HTTP, p.Cred, secrets, r.Dummies, unknown)
}
