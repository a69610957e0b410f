package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/server/internal/oauth"
	"github.com/signet-id/signet/throttle"
	"github.com/signet-id/signet/user"
)

// Limits are the abuse budgets of the unauthenticated endpoints (see
// docs/security.md). A zero field means its default (DefaultLimits).
type Limits = throttle.Budgets

// DefaultLimits returns the default budgets.
func DefaultLimits() Limits { return throttle.DefaultBudgets() }

// loginKeys are the budgets a sign-in attempt draws on: the address first,
// so a blocked address adds no key for a username.
func (s *Server) loginKeys(username, addr string) []throttle.Key {
	u := userKey(username)
	return []throttle.Key{
		s.loginAddrKey(addr),
		{Name: "login:" + u + "\x00" + addr, Limit: s.limits.LoginPerUserAndAddress, ResetOnSuccess: true},
		{Name: "login:" + u, Limit: s.limits.LoginPerUser},
	}
}

// loginAddrKey is the address's sign-in budget, the first of loginKeys;
// a connector callback draws on it alone.
func (s *Server) loginAddrKey(addr string) throttle.Key {
	return throttle.Key{Name: "login:" + addr, Limit: s.limits.LoginPerAddress}
}

// clientKeys are the budgets a client authentication that needs hashing
// (or fails) draws on.
func (s *Server) clientKeys(id, addr string) []throttle.Key {
	if len(id) > maxHintLen {
		id = id[:maxHintLen]
	}
	return []throttle.Key{
		{Name: "client:" + addr, Limit: s.limits.ClientPerAddress},
		{Name: "client:c:" + id + "\x00" + addr, Limit: s.limits.ClientPerClientAndAddress, ResetOnSuccess: true},
		{Name: "client:c:" + id, Limit: s.limits.ClientPerClient},
	}
}

// checkClientSecret authenticates a caller (what: "client" or "API
// resource") that presents cred, whose configured secrets are secrets
// (nil: an unknown id, or one that may not use a secret, checked against
// dummies at the same cost; unknown is the reason logged then). A secret
// that matches without argon2id passes at once; anything else first
// reserves an attempt on the client's budgets (throttled: 429), then
// verifies under the hashing budget (at capacity: 503). A failure is
// logged at INFO with the client id, address and reason (never the
// secret) and answered invalid_client.
//
// Concurrent requests from one address that present the same credentials
// share one verification while it succeeds: a client that opens with many
// parallel requests is not throttled by its own correct secret before the
// first verification is remembered. A request that joined a verification
// that failed verifies on its own, so each failure is counted as before.
func (s *Server) checkClientSecret(r *http.Request, what string, cred clientauth.BasicCredentials, secrets, dummies []*clientauth.Secret, unknown string) *oauth.Error {
	if len(secrets) > 0 && clientauth.QuickBasic(secrets, cred) {
		return nil
	}
	led := false
	v, _, _ := s.clientFlights.Do(flightKey(what, cred, s.addrKey(r)), func() (any, error) {
		led = true
		return s.verifyClientSecret(r, what, cred, secrets, dummies, unknown), nil
	})
	e, _ := v.(*oauth.Error)
	if e != nil && !led {
		return s.verifyClientSecret(r, what, cred, secrets, dummies, unknown)
	}
	return e
}

// flightKey names one verification: the caller, the address and a hash of
// the presented secrets (the secrets themselves are not kept).
func flightKey(what string, cred clientauth.BasicCredentials, addr string) string {
	h := sha256.New()
	for _, p := range []string{what, cred.ID, cred.Secret, cred.RawSecret, addr} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return string(h.Sum(nil))
}

