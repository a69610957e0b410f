package dpop

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Limits and defaults.
const (
	// MaxProofSize is the largest DPoP header accepted, checked before
	// anything is decoded. A proof with an RSA-4096 key is about 1.5 KiB.
	MaxProofSize = 8 << 10
	// MaxJTILength is the longest jti accepted, in bytes.
	MaxJTILength = 128
	// DefaultWindow is how far iat may be from the verifier's clock, in
	// either direction, unless Config.Window says otherwise.
	DefaultWindow = 60 * time.Second
	// MaxWindow is the largest Config.Window: a proof is replayable until
	// its jti is recorded, and its record lives as long as the window.
	MaxWindow = 10 * time.Minute
	// minRSABits and maxRSABits bound an RSA proof key.
	minRSABits = 2048
	maxRSABits = 8192
	// ProofType is the typ header of a DPoP proof.
	ProofType = "dpop+jwt"
)

// DefaultAlgorithms returns the proof algorithms accepted unless
// Config.Algorithms says otherwise: ES256, PS256, RS256, EdDSA.
func DefaultAlgorithms() []string { return []string{"ES256", "PS256", "RS256", "EdDSA"} }

// supported maps each algorithm this package can verify to a check of
// the key type it needs.
var supported = map[string]func(any) bool{
	"ES256": ecCurve(elliptic.P256()),
	"ES384": ecCurve(elliptic.P384()),
	"ES512": ecCurve(elliptic.P521()),
	"RS256": isRSA, "RS384": isRSA, "RS512": isRSA,
	"PS256": isRSA, "PS384": isRSA, "PS512": isRSA,
	"EdDSA": func(k any) bool { _, ok := k.(ed25519.PublicKey); return ok },
}

func ecCurve(c elliptic.Curve) func(any) bool {
	return func(k any) bool { p, ok := k.(*ecdsa.PublicKey); return ok && p.Curve == c }
}

func isRSA(k any) bool {
	p, ok := k.(*rsa.PublicKey)
	return ok && p.N.BitLen() >= minRSABits && p.N.BitLen() <= maxRSABits
}

