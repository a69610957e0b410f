package privatekeyjwt

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-id/signet/key"
)

type testClientKeys struct {
	signers map[string]crypto.Signer
	algs    map[string]key.Algorithm
	set     *StaticKeySet
}

func newTestClientKeys(t testing.TB) *testClientKeys {
	t.Helper()
	rs := testKey(t, key.RS256)
	c := &testClientKeys{
		signers: map[string]crypto.Signer{"rs": rs, "ps": rs, "es": testKey(t, key.ES256), "ed": testKey(t, key.EdDSA)},
		algs:    map[string]key.Algorithm{"rs": key.RS256, "ps": key.PS256, "es": key.ES256, "ed": key.EdDSA},
	}
	set, err := ParseKeySet(publicJWKS(t, c.signers, c.algs), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.set = set
	return c
}

// TestVerifyRules: one case per rule of the package documentation; every
// refusal wraps the sentinel naming the rule, and nothing refused before
// the signature verified reaches the Replay.
func TestVerifyRules(t *testing.T) {
	ck := newTestClientKeys(t)
	other := testKey(t, key.ES256)
	der, err := x509.MarshalPKIXPublicKey(ck.signers["es"].Public())
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})

	type tc struct {
		name   string
		kid    string                    // "es" unless set; "-" for no kid
		claims func(map[string]any)      // changes to validClaims
		client func(*Client)             // changes to the client
		token  func(t *testing.T) string // a hand-made assertion instead
		want   error                     // nil: accepted
	}
	cases := []tc{
		{name: "ES256 accepted"},
		{name: "RS256 accepted", kid: "rs"},
		{name: "PS256 accepted", kid: "ps"},
		{name: "EdDSA accepted", kid: "ed"},
		{name: "no kid: keys fitting alg tried", kid: "-"},
		{name: "aud token endpoint (RFC 7523)", claims: func(c map[string]any) { c["aud"] = testTokenURL }},
		{name: "aud array with issuer", claims: func(c map[string]any) { c["aud"] = []string{"https://x.example", testIssuer} }},
		{name: "aud issuer, issuer-only client", claims: func(c map[string]any) { c["aud"] = []string{testIssuer} }, client: func(c *Client) { c.IssuerAudienceOnly = true }},
		{name: "exp just past within leeway", claims: func(c map[string]any) { c["exp"] = t0.Add(-10 * time.Second).Unix() }},
		{name: "no iat, no nbf", claims: func(c map[string]any) { delete(c, "iat") }},

		{name: "wrong iss", claims: func(c map[string]any) { c["iss"] = "other"; c["sub"] = "other" }, want: ErrIssuer},
		{name: "missing iss", claims: func(c map[string]any) { delete(c, "iss") }, want: ErrIssuer},
		{name: "sub differs from iss", claims: func(c map[string]any) { c["sub"] = "other" }, want: ErrSubject},
		{name: "missing sub", claims: func(c map[string]any) { delete(c, "sub") }, want: ErrSubject},
		{name: "wrong aud", claims: func(c map[string]any) { c["aud"] = "https://other.example.com" }, want: ErrAudience},
		{name: "missing aud", claims: func(c map[string]any) { delete(c, "aud") }, want: ErrAudience},
		{name: "aud token endpoint, issuer-only client (FAPI 2.0)", claims: func(c map[string]any) { c["aud"] = testTokenURL }, client: func(c *Client) { c.IssuerAudienceOnly = true }, want: ErrAudience},
		{name: "aud array without issuer, issuer-only client", claims: func(c map[string]any) { c["aud"] = []string{testTokenURL} }, client: func(c *Client) { c.IssuerAudienceOnly = true }, want: ErrAudience},
		{name: "expired", claims: func(c map[string]any) { c["exp"] = t0.Add(-time.Minute).Unix() }, want: ErrExpired},
		{name: "missing exp", claims: func(c map[string]any) { delete(c, "exp") }, want: ErrExpired},
		{name: "lifetime too long", claims: func(c map[string]any) { c["exp"] = t0.Add(10 * time.Minute).Unix() }, want: ErrLifetime},
		{name: "nbf in the future", claims: func(c map[string]any) { c["nbf"] = t0.Add(time.Minute).Unix() }, want: ErrNotYetValid},
		{name: "iat in the future", claims: func(c map[string]any) { c["iat"] = t0.Add(time.Minute).Unix() }, want: ErrNotYetValid},
		{name: "missing jti", claims: func(c map[string]any) { delete(c, "jti") }, want: ErrMissingJTI},
		{name: "jti not a string", claims: func(c map[string]any) { c["jti"] = 7 }, want: ErrMalformed},
		{name: "alg not allowed for the client", kid: "rs", client: func(c *Client) { c.Algorithms = []key.Algorithm{key.PS256, key.ES256, key.EdDSA} }, want: ErrAlgorithm},
		{name: "unknown kid", kid: "nope", want: ErrUnknownKey},
		{name: "kid of a key of another type", token: func(t *testing.T) string {
			return sign(t, ck.signers["es"], key.ES256, "rs", validClaims())
		}, want: ErrUnknownKey},
		{name: "signed by another key under the client's kid", token: func(t *testing.T) string {
			return sign(t, other, key.ES256, "es", validClaims())
		}, want: ErrSignature},
		{name: "no kid, signed by another key", token: func(t *testing.T) string {
			return sign(t, other, key.ES256, "", validClaims())
		}, want: ErrSignature},
		{name: "tampered signature", token: func(t *testing.T) string {
			s := sign(t, ck.signers["es"], key.ES256, "es", validClaims())
			i := strings.LastIndexByte(s, '.')
			sig, _ := base64.RawURLEncoding.DecodeString(s[i+1:])
			sig[5] ^= 1
			return s[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
		}, want: ErrSignature},
		{name: "tampered payload", token: func(t *testing.T) string {
			s := strings.Split(sign(t, ck.signers["es"], key.ES256, "es", validClaims()), ".")
			c := validClaims()
			c["jti"] = "jti-2"
			s[1] = strings.Split(sign(t, other, key.ES256, "es", c), ".")[1]
			return strings.Join(s, ".")
		}, want: ErrSignature},
		{name: "alg none", token: func(t *testing.T) string {
			h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"es"}`))
			s := strings.Split(sign(t, ck.signers["es"], key.ES256, "es", validClaims()), ".")
			return h + "." + s[1] + "."
		}, want: ErrAlgorithm},
		{name: "HS256 with the public key as secret", token: func(t *testing.T) string {
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: pubPEM}, nil)
			if err != nil {
				t.Fatal(err)
			}
			out, err := jwt.Signed(s).Claims(validClaims()).Serialize()
			if err != nil {
				t.Fatal(err)
			}
			return out
		}, want: ErrAlgorithm},
		{name: "alg outside the allowlist (ES384)", token: func(t *testing.T) string {
			h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES384","kid":"es"}`))
			s := strings.Split(sign(t, ck.signers["es"], key.ES256, "es", validClaims()), ".")
			return h + "." + s[1] + "." + s[2]
		}, want: ErrAlgorithm},
		{name: "oversize", claims: func(c map[string]any) { c["pad"] = strings.Repeat("x", DefaultMaxSize) }, want: ErrTooLarge},
		{name: "not a JWS", token: func(*testing.T) string { return "not.a.jws" }, want: ErrMalformed},
		{name: "empty", token: func(*testing.T) string { return "" }, want: ErrMalformed},
		{name: "claims not JSON", token: func(t *testing.T) string {
			s := strings.Split(sign(t, ck.signers["es"], key.ES256, "es", validClaims()), ".")
			return s[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("[1,2]")) + "." + s[2]
		}, want: ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			replay := NewMemoryReplay(10, func() time.Time { return t0 })
			v := newTestVerifier(t, replay)
			var tok string
			if c.token != nil {
				tok = c.token(t)
			} else {
				kid := c.kid
				if kid == "" {
					kid = "es"
				}
				claims := validClaims()
				if c.claims != nil {
					c.claims(claims)
				}
				signKID := kid
				if kid == "-" {
					kid, signKID = "es", ""
				}
				alg := ck.algs[kid]
				signer := ck.signers[kid]
				if signer == nil {
					alg, signer = key.ES256, ck.signers["es"]
				}
				tok = sign(t, signer, alg, signKID, claims)
			}
			client := Client{ID: testClient, Keys: ck.set}
			if c.client != nil {
				c.client(&client)
			}
			claims, err := verifyString(v, tok, client)
			if c.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if claims.ClientID != testClient || claims.JTI != "jti-1" || replay.Len() != 1 {
					t.Fatalf("claims %+v, replay %d", claims, replay.Len())
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v; want %v", err, c.want)
			}
			t.Log(err)
			if replay.Len() != 0 {
				t.Fatalf("a refused assertion reached the replay cache")
			}
		})
	}
}

