package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/internal/pgtest"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keybackend"
	"github.com/signet-id/signet/keybackend/backendtest"
)

// backendYAML is the keyBackend section for c, indented for keyManagement.
func backendYAML(c keybackend.Config) string {
	switch c.Type {
	case keybackend.PKCS11:
		return fmt.Sprintf("  keyBackend: { type: pkcs11, module: %q, tokenLabel: %q, pin: %q }\n", c.Module, c.TokenLabel, c.Pin)
	case keybackend.AWSKMS:
		return fmt.Sprintf("  keyBackend: { type: awskms, region: %q, endpoint: %q }\n", c.Region, c.Endpoint)
	}
	return ""
}

// TestBackendClusterRotation runs three instances on one PostgreSQL
// schema with one PKCS#11 token (or one KMS) through several second-scale
// rotations while every instance issues tokens that verify against its
// JWKS. The store holds exactly one key per rotation (no overlapping
// signing windows), no instance makes a backend object in vain, every
// record is a backend reference without private material, and every
// deleted key's backend object is gone.
func TestBackendClusterRotation(t *testing.T) {
	needCluster(t)
	for _, typ := range backendtest.Types {
		t.Run(typ, func(t *testing.T) {
			bc := backendtest.Config(t, typ)
			b := backendtest.Open(t, typ) // sets dummy AWS credentials for the instances too
			ctx := t.Context()
			algs := []key.Algorithm{key.ES256}
			cfg := writeConfig(t, clusterConfig{Algorithms: algs, RotationInterval: 6 * time.Second, PropagationTime: 2 * time.Second,
				RetentionDuration: 2 * time.Second, KeyBackend: backendYAML(bc)})
			_, dsn := newSchema(t)
			ins := make([]*instance, 3)
			for i := range ins {
				ins[i] = newInstance(t, fmt.Sprintf("instance-%d", i+1), cfg, pgtest.WithParams(t, dsn, "pool_max_conns", "3"), "--unsafe-timing")
			}
			startTogether(t, ins...)
			for _, in := range ins {
				in.waitReady(t)
			}
			store := openStore(t, dsn)
			refs := map[string]keybackend.Ref{}
			signed := map[string]bool{}
			tokens := 0
			for end := time.Now().Add(16 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
				for _, in := range ins {
					tok, err := in.token(ctx, key.ES256)
					if err != nil {
						t.Fatal(err)
					}
					body, err := in.jwks(ctx)
					if err != nil {
						t.Fatal(err)
					}
					kid, err := verifyToken(tok, body)
					if err != nil {
						t.Fatalf("%s: a token does not verify against its own JWKS: %v", in.name, err)
					}
					signed[kid] = true
					tokens++
				}
				recs, err := store.Keys(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range recs {
					if r.Protection != typ {
						t.Fatalf("key %s: protection %q; want %s", r.KID, r.Protection, typ)
					}
					ref, err := keybackend.DecodeRef(r.PrivateKey)
					if err != nil {
						t.Fatal(err)
					}
					refs[r.KID] = ref
				}
			}
			if err := CheckConsistency(ctx, store, nil); err != nil {
				t.Fatal(err)
			}
			recs, err := store.Keys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			stored := map[string]bool{}
			for _, r := range recs {
				stored[r.KID] = true
			}
			deleted := 0
			for kid, ref := range refs {
				_, err := b.Signer(ctx, ref, key.ES256)
				switch {
				case stored[kid] && err != nil:
					t.Errorf("stored key %s: its backend object is unusable: %v", kid, err)
				case !stored[kid]:
					deleted++
					if !errors.Is(err, keybackend.ErrObjectMissing) {
						t.Errorf("deleted key %s: its backend object is still usable (%v); want it destroyed", kid, err)
					}
				}
			}
			// The CLI shows where each key is held, and where the
			// deployment stands.
			out, _, err := signet(ctx, dsn, "keys", "list", "--json", "--config", cfg)
			if err != nil {
				t.Fatal(err)
			}
			var listed []struct{ KID, Backend string }
			if err := json.Unmarshal([]byte(out), &listed); err != nil {
				t.Fatal(err)
			}
			if len(listed) == 0 {
				t.Fatal("keys list --json listed no key")
			}
			for _, k := range listed {
				if k.Backend != typ {
					t.Errorf("keys list: %s has backend %q; want %s", k.KID, k.Backend, typ)
				}
			}
			out, _, err = signet(ctx, dsn, "keys", "status", "--config", cfg)
			if err != nil {
				t.Fatal(err)
			}
			if want := "key backend: " + typ + " (new keys are made here)\n  ES256: "; !strings.Contains(out, want) {
				t.Errorf("keys status:\n%s\nwant it to contain %q", out, want)
			}
			raced := 0
			for _, in := range ins {
				raced += strings.Count(in.logs.String(), lostRaceLog)
			}
			t.Logf("%d tokens; %d keys made in %s (%d signed, %d deleted); %d keys generated and discarded by instances that lost the race",
				tokens, len(refs), typ, len(signed), deleted, raced)
			if raced > 0 {
				t.Errorf("instances generated %d backend keys that another instance had already made; backend keys are made under the lock only", raced)
			}
			if len(refs) < 4 || len(signed) < 3 || deleted < 2 {
				t.Fatalf("%d keys made, %d signed, %d deleted in 16 s of 6 s rotations; want at least 4, 3 and 2", len(refs), len(signed), deleted)
			}
		})
	}
}