// verifyClientSecret is checkClientSecret's verification under the budgets.
func (s *Server) verifyClientSecret(r *http.Request, what string, cred clientauth.BasicCredentials, secrets, dummies []*clientauth.Secret, unknown string) *oauth.Error {
	ctx := r.Context()
	res, wait, err := s.attempts.Reserve(ctx, s.clientKeys(cred.ID, s.addrKey(r))...)
	if err != nil {
		s.log.Error(what+" authentication: counting the attempt failed", "error", err)
		return oauth.Unavailable()
	}
	if res == nil {
		s.metrics.throttled("client")
		return &oauth.Error{Status: http.StatusTooManyRequests, Code: "invalid_client", RetryAfter: retryAfter(wait),
			Desc: "too many failed client authentications; retry after " + strconv.FormatInt(retryAfter(wait), 10) + " seconds"}
	}
	check := secrets
	if len(check) == 0 {
		check = dummies
	}
	ok, err := clientauth.CheckBasic(ctx, s.hashing, check, cred)
	if err != nil {
		res.Cancel(ctx)
		return s.hashingRefused(err)
	}
	if len(secrets) == 0 {
		res.Failed()
		return s.authFailed(r, what, cred.ID, unknown)
	}
	if !ok {
		res.Failed()
		return s.authFailed(r, what, cred.ID, "wrong secret")
	}
	if err := res.Succeeded(ctx); err != nil {
		s.log.Warn(what+" authentication: returning the attempt failed", "error", err)
	}
	return nil
}

// hashingRefused is the answer when the hashing budget refused: the
// queue is full (503, retry in a second) or the caller has gone.
func (s *Server) hashingRefused(err error) *oauth.Error {
	if errors.Is(err, throttle.ErrBusy) {
		s.metrics.throttled("hashing")
		return &oauth.Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Desc: "the server is busy checking credentials; retry shortly"}
	}
	// context.Canceled or DeadlineExceeded: nobody reads the answer.
	return &oauth.Error{Status: http.StatusServiceUnavailable, Code: "temporarily_unavailable", Desc: "the request was cancelled"}
}

// retryAfter is a wait in whole seconds, at least 1.
func retryAfter(wait time.Duration) int64 {
	return max(1, int64((wait+time.Second-1)/time.Second))
}

// checkPassword verifies a sign-in attempt for username from r's address
// under the login budgets, with the user source (the built-in users
// verify under the hashing budget). It returns the subject on success;
// otherwise a refusal: wait > 0 when a budget is spent, busy when the
// source, the hashing budget or the attempts store could not take the
// attempt. The attempt is given back when the source could not answer
// (user.ErrUnavailable, or the request ended); every other failure counts.
func (s *Server) checkPassword(ctx context.Context, r *http.Request, username, password string) (subject string, wait time.Duration, busy bool) {
	return s.checkPasswordWith(ctx, r, s.oidc.source, username, username, password)
}

// checkPasswordWith is checkPassword with the authenticator auth (a
// password connector's, server/connectors.go), counting the username's
// attempts under budgetName.
func (s *Server) checkPasswordWith(ctx context.Context, r *http.Request, auth user.Authenticator, budgetName, username, password string) (subject string, wait time.Duration, busy bool) {
	addr := s.addrKey(r)
	res, wait, err := s.attempts.Reserve(ctx, s.loginKeys(budgetName, addr)...)
	if err != nil {
		s.log.Error("sign-in: counting the attempt failed", "error", err)
		return "", 0, true
	}
	if res == nil {
		s.metrics.throttled("login")
		return "", wait, false
	}
	subject, err = auth.Authenticate(ctx, username, password)
	switch {
	case err == nil && subject != "":
		if err := res.Succeeded(ctx); err != nil {
			s.log.Warn("sign-in: returning the attempt failed", "error", err)
		}
		return subject, 0, false
	case err == nil, errors.Is(err, user.ErrInvalidCredentials):
		res.Failed()
		return "", 0, false
	case errors.Is(err, user.ErrUnavailable), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		res.Cancel(ctx)
		if errors.Is(err, throttle.ErrBusy) {
			s.metrics.throttled("hashing")
		} else if s.oidc.custom || budgetName != username { // a custom source or a connector
			s.log.Warn("sign-in: the user source is unavailable", "error", err)
		}
		return "", 0, true
	default:
		res.Failed()
		s.log.Error("sign-in: the user source failed", "error", err)
		return "", 0, true
	}
}
