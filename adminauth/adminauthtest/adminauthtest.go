// Package adminauthtest makes admin tokens for tests: a published key set
// whose keys can be added and deleted, and tokens signed by them.
package adminauthtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-id/signet/keymanager"
)

// KeySet is a published key set (adminauth.KeySet) of ES256 keys.
type KeySet struct {
	mu   sync.Mutex
	keys map[string]*ecdsa.PrivateKey
	n    int
}

// Add publishes a new key.
func (p *KeySet) Add(t testing.TB, kid string) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.keys == nil {
		p.keys = map[string]*ecdsa.PrivateKey{}
	}
	p.keys[kid] = k
	p.n++
	return k
}

// Remove unpublishes a key (a retired key past its retention, deleted).
func (p *KeySet) Remove(kid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.keys, kid)
	p.n++
}

// Key returns a published key, nil if none.
func (p *KeySet) Key(kid string) *ecdsa.PrivateKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys[kid]
}

// JWKS implements adminauth.KeySet.
func (p *KeySet) JWKS() *keymanager.JWKS {
	p.mu.Lock()
	defer p.mu.Unlock()
	var set jose.JSONWebKeySet
	for kid, k := range p.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: kid, Algorithm: "ES256", Use: "sig"})
	}
	b, _ := json.Marshal(set)
	return &keymanager.JWKS{Body: b, ETag: strconv.Quote(strconv.Itoa(p.n))}
}

// Token describes a token to sign.
type Token struct {
	KID, Typ, Issuer, Scope, ClientID string
	Audience                          []string
	Expiry                            time.Time
	Alg                               jose.SignatureAlgorithm // ES256 unless set
	Key                               any
	Cnf                               bool
}

// Sign returns tok signed.
func Sign(t testing.TB, tok Token) string {
	t.Helper()
	if tok.Alg == "" {
		tok.Alg = jose.ES256
	}
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(tok.Typ)).WithHeader(jose.HeaderKey("kid"), tok.KID)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: tok.Alg, Key: tok.Key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	c := map[string]any{"iss": tok.Issuer, "aud": tok.Audience, "exp": tok.Expiry.Unix(), "iat": now, "nbf": now,
		"scope": tok.Scope, "client_id": tok.ClientID, "sub": tok.ClientID, "jti": strconv.FormatInt(time.Now().UnixNano(), 36)}
	if tok.Cnf {
		c["cnf"] = map[string]string{"jkt": "x"}
	}
	raw, err := jwt.Signed(s).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
