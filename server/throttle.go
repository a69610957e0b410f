package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/throttle"
)

// Limits are the abuse budgets of the unauthenticated endpoints (see
// docs/security.md). A zero field means its default (DefaultLimits).
type Limits struct {
	// Sign-in failures on the login page: per username and address, per
	// address, and per username from every address together.
	LoginPerUserAndAddress throttle.Limit
	LoginPerAddress        throttle.Limit
	LoginPerUser           throttle.Limit
	// Failed client authentications (token, introspection, revocation):
	// per client id and address, per address, per client id.
	ClientPerClientAndAddress throttle.Limit
	ClientPerAddress          throttle.Limit
	ClientPerClient           throttle.Limit
	// PasswordHashingMemoryKiB bounds the memory of the argon2id
	// verifications in flight; PasswordHashingQueue how many may wait.
	PasswordHashingMemoryKiB int64
	PasswordHashingQueue     int
	// TrackedKeys bounds the in-memory attempt table (when
	// Config.Attempts is nil).
	TrackedKeys int
}

// DefaultLimits returns the default budgets.
func DefaultLimits() Limits {
	const window = 15 * time.Minute
	return Limits{
		LoginPerUserAndAddress:    throttle.Limit{Max: 5, Window: window},
		LoginPerAddress:           throttle.Limit{Max: 30, Window: window},
		LoginPerUser:              throttle.Limit{Max: 100, Window: window},
		ClientPerClientAndAddress: throttle.Limit{Max: 10, Window: window},
		ClientPerAddress:          throttle.Limit{Max: 30, Window: window},
		ClientPerClient:           throttle.Limit{Max: 100, Window: window},
		PasswordHashingMemoryKiB:  throttle.DefaultHashingMemoryKiB,
		PasswordHashingQueue:      throttle.DefaultHashingQueue,
		TrackedKeys:               throttle.DefaultTrackedKeys,
	}
}

// withDefaults fills the zero fields of l and checks the others.
func (l Limits) withDefaults() (Limits, error) {
	d := DefaultLimits()
	for _, f := range []struct {
		name string
		v    *throttle.Limit
		def  throttle.Limit
	}{
		{"LoginPerUserAndAddress", &l.LoginPerUserAndAddress, d.LoginPerUserAndAddress},
		{"LoginPerAddress", &l.LoginPerAddress, d.LoginPerAddress},
		{"LoginPerUser", &l.LoginPerUser, d.LoginPerUser},
		{"ClientPerClientAndAddress", &l.ClientPerClientAndAddress, d.ClientPerClientAndAddress},
		{"ClientPerAddress", &l.ClientPerAddress, d.ClientPerAddress},
		{"ClientPerClient", &l.ClientPerClient, d.ClientPerClient},
	} {
		if *f.v == (throttle.Limit{}) {
			*f.v = f.def
		}
		if err := f.v.Validate("server: Limits." + f.name); err != nil {
			return l, err
		}
	}
	if l.PasswordHashingMemoryKiB < 0 || l.PasswordHashingQueue < 0 || l.TrackedKeys < 0 {
		return l, errors.New("server: Limits: PasswordHashingMemoryKiB, PasswordHashingQueue and TrackedKeys must not be negative")
	}
	if l.PasswordHashingMemoryKiB == 0 {
		l.PasswordHashingMemoryKiB = d.PasswordHashingMemoryKiB
	}
	if l.PasswordHashingQueue == 0 {
		l.PasswordHashingQueue = d.PasswordHashingQueue
	}
	if l.TrackedKeys == 0 {
		l.TrackedKeys = d.TrackedKeys
	}
	return l, nil
}

