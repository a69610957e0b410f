// Package browser proves the login flow in a real browser (issue 5, "How
// it is proven").
//
// TestBrowserLogin starts Signet in-process (the key manager on a memory
// store with ES256 and EdDSA keys, the memory store also keeping the
// grants) and a relying party's callback server on 127.0.0.1, then drives
// Debian's headless Chromium with chromedp through the login page:
// authorize with PKCE, a wrong password and the error shown, sign-in,
// redirect with the code, the exchange, the ID token verified by
// coreos/go-oidc against the live JWKS (nonce, at_hash), userinfo (from
// Go, and from the client's page on its own origin through CORS, while
// introspection stays blocked to that page), a
// refresh with rotation, revocation, and RP-initiated logout. It writes a
// screenshot of the login page to $SIGNET_ARTIFACTS_DIR, or to the test's
// artifact directory (go test -artifacts keeps it), and logs its path.
//
// TestBrowserConnectorLogin signs in through an OpenID Connect connector
// (issue 18): a Signet without users of its own sends the browser, from
// its connector's button, to a second Signet (the upstream, at the host
// name localhost so the two keep their cookies apart), where the person
// types the password; the client gets the downstream's code, and an ID
// token for the namespaced subject (corp:user-alice) with amr fed.
//
// The tests are skipped, saying why, when chromium is not installed
// (apt-get install chromium; .ci/run installs it).
package browser
