package server

import (
	"errors"
	"net/http"

	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/keybackend"
	"github.com/signet-id/signet/server/internal/oauth"
)

// signFailed logs a failed signature (what: "an access token", "an ID
// token") with its reason and returns the client's error: a key backend
// (PKCS#11 token, KMS) that did not answer in time or failed is
// temporarily_unavailable, anything else server_error.
func (s *Server) signFailed(what string, k *jws.Key, err error) *oauth.Error {
	if errors.Is(err, keybackend.ErrUnavailable) {
		s.log.Error("signing "+what+" failed: the key backend is unavailable", "kid", k.KID(), "alg", string(k.Algorithm()), "error", err)
		return &oauth.Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Desc: "the signing key's backend did not answer; retry shortly"}
	}
	s.log.Error("signing "+what+" failed", "kid", k.KID(), "alg", string(k.Algorithm()), "error", err)
	return oauth.ServerError()
}
