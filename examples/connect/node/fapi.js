// A FAPI 2.0 client with openid-client (v6, on oauth4webapi): pushed
// authorization request (PAR), private_key_jwt client authentication,
// DPoP-bound tokens and PKCE, then a refresh with DPoP and userinfo with
// DPoP. e2e/connect/fapi_test.go runs it against a Signet client with
// securityProfile: fapi2 (docs/client-authentication.md); the test plays the
// browser.
//
// Configuration, from the environment:
//   SIGNET_ISSUER       the issuer
//   CLIENT_ID           the client's clientId
//   CLIENT_PRIVATE_JWK  the client's private key as a JWK (ES256; its
//                       public half is the client's jwks in Signet)
//   REDIRECT_URI        a registered redirect URI
//
// Protocol with the caller: prints "AUTHORIZE <url>", reads the URL the
// browser was redirected to (with code, state and iss) from stdin, then
// prints "RESULT <json>" and exits 0; on an error prints it and exits 1.
import { createHash } from 'node:crypto'
import { createInterface } from 'node:readline'
import * as client from 'openid-client'

const { SIGNET_ISSUER, CLIENT_ID, CLIENT_PRIVATE_JWK, REDIRECT_URI } = process.env
if (!SIGNET_ISSUER || !CLIENT_ID || !CLIENT_PRIVATE_JWK || !REDIRECT_URI) {
  console.error('set SIGNET_ISSUER, CLIENT_ID, CLIENT_PRIVATE_JWK and REDIRECT_URI')
  process.exit(2)
}
const issuer = new URL(SIGNET_ISSUER)

// private_key_jwt: the assertion is signed with the client's key (aud is
// the issuer, as FAPI 2.0 asks).
const jwk = JSON.parse(CLIENT_PRIVATE_JWK)
const key = await crypto.subtle.importKey('jwk', jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
const config = await client.discovery(issuer, CLIENT_ID, undefined, client.PrivateKeyJwt({ key, kid: jwk.kid }),
  issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined)

// DPoP: one key pair for every request of this session.
const dpopKeys = await client.randomDPoPKeyPair('ES256')
const DPoP = client.getDPoPHandle(config, dpopKeys)

// thumbprint is the RFC 7638 thumbprint of an EC public key: what Signet
// puts in cnf.jkt of a token bound to it.
async function thumbprint (publicKey) {
  const { crv, kty, x, y } = await crypto.subtle.exportKey('jwk', publicKey)
  return createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url')
}

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()

try {
  // PKCE and PAR: the request goes to the PAR endpoint, the browser gets
  // only client_id and request_uri.
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = await client.buildAuthorizationUrlWithPAR(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid offline_access',
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256'
  }, { DPoP })
  console.log('AUTHORIZE ' + url.href)

  const callback = (await lines.next()).value
  // The code exchange checks iss (RFC 9207), state, PKCE and the ID token;
  // the DPoP handle adds the proof (and retries with a server nonce).
  const tokens = await client.authorizationCodeGrant(config, new URL(callback),
    { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true }, undefined, { DPoP })
  const sub = tokens.claims().sub
  const info = await client.fetchUserInfo(config, tokens.access_token, sub, { DPoP })

  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP })
  const info2 = await client.fetchUserInfo(config, refreshed.access_token, sub, { DPoP })

  console.log('RESULT ' + JSON.stringify({
    sub,
    token_type: tokens.token_type,
    access_token: tokens.access_token,
    refreshed_token_type: refreshed.token_type,
    refreshed_access_token: refreshed.access_token,
    refresh_token_rotated: refreshed.refresh_token !== undefined && refreshed.refresh_token !== tokens.refresh_token,
    userinfo_sub: info.sub,
    userinfo_after_refresh_sub: info2.sub,
    dpop_jkt: await thumbprint(dpopKeys.publicKey)
  }))
  process.exit(0)
} catch (err) {
  console.error('ERROR', err?.code ?? '', err?.error ?? '', err?.error_description ?? '', err?.message ?? err)
  if (err?.cause) console.error('cause', err.cause)
  process.exit(1)
}
