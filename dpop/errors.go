package dpop

import "errors"

// Error codes of RFC 9449 and RFC 6750, as they appear in a token
// endpoint's JSON error and in a WWW-Authenticate challenge.
const (
	CodeInvalidProof = "invalid_dpop_proof"
	CodeUseNonce     = "use_dpop_nonce"
	CodeInvalidToken = "invalid_token"
)

// Error classes. Every error this package returns is one of them under
// errors.Is, and also the sentinel of the rule it broke:
//
//	errors.Is(err, dpop.ErrInvalidProof) // answer invalid_dpop_proof
//	errors.Is(err, dpop.ErrHTM)          // which rule
var (
	// ErrInvalidProof: the DPoP proof is missing, malformed or breaks a
	// rule of RFC 9449 section 4.3. Answer invalid_dpop_proof.
	ErrInvalidProof error = &class{code: CodeInvalidProof}
	// ErrUseNonce: the server requires a nonce and the proof has none, or
	// one that expired or is not the server's. Answer use_dpop_nonce with
	// a fresh DPoP-Nonce header ([Nonces.Current]); the client retries.
	ErrUseNonce error = &class{code: CodeUseNonce}
	// ErrInvalidToken: at a resource, the access token is missing from an
	// `Authorization: DPoP` header, was sent as Bearer, or is not bound to
	// the proof's key. Answer invalid_token.
	ErrInvalidToken error = &class{code: CodeInvalidToken}
)

// Rules: one sentinel per check, each in its class.
var (
	ErrMissing      = rule(CodeInvalidProof, "no DPoP header: a DPoP proof is required")
	ErrMultiple     = rule(CodeInvalidProof, "more than one DPoP header: send exactly one proof")
	ErrTooLarge     = rule(CodeInvalidProof, "the DPoP proof is larger than the limit")
	ErrMalformed    = rule(CodeInvalidProof, "the DPoP proof is not a compact JWS with a JSON header and claims")
	ErrType         = rule(CodeInvalidProof, "the DPoP proof's typ header must be dpop+jwt")
	ErrAlgorithm    = rule(CodeInvalidProof, "the DPoP proof's alg is not allowed")
	ErrKey          = rule(CodeInvalidProof, "the DPoP proof's jwk header must be a public key of the alg's type")
	ErrPrivateKey   = rule(CodeInvalidProof, "the DPoP proof's jwk header contains private key members")
	ErrSignature    = rule(CodeInvalidProof, "the DPoP proof's signature does not verify with its jwk")
	ErrJTI          = rule(CodeInvalidProof, "the DPoP proof's jti is missing or too long")
	ErrHTM          = rule(CodeInvalidProof, "the DPoP proof's htm does not match the request method")
	ErrHTU          = rule(CodeInvalidProof, "the DPoP proof's htu does not match the request URI")
	ErrIssuedAt     = rule(CodeInvalidProof, "the DPoP proof's iat is missing or outside the accepted window")
	ErrATH          = rule(CodeInvalidProof, "the DPoP proof's ath is missing or is not the hash of the access token")
	ErrReplayed     = rule(CodeInvalidProof, "the DPoP proof was used before (its jti is replayed)")
	ErrNonce        = rule(CodeUseNonce, "the DPoP proof has no valid server nonce")
	ErrNoToken      = rule(CodeInvalidToken, "no access token: send Authorization: DPoP <token>")
	ErrScheme       = rule(CodeInvalidToken, "the access token is DPoP-bound: send it as Authorization: DPoP, not Bearer")
	ErrTokenBinding = rule(CodeInvalidToken, "the access token is not bound to the DPoP proof's key")
)

// class is an error class: its sentinel, and the target of the rules'
// Is.
type class struct{ code string }

func (c *class) Error() string { return "dpop: " + c.code }

// ruleError is one rule's sentinel.
type ruleError struct {
	code string
	msg  string
}

func rule(code, msg string) error { return &ruleError{code: code, msg: msg} }

func (e *ruleError) Error() string { return "dpop: " + e.msg }

// Is reports that a rule belongs to its class.
func (e *ruleError) Is(target error) bool {
	c, ok := target.(*class)
	return ok && c.code == e.code
}

// ErrorCode returns the RFC 9449 / RFC 6750 error code for err
// (CodeInvalidProof, CodeUseNonce or CodeInvalidToken), or "" when err is
// none of this package's classes (ErrNoToken's code is "" too: a request
// without credentials gets a challenge without an error, RFC 6750 section
// 3.1).
func ErrorCode(err error) string {
	var r *ruleError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &r):
		if r == ErrNoToken {
			return ""
		}
		return r.code
	}
	var c *class
	if errors.As(err, &c) {
		return c.code
	}
	return ""
}

// Description returns the fixed text of the rule err broke, fit for an
// error_description: it never contains what the client sent (details
// stay in err.Error() for logs). "" when err is no rule of this package.
func Description(err error) string {
	var r *ruleError
	if errors.As(err, &r) {
		return r.msg
	}
	return ""
}