// loginKeys are the budgets a sign-in attempt draws on: the address first,
// so a blocked address adds no key for a username.
func (s *Server) loginKeys(username, addr string) []throttle.Key {
	u := userKey(username)
	return []throttle.Key{
		{Name: "login:" + addr, Limit: s.limits.LoginPerAddress},
		{Name: "login:" + u + "\x00" + addr, Limit: s.limits.LoginPerUserAndAddress, ResetOnSuccess: true},
		{Name: "login:" + u, Limit: s.limits.LoginPerUser},
	}
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

// checkClientSecret authenticates a caller that presents secret as id,
// whose configured secrets are secrets (nil: an unknown id, checked
// against dummies at the same cost). A secret that matches without
// argon2id passes at once; anything else first reserves an attempt on the
// client's budgets (throttled: 429), then verifies under the hashing
// budget (at capacity: 503).
// A wrong secret gets invalid_client with failDesc.
func (s *Server) checkClientSecret(r *http.Request, id string, secrets, dummies []*clientauth.Secret, secret, failDesc string) *oauthError {
	if len(secrets) > 0 && clientauth.Quick(secrets, secret) {
		return nil
	}
	ctx := r.Context()
	res, wait, err := s.attempts.Reserve(ctx, s.clientKeys(id, s.addrKey(r))...)
	if err != nil {
		s.log.Error("client authentication: counting the attempt failed", "error", err)
		return unavailable()
	}
	if res == nil {
		s.metrics.throttled("client")
		return &oauthError{status: http.StatusTooManyRequests, code: "invalid_client", retryAfter: retryAfter(wait),
			desc: "too many failed client authentications; retry after " + strconv.FormatInt(retryAfter(wait), 10) + " seconds"}
	}
	check := secrets
	if len(check) == 0 {
		check = dummies
	}
	ok, err := clientauth.Check(ctx, s.hashing, check, secret)
	if err != nil {
		res.Cancel(ctx)
		return s.hashingRefused(err)
	}
	if !ok || len(secrets) == 0 {
		res.Failed()
		s.log.Info("client authentication failed", "client_id", clip(id), "address", strings.TrimPrefix(s.addrKey(r), "a:"))
		return invalidClient(failDesc)
	}
	if err := res.Succeeded(ctx); err != nil {
		s.log.Warn("client authentication: returning the attempt failed", "error", err)
	}
	return nil
}

// hashingRefused is the answer when the hashing budget refused: the
// queue is full (503, retry in a second) or the caller has gone.
func (s *Server) hashingRefused(err error) *oauthError {
	if errors.Is(err, throttle.ErrBusy) {
		s.metrics.throttled("hashing")
		return &oauthError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable", desc: "the server is busy checking credentials; retry shortly"}
	}
	// context.Canceled or DeadlineExceeded: nobody reads the answer.
	return &oauthError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable", desc: "the request was cancelled"}
}

// retryAfter is a wait in whole seconds, at least 1.
func retryAfter(wait time.Duration) int64 {
	return max(1, int64((wait+time.Second-1)/time.Second))
}

// checkPassword verifies a sign-in attempt for username from r's address
// under the login budgets and the hashing budget. It returns the user on
// success; otherwise a refusal: wait > 0 when a budget is spent, busy when
// the hashing budget or the store could not take the attempt.
func (s *Server) checkPassword(ctx context.Context, r *http.Request, username, password string) (u *user, wait time.Duration, busy bool) {
	addr := s.addrKey(r)
	res, wait, err := s.attempts.Reserve(ctx, s.loginKeys(username, addr)...)
	if err != nil {
		s.log.Error("sign-in: counting the attempt failed", "error", err)
		return nil, 0, true
	}
	if res == nil {
		s.metrics.throttled("login")
		return nil, wait, false
	}
	users := s.oidc.users.Load()
	u = users.byName[username]
	check := users.dummy // the same work as a wrong password
	if u != nil {
		check = u.password
	}
	ok, err := clientauth.Check(ctx, s.hashing, []*clientauth.Secret{check}, password)
	if err != nil {
		res.Cancel(ctx)
		if errors.Is(err, throttle.ErrBusy) {
			s.metrics.throttled("hashing")
		}
		return nil, 0, true
	}
	if !ok || u == nil {
		res.Failed()
		return nil, 0, false
	}
	if err := res.Succeeded(ctx); err != nil {
		s.log.Warn("sign-in: returning the attempt failed", "error", err)
	}
	return u, 0, false
}
