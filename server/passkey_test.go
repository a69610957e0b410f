package server

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"

	"github.com/signet-id/signet/mfa"
)

// softKey is a software authenticator: one P-256 credential, its
// counter, bound to an RP ID and answering for an origin.
type softKey struct {
	t      testing.TB
	key    *ecdsa.PrivateKey
	id     []byte
	count  uint32
	rpID   string
	origin string
}

func newSoftKey(t testing.TB, issuer string) *softKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(issuer)
	id := make([]byte, 16)
	rand.Read(id)
	return &softKey{t: t, key: k, id: id, rpID: u.Hostname(), origin: u.Scheme + "://" + u.Host}
}

var rePasskeyOptions = regexp.MustCompile(`data-webauthn="([^"]*)"`)

// challenge reads the challenge of the page's passkey form.
func (k *softKey) challenge(body string) string {
	k.t.Helper()
	m := rePasskeyOptions.FindStringSubmatch(body)
	if m == nil {
		k.t.Fatalf("no passkey form on the page:\n%s", body)
	}
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			RPID      string `json:"rpId"`
			RP        struct {
				ID string `json:"id"`
			} `json:"rp"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &o); err != nil || o.PublicKey.Challenge == "" {
		k.t.Fatalf("passkey options %q: %v", m[1], err)
	}
	if rp := o.PublicKey.RPID + o.PublicKey.RP.ID; rp != k.rpID {
		k.t.Fatalf("the options' RP ID is %q, want %q", rp, k.rpID)
	}
	return o.PublicKey.Challenge
}

func (k *softKey) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.origin})
	return b
}

func (k *softKey) authData(flags byte, attested []byte) []byte {
	h := sha256.Sum256([]byte(k.rpID))
	b := append(h[:], flags)
	b = binary.BigEndian.AppendUint32(b, k.count)
	return append(b, attested...)
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// create answers the registration of the page body (form field
// "credential").
func (k *softKey) create(body string) string {
	k.t.Helper()
	x, y := make([]byte, 32), make([]byte, 32)
	k.key.X.FillBytes(x)
	k.key.Y.FillBytes(y)
	cose, err := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		k.t.Fatal(err)
	}
	attested := append(make([]byte, 16), byte(len(k.id)>>8), byte(len(k.id)))
	attested = append(append(attested, k.id...), cose...)
	obj, err := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(0x45, attested)})
	if err != nil {
		k.t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{"id": b64u(k.id), "rawId": b64u(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64u(k.clientData("webauthn.create", k.challenge(body))), "attestationObject": b64u(obj)}})
	return string(out)
}

// get answers the assertion of the page body with the counter count.
func (k *softKey) get(body string, count uint32) string {
	k.t.Helper()
	k.count = count
	cd := k.clientData("webauthn.get", k.challenge(body))
	ad := k.authData(0x05, nil)
	h := sha256.Sum256(cd)
	signed := sha256.Sum256(append(slices.Clone(ad), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, signed[:])
	if err != nil {
		k.t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{"id": b64u(k.id), "rawId": b64u(k.id), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64u(cd), "authenticatorData": b64u(ad), "signature": b64u(sig)}})
	return string(out)
}

// passkeyForm is the page's passkey form with credential.
func passkeyForm(t testing.TB, body, step, credential string) url.Values {
	t.Helper()
	i := strings.Index(body, `id="passkey-form"`)
	if i < 0 {
		t.Fatalf("no passkey form:\n%s", body)
	}
	f := mfaForm(t, body[i:], step, "")
	f.Set("credential", credential)
	return f
}

// enrolPasskey signs alice in with the password and adds k on the
// enrolment page; it returns the ID token's claims.
func (e *loginEnv) enrolPasskey(b *browser, k *softKey) map[string]any {
	e.t.Helper()
	p := b.signIn(spaRequest(), "alice", alicePassword)
	if p.StatusCode != 200 || !strings.Contains(p.body, `id="totp-key"`) || !strings.Contains(p.body, `data-ceremony="create"`) {
		e.t.Fatalf("after the password: want the enrolment page with a passkey, got %d %s", p.StatusCode, p.body)
	}
	cb := e.callback(b.postMFA(passkeyForm(e.t, p.body, "passkey-register", k.create(p.body))), spaRedirect)
	_, c := e.jwtParts(e.tokens(e.exchange(cb.Get("code"), verifierForSPA)).IDToken)
	return c
}

// TestWebAuthnEnrolAndSignIn: a client with requireMfa; alice adds a
// passkey on the enrolment page (a software authenticator: ES256,
// attestation none) and signs in with amr [pwd hwk mfa]; the store keeps
// its public key only. A later sign-in offers the passkey (an assertion
// of the user's credential, the page's script allowed by the CSP's
// hash) and signs in with it; the same answer sent again (its challenge
// used) is refused, as are a counter going backwards and a wrong origin.
func TestWebAuthnEnrolAndSignIn(t *testing.T) {
	e := newLoginEnvAt(t, "localhost", withMFA(t), requireMFA)
	k := newSoftKey(t, e.issuer)
	c := e.enrolPasskey(e.browser(), k)
	if got := amrOf(c); !slices.Equal(got, []string{"pwd", "hwk", "mfa"}) || c["acr"] != ACRMultiFactor {
		t.Fatalf("after the registration: amr %v acr %v", got, c["acr"])
	}
	stored, err := mfa.PasskeyStore(e.store).Passkeys(t.Context(), "user-alice")
	if err != nil || len(stored) != 1 || !bytes.Equal(stored[0].ID, k.id) || stored[0].Attestation != "none" {
		t.Fatalf("stored passkeys %+v, %v", stored, err)
	}

	b := e.browser()
	p := b.signIn(spaRequest(), "alice", alicePassword)
	if p.StatusCode != 200 || strings.Contains(p.body, `id="totp-key"`) || !strings.Contains(p.body, `data-ceremony="get"`) {
		t.Fatalf("second sign-in: want the second-factor page with a passkey, got %d %s", p.StatusCode, p.body)
	}
	sum := sha256.Sum256([]byte(passkeyScript))
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") ||
		!strings.Contains(p.body, "<script>"+passkeyScript+"</script>") {
		t.Fatalf("the passkey script is not the one the CSP allows: %s", csp)
	}
	good := passkeyForm(t, p.body, "passkey", k.get(p.body, 0)) // an authenticator without a counter
	cb := e.callback(b.postMFA(good), spaRedirect)
	_, c = e.jwtParts(e.tokens(e.exchange(cb.Get("code"), verifierForSPA)).IDToken)
	if got := amrOf(c); !slices.Equal(got, []string{"pwd", "hwk", "mfa"}) || c["acr"] != ACRMultiFactor {
		t.Fatalf("with the passkey: amr %v acr %v", got, c["acr"])
	}

	refused := func(what string, b *browser, f url.Values) {
		t.Helper()
		r := b.postMFA(f)
		if r.StatusCode != 200 || !strings.Contains(r.body, html.EscapeString(msgBadPasskey)) || strings.Contains(r.Header.Get("Location"), "code=") {
			t.Fatalf("%s: %d %v %s", what, r.StatusCode, r.Header, r.body)
		}
	}
	// The same answer again, in the same browser (its form and state
	// still good): its challenge was used.
	b = e.browser()
	p = b.signIn(spaRequest(), "alice", alicePassword)
	replay := passkeyForm(t, p.body, "passkey", k.get(p.body, 0)) // the counter does not stop it
	e.callback(b.postMFA(replay), spaRedirect)
	refused("the same answer again", b, replay)

	// A counter going backwards (a cloned authenticator).
	b = e.browser()
	p = b.signIn(spaRequest(), "alice", alicePassword)
	e.callback(b.postMFA(passkeyForm(t, p.body, "passkey", k.get(p.body, 5))), spaRedirect)
	b = e.browser()
	p = b.signIn(spaRequest(), "alice", alicePassword)
	refused("a counter going backwards", b, passkeyForm(t, p.body, "passkey", k.get(p.body, 2)))

	// Another origin.
	b = e.browser()
	p = b.signIn(spaRequest(), "alice", alicePassword)
	k.origin = "https://evil.example"
	refused("another origin", b, passkeyForm(t, p.body, "passkey", k.get(p.body, 9)))
}

// TestWebAuthnThrottled: wrong assertions draw on the login budgets as
// wrong codes do, concurrent ones included.
func TestWebAuthnThrottled(t *testing.T) {
	e := newLoginEnvAt(t, "localhost", withMFA(t), requireMFA)
	k := newSoftKey(t, e.issuer)
	e.enrolPasskey(e.browser(), k)
	b := e.browser()
	p := b.signIn(spaRequest(), "alice", alicePassword)
	other := newSoftKey(t, e.issuer) // an unknown credential
	f := passkeyForm(t, p.body, "passkey", other.get(p.body, 1))
	got := concurrentPosts(b, PathLoginMFA, 40, func(int) url.Values { return f })
	if got[200] != userFailures || got[429] != 40-userFailures {
		t.Fatalf("40 concurrent wrong assertions: %v; want %d checked, the rest refused", got, userFailures)
	}
}
