package requestobject

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/signet-id/signet/clientauth/privatekeyjwt"
	"github.com/signet-id/signet/key"
)

const issuer = "https://login.example.com"

var now = time.Unix(1_700_000_000, 0)

type memReplay struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (m *memReplay) UseOnce(_ context.Context, id string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen[id] {
		return errors.New("replayed")
	}
	m.seen[id] = true
	return nil
}

func sign(t *testing.T, k *ecdsa.PrivateKey, kid string, typ string, claims map[string]any) string {
	t.Helper()
	o := &jose.SignerOptions{}
	if typ != "" {
		o = o.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k, KeyID: kid}}, o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// TestVerify: every rule of the package, each with an object refused.
func TestVerify(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	set, err := privatekeyjwt.ParseKeySet(jwks, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(Options{Issuer: issuer, Replay: &memReplay{seen: map[string]bool{}}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	c := Client{ID: "bank", Keys: set}
	n := 0
	claims := func(edit func(map[string]any)) map[string]any {
		n++
		m := map[string]any{"iss": "bank", "aud": issuer, "exp": now.Add(5 * time.Minute).Unix(), "nbf": now.Unix(), "jti": "j" + string(rune('a'+n)),
			"client_id": "bank", "response_type": "code", "redirect_uri": "https://bank.example/cb", "scope": "openid", "max_age": 300}
		if edit != nil {
			edit(m)
		}
		return m
	}
	good := sign(t, k, "k1", "oauth-authz-req+jwt", claims(nil))
	p, err := v.Verify(context.Background(), good, c)
	if err != nil || p["redirect_uri"] != "https://bank.example/cb" || p["max_age"] != "300" || p["client_id"] != "bank" || p["iss"] != "" || p["jti"] != "" {
		t.Fatalf("good object: %v %v", p, err)
	}
	if _, err := v.Verify(context.Background(), good, c); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "used before") {
		t.Fatalf("replayed: %v", err)
	}
	hs, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, nil)
	hsObj, _ := hs.Sign([]byte(`{"iss":"bank"}`))
	hsRaw, _ := hsObj.CompactSerialize()
	for name, tc := range map[string]struct {
		raw  string
		c    Client
		want string
	}{
		"HS256":             {hsRaw, c, "not a JWS"},
		"none":              {"eyJhbGciOiJub25lIn0.eyJpc3MiOiJiYW5rIn0.", c, "not a JWS"},
		"another key":       {sign(t, other, "k1", "", claims(nil)), c, "does not verify"},
		"unknown kid":       {sign(t, k, "k9", "", claims(nil)), c, "invalid request object"},
		"no keys":           {sign(t, k, "k1", "", claims(nil)), Client{ID: "bank"}, "no public keys"},
		"alg not allowed":   {sign(t, k, "k1", "", claims(nil)), Client{ID: "bank", Keys: set, Algorithms: []key.Algorithm{key.PS256}}, "not a JWS"},
		"typ":               {sign(t, k, "k1", "at+jwt", claims(nil)), c, "typ"},
		"iss":               {sign(t, k, "k1", "", claims(func(m map[string]any) { m["iss"] = "other" })), c, "iss"},
		"client_id":         {sign(t, k, "k1", "", claims(func(m map[string]any) { m["client_id"] = "other" })), c, "client_id"},
		"aud":               {sign(t, k, "k1", "", claims(func(m map[string]any) { m["aud"] = issuer + "/connect/par" })), c, "aud"},
		"no exp":            {sign(t, k, "k1", "", claims(func(m map[string]any) { delete(m, "exp") })), c, "exp is missing"},
		"expired":           {sign(t, k, "k1", "", claims(func(m map[string]any) { m["exp"] = now.Add(-time.Minute).Unix() })), c, "expired"},
		"exp too far":       {sign(t, k, "k1", "", claims(func(m map[string]any) { m["exp"] = now.Add(2 * time.Hour).Unix() })), c, "ahead"},
		"nbf in the future": {sign(t, k, "k1", "", claims(func(m map[string]any) { m["nbf"] = now.Add(time.Hour).Unix() })), c, "not valid before"},
		"no jti":            {sign(t, k, "k1", "", claims(func(m map[string]any) { delete(m, "jti") })), c, "jti is missing"},
		"request inside":    {sign(t, k, "k1", "", claims(func(m map[string]any) { m["request"] = "x" })), c, "request"},
		"request_uri":       {sign(t, k, "k1", "", claims(func(m map[string]any) { m["request_uri"] = "urn:x" })), c, "request_uri"},
		"object parameter":  {sign(t, k, "k1", "", claims(func(m map[string]any) { m["login_hint"] = map[string]any{"x": 1} })), c, "string or a number"},
		"array parameter":   {sign(t, k, "k1", "", claims(func(m map[string]any) { m["claims"] = []any{"x"} })), c, "string or a number"},
		"too large":         {strings.Repeat("a", DefaultMaxSize+1), c, "bytes"},
	} {
		if _, err := v.Verify(context.Background(), tc.raw, tc.c); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, tc.want)
		}
	}
	// The claims parameter is a JSON object in a request object (OpenID
	// Connect Core 6.1): it comes out as its JSON text.
	params, err := v.Verify(context.Background(), sign(t, k, "k1", "", claims(func(m map[string]any) {
		m["claims"] = map[string]any{"id_token": map[string]any{"email": map[string]any{"essential": true}}}
	})), c)
	if err != nil || params["claims"] != `{"id_token":{"email":{"essential":true}}}` {
		t.Errorf("claims object: %q, %v", params["claims"], err)
	}
	// The aud may be an array holding the issuer.
	if _, err := v.Verify(context.Background(), sign(t, k, "k1", "", claims(func(m map[string]any) { m["aud"] = []string{"x", issuer} })), c); err != nil {
		t.Errorf("aud array: %v", err)
	}
}
