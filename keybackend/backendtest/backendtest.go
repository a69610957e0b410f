package backendtest

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/signet-id/signet/keybackend"
)

// Types lists the backend types the tests run against.
var Types = []string{keybackend.PKCS11, keybackend.AWSKMS}

// Config returns the configuration of the backend typ from the
// environment, or skips t with a message naming what to set. For awskms it
// also provides dummy credentials when none are set (a local KMS server
// accepts any).
func Config(t testing.TB, typ string) keybackend.Config {
	t.Helper()
	switch typ {
	case keybackend.PKCS11:
		c := keybackend.Config{
			Type: typ, Module: os.Getenv("SIGNET_TEST_PKCS11_MODULE"),
			TokenLabel: os.Getenv("SIGNET_TEST_PKCS11_TOKEN_LABEL"), Pin: os.Getenv("SIGNET_TEST_PKCS11_PIN"),
		}
		if c.Module == "" || c.TokenLabel == "" || c.Pin == "" {
			t.Skip("PKCS#11 backend tests skipped: set SIGNET_TEST_PKCS11_MODULE, SIGNET_TEST_PKCS11_TOKEN_LABEL and SIGNET_TEST_PKCS11_PIN (e.g. `source .ci/backends.sh`)")
		}
		return c
	case keybackend.AWSKMS:
		ep := os.Getenv("SIGNET_TEST_KMS_ENDPOINT")
		if ep == "" {
			t.Skip("AWS KMS backend tests skipped: set SIGNET_TEST_KMS_ENDPOINT to a KMS-compatible server (e.g. `source .ci/backends.sh`, which starts local-kms)")
		}
		region := os.Getenv("SIGNET_TEST_KMS_REGION")
		if region == "" {
			region = "eu-west-1"
		}
		return keybackend.Config{Type: typ, Region: region, Endpoint: ep, Issuer: "https://signet.test"}
	}
	t.Fatalf("backendtest: unknown backend type %q", typ)
	return keybackend.Config{}
}

// SetCredentials sets dummy AWS credentials in the environment when none
// are set (for a local KMS server; also inherited by child processes).
func SetCredentials(t *testing.T) {
	t.Helper()
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		t.Setenv("AWS_ACCESS_KEY_ID", "signet-test")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "signet-test")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// Open opens the backend typ from the environment (or skips t) and closes
// it when t ends.
func Open(t *testing.T, typ string) keybackend.Backend {
	t.Helper()
	c := Config(t, typ)
	if typ == keybackend.AWSKMS {
		SetCredentials(t)
	}
	b, err := keybackend.Open(context.Background(), c)
	if errors.Is(err, keybackend.ErrNoCgo) {
		t.Skipf("PKCS#11 backend tests skipped: %v", err)
	}
	if err != nil {
		t.Fatalf("open %s backend: %v", typ, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close %s backend: %v", typ, err)
		}
	})
	return b
}
