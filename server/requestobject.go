package server

import (
	"context"
	"net/url"
	"strings"

	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/server/internal/oauth"
	"github.com/signet-id/signet/server/internal/requestobject"
)

// Request objects (RFC 9101): the request parameter of the authorization
// endpoint and of PAR, a JWT the client signs with its private_key_jwt
// keys (server/internal/requestobject). Its claims replace the request's
// parameters; its jti is used once (in the grant store, across a
// cluster). A request_uri is taken only from PAR: Signet fetches no
// request object from a URL.

// newRequestObjects sets up the request object verifier (with the login
// flows: its replay cache is the grant store).
func (s *Server) newRequestObjects(grants grantstore.Store) error {
	if grants == nil {
		return nil
	}
	v, err := requestobject.New(requestobject.Options{Issuer: s.issuer,
		Replay: grantstore.NewReplayCache(grants, grantstore.OnceRequestObject, s.now), Now: s.now})
	if err != nil {
		return err
	}
	s.requestObjects = v
	return nil
}

// resolveRequestObject replaces the parameters of a, which carries a
// request object, by the object's, once it verified for the client that
// a's client_id names. Any failure is shown on a page (the redirect URI
// is not trusted before the object verified): invalid_request_object.
func (s *Server) resolveRequestObject(ctx context.Context, reg *registry, a authzParams) (authzParams, *authzError) {
	switch {
	case a.dup == "request" || a.dup == "client_id":
		return a, pageError(a.dup + " appears more than once")
	case a.clientID == "":
		return a, pageError("client_id is missing: send it beside request")
	}
	cl := reg.clients[a.clientID]
	if cl == nil || reg.login[a.clientID] == nil {
		return a, &authzError{code: "invalid_client", desc: "the client '" + oauth.Clip(a.clientID) + "' is unknown"}
	}
	c := requestobject.Client{ID: a.clientID}
	if as := cl.authn.Assertions; as != nil {
		c.Keys, c.Algorithms = as.Keys, as.Algorithms
	}
	params, err := s.requestObjects.Verify(ctx, a.request, c)
	if err != nil {
		s.log.Info("request object refused", "client_id", a.clientID, "reason", err.Error())
		return a, &authzError{code: "invalid_request_object", desc: strings.ReplaceAll(err.Error(), `"`, "'")}
	}
	v := make(url.Values, len(params)+1)
	for k, val := range params {
		v.Set(k, val)
	}
	v.Set("client_id", a.clientID)
	out, ok := parseAuthorizeRequest(v.Encode())
	if !ok {
		return a, &authzError{code: "invalid_request_object", desc: "its parameters are too many"}
	}
	out.pushed, out.proofJKT = a.pushed, a.proofJKT
	return out, nil
}
