package dpop_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/signet-id/signet/dpop"
)

// An API that accepts DPoP-bound Signet access tokens. It verifies the
// token as any RFC 9068 access token (signature against Signet's JWKS,
// typ at+jwt, iss, aud, exp), takes its cnf.jkt, and lets package dpop
// check the proof and the binding. The jti is recorded only once the
// token is known good, so unauthenticated requests store nothing.
func ExampleVerifier_VerifyResource() {
	const issuer, api = "https://id.example.com", "https://api.example.com/items"

	// Stand-ins for what the API gets from Signet (normally jwks from
	// issuer + "/.well-known/jwks.json", cached) and for a DPoP client.
	jwks, accessToken, client := signetAndClient(issuer, api)

	verifier, err := dpop.New(dpop.Config{}) // ES256, PS256, RS256, EdDSA; iat ±60s
	if err != nil {
		panic(err)
	}
	replay, err := dpop.NewMemoryReplay(100_000, nil) // one instance; share a store in a cluster
	if err != nil {
		panic(err)
	}

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := dpop.AccessToken(r) // Authorization: DPoP <token>
		if err != nil {
			verifier.WriteError(w, err)
			return
		}
		jkt, sub, err := verifyAccessToken(token, jwks, issuer, api)
		if err != nil {
			verifier.WriteError(w, fmt.Errorf("%w: %v", dpop.ErrInvalidToken, err))
			return
		}
		// The public URL the client called: behind a proxy, not r.Host.
		proof, err := verifier.VerifyResource(r, api, token, jkt)
		if err == nil {
			err = dpop.MarkUsed(r.Context(), replay, proof)
		}
		if err != nil {
			verifier.WriteError(w, err)
			return
		}
		fmt.Fprintf(w, "hello %s", sub)
	})

	call := func(scheme string, proofFor string) {
		r := httptest.NewRequest("GET", api, nil)
		r.Header.Set("Authorization", scheme+" "+accessToken)
		if proofFor != "" {
			p, err := client.Proof("GET", proofFor, dpop.ProofOptions{AccessToken: accessToken})
			if err != nil {
				panic(err)
			}
			r.Header.Set("DPoP", p)
		}
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body.String()+w.Header().Get("WWW-Authenticate"))
	}
	call("DPoP", api)
	call("Bearer", "")
	call("DPoP", "")
	call("DPoP", "https://api.example.com/other")
	// Output:
	// 200 hello alice
	// 401 DPoP error="invalid_token", error_description="the access token is DPoP-bound: send it as Authorization: DPoP, not Bearer", algs="ES256 PS256 RS256 EdDSA"
	// 401 DPoP error="invalid_dpop_proof", error_description="no DPoP header: a DPoP proof is required", algs="ES256 PS256 RS256 EdDSA"
	// 401 DPoP error="invalid_dpop_proof", error_description="the DPoP proof's htu does not match the request URI", algs="ES256 PS256 RS256 EdDSA"
}

// verifyAccessToken checks a Signet access token and returns its
// cnf.jkt and subject.
func verifyAccessToken(token string, jwks *jose.JSONWebKeySet, issuer, audience string) (jkt, sub string, err error) {
	tok, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.PS256, jose.RS256, jose.EdDSA})
	if err != nil {
		return "", "", err
	}
	if typ, _ := tok.Headers[0].ExtraHeaders["typ"].(string); typ != "at+jwt" {
		return "", "", fmt.Errorf("not an access token (typ %q)", typ)
	}
	var std jwt.Claims
	var cnf struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	if err := tok.Claims(jwks, &std, &cnf); err != nil {
		return "", "", err
	}
	want := jwt.Expected{Issuer: issuer, AnyAudience: jwt.Audience{audience}, Time: time.Now()}
	if err := std.ValidateWithLeeway(want, 30*time.Second); err != nil {
		return "", "", err
	}
	return cnf.Cnf.JKT, std.Subject, nil
}

// signetAndClient plays Signet's part: a signing key, its JWKS and an
// access token bound to a client's DPoP key.
func signetAndClient(issuer, audience string) (*jose.JSONWebKeySet, string, *dpop.Prover) {
	clientKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	client, err := dpop.NewProver(clientKey, "ES256", nil)
	if err != nil {
		panic(err)
	}
	signetKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: signetKey, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("at+jwt"))
	if err != nil {
		panic(err)
	}
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{
		"iss": issuer, "sub": "alice", "aud": audience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"cnf": map[string]string{"jkt": client.Thumbprint()},
	})
	jws, err := signer.Sign(claims)
	if err != nil {
		panic(err)
	}
	token, _ := jws.CompactSerialize()
	jwks := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &signetKey.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}}
	return jwks, token, client
}
