package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/config"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keybackend"
	"github.com/signet-id/signet/keymanager"
)

func TestWriteBackendStatus(t *testing.T) {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	o := key.DefaultOptions()
	o.SigningAlgorithms = []key.AlgorithmOptions{{Algorithm: key.ES256}}
	rec := func(kid, prot string, created, signs time.Time) key.Record {
		return key.Record{KID: kid, Algorithm: key.ES256, Created: created, SignsFrom: signs,
			RetiresAt: signs.Add(o.RotationInterval), DeleteAfter: signs.Add(o.RotationInterval + o.RetentionDuration), Protection: prot, PrivateKey: []byte("x")}
	}
	soft := rec("soft-1", key.ProtectionAESGCM, now.Add(-10*day), now.Add(-10*day))
	soft.RetiresAt, soft.DeleteAfter = now.Add(4*day), now.Add(18*day) // retires when the successor signs
	hsm := rec("hsm-1", key.ProtectionPKCS11, now.Add(-10*day), now.Add(4*day))
	for _, tc := range []struct {
		name  string
		cfg   config.Config
		recs  []key.Record
		want  []string
		empty bool
	}{
		{name: "software only", cfg: config.Config{KeyManagement: o, KeyBackend: keybackend.Config{Type: "software"}},
			recs: []key.Record{soft}, empty: true},
		{name: "moving to pkcs11", cfg: config.Config{KeyManagement: o, KeyBackend: keybackend.Config{Type: "pkcs11"}},
			recs: []key.Record{soft, hsm}, want: []string{
				"key backend: pkcs11 (new keys are made here)\n",
				"  ES256: moving to pkcs11: soft-1 (software) signs until 2026-03-05T00:00:00Z (in 4d), then hsm-1 (pkcs11) takes over\n",
				"  1 key(s) remain in software until 2026-03-19T00:00:00Z (in 18d), when the last is deleted; keep keyManagement.protection's secrets until then\n",
			}},
		{name: "not yet moved", cfg: config.Config{KeyManagement: o, KeyBackend: keybackend.Config{Type: "awskms"}},
			recs: []key.Record{soft}, want: []string{
				"  ES256: soft-1 (software) signs; a running server announces a successor in awskms at its next check",
			}},
		{name: "previous dropped too early", cfg: config.Config{KeyManagement: o, KeyBackend: keybackend.Config{Type: "awskms"}},
			recs: []key.Record{rec("hsm-2", key.ProtectionPKCS11, now.Add(-20*day), now.Add(-20*day))}, want: []string{
				"warning: no configured backend opens the pkcs11 keys: they cannot sign, and their objects are not destroyed; set keyManagement.keyBackend.previous to the pkcs11 settings\n",
			}},
		{name: "previous kept", cfg: config.Config{KeyManagement: o, KeyBackend: keybackend.Config{Type: "awskms"}, PreviousKeyBackend: &keybackend.Config{Type: "pkcs11"}},
			recs: []key.Record{rec("hsm-2", key.ProtectionPKCS11, now.Add(-20*day), now.Add(-20*day))}, want: []string{
				"keyManagement.keyBackend.previous opens them until then\n",
			}},
		{name: "previous done", cfg: config.Config{KeyManagement: o, KeyBackend: keybackend.Config{Type: "pkcs11"}, PreviousKeyBackend: &keybackend.Config{Type: "awskms"}},
			recs: []key.Record{hsm}, want: []string{
				"keyManagement.keyBackend.previous (awskms) holds no key any more: remove it\n",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			writeBackendStatus(&b, &tc.cfg, tc.recs, now)
			if tc.empty != (b.Len() == 0) {
				t.Fatalf("output %q; want empty: %v", b.String(), tc.empty)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output:\n%s\nwant it to contain %q", b.String(), w)
				}
			}
		})
	}
}

func TestWriteBackendCheck(t *testing.T) {
	var b strings.Builder
	writeBackendCheck(&b, &config.Config{KeyBackend: keybackend.Config{Type: "software"}})
	if b.Len() != 0 {
		t.Fatalf("software only: %q; want nothing", b.String())
	}
	cfg := &config.Config{
		KeyBackend:         keybackend.Config{Type: "awskms", Region: "eu-west-1"},
		PreviousKeyBackend: &keybackend.Config{Type: "pkcs11"},
		Protection:         config.Protection{Enabled: true, Secrets: [][]byte{[]byte("s")}},
	}
	writeBackendCheck(&b, cfg)
	for _, want := range []string{
		"key backend: awskms, region eu-west-1: new keys are generated in KMS and never leave it\n",
		"previous key backend: pkcs11: opens the keys it made until they are deleted",
		"software keys from before the change (if any) open with keyManagement.protection's secrets",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output:\n%s\nwant %q", b.String(), want)
		}
	}
}

// A SIGHUP reload does not switch key backends: it says a restart is
// needed.
func TestRestartNeededKeyBackend(t *testing.T) {
	a := &config.Config{KeyBackend: keybackend.Config{Type: "software"}}
	b := &config.Config{KeyBackend: keybackend.Config{Type: "pkcs11", Module: "/m.so", TokenLabel: "t", Pin: "p"}}
	if got := fmt.Sprint(restartNeeded(a, b)); got != "[keyManagement.keyBackend]" {
		t.Fatalf("restartNeeded = %s; want [keyManagement.keyBackend]", got)
	}
	c := *b
	c.PreviousKeyBackend = &keybackend.Config{Type: "awskms", Region: "eu-west-1"}
	if got := fmt.Sprint(restartNeeded(b, &c)); got != "[keyManagement.keyBackend]" {
		t.Fatalf("restartNeeded (previous added) = %s; want [keyManagement.keyBackend]", got)
	}
	if got := fmt.Sprint(restartNeeded(b, b)); got != "[]" {
		t.Fatalf("restartNeeded (same) = %s; want []", got)
	}
}

// keys list adds a BACKEND column when a key is held by a key backend.
func TestKeysTableBackendColumn(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	keys := []keymanager.KeyInfo{
		{KID: "static", Algorithm: key.ES256, State: keymanager.StateValidation},
		{KID: "soft", Algorithm: key.ES256, State: key.StateRetired, Created: t0, SignsFrom: t0, RetiresAt: t0.Add(time.Hour), DeleteAfter: t0.Add(2 * time.Hour), Backend: key.BackendSoftware},
		{KID: "hsm", Algorithm: key.ES256, State: key.StateActive, Created: t0, SignsFrom: t0.Add(time.Hour), RetiresAt: t0.Add(3 * time.Hour), DeleteAfter: t0.Add(4 * time.Hour), Backend: "pkcs11"},
	}
	var b strings.Builder
	if err := writeKeysTable(&b, keys); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	for i, suffix := range []string{"X509  BACKEND", "no    config", "no    software", "no    pkcs11"} {
		if !strings.HasSuffix(lines[i], suffix) {
			t.Errorf("line %d %q; want it to end with %q", i, lines[i], suffix)
		}
	}
	b.Reset()
	if err := writeKeysTable(&b, keys[:2]); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "BACKEND") {
		t.Errorf("software-only table has a BACKEND column:\n%s", b.String())
	}
}
