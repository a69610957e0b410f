package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// timingDoc is a configuration with every timing option set.
func timingDoc(rotation, propagation, retention, keyCache, maxAge, rpCache, skew string, lifetimes ...string) string {
	doc := fmt.Sprintf(`issuer: https://login.example.com
storage: { driver: memory }
keyManagement:
  rotationInterval: %s
  propagationTime: %s
  retentionDuration: %s
  keyCacheDuration: %s
  jwksMaxAge: %s
  relyingPartyCache: %s
  clockSkew: %s
apiResources: [ { name: api, scopes: [api.read] } ]
`, rotation, propagation, retention, keyCache, maxAge, rpCache, skew)
	if len(lifetimes) > 0 {
		doc += "clients:\n"
	}
	for i, l := range lifetimes {
		doc += fmt.Sprintf("  - { clientId: c%d, secrets: [\"plain:secret-%d-of-some-length\"], allowedGrantTypes: [client_credentials], accessTokenLifetime: %s }\n", i, i, l)
	}
	return doc
}

func TestTimingDefaults(t *testing.T) {
	c := mustParse(t, "issuer: https://login.example.com\nstorage: { driver: memory }\n", nil)
	if c.RelyingPartyCache != 24*time.Hour || c.ClockSkew != 5*time.Minute {
		t.Fatalf("relyingPartyCache %s, clockSkew %s; want 24h and 5m", c.RelyingPartyCache, c.ClockSkew)
	}
	if v := c.CheckTiming(); len(v) != 0 {
		t.Fatalf("the defaults break a timing rule: %v", v)
	}
	if len(c.TimingChecks()) != 3 {
		t.Fatalf("want the three rules evaluated, got %v", c.TimingChecks())
	}
	if d, src := c.LongestTokenLifetime(); d != 0 || src != "no clients" {
		t.Fatalf("no clients: %s %q", d, src)
	}
}

func TestTimingOptionsParsed(t *testing.T) {
	c := mustParse(t, timingDoc("90d", "14d", "14d", "1d", "1h", "36h", "0s"), nil)
	tm := c.Timing()
	if tm.RelyingPartyCache != 36*time.Hour || tm.ClockSkew != 0 || tm.KeyCacheDuration != 24*time.Hour || tm.JWKSMaxAge != time.Hour {
		t.Fatalf("timing %+v", tm)
	}
	if _, err := parse(t, "issuer: https://a.example\nkeyManagement: { relyingPartyCach: 1h }\n", nil); err == nil ||
		!strings.Contains(err.Error(), `did you mean "relyingPartyCache"`) {
		t.Fatalf("misspelt option: %v", err)
	}
	if _, err := parse(t, "issuer: https://a.example\nkeyManagement: { clockSkew: -5m }\n", nil); err == nil ||
		!strings.Contains(err.Error(), "must not be negative") {
		t.Fatalf("negative skew: %v", err)
	}
}

// Each inequality, on both sides of its boundary.
func TestCheckTimingBoundaries(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		rule string // "" = every rule holds
		want string // in the violation's detail
	}{
		// need = relyingPartyCache 24h + jwksMaxAge 1h + keyCacheDuration 24h = 49h
		{"propagation at the bound", timingDoc("90d", "49h", "14d", "24h", "1h", "24h", "5m"), "propagationTime >", "propagationTime 2d1h <= 1d + 1h + 1d = 2d1h"},
		{"propagation above the bound", timingDoc("90d", "49h1s", "14d", "24h", "1h", "24h", "5m"), "", ""},
		{"relying-party cache counts", timingDoc("90d", "49h1s", "14d", "24h", "1h", "24h1s", "5m"), "propagationTime >", "1d1s + 1h + 1d = 2d1h0m1s"},
		// need = longest lifetime 1h (c1) + clockSkew 5m = 65m
		{"retention at the bound", timingDoc("90d", "14d", "65m", "24h", "1h", "24h", "5m", "30m", "1h"), "retentionDuration >", "(clients[c1].accessTokenLifetime)"},
		{"retention above the bound", timingDoc("90d", "14d", "65m1s", "24h", "1h", "24h", "5m", "30m", "1h"), "", ""},
		{"clock skew counts", timingDoc("90d", "14d", "65m1s", "24h", "1h", "24h", "5m1s", "30m", "1h"), "retentionDuration >", "1h5m1s"},
		{"rotation above propagation", timingDoc("14d1s", "14d", "14d", "24h", "1h", "24h", "5m"), "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := mustParse(t, tc.doc, nil).CheckTiming()
			if tc.rule == "" {
				if len(v) != 0 {
					t.Fatalf("unexpected violations %v", v)
				}
				return
			}
			if len(v) != 1 || !strings.Contains(v[0].Rule, tc.rule) || !strings.Contains(v[0].Detail, tc.want) {
				t.Fatalf("violations %v; want one on %q with %q", v, tc.rule, tc.want)
			}
		})
	}
	// rotationInterval <= propagationTime never loads.
	if _, err := parse(t, timingDoc("14d", "14d", "14d", "24h", "1h", "24h", "5m"), nil); err == nil ||
		!strings.Contains(err.Error(), "rotationInterval (336h0m0s) must be greater than propagationTime") {
		t.Fatalf("rotation at propagation: %v", err)
	}
}

