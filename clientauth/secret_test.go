package clientauth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/argon2"
)

// cheapArgon returns a PHC string with small parameters so tests stay fast.
func cheapArgon(t *testing.T, secret string) string {
	t.Helper()
	salt := []byte("0123456789abcdef")
	h := argon2.IDKey([]byte(secret), salt, 1, 64, 1, 32)
	return fmt.Sprintf("$argon2id$v=19$m=64,t=1,p=1$%s$%s", base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(h))
}

func TestVerify(t *testing.T) {
	const good = "correct horse battery staple"
	for _, tc := range []struct {
		name string
		conf string
		kind Kind
	}{
		{"sha256", HashSHA256(good), KindSHA256},
		{"plain", "plain:" + good, KindPlain},
		{"argon2id", cheapArgon(t, good), KindArgon2id},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSecret(tc.conf)
			if err != nil {
				t.Fatal(err)
			}
			if s.Kind() != tc.kind {
				t.Errorf("kind = %s, want %s", s.Kind(), tc.kind)
			}
			for _, wrong := range []string{"", "correct horse battery stapl", good + " ", strings.ToUpper(good)} {
				if s.Verify(wrong) {
					t.Errorf("Verify(%q) = true", wrong)
				}
			}
			// Twice: the argon2id cache must not change the answer.
			for range 2 {
				if !s.Verify(good) {
					t.Errorf("Verify(good) = false")
				}
				if s.Verify("nope") {
					t.Errorf("Verify(nope) = true after a success")
				}
			}
		})
	}
}

func TestHashArgon2idRoundTrip(t *testing.T) {
	phc, err := HashArgon2id("s3cret-passphrase", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=65536,t=3,p=4$") {
		t.Fatalf("unexpected PHC string %q", phc)
	}
	s, err := ParseSecret(phc)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Verify("s3cret-passphrase") || s.Verify("s3cret-passphrasE") {
		t.Fatal("round trip failed")
	}
}

func TestArgonConcurrent(t *testing.T) {
	s, err := ParseSecret(cheapArgon(t, "pw"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			want := i%2 == 0
			in := "pw"
			if !want {
				in = "px"
			}
			if got := s.Verify(in); got != want {
				t.Errorf("Verify(%q) = %v", in, got)
			}
		})
	}
	wg.Wait()
}

func TestVerifyAny(t *testing.T) {
	a, _ := ParseSecret(HashSHA256("one"))
	b, _ := ParseSecret(cheapArgon(t, "two"))
	c, _ := ParseSecret("plain:three")
	all := []*Secret{a, b, c}
	for _, in := range []string{"one", "two", "three"} {
		if !VerifyAny(all, in) {
			t.Errorf("VerifyAny(%q) = false", in)
		}
	}
	if VerifyAny(all, "four") || VerifyAny(nil, "") {
		t.Error("VerifyAny accepted a wrong secret")
	}
}

func TestParseSecretErrors(t *testing.T) {
	salt := base64.RawStdEncoding.EncodeToString([]byte("0123456789abcdef"))
	hash := base64.RawStdEncoding.EncodeToString(make([]byte, 32))
	for _, tc := range []struct {
		in, want string
	}{
		{"", "expected sha256:"},
		{"hunter2", "expected sha256:"},
		{"sha256:abc", "64 hex digits"},
		{"sha256:" + strings.Repeat("zz", 32), "must be hex"},
		{"plain:", "empty"},
		{"$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + hash, "only argon2id"},
		{"$argon2id$v=18$m=64,t=1,p=1$" + salt + "$" + hash, "v=19"},
		{"$argon2id$v=19$m=64,t=1$" + salt + "$" + hash, "all required"},
		{"$argon2id$v=19$m=64,t=1,p=1,x=2$" + salt + "$" + hash, "unknown parameter"},
		{"$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + hash, "t must"},
		{"$argon2id$v=19$m=99999999,t=1,p=1$" + salt + "$" + hash, "m must"},
		{"$argon2id$v=19$m=64,t=1,p=1$!!$" + hash, "salt"},
		{"$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAA", "hash must"},
		{"$argon2id$v=19$m=64,t=1,p=1$" + salt, "number of"},
	} {
		_, err := ParseSecret(tc.in)
		if err == nil {
			t.Errorf("ParseSecret(%q): no error", tc.in)
			continue
		}
		if !errors.Is(err, ErrInvalidSecret) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSecret(%q) = %v, want it to mention %q", tc.in, err, tc.want)
		}
		if strings.HasPrefix(tc.in, "plain:") && len(tc.in) > 6 && strings.Contains(err.Error(), tc.in[6:]) {
			t.Errorf("error leaks the secret: %v", err)
		}
	}
}

func TestHashSHA256(t *testing.T) {
	// echo -n secret | sha256sum
	const want = "sha256:2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"
	if got := HashSHA256("secret"); got != want {
		t.Fatalf("HashSHA256 = %s, want %s", got, want)
	}
}

func TestGenerateSecret(t *testing.T) {
	a, err := GenerateSecret(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := GenerateSecret(nil)
	if len(a) != 43 || a == b {
		t.Fatalf("GenerateSecret: %q %q", a, b)
	}
}

func TestParseBasic(t *testing.T) {
	enc := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		header     string
		id, secret string
		ok         bool
	}{
		{enc("billing:s3cret"), "billing", "s3cret", true},
		{"basic " + base64.StdEncoding.EncodeToString([]byte("a:b")), "a", "b", true},
		{enc("my%20client:p%3Aw+d"), "my client", "p:w d", true},
		{enc("c:a:b"), "c", "a:b", true},
		{enc("c:"), "c", "", true},
		{enc(":secret"), "", "", false},
		{enc("nocolon"), "", "", false},
		{enc("bad%zz:x"), "", "", false},
		{"Basic !!!", "", "", false},
		{"Bearer abc", "", "", false},
		{"Basic", "", "", false},
		{"", "", "", false},
	} {
		id, sec, ok := ParseBasic(tc.header)
		if id != tc.id || sec != tc.secret || ok != tc.ok {
			t.Errorf("ParseBasic(%q) = %q, %q, %v; want %q, %q, %v", tc.header, id, sec, ok, tc.id, tc.secret, tc.ok)
		}
	}
	if !IsBasic("BASIC x") || IsBasic("Bearer x") || IsBasic("Basic") {
		t.Error("IsBasic wrong")
	}
}
