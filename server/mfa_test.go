package server

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signet-id/signet/mfa"
	"github.com/signet-id/signet/seal"
)

// withMFA gives the server a second factor over the test store; mod
// adjusts the policy.
func withMFA(t testing.TB, mod ...func(*MFA)) func(*Config) {
	return func(c *Config) {
		sealer, err := seal.New([][]byte{[]byte("a test protection secret of 32 b")})
		if err != nil {
			t.Fatal(err)
		}
		m, err := mfa.New(mfa.Config{Store: c.Grants.(mfa.Store), Sealer: sealer, Issuer: "Signet test", Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		c.MFA.Manager = m
		for _, f := range mod {
			f(&c.MFA)
		}
	}
}

// requireMFA sets requireMfa on the spa client.
func requireMFA(c *Config) {
	for i := range c.Clients {
		if c.Clients[i].ID == "spa" {
			c.Clients[i].RequireMFA = true
		}
	}
}

var (
	reMFAHidden = regexp.MustCompile(`name="(request|csrf|state)" value="([^"]*)"`)
	reTOTPKey   = regexp.MustCompile(`<code id="totp-key">([A-Z2-7 ]+)</code>`)
	reRecovery  = regexp.MustCompile(`<li><code>([0-9a-z-]+)</code></li>`)
)

// mfaForm returns the hidden fields of a second-factor page's first form
// with step and code.
func mfaForm(t testing.TB, body, step, code string) url.Values {
	t.Helper()
	v := url.Values{}
	for _, m := range reMFAHidden.FindAllStringSubmatch(body, -1) {
		if v.Get(m[1]) == "" {
			v.Set(m[1], html.UnescapeString(m[2]))
		}
	}
	if v.Get("state") == "" || v.Get("csrf") == "" || v.Get("request") == "" {
		t.Fatalf("no second-factor form in:\n%s", body)
	}
	v.Set("step", step)
	if code != "" {
		v.Set("code", code)
	}
	return v
}

// totpKey reads the key from an enrolment page.
func totpKey(t testing.TB, body string) string {
	t.Helper()
	m := reTOTPKey.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no key on the enrolment page:\n%s", body)
	}
	return strings.ReplaceAll(m[1], " ", "")
}

// totpCode is what an authenticator app shows for key at the test clock.
func (e *loginEnv) totpCode(key string) string {
	e.t.Helper()
	c, err := mfa.Code(key, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (b *browser) postMFA(form url.Values) page {
	return b.post(b.e.issuer+PathLoginMFA, form)
}

// enrolAlice signs alice in through an enrolment with b and returns the
// key, the recovery codes and the callback.
func (e *loginEnv) enrolAlice(b *browser, q url.Values) (key string, recovery []string, cb url.Values) {
	e.t.Helper()
	p := b.signIn(q, "alice", alicePassword)
	if p.StatusCode != 200 || !strings.Contains(p.body, `id="totp-key"`) {
		e.t.Fatalf("after the password: want the enrolment page, got %d %s", p.StatusCode, p.body)
	}
	key = totpKey(e.t, p.body)
	rp := b.postMFA(mfaForm(e.t, p.body, "enrol", e.totpCode(key)))
	for _, m := range reRecovery.FindAllStringSubmatch(rp.body, -1) {
		recovery = append(recovery, m[1])
	}
	if rp.StatusCode != 200 || len(recovery) != mfa.RecoveryCodes {
		e.t.Fatalf("confirmation: %d, %d recovery codes\n%s", rp.StatusCode, len(recovery), rp.body)
	}
	return key, recovery, e.callback(b.postMFA(mfaForm(e.t, rp.body, "continue", "")), spaRedirect)
}

// TestMFAEnrolAtFirstSignIn: a client with requireMfa: after alice's
// password the server shows the enrolment (an inline SVG QR code, the
// key, a code field for phones and password managers, today's CSP); a
// wrong code neither confirms nor signs in; the right one shows ten
// recovery codes once, then the sign-in ends with amr [pwd otp mfa] and
// the multi-factor acr in the ID token.
func TestMFAEnrolAtFirstSignIn(t *testing.T) {
	e := newLoginEnv(t, withMFA(t), requireMFA)
	b := e.browser()
	lp := b.get(b.authorize(spaRequest()).Header.Get("Location"))
	p := b.submitLogin(lp.body, "alice", alicePassword)
	if p.StatusCode != 200 || strings.Contains(p.Header.Get("Set-Cookie"), sessionCookie) {
		t.Fatalf("after the password: %d %v", p.StatusCode, p.Header)
	}
	for _, want := range []string{`<svg`, `role="img"`, `<title id="qr-title">`, `id="totp-key"`, `autocomplete="one-time-code"`,
		`inputmode="numeric"`, `<label for="code">`, `action="/account/login/mfa"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the enrolment page lacks %s", want)
		}
	}
	for _, bad := range []string{"<script", " style=", "<img", "http://", "https://"} {
		if strings.Contains(strings.ReplaceAll(p.body, `xmlns="http://www.w3.org/2000/svg"`, ""), bad) {
			t.Errorf("the enrolment page has %q (an external asset or inline style)", bad)
		}
	}
	if got, want := p.Header.Get("Content-Security-Policy"), lp.Header.Get("Content-Security-Policy"); got != want || got == "" {
		t.Errorf("CSP %q, want the login page's %q", got, want)
	}
	key := totpKey(t, p.body)
	wrong := b.postMFA(mfaForm(t, p.body, "enrol", "000000"))
	if wrong.StatusCode != 200 || !strings.Contains(wrong.body, html.EscapeString(msgWrongOTP)) || strings.Contains(wrong.Header.Get("Set-Cookie"), sessionCookie) {
		t.Fatalf("a wrong confirmation code: %d %s", wrong.StatusCode, wrong.body)
	}
	if totpKey(t, wrong.body) != key {
		t.Fatal("the page shown again after a wrong code has another key")
	}
	rp := b.postMFA(mfaForm(t, wrong.body, "enrol", e.totpCode(key)))
	codes := reRecovery.FindAllStringSubmatch(rp.body, -1)
	if rp.StatusCode != 200 || len(codes) != mfa.RecoveryCodes {
		t.Fatalf("confirmation: %d %s", rp.StatusCode, rp.body)
	}
	cb := e.callback(b.postMFA(mfaForm(t, rp.body, "continue", "")), spaRedirect)
	_, c := e.jwtParts(e.tokens(e.exchange(cb.Get("code"), verifierForSPA)).IDToken)
	if got := amrOf(c); !slices.Equal(got, []string{"pwd", "otp", "mfa"}) || c["acr"] != ACRMultiFactor {
		t.Fatalf("amr %v acr %v", got, c["acr"])
	}
	if at, _ := c["auth_time"].(float64); int64(at) != e.clock.Now().Unix() {
		t.Fatalf("auth_time %v", c["auth_time"])
	}
}

// TestMFASignInWithCodes: once enrolled, every sign-in asks for a code
// (even for a client that does not require one); a code is accepted
// once (a replay in the same 30 seconds is refused), a recovery code
// once.
func TestMFASignInWithCodes(t *testing.T) {
	e := newLoginEnv(t, withMFA(t), requireMFA)
	key, recovery, _ := e.enrolAlice(e.browser(), spaRequest())
	e.clock.Add(mfa.Period)

	// The web client does not require a second factor; alice has one.
	b := e.browser()
	q := spaRequest()
	p := b.signIn(q, "alice", alicePassword)
	if p.StatusCode != 200 || !strings.Contains(p.body, `name="step" value="code"`) || strings.Contains(p.body, "totp-key") {
		t.Fatalf("after the password: want the code page, got %d %s", p.StatusCode, p.body)
	}
	code := e.totpCode(key)
	cb := e.callback(b.postMFA(mfaForm(t, p.body, "code", code)), spaRedirect)
	_, c := e.jwtParts(e.tokens(e.exchange(cb.Get("code"), verifierForSPA)).IDToken)
	if got := amrOf(c); !slices.Equal(got, []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("amr %v", got)
	}

	// The same code again (another browser, same step): refused.
	b2 := e.browser()
	p2 := b2.signIn(q, "alice", alicePassword)
	again := b2.postMFA(mfaForm(t, p2.body, "code", code))
	if again.StatusCode != 200 || !strings.Contains(again.body, html.EscapeString(msgWrongOTP)) {
		t.Fatalf("a code used twice: %d %s", again.StatusCode, again.body)
	}
	// A recovery code signs in once.
	ok := b2.postMFA(mfaForm(t, again.body, "recovery", strings.ToUpper(recovery[0])))
	e.callback(ok, spaRedirect)
	b3 := e.browser()
	p3 := b3.signIn(q, "alice", alicePassword)
	if r := b3.postMFA(mfaForm(t, p3.body, "recovery", recovery[0])); r.StatusCode != 200 || !strings.Contains(r.body, html.EscapeString(msgBadRecovery)) {
		t.Fatalf("a recovery code used twice: %d %s", r.StatusCode, r.body)
	}
	// Cancel goes back to the client with access_denied.
	cancel := mfaForm(t, p3.body, "code", "")
	cancel.Set("cancel", "1")
	if cb := e.callback(b3.postMFA(cancel), spaRedirect); cb.Get("error") != "access_denied" {
		t.Fatalf("cancel: %v", cb)
	}
}

// TestMFAStateCannotBeForged: the state of the second-factor form is
// sealed by the server and bound to the browser: changed, or posted by
// another browser, it is refused; expired, the login page comes back.
func TestMFAStateCannotBeForged(t *testing.T) {
	e := newLoginEnv(t, withMFA(t), requireMFA)
	b := e.browser()
	p := b.signIn(spaRequest(), "alice", alicePassword)
	f := mfaForm(t, p.body, "enrol", "")
	key := totpKey(t, p.body)

	tampered := mfaForm(t, p.body, "enrol", e.totpCode(key))
	tampered.Set("state", tampered.Get("state")[:20]+"A"+tampered.Get("state")[21:])
	if r := b.postMFA(tampered); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a changed state: %d", r.StatusCode)
	}
	other := e.browser()
	other.get(other.authorize(spaRequest()).Header.Get("Location")) // its own CSRF cookie
	f.Set("code", e.totpCode(key))
	if r := other.postMFA(f); r.StatusCode != http.StatusForbidden {
		t.Fatalf("another browser's state: %d", r.StatusCode)
	}
	e.clock.Add(mfaStateLifetime)
	f.Set("code", e.totpCode(key))
	if r := b.postMFA(f); r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, html.EscapeString(msgMFAExpired)) || !strings.Contains(r.body, `name="password"`) {
		t.Fatalf("an expired state: %d %s", r.StatusCode, r.body)
	}
	if r := b.get(e.issuer + PathLoginMFA); r.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET %s: %d", PathLoginMFA, r.StatusCode)
	}
}

// TestMFACodesThrottled: 40 concurrent wrong codes for one user from one
// address get exactly the login budget verified; the others, and then
// the right code, are refused (429) until the window ends.
func TestMFACodesThrottled(t *testing.T) {
	e := newLoginEnv(t, withMFA(t), requireMFA)
	key, _, _ := e.enrolAlice(e.browser(), spaRequest())
	e.clock.Add(mfa.Period)
	b := e.browser()
	p := b.signIn(spaRequest(), "alice", alicePassword)
	f := mfaForm(t, p.body, "code", "000000")
	if c := e.totpCode(key); c == "000000" {
		t.Skip("the right code is 000000 at this instant")
	}
	got := concurrentPosts(b, PathLoginMFA, 40, func(int) url.Values { return f })
	if got[200] != userFailures || got[429] != 40-userFailures {
		t.Fatalf("40 concurrent wrong codes: %v; want %d verified, the rest refused", got, userFailures)
	}
	f.Set("code", e.totpCode(key))
	if r := b.postMFA(f); r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("the right code after the burst: %d", r.StatusCode)
	}
	e.clock.Add(failureWindow)
	p = b.signIn(spaRequest(), "alice", alicePassword)
	e.callback(b.postMFA(mfaForm(t, p.body, "code", e.totpCode(key))), spaRedirect)
}

// TestMFAStepUp: a session signed in with a password steps up when a
// request asks for the multi-factor acr (acr_values): the login page asks
// for the second factor only (here an enrolment), and the new session's
// ID token says multi-factor with a new auth_time; prompt=none gets
// interaction_required instead. A request for the single-factor acr
// needs nothing more.
func TestMFAStepUp(t *testing.T) {
	e := newLoginEnv(t, withMFA(t))
	b := e.browser()
	e.code(b, spaRequest()) // password only: nothing requires more
	e.clock.Add(time.Minute)

	single := e.callback(b.authorize(spaRequest("acr_values", ACRSingleFactor)), spaRedirect)
	_, c := e.jwtParts(e.tokens(e.exchange(single.Get("code"), verifierForSPA)).IDToken)
	if c["acr"] != ACRSingleFactor {
		t.Fatalf("acr %v", c["acr"])
	}
	q := spaRequest("acr_values", ACRMultiFactor+" "+ACRSingleFactor)
	if cb := e.callback(b.authorize(spaRequest("acr_values", ACRMultiFactor, "prompt", "none")), spaRedirect); cb.Get("error") != "interaction_required" {
		t.Fatalf("prompt=none step-up: %v", cb)
	}
	p := b.authorize(q)
	if p.StatusCode != http.StatusFound || !strings.HasPrefix(p.Header.Get("Location"), e.issuer+PathLogin) {
		t.Fatalf("step-up: want the login page, got %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	lp := b.get(p.Header.Get("Location"))
	if lp.StatusCode != 200 || strings.Contains(lp.body, `name="password"`) || !strings.Contains(lp.body, `id="totp-key"`) {
		t.Fatalf("step-up page: want the enrolment without a password, got %d %s", lp.StatusCode, lp.body)
	}
	key := totpKey(t, lp.body)
	rp := b.postMFA(mfaForm(t, lp.body, "enrol", e.totpCode(key)))
	cb := e.callback(b.postMFA(mfaForm(t, rp.body, "continue", "")), spaRedirect)
	_, c = e.jwtParts(e.tokens(e.exchange(cb.Get("code"), verifierForSPA)).IDToken)
	if c["acr"] != ACRMultiFactor || !slices.Equal(amrOf(c), []string{"pwd", "otp", "mfa"}) {
		t.Fatalf("after step-up: amr %v acr %v", amrOf(c), c["acr"])
	}
	if at, _ := c["auth_time"].(float64); int64(at) != e.clock.Now().Unix() {
		t.Fatalf("after step-up: auth_time %v, want now", c["auth_time"])
	}
	// The stepped-up session satisfies the next such request at once.
	e.callback(b.authorize(q), spaRedirect)
}

// TestMFAPolicies: Required and RequiredSubjects make users enrol without
// a client asking; a client requiring a second factor needs a server
// that has one.
func TestMFAPolicies(t *testing.T) {
	for name, mod := range map[string]func(*MFA){
		"required": func(m *MFA) { m.Required = true },
		"subject":  func(m *MFA) { m.RequiredSubjects = []string{aliceSub} },
	} {
		t.Run(name, func(t *testing.T) {
			e := newLoginEnv(t, withMFA(t, mod))
			p := e.browser().signIn(spaRequest(), "alice", alicePassword)
			if p.StatusCode != 200 || !strings.Contains(p.body, `id="totp-key"`) {
				t.Fatalf("want the enrolment: %d %s", p.StatusCode, p.body)
			}
		})
	}
	e := newLoginEnv(t, withMFA(t, func(m *MFA) { m.RequiredSubjects = []string{"someone-else"} }))
	e.callback(e.browser().signIn(spaRequest(), "alice", alicePassword), spaRedirect)

	clients, resources := loginClients(t)
	for i := range clients {
		clients[i].RequireMFA = true
	}
	_, err := New(Config{Issuer: "https://signet.example.com", Keys: newFakeKeys(t), Clients: clients, APIResources: resources, Grants: e.store})
	if err == nil || !strings.Contains(err.Error(), "requireMfa") {
		t.Fatalf("requireMfa without a second factor: %v", err)
	}
}

// TestDiscoveryACRValues: discovery lists the classes the server can
// sign users in with (multi-factor only with a second factor) and acr,
// amr among the claims.
func TestDiscoveryACRValues(t *testing.T) {
	for _, tc := range []struct {
		mod  []func(*Config)
		want []string
	}{
		{nil, []string{ACRSingleFactor}},
		{[]func(*Config){withMFA(t)}, []string{ACRSingleFactor, ACRMultiFactor}},
	} {
		e := newLoginEnv(t, tc.mod...)
		var doc struct {
			ACR    []string `json:"acr_values_supported"`
			Claims []string `json:"claims_supported"`
		}
		if err := json.Unmarshal([]byte(e.browser().get(e.issuer+PathDiscovery).body), &doc); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(doc.ACR, tc.want) || !slices.Contains(doc.Claims, "acr") || !slices.Contains(doc.Claims, "amr") {
			t.Errorf("acr_values_supported %v (want %v), claims_supported %v", doc.ACR, tc.want, doc.Claims)
		}
	}
}

// TestMFAAfterLoginUI: a custom login page's sign-in (an upstream
// provider's: CompleteWith amr [fed]) gets the server's second factor
// too when the client requires one; the ID token says [fed otp mfa].
func TestMFAAfterLoginUI(t *testing.T) {
	e := newLoginEnv(t, withLoginUI(completingUI(Authentication{AMR: []string{AMRFederated}})), withMFA(t), requireMFA)
	b := e.browser()
	lp := b.get(b.authorize(spaRequest()).Header.Get("Location"))
	p := b.post(e.issuer+PathLogin, formFields(t, lp.body))
	if p.StatusCode != 200 || !strings.Contains(p.body, `id="totp-key"`) || strings.Contains(p.Header.Get("Set-Cookie"), sessionCookie) {
		t.Fatalf("after the login UI: want the enrolment, got %d %s", p.StatusCode, p.body)
	}
	rp := b.postMFA(mfaForm(t, p.body, "enrol", e.totpCode(totpKey(t, p.body))))
	cb := e.callback(b.postMFA(mfaForm(t, rp.body, "continue", "")), spaRedirect)
	_, c := e.jwtParts(e.tokens(e.exchange(cb.Get("code"), verifierForSPA)).IDToken)
	if got := amrOf(c); !slices.Equal(got, []string{"fed", "otp", "mfa"}) || c["acr"] != ACRMultiFactor {
		t.Fatalf("amr %v acr %v", got, c["acr"])
	}
	// A sign-in that already had two factors upstream is not asked again.
	e2 := newLoginEnv(t, withLoginUI(completingUI(Authentication{AMR: []string{AMRFederated, AMRMultiFactor}})), withMFA(t), requireMFA)
	b2 := e2.browser()
	lp = b2.get(b2.authorize(spaRequest()).Header.Get("Location"))
	e2.callback(b2.post(e2.issuer+PathLogin, formFields(t, lp.body)), spaRedirect)
}