// Config configures a [Verifier]. The zero value is usable.
type Config struct {
	// Algorithms are the proof algorithms accepted; nil means
	// DefaultAlgorithms(). Only asymmetric algorithms are possible: none
	// and HS* are refused by [New].
	Algorithms []string
	// Window is how far a proof's iat may be from now, in either
	// direction; 0 means DefaultWindow. A proof is accepted for at most
	// twice the window, and [Proof.Expires] (iat + Window) is how long its
	// jti must be remembered.
	Window time.Duration
	// Nonces, when set, makes every proof carry a nonce it accepts;
	// otherwise nonces are not checked.
	Nonces *Nonces
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier checks DPoP proofs. It is safe for concurrent use.
type Verifier struct {
	algs    []string
	joseAlg []jose.SignatureAlgorithm
	window  time.Duration
	nonces  *Nonces
	now     func() time.Time
	keys    *keyCache
	headers *headerCache // verified header segments (headercache.go)
}

// New returns a verifier for c.
func New(c Config) (*Verifier, error) {
	v := &Verifier{window: c.Window, nonces: c.Nonces, now: c.Now, keys: newKeyCache(), headers: newHeaderCache()}
	if v.window == 0 {
		v.window = DefaultWindow
	}
	if v.window < time.Second || v.window > MaxWindow {
		return nil, fmt.Errorf("dpop: the iat window must be between 1s and %s (got %s)", MaxWindow, v.window)
	}
	if v.now == nil {
		v.now = time.Now
	}
	algs := c.Algorithms
	if algs == nil {
		algs = DefaultAlgorithms()
	}
	if len(algs) == 0 {
		return nil, errors.New("dpop: no proof algorithm allowed: list at least one of " + strings.Join(SupportedAlgorithms(), ", "))
	}
	for _, a := range algs {
		if supported[a] == nil {
			return nil, fmt.Errorf("dpop: proof algorithm %q is not supported: use one of %s", a, strings.Join(SupportedAlgorithms(), ", "))
		}
		if !slices.Contains(v.algs, a) {
			v.algs = append(v.algs, a)
			v.joseAlg = append(v.joseAlg, jose.SignatureAlgorithm(a))
		}
	}
	return v, nil
}

// SupportedAlgorithms lists every algorithm a Config may allow.
func SupportedAlgorithms() []string {
	return slices.Sorted(func(yield func(string) bool) {
		for a := range supported {
			if !yield(a) {
				return
			}
		}
	})
}

// Algorithms returns the allowed proof algorithms, for discovery's
// dpop_signing_alg_values_supported and the algs of a challenge.
func (v *Verifier) Algorithms() []string { return slices.Clone(v.algs) }

// Window returns the iat window.
func (v *Verifier) Window() time.Duration { return v.window }

// Nonce returns a nonce to send in a DPoP-Nonce header, or "" when the
// verifier requires none.
func (v *Verifier) Nonce() string {
	if v.nonces == nil {
		return ""
	}
	return v.nonces.Current()
}

// Request is what a proof must match.
type Request struct {
	// Method is the HTTP method of the request (htm).
	Method string
	// URI is the absolute URI the client sent the request to (htu), as
	// the client addressed it: behind a proxy, the public URL, not the
	// one the server listens on. Query and fragment are ignored.
	URI string
	// AccessToken, when not empty, is the access token presented with
	// the proof at a resource: the proof's ath must be its hash.
	AccessToken string
}

// Proof is a verified DPoP proof. Its jti is not yet recorded: see
// [MarkUsed].
type Proof struct {
	// Thumbprint is the RFC 7638 SHA-256 thumbprint of the proof's key,
	// base64url: the jkt of cnf and of dpop_jkt.
	Thumbprint string
	// Key is the proof's public key.
	Key jose.JSONWebKey
	// Algorithm is the proof's alg.
	Algorithm string
	// JTI is the proof's jti.
	JTI string
	// IssuedAt is the proof's iat.
	IssuedAt time.Time
	// Expires is when the proof stops being accepted (iat + window): its
	// jti must be remembered until then.
	Expires time.Time
	// Nonce is the proof's nonce, "" if none.
	Nonce string
}

// ReplayID is the id under which the proof's jti is remembered: hex
// SHA-256 of the key's thumbprint and the jti, so every id has one size
// and two keys' jtis never collide.
func (p *Proof) ReplayID() string {
	h := sha256.New()
	h.Write([]byte("dpop\x00"))
	h.Write([]byte(p.Thumbprint))
	h.Write([]byte{0})
	h.Write([]byte(p.JTI))
	return hex.EncodeToString(h.Sum(nil))
}

// FromHeader returns the request's DPoP proof: ErrMissing when there is
// no DPoP header (the request is not DPoP), ErrMultiple when there are
// several, ErrTooLarge beyond MaxProofSize.
func FromHeader(h http.Header) (string, error) {
	vals := h.Values("DPoP")
	switch {
	case len(vals) == 0:
		return "", ErrMissing
	case len(vals) > 1:
		return "", fmt.Errorf("%w (got %d)", ErrMultiple, len(vals))
	case len(vals[0]) > MaxProofSize:
		return "", fmt.Errorf("%w of %d bytes (got %d)", ErrTooLarge, MaxProofSize, len(vals[0]))
	case vals[0] == "":
		return "", ErrMissing
	}
	return vals[0], nil
}

// VerifyRequest reads the single DPoP header of r and verifies it
// against r's method, uri (the absolute URI the client addressed, see
// [Request.URI]) and accessToken (only at a resource; "" at the token
// endpoint).
func (v *Verifier) VerifyRequest(r *http.Request, uri, accessToken string) (*Proof, error) {
	proof, err := FromHeader(r.Header)
	if err != nil {
		return nil, err
	}
	return v.Verify(proof, Request{Method: r.Method, URI: uri, AccessToken: accessToken})
}

// header is the part of a proof's protected header checked before go-jose
// parses it.
type header struct {
	Typ  string          `json:"typ"`
	Alg  string          `json:"alg"`
	JWK  json.RawMessage `json:"jwk"`
	Crit json.RawMessage `json:"crit"` // a header with crit is never remembered (headerCache)
}

// jwkPrivate has the JWK members that carry private or symmetric key
// material (RFC 7518 section 6; priv of ML-DSA and others).
type jwkPrivate struct {
	D    json.RawMessage `json:"d"`
	P    json.RawMessage `json:"p"`
	Q    json.RawMessage `json:"q"`
	DP   json.RawMessage `json:"dp"`
	DQ   json.RawMessage `json:"dq"`
	QI   json.RawMessage `json:"qi"`
	Oth  json.RawMessage `json:"oth"`
	K    json.RawMessage `json:"k"`
	Priv json.RawMessage `json:"priv"`
}

// name returns the first private member present, "" if none.
func (j *jwkPrivate) name() string {
	for _, m := range []struct {
		n string
		v json.RawMessage
	}{{"d", j.D}, {"p", j.P}, {"q", j.Q}, {"dp", j.DP}, {"dq", j.DQ}, {"qi", j.QI}, {"oth", j.Oth}, {"k", j.K}, {"priv", j.Priv}} {
		if m.v != nil {
			return m.n
		}
	}
	return ""
}

// claims are a proof's claims.
type claims struct {
	JTI   *string      `json:"jti"`
	HTM   *string      `json:"htm"`
	HTU   *string      `json:"htu"`
	IAT   *json.Number `json:"iat"`
	ATH   *string      `json:"ath"`
	Nonce *string      `json:"nonce"`
}

// Verify checks proof against req per RFC 9449 section 4.3: size; a
// compact JWS; typ dpop+jwt; an allowed alg; a public jwk of the alg's
// key type; jti; htm; htu; iat within the window; ath when req has an
// access token; the nonce when the verifier requires nonces; and last,
// the signature (the cheap checks refuse junk before any cryptography).
// It does not record the jti: see [MarkUsed].
func (v *Verifier) Verify(proof string, req Request) (*Proof, error) {
	if len(proof) > MaxProofSize {
		return nil, fmt.Errorf("%w of %d bytes (got %d)", ErrTooLarge, MaxProofSize, len(proof))
	}
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: %d parts, not 3", ErrMalformed, len(parts))
	}
	if known, ok := v.headers.Get(parts[0]); ok {
		if p, ok, err := v.verifyKnown(proof, known, req); ok {
			return p, err
		}
	}
	hdrJSON, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	var h header
	if err := strictJSON(hdrJSON, &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	if !strings.EqualFold(h.Typ, ProofType) {
		return nil, fmt.Errorf("%w (got %q)", ErrType, clip(h.Typ))
	}
	if !slices.Contains(v.algs, h.Alg) {
		return nil, fmt.Errorf("%w (got %q; allowed: %s)", ErrAlgorithm, clip(h.Alg), strings.Join(v.algs, " "))
	}
	if len(h.JWK) == 0 || bytes.Equal(h.JWK, []byte("null")) {
		return nil, fmt.Errorf("%w: there is no jwk header", ErrKey)
	}
	if h.JWK[0] != '{' {
		return nil, fmt.Errorf("%w: jwk is not a JSON object", ErrKey)
	}
	known, cached := v.keys.get(h.JWK, h.Alg)
	if !cached {
		var priv jwkPrivate
		if err := json.Unmarshal(h.JWK, &priv); err != nil {
			return nil, fmt.Errorf("%w: jwk: %v", ErrKey, err)
		}
		if m := priv.name(); m != "" {
			return nil, fmt.Errorf("%w (%q)", ErrPrivateKey, m)
		}
	}

	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	var c claims
	if err := strictJSON(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
	}
	p := &Proof{Algorithm: h.Alg}
	if err := v.checkClaims(&c, req, p); err != nil {
		return nil, err
	}

	jws, err := jose.ParseSignedCompact(proof, v.joseAlg)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(jws.Signatures) != 1 || jws.Signatures[0].Header.Algorithm != h.Alg {
		return nil, fmt.Errorf("%w: the header is ambiguous", ErrMalformed)
	}
	if jws.Signatures[0].Header.JSONWebKey == nil {
		return nil, fmt.Errorf("%w: there is no jwk header", ErrKey)
	}
	key := jws.Signatures[0].Header.JSONWebKey
	// A cached jwk (these very bytes, which go-jose just parsed into key)
	// passed the key checks and has its thumbprint; the signature is
	// verified every time.
	if !cached && (!key.Valid() || !key.IsPublic() || !supported[h.Alg](key.Key)) {
		return nil, fmt.Errorf("%w (alg %s, key %s)", ErrKey, h.Alg, keyType(key.Key))
	}
	signed, err := jws.Verify(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	if !bytes.Equal(signed, payload) {
		return nil, fmt.Errorf("%w: the signed claims differ from the decoded ones", ErrSignature)
	}
	p.Thumbprint = known.thumbprint
	if !cached {
		if p.Thumbprint, err = Thumbprint(key); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrKey, err)
		}
		v.keys.put(h.JWK, cachedKey{alg: h.Alg, thumbprint: p.Thumbprint})
	}
	p.Key = *key
	if h.Crit == nil && base64.RawURLEncoding.EncodeToString(hdrJSON) == parts[0] {
		v.headers.Put(parts[0], &knownHeader{alg: h.Alg, key: *key, thumbprint: p.Thumbprint})
	}
	return p, nil
}