func verifyString(v *Verifier, tok string, c Client) (*Claims, error) {
	a, err := v.Parse(tok)
	if err != nil {
		return nil, err
	}
	return v.Verify(context.Background(), a, c)
}

// TestVerifyReplay: an assertion is accepted once; the same jti again is
// refused until its exp (plus leeway), another client's identical jti is
// its own.
func TestVerifyReplay(t *testing.T) {
	ck := newTestClientKeys(t)
	now := t0
	clock := func() time.Time { return now }
	replay := NewMemoryReplay(10, clock)
	v, err := New(Options{Issuer: testIssuer, Replay: replay, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	tok := sign(t, ck.signers["es"], key.ES256, "es", validClaims())
	client := Client{ID: testClient, Keys: ck.set}
	if _, err := verifyString(v, tok, client); err != nil {
		t.Fatal(err)
	}
	if _, err := verifyString(v, tok, client); !errors.Is(err, ErrReplayed) {
		t.Fatalf("replay: %v", err)
	}
	// A new assertion with the same jti, signed later: still refused.
	now = t0.Add(50 * time.Second)
	c := validClaims()
	c["exp"] = now.Add(time.Minute).Unix()
	if _, err := verifyString(v, sign(t, ck.signers["es"], key.ES256, "es", c), client); !errors.Is(err, ErrReplayed) {
		t.Fatalf("same jti, new exp: %v", err)
	}
	// Another client's jti-1 is not this client's.
	c = validClaims()
	c["iss"], c["sub"] = "other", "other"
	if _, err := verifyString(v, sign(t, ck.signers["es"], key.ES256, "es", c), Client{ID: "other", Keys: ck.set}); err != nil {
		t.Fatalf("other client, same jti: %v", err)
	}
}

// TestVerifyConcurrentReplay: of many concurrent uses of one assertion,
// exactly one is accepted.
func TestVerifyConcurrentReplay(t *testing.T) {
	ck := newTestClientKeys(t)
	v := newTestVerifier(t, nil)
	tok := sign(t, ck.signers["es"], key.ES256, "es", validClaims())
	const n = 16
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := verifyString(v, tok, Client{ID: testClient, Keys: ck.set})
			errs <- err
		}()
	}
	ok := 0
	for range n {
		switch err := <-errs; {
		case err == nil:
			ok++
		case !errors.Is(err, ErrReplayed):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent uses accepted; want 1", ok, n)
	}
}

// A Replay that fails (a store down) refuses the assertion.
type failingReplay struct{}

func (failingReplay) UseOnce(context.Context, string, time.Time) error {
	return errors.New("store unreachable")
}

func TestVerifyReplayFailureRefuses(t *testing.T) {
	ck := newTestClientKeys(t)
	v := newTestVerifier(t, failingReplay{})
	_, err := verifyString(v, sign(t, ck.signers["es"], key.ES256, "es", validClaims()), Client{ID: testClient, Keys: ck.set})
	if err == nil || !strings.Contains(err.Error(), "store unreachable") {
		t.Fatalf("error %v", err)
	}
}

// TestVerifyReplayExpiry: the Replay is asked to remember the jti until
// exp plus the leeway the assertion was accepted with.
func TestVerifyReplayExpiry(t *testing.T) {
	ck := newTestClientKeys(t)
	rec := &recordingReplay{}
	v := newTestVerifier(t, rec)
	if _, err := verifyString(v, sign(t, ck.signers["es"], key.ES256, "es", validClaims()), Client{ID: testClient, Keys: ck.set}); err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(time.Minute + DefaultLeeway); !rec.exp.Equal(want) || len(rec.id) != 43 {
		t.Fatalf("UseOnce(%q, %s); want a 43-character id until %s", rec.id, rec.exp, want)
	}
}

type recordingReplay struct {
	id  string
	exp time.Time
}

func (r *recordingReplay) UseOnce(_ context.Context, id string, exp time.Time) error {
	r.id, r.exp = id, exp
	return nil
}

func TestNewOptions(t *testing.T) {
	r := NewMemoryReplay(1, nil)
	for name, o := range map[string]Options{
		"no issuer":     {Replay: r},
		"no replay":     {Issuer: testIssuer},
		"HS256":         {Issuer: testIssuer, Replay: r, Algorithms: []key.Algorithm{"HS256"}},
		"none":          {Issuer: testIssuer, Replay: r, Algorithms: []key.Algorithm{"none"}},
		"empty list":    {Issuer: testIssuer, Replay: r, Algorithms: []key.Algorithm{}},
		"negative skew": {Issuer: testIssuer, Replay: r, Leeway: -time.Second},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	v, err := New(Options{Issuer: testIssuer, Replay: r})
	if err != nil {
		t.Fatal(err)
	}
	if got := algList(v.Algorithms()); got != "RS256, PS256, ES256, EdDSA" {
		t.Fatalf("default algorithms %s", got)
	}
}
