package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keybackend"
)

// keyBackendConfig returns the settings of the key backend typ ("pkcs11"
// or "awskms") from the environment, the same variables the tests read
// (.ci/backends.sh sets them): SIGNET_TEST_PKCS11_MODULE,
// SIGNET_TEST_PKCS11_TOKEN_LABEL, SIGNET_TEST_PKCS11_PIN;
// SIGNET_TEST_KMS_ENDPOINT (optional), SIGNET_TEST_KMS_REGION. For a KMS
// endpoint without AWS credentials in the environment it sets dummy ones
// (a local KMS server accepts any), inherited by the server.
func keyBackendConfig(typ string) (keybackend.Config, error) {
	c := keybackend.Config{Type: typ}
	switch typ {
	case keybackend.PKCS11:
		c.Module, c.TokenLabel, c.Pin = os.Getenv("SIGNET_TEST_PKCS11_MODULE"), os.Getenv("SIGNET_TEST_PKCS11_TOKEN_LABEL"), os.Getenv("SIGNET_TEST_PKCS11_PIN")
		if c.Module == "" || c.TokenLabel == "" || c.Pin == "" {
			return c, fmt.Errorf("--key-backend pkcs11 needs SIGNET_TEST_PKCS11_MODULE, SIGNET_TEST_PKCS11_TOKEN_LABEL and SIGNET_TEST_PKCS11_PIN (e.g. `source .ci/backends.sh`)")
		}
	case keybackend.AWSKMS:
		c.Endpoint, c.Region = os.Getenv("SIGNET_TEST_KMS_ENDPOINT"), os.Getenv("SIGNET_TEST_KMS_REGION")
		if c.Region == "" {
			c.Region = os.Getenv("AWS_REGION")
		}
		if c.Region == "" {
			return c, fmt.Errorf("--key-backend awskms needs SIGNET_TEST_KMS_REGION (or AWS_REGION), and SIGNET_TEST_KMS_ENDPOINT for a local KMS server (e.g. `source .ci/backends.sh`)")
		}
		if c.Endpoint != "" && os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
			os.Setenv("AWS_ACCESS_KEY_ID", "signet-bench")
			os.Setenv("AWS_SECRET_ACCESS_KEY", "signet-bench")
		}
	default:
		return c, fmt.Errorf("--key-backend must be pkcs11 or awskms, not %q", typ)
	}
	return c, c.Validate()
}

// keyBackendYAML is the keyBackend section of keyManagement for c.
func keyBackendYAML(c keybackend.Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  keyBackend:\n    type: %s\n", c.Type)
	for _, f := range []struct{ name, v string }{{"module", c.Module}, {"tokenLabel", c.TokenLabel}, {"pin", c.Pin}, {"region", c.Region}, {"endpoint", c.Endpoint}} {
		if f.v != "" {
			fmt.Fprintf(&b, "    %s: %q\n", f.name, f.v)
		}
	}
	return b.String()
}

// backendSigner generates a key of alg in the backend typ for raw-sign and
// returns its signer and a function that destroys the key.
func backendSigner(typ string, alg key.Algorithm, bits int) (sign func(msg []byte) error, cleanup func(), err error) {
	c, err := keyBackendConfig(typ)
	if err != nil {
		return nil, nil, err
	}
	ctx := context.Background()
	b, err := keybackend.Open(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	var id [8]byte
	rand.Read(id[:])
	ref, err := b.Generate(ctx, "bench-raw-"+hex.EncodeToString(id[:]), alg, bits)
	if err != nil {
		b.Close()
		return nil, nil, err
	}
	cleanup = func() {
		b.Destroy(ctx, ref)
		b.Close()
	}
	s, err := b.Signer(ctx, ref, alg)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	opts := signerOpts(alg)
	return func(msg []byte) error {
		_, err := s.Sign(rand.Reader, msg, opts)
		return err
	}, cleanup, nil
}
