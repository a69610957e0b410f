// Command private-key-jwt is the client side of private_key_jwt: it prints
// the public JWK of a client's key (for clients[].jwks) and builds client
// assertions signed with it, using only go-jose and the standard library.
// docs/client-authentication.md walks through it.
//
//	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out billing.key
//	go run ./examples/private-key-jwt jwk billing.key
//	go run ./examples/private-key-jwt assertion -key billing.key -client billing -aud https://login.example.com
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "private-key-jwt:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: private-key-jwt jwk KEYFILE | assertion -key KEYFILE -client ID -aud ISSUER")
	}
	switch args[0] {
	case "jwk":
		if len(args) != 2 {
			return errors.New("usage: private-key-jwt jwk KEYFILE")
		}
		k, alg, err := readKey(args[1])
		if err != nil {
			return err
		}
		pub := publicJWK(k, alg)
		out, err := json.Marshal(pub)
		if err != nil {
			return err
		}
		fmt.Println(string(out))
		return nil
	case "assertion":
		fs := flag.NewFlagSet("assertion", flag.ContinueOnError)
		keyFile := fs.String("key", "", "the client's private key (PEM)")
		client := fs.String("client", "", "the client_id")
		aud := fs.String("aud", "", "Signet's issuer identifier")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *keyFile == "" || *client == "" || *aud == "" {
			return errors.New("-key, -client and -aud are required")
		}
		k, alg, err := readKey(*keyFile)
		if err != nil {
			return err
		}
		a, err := assertion(k, alg, publicJWK(k, alg).KeyID, *client, *aud, time.Now())
		if err != nil {
			return err
		}
		fmt.Println(a)
		return nil
	}
	return fmt.Errorf("unknown command %q", args[0])
}

// assertion builds a client assertion (RFC 7523 section 3): iss and sub
// are the client_id, aud Signet's issuer, a one-minute lifetime and a
// fresh jti, signed with the client's key under its kid.
func assertion(k crypto.Signer, alg jose.SignatureAlgorithm, kid, clientID, issuer string, now time.Time) (string, error) {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: k, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(jwt.Claims{
		Issuer:   clientID,
		Subject:  clientID,
		Audience: jwt.Audience{issuer},
		IssuedAt: jwt.NewNumericDate(now),
		Expiry:   jwt.NewNumericDate(now.Add(time.Minute)),
		ID:       rand.Text(),
	}).Serialize()
}

// publicJWK is the public half, its kid the RFC 7638 thumbprint.
func publicJWK(k crypto.Signer, alg jose.SignatureAlgorithm) jose.JSONWebKey {
	pub := jose.JSONWebKey{Key: k.Public(), Algorithm: string(alg), Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err == nil {
		pub.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	}
	return pub
}

// readKey reads a PEM private key (PKCS#8, SEC 1 or PKCS#1) and picks
// its algorithm: ES256, PS256 or EdDSA.
func readKey(path string) (crypto.Signer, jose.SignatureAlgorithm, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, "", fmt.Errorf("%s: no PEM block", path)
	}
	var k any
	switch b.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	default:
		return nil, "", fmt.Errorf("%s: a %s block; expected a private key", path, b.Type)
	}
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve.Params().Name != "P-256" {
			return nil, "", fmt.Errorf("%s: an EC key on %s; use P-256 (ES256)", path, k.Curve.Params().Name)
		}
		return k, jose.ES256, nil
	case *rsa.PrivateKey:
		return k, jose.PS256, nil
	case ed25519.PrivateKey:
		return k, jose.EdDSA, nil
	}
	return nil, "", fmt.Errorf("%s: unsupported key type %T", path, k)
}
