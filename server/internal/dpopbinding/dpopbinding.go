package dpopbinding

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/signet-id/signet/dpop"
	"github.com/signet-id/signet/server/internal/oauth"
)

// Config configures a Binding.
type Config struct {
	// Algorithms are the proof algorithms accepted (nil: dpop's default).
	Algorithms []string
	// Window is the proof's iat window (0: dpop's default).
	Window time.Duration
	// NonceSecret, when set, makes every proof carry a server nonce
	// derived from it (dpop.Nonces); instances sharing it accept each
	// other's nonces.
	NonceSecret []byte
	// Replay records the proofs' jtis.
	Replay dpop.Replay
	// TokenURI and UserinfoURI are the endpoints' public URLs (htu).
	TokenURI, UserinfoURI string
	Now                   func() time.Time
	Log                   *slog.Logger
}

// Binding checks the DPoP proofs of the server's endpoints.
type Binding struct {
	v                     *dpop.Verifier
	replay                dpop.Replay
	tokenURI, userinfoURI string
	log                   *slog.Logger
}

// New returns a Binding for c.
func New(c Config) (*Binding, error) {
	if c.Replay == nil {
		return nil, errors.New("dpopbinding: a replay store is required")
	}
	vc := dpop.Config{Algorithms: c.Algorithms, Window: c.Window, Now: c.Now}
	if c.NonceSecret != nil {
		n, err := dpop.NewNonces(c.NonceSecret, 0, c.Now)
		if err != nil {
			return nil, err
		}
		vc.Nonces = n
	}
	v, err := dpop.New(vc)
	if err != nil {
		return nil, err
	}
	log := c.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Binding{v: v, replay: c.Replay, tokenURI: c.TokenURI, userinfoURI: c.UserinfoURI, log: log}, nil
}

// Algorithms returns the accepted proof algorithms (discovery's
// dpop_signing_alg_values_supported).
func (b *Binding) Algorithms() []string { return b.v.Algorithms() }

// Nonce returns the nonce to send in a DPoP-Nonce header, "" when nonces
// are not required.
func (b *Binding) Nonce() string { return b.v.Nonce() }

// Client is what the checks need to know of the authenticated client.
type Client struct {
	ID string
	// Required: the client must send a proof (clients[].requireDPoP).
	Required bool
	// Algorithms restricts its proofs' algorithms (FAPI 2.0: PS256,
	// ES256, EdDSA); nil: the server's.
	Algorithms []string
}

// Token checks the DPoP proof of a token request whose client is
// authenticated: it returns the thumbprint of the proof's key, or "" when
// the request has no DPoP header and the client does not require one.
// The proof's jti is recorded here.
func (b *Binding) Token(ctx context.Context, r *http.Request, c Client) (string, *oauth.Error) {
	return b.Check(ctx, r, b.tokenURI, c)
}

// Check is Token for another endpoint whose public URL is uri: the
// pushed authorization request endpoint (RFC 9449 section 10.1) calls it
// once the client is authenticated and gives the thumbprint to the
// dpop_jkt extension as authorize.Request.DPoPJKT, which binds the code.
// Its errors are the token endpoint's (400 invalid_dpop_proof,
// use_dpop_nonce with DPoP-Nonce).
func (b *Binding) Check(ctx context.Context, r *http.Request, uri string, c Client) (string, *oauth.Error) {
	raw, err := dpop.FromHeader(r.Header)
	if errors.Is(err, dpop.ErrMissing) && !c.Required {
		return "", nil
	}
	if errors.Is(err, dpop.ErrMissing) {
		return "", b.tokenError(c.ID, fmt.Errorf("%w: the client must use DPoP (requireDPoP)", err))
	}
	if err != nil {
		return "", b.tokenError(c.ID, err)
	}
	p, err := b.v.Verify(raw, dpop.Request{Method: r.Method, URI: uri})
	if err == nil && c.Algorithms != nil && !slices.Contains(c.Algorithms, p.Algorithm) {
		err = fmt.Errorf("%w: %s is not allowed for this client (allowed: %s)", dpop.ErrAlgorithm, p.Algorithm, strings.Join(c.Algorithms, " "))
	}
	if err == nil {
		err = dpop.MarkUsed(ctx, b.replay, p)
	}
	if err != nil {
		return "", b.tokenError(c.ID, err)
	}
	return p.Thumbprint, nil
}

// tokenError is the token endpoint's answer to a refused proof (RFC 9449
// section 5 and 8): 400 invalid_dpop_proof, or use_dpop_nonce with a
// DPoP-Nonce header; a store failure is temporarily_unavailable.
func (b *Binding) tokenError(clientID string, err error) *oauth.Error {
	switch dpop.ErrorCode(err) {
	case dpop.CodeUseNonce:
		return &oauth.Error{Status: http.StatusBadRequest, Code: dpop.CodeUseNonce, Desc: dpop.Description(err), DPoPNonce: b.v.Nonce()}
	case dpop.CodeInvalidProof:
		b.log.Debug("DPoP proof refused", "client_id", clientID, "reason", err.Error())
		return &oauth.Error{Status: http.StatusBadRequest, Code: dpop.CodeInvalidProof, Desc: dpop.Description(err), DPoPNonce: b.v.Nonce()}
	}
	b.log.Error("DPoP: recording the proof failed", "client_id", clientID, "error", err)
	return oauth.Unavailable()
}

// Resource checks the proof of a request to userinfo that presents token
// under scheme ("DPoP" or "Bearer") whose cnf.jkt is jkt ("" if the token
// is not DPoP-bound), the token being otherwise valid. A bound token must
// come as DPoP with a proof by its key for this request; an unbound one
// as Bearer. The proof's jti is recorded here.
func (b *Binding) Resource(ctx context.Context, r *http.Request, scheme, token, jkt string) error {
	switch {
	case jkt == "" && scheme == "Bearer":
		return nil
	case jkt == "":
		return fmt.Errorf("%w: the access token is not DPoP-bound; send it as Bearer", dpop.ErrInvalidToken)
	case scheme != "DPoP":
		return dpop.ErrScheme
	}
	p, err := b.v.VerifyResource(r, b.userinfoURI, token, jkt)
	if err == nil {
		err = dpop.MarkUsed(ctx, b.replay, p)
	}
	return err
}

// WriteChallenge answers a refused userinfo request: 401 with
// WWW-Authenticate: DPoP (and DPoP-Nonce when nonces are required), or
// 503 for a store failure.
func (b *Binding) WriteChallenge(w http.ResponseWriter, err error) {
	if dpop.ErrorCode(err) == "" && !errors.Is(err, dpop.ErrNoToken) {
		b.log.Error("DPoP: recording the proof failed", "error", err)
		oauth.WriteError(w, oauth.Unavailable())
		return
	}
	b.v.WriteError(w, err)
}

// Challenge is the WWW-Authenticate value announcing DPoP without an
// error, for a request without credentials.
func (b *Binding) Challenge() string { return dpop.Challenge(nil, b.v.Algorithms()) }
