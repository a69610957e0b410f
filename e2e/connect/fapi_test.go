package connect

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFAPI2Node runs examples/connect/node/fapi.js: openid-client, an
// independent client library, against a Signet client with
// securityProfile: fapi2. It pushes its authorization request (PAR),
// authenticates with private_key_jwt, binds its tokens with DPoP, uses
// PKCE, then refreshes with DPoP and calls userinfo with DPoP. This test
// plays the browser (the login page) in between.
func TestFAPI2Node(t *testing.T) {
	t.Parallel()
	needBinaries(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the FAPI 2.0 client is skipped (apt-get install nodejs npm; .ci/connect.sh)")
	}
	dir := filepath.Join(repoRoot, "examples/connect/node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules/openid-client/package.json")); err != nil {
		t.Skip("openid-client is not installed: the FAPI 2.0 client is skipped (run npm ci in examples/connect/node; .ci/connect.sh does)")
	}

	// The client's key pair: the public half in Signet's configuration,
	// the private half for the client.
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	priv, err := k.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	x, y := b64(pub[1:33]), b64(pub[33:])
	privateJWK := fmt.Sprintf(`{"kty":"EC","crv":"P-256","kid":"bank-1","alg":"ES256","x":%q,"y":%q,"d":%q}`, x, y, b64(priv))
	redirectURI := "http://" + freeAddr(t) + "/cb" // nobody listens: the test reads the redirect
	block := fmt.Sprintf(`clients:
  - clientId: bank
    securityProfile: fapi2
    tokenEndpointAuthMethod: private_key_jwt
    jwks: { keys: [ { kty: EC, crv: P-256, kid: bank-1, alg: ES256, use: sig, x: %s, y: %s } ] }
    allowedGrantTypes: [authorization_code, refresh_token]
    allowedScopes: [openid, offline_access]
    redirectUris: [ "%s" ]
`, x, y, redirectURI)
	s := startSignetWith(t, block, guideAppURL, "keyManagement:\n  signingAlgorithms: [ RS256, ES256 ]\n")

	cmd := exec.Command(node, "fapi.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SIGNET_ISSUER="+s.issuer, "CLIENT_ID=bank", "CLIENT_PRIVATE_JWK="+privateJWK, "REDIRECT_URI="+redirectURI)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("fapi.js stderr:\n%s", stderr)
		}
	})
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func(prefix string) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok || !strings.HasPrefix(l, prefix+" ") {
				t.Fatalf("fapi.js: want %s, got %q (stderr: %s)", prefix, l, stderr)
			}
			return strings.TrimPrefix(l, prefix+" ")
		case <-time.After(60 * time.Second):
			t.Fatalf("fapi.js said nothing for 60 s (stderr: %s)", stderr)
		}
		return ""
	}

	// The browser: the URL carries only client_id and request_uri.
	authz, err := url.Parse(next("AUTHORIZE"))
	if err != nil {
		t.Fatal(err)
	}
	if q := authz.Query(); len(q) != 2 || q.Get("client_id") != "bank" || !strings.HasPrefix(q.Get("request_uri"), "urn:ietf:params:oauth:request_uri:") {
		t.Fatalf("the authorization URL is not a pushed request's: %s", authz)
	}
	callback := signInAt(t, authz.String(), redirectURI)
	if _, err := io.WriteString(stdin, callback+"\n"); err != nil {
		t.Fatal(err)
	}

	var r struct {
		Sub                    string `json:"sub"`
		TokenType              string `json:"token_type"`
		AccessToken            string `json:"access_token"`
		RefreshedTokenType     string `json:"refreshed_token_type"`
		RefreshedAccessToken   string `json:"refreshed_access_token"`
		RefreshTokenRotated    bool   `json:"refresh_token_rotated"`
		UserinfoSub            string `json:"userinfo_sub"`
		UserinfoAfterRefreshIs string `json:"userinfo_after_refresh_sub"`
		DPoPJKT                string `json:"dpop_jkt"`
	}
	if err := json.Unmarshal([]byte(next("RESULT")), &r); err != nil {
		t.Fatal(err)
	}
	if r.Sub != subject || r.UserinfoSub != subject || r.UserinfoAfterRefreshIs != subject {
		t.Errorf("subjects: ID token %q, userinfo %q, after the refresh %q; want %q", r.Sub, r.UserinfoSub, r.UserinfoAfterRefreshIs, subject)
	}
	if !strings.EqualFold(r.TokenType, "DPoP") || !strings.EqualFold(r.RefreshedTokenType, "DPoP") {
		t.Errorf("token types %q and %q, want DPoP", r.TokenType, r.RefreshedTokenType)
	}
	if !r.RefreshTokenRotated {
		t.Errorf("the refresh token was not rotated (docs/client-authentication.md says it is)")
	}
	// Both access tokens are bound to the client's DPoP key and signed
	// with a FAPI 2.0 algorithm (Signet signs RS256 by default here).
	for _, at := range []string{r.AccessToken, r.RefreshedAccessToken} {
		header, claims := jwtSegments(t, at)
		if header["alg"] != "ES256" {
			t.Errorf("access token signed with %v, want ES256", header["alg"])
		}
		cnf, _ := claims["cnf"].(map[string]any)
		if cnf == nil || cnf["jkt"] != r.DPoPJKT || r.DPoPJKT == "" {
			t.Errorf("access token cnf %v, want jkt %q", claims["cnf"], r.DPoPJKT)
		}
	}
	// A stolen token is useless as a Bearer token.
	req, _ := http.NewRequest("GET", s.issuer+"/connect/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+r.RefreshedAccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("userinfo with the DPoP-bound token as Bearer: %d, want 401", resp.StatusCode)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("fapi.js: %v\n%s", err, stderr)
	}
}

// signInAt follows start through Signet's login page as alice and
// returns the URL Signet redirected to at redirectURI (not followed).
func signInAt(t *testing.T, start, redirectURI string) string {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirectURI) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := c.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	status, u, body := read(t, resp)
	if status != 200 || !isLoginPage(u, body) {
		t.Fatalf("%s did not lead to Signet's login page: %d %s\n%s", start, status, u, body)
	}
	form := url.Values{"username": {username}, "password": {password}}
	for _, m := range hiddenRE.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	action, err := u.Parse(html.UnescapeString(formActionRE.FindStringSubmatch(body)[1]))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = c.PostForm(action.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, redirectURI+"?") || !strings.Contains(loc, "code=") {
		t.Fatalf("sign-in ended at %d %q, want a code at %s", resp.StatusCode, loc, redirectURI)
	}
	return loc
}

// jwtSegments decodes a JWT's header and claims without verifying it
// (the client verified what it needs; this reads what Signet put there).
func jwtSegments(t *testing.T, token string) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", token)
	}
	var out [2]map[string]any
	for i := range out {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, &out[i]) != nil {
			t.Fatalf("segment %d of %q is not base64url JSON", i, token)
		}
	}
	return out[0], out[1]
}