func TestCheckTimingManagedOff(t *testing.T) {
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	writeKey(t, dir, "old.pem", ec, false)
	c, err := Parse([]byte("issuer: https://a.example\nstorage: { driver: memory }\nkeyManagement: { enabled: false, propagationTime: 1s, rotationInterval: 2s }\nsigningCredential: { file: old.pem, algorithm: ES256 }\n"),
		ParseOptions{Dir: dir, LookupEnv: env(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if ch := c.TimingChecks(); ch != nil {
		t.Fatalf("managed keys off, yet rules checked: %v", ch)
	}
}

func TestLongestTokenLifetime(t *testing.T) {
	c := mustParse(t, timingDoc("90d", "14d", "14d", "24h", "1h", "24h", "5m", "30m", "2h", "2h", "1h"), nil)
	if d, src := c.LongestTokenLifetime(); d != 2*time.Hour || src != "clients[c1].accessTokenLifetime" {
		t.Fatalf("longest %s from %q; want 2h from the first client that has it", d, src)
	}
}

// ID tokens count with their client's identityTokenLifetime.
func TestLongestTokenLifetimeCountsIDTokens(t *testing.T) {
	c := mustParse(t, minimal+`
clients:
  - clientId: app
    tokenEndpointAuthMethod: none
    allowedGrantTypes: [authorization_code]
    redirectUris: [ "https://app.example/cb" ]
    accessTokenLifetime: 10m
    identityTokenLifetime: 3h
`, nil)
	if d, src := c.LongestTokenLifetime(); d != 3*time.Hour || src != "clients[app].identityTokenLifetime" {
		t.Fatalf("longest %s from %q; want 3h from clients[app].identityTokenLifetime", d, src)
	}
}

// Applying the suggested values fixes the configuration, even when the
// defaults of keyCacheDuration and jwksMaxAge grow with propagationTime.
func TestTimingSuggestionsHold(t *testing.T) {
	for _, km := range []string{
		"{ rotationInterval: 3s, propagationTime: 1s, retentionDuration: 2s }",
		"{ propagationTime: 1h, retentionDuration: 1m }",
		"{ propagationTime: 2d, keyCacheDuration: 1d, jwksMaxAge: 1h, relyingPartyCache: 3d, clockSkew: 1h }",
	} {
		doc := func(km string) string {
			return "issuer: https://login.example.com\nstorage: { driver: memory }\nkeyManagement: " + km + `
apiResources: [ { name: api, scopes: [api.read] } ]
clients: [ { clientId: app, secrets: ["plain:app-secret-0123456789"], allowedGrantTypes: [client_credentials], accessTokenLifetime: 8h } ]
`
		}
		v := mustParse(t, doc(km), nil).CheckTiming()
		if len(v) == 0 {
			t.Fatalf("%s: no violation to fix", km)
		}
		fixed := km
		for _, x := range v {
			for _, opt := range []string{"propagationTime", "rotationInterval", "retentionDuration"} {
				i := strings.Index(x.Suggestion, opt+": ")
				if i < 0 {
					continue
				}
				val := strings.Fields(x.Suggestion[i+len(opt)+2:])[0]
				val = strings.TrimSuffix(val, ",")
				if strings.Contains(fixed, opt+":") {
					fixed = regexp.MustCompile(opt+`: [^,}]+`).ReplaceAllString(fixed, opt+": "+val)
				} else {
					fixed = strings.Replace(fixed, "{ ", "{ "+opt+": "+val+", ", 1)
				}
			}
		}
		c, err := parse(t, doc(fixed), nil)
		if err != nil {
			t.Fatalf("%s -> %s: %v", km, fixed, err)
		}
		if v := c.CheckTiming(); len(v) != 0 {
			t.Errorf("%s -> %s still violates: %v", km, fixed, v)
		}
	}
}
