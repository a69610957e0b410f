package config

import (
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/throttle"
)

func TestLimitsDefaults(t *testing.T) {
	c := mustParse(t, minimal, nil)
	if c.Limits != DefaultLimits() {
		t.Fatalf("limits %+v, want the defaults", c.Limits)
	}
	if c.Limits.PasswordHashingMemoryKiB != 128<<10 || c.Limits.LoginPerUserAndAddress != (throttle.Limit{Max: 5, Window: 15 * time.Minute}) {
		t.Fatalf("defaults changed: %+v", c.Limits)
	}
}

func TestLimitsParse(t *testing.T) {
	c := mustParse(t, minimal+`
limits:
  passwordHashingMemory: 256MiB
  passwordHashingQueue: 8
  trackedKeys: 5000
  login:
    perUserAndAddress: { max: 3 }
    perAddress: { max: 50, window: 1h }
    perUser: { window: 30m }
  clientAuthentication:
    perClientAndAddress: { max: 4, window: 5m }
    perAddress: { max: 12 }
    perClient: { max: 40 }
  registration:
    perAddress: { max: 5 }
    total: { window: 30m }
`, nil)
	w := 15 * time.Minute
	want := Limits{PasswordHashingMemoryKiB: 256 << 10, PasswordHashingQueue: 8, TrackedKeys: 5000,
		LoginPerUserAndAddress: throttle.Limit{Max: 3, Window: w}, LoginPerAddress: throttle.Limit{Max: 50, Window: time.Hour},
		LoginPerUser: throttle.Limit{Max: 100, Window: 30 * time.Minute}, ClientPerClientAndAddress: throttle.Limit{Max: 4, Window: 5 * time.Minute},
		ClientPerAddress: throttle.Limit{Max: 12, Window: w}, ClientPerClient: throttle.Limit{Max: 40, Window: w},
		RegistrationPerAddress: throttle.Limit{Max: 5, Window: time.Hour}, Registrations: throttle.Limit{Max: 500, Window: 30 * time.Minute}}
	if c.Limits != want {
		t.Fatalf("limits\n %+v\nwant\n %+v", c.Limits, want)
	}
	for in, kib := range map[string]int64{"1GiB": 1 << 20, "65536KiB": 65536, "64MB": 64 << 10} {
		c := mustParse(t, minimal+"limits: { passwordHashingMemory: "+in+" }\n", nil)
		if c.Limits.PasswordHashingMemoryKiB != kib {
			t.Errorf("%s = %d KiB, want %d", in, c.Limits.PasswordHashingMemoryKiB, kib)
		}
	}
}

func TestLimitsErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"limits: { passwordHashingMemory: 128 }", "expected an amount of memory like 128MiB"},
		{"limits: { passwordHashingMemory: 4MiB }", "limits.passwordHashingMemory: must be at least 8MiB"},
		{"limits: { passwordHashingQueue: 0 }", "limits.passwordHashingQueue: must be at least 1"},
		{"limits: { trackedKeys: 10 }", "limits.trackedKeys: must be at least 1000"},
		{"limits: { login: { perUser: { max: 0 } } }", "limits.login.perUser.max: must be at least 1"},
		{"limits: { clientAuthentication: { perAddress: { window: 0s } } }", "limits.clientAuthentication.perAddress.window: must be at least 1s"},
		{"limits: { login: { perUsername: { max: 3 } } }", `unknown key "perUsername"`},
	} {
		_, err := parse(t, minimal+tc.doc+"\n", nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.doc, err, tc.want)
		}
	}
}

func TestLimitsWarnAboutHashesLargerThanTheBudget(t *testing.T) {
	doc := minimal + `
apiResources: [ { name: orders, scopes: [orders.read] } ]
clients:
  - clientId: big
    secrets: [ "$argon2id$v=19$m=262144,t=1,p=1$c2lnbmV0LXRlc3Qtc2FsdA$dGVzdC1oYXNoLXRlc3QtaGFzaC10ZXN0LWhhc2gxMjM" ]
    allowedGrantTypes: [client_credentials]
    allowedScopes: [orders.read]
`
	c := mustParse(t, doc, nil)
	if !strings.Contains(strings.Join(c.Warnings, "\n"), "client big: its argon2id hash needs 256 MiB, more than limits.passwordHashingMemory (128 MiB)") {
		t.Fatalf("no warning: %q", c.Warnings)
	}
	c = mustParse(t, doc+"limits: { passwordHashingMemory: 512MiB }\n", nil)
	if strings.Contains(strings.Join(c.Warnings, "\n"), "passwordHashingMemory") {
		t.Fatalf("a warning with a large enough budget: %q", c.Warnings)
	}
}