// checkClaims checks every claim rule and fills p.
func (v *Verifier) checkClaims(c *claims, req Request, p *Proof) error {
	if c.JTI == nil || *c.JTI == "" || len(*c.JTI) > MaxJTILength {
		n := 0
		if c.JTI != nil {
			n = len(*c.JTI)
		}
		return fmt.Errorf("%w (%d bytes; 1 to %d accepted)", ErrJTI, n, MaxJTILength)
	}
	p.JTI = *c.JTI
	if c.HTM == nil || *c.HTM != req.Method {
		return fmt.Errorf("%w (got %s, request %q)", ErrHTM, quoteOrMissing(c.HTM), clip(req.Method))
	}
	if c.HTU == nil {
		return fmt.Errorf("%w: htu is missing", ErrHTU)
	}
	got, err := NormalizeURI(*c.HTU)
	if err != nil {
		return fmt.Errorf("%w: htu %q: %v", ErrHTU, clip(*c.HTU), err)
	}
	// A request URI already in normal form (a server's own endpoint URLs
	// are) equal to got needs no parse: NormalizeURI is idempotent
	// (FuzzNormalizeURI), so NormalizeURI(req.URI) would be got itself.
	if got != req.URI {
		want, err := NormalizeURI(req.URI)
		if err != nil {
			return fmt.Errorf("%w: the request URI %q: %v", ErrHTU, clip(req.URI), err)
		}
		if got != want {
			return fmt.Errorf("%w (got %q, request %q)", ErrHTU, clip(got), want)
		}
	}
	if c.IAT == nil {
		return fmt.Errorf("%w: iat is missing", ErrIssuedAt)
	}
	f, err := c.IAT.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return fmt.Errorf("%w: iat %q is not a NumericDate", ErrIssuedAt, clip(c.IAT.String()))
	}
	iat := time.Unix(int64(f), 0)
	now := v.now()
	if d := now.Sub(iat); d > v.window || d < -v.window {
		return fmt.Errorf("%w (iat %s is %s from now; window ±%s)", ErrIssuedAt, iat.UTC().Format(time.RFC3339), d.Round(time.Second), v.window)
	}
	p.IssuedAt = iat
	p.Expires = iat.Add(v.window)
	if req.AccessToken != "" {
		if c.ATH == nil {
			return fmt.Errorf("%w: ath is missing", ErrATH)
		}
		if subtle.ConstantTimeCompare([]byte(*c.ATH), []byte(AccessTokenHash(req.AccessToken))) != 1 {
			return ErrATH
		}
	}
	if c.Nonce != nil {
		p.Nonce = *c.Nonce
	}
	if v.nonces != nil {
		if c.Nonce == nil {
			return fmt.Errorf("%w: the proof has no nonce", ErrNonce)
		}
		if err := v.nonces.Check(*c.Nonce); err != nil {
			return err
		}
	}
	return nil
}

// strictJSON decodes one JSON object into v, refusing trailing data.
// json.Unmarshal refuses anything after the value itself, and v's number
// fields are json.Number where they must be, so it needs no Decoder (whose
// buffer and second scan cost a proof about a tenth of its parsing).
func strictJSON(data []byte, v any) error {
	return json.Unmarshal(data, v)
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of k, base64url
// without padding: the value of cnf.jkt and dpop_jkt.
func Thumbprint(k *jose.JSONWebKey) (string, error) {
	t, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("dpop: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(t), nil
}

// AccessTokenHash returns the ath of an access token: base64url of the
// SHA-256 of its ASCII characters.
func AccessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// keyType names a key's type for an error message.
func keyType(k any) string {
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		return "EC " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d bits", k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", k)
}

// clip shortens client-sent text for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

func quoteOrMissing(s *string) string {
	if s == nil {
		return "nothing"
	}
	return fmt.Sprintf("%q", clip(*s))
}

// ValidThumbprint reports whether s has the form of a SHA-256 JWK
// thumbprint in base64url (43 characters), as dpop_jkt and cnf.jkt do.
func ValidThumbprint(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil
}
