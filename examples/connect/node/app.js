// A Node web app that signs its users in with Signet through openid-client
// (v6): authorization code flow with PKCE, the ID token verified (signature
// against the JWKS, iss, aud, exp, nonce), userinfo, refresh and
// RP-initiated logout. docs/connect/node.md explains it.
//
// Configuration, from the environment:
//   SIGNET_ISSUER  the issuer, e.g. https://login.example.com
//   CLIENT_ID      the client's clientId in Signet's configuration
//   CLIENT_SECRET  its secret
//   APP_URL        where this app is reached, e.g. http://127.0.0.1:3000;
//                  it listens on that host:port, receives codes at
//                  APP_URL/callback, users come back to APP_URL/ after logout
//
// Routes: /login, /callback, /me (the user from userinfo, as JSON),
// POST /refresh, /logout.
import { createServer } from 'node:http'
import { randomBytes } from 'node:crypto'
import * as client from 'openid-client'

const { SIGNET_ISSUER, CLIENT_ID, CLIENT_SECRET, APP_URL } = process.env
if (!SIGNET_ISSUER || !CLIENT_ID || !CLIENT_SECRET || !APP_URL) {
  console.error('set SIGNET_ISSUER, CLIENT_ID, CLIENT_SECRET and APP_URL (e.g. http://127.0.0.1:3000)')
  process.exit(2)
}
const issuer = new URL(SIGNET_ISSUER)
const appURL = new URL(APP_URL)

// Discovery; the secret authenticates with HTTP Basic (client_secret_basic).
// openid-client refuses plain http: allow it only for a local Signet.
const config = await client.discovery(issuer, CLIENT_ID, CLIENT_SECRET, undefined,
  issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined)

const sessions = new Map() // by the "session" cookie

function sessionOf (req) {
  const m = /(?:^|;\s*)session=([^;]+)/.exec(req.headers.cookie ?? '')
  return m ? { id: m[1], s: sessions.get(m[1]) } : { id: undefined, s: undefined }
}

function send (res, status, body, headers = {}) {
  const json = typeof body !== 'string'
  res.writeHead(status, { 'Content-Type': json ? 'application/json' : 'text/plain; charset=utf-8', ...headers })
  res.end(json ? JSON.stringify(body) : body + '\n')
}

function redirect (res, location, headers = {}) {
  res.writeHead(302, { Location: location.toString(), ...headers })
  res.end()
}

const routes = {
  'GET /': async (req, res) => send(res, 200, 'signed out'),

  // A fresh state, nonce and PKCE verifier, kept in a new session.
  'GET /login': async (req, res) => {
    const id = randomBytes(24).toString('base64url')
    const s = { state: client.randomState(), nonce: client.randomNonce(), verifier: client.randomPKCECodeVerifier() }
    sessions.set(id, s)
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: new URL('/callback', appURL).href,
      scope: 'openid profile email offline_access',
      state: s.state,
      nonce: s.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(s.verifier),
      code_challenge_method: 'S256'
    })
    const secure = appURL.protocol === 'https:' ? '; Secure' : ''
    redirect(res, url, { 'Set-Cookie': `session=${id}; Path=/; HttpOnly; SameSite=Lax${secure}` })
  },

  // The code exchange checks state, PKCE, and the ID token (signature,
  // iss, aud, exp, nonce).
  'GET /callback': async (req, res) => {
    const { s } = sessionOf(req)
    if (!s?.state) return send(res, 400, 'unknown or replayed sign-in (state)')
    const tokens = await client.authorizationCodeGrant(config, new URL(req.url, appURL), {
      pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce, idTokenExpected: true
    })
    Object.assign(s, { state: undefined, nonce: undefined, verifier: undefined, tokens, sub: tokens.claims().sub, idToken: tokens.id_token })
    redirect(res, '/me')
  },

  // The user as userinfo returns it for the current access token; its
  // sub must be the ID token's.
  'GET /me': async (req, res) => {
    const { s } = sessionOf(req)
    if (!s?.tokens) return send(res, 401, 'not signed in: /login')
    const ui = await client.fetchUserInfo(config, s.tokens.access_token, s.sub)
    send(res, 200, { sub: ui.sub, name: ui.name, email: ui.email })
  },

  // Signet rotates refresh tokens: keep the new one.
  'POST /refresh': async (req, res) => {
    const { s } = sessionOf(req)
    if (!s?.tokens) return send(res, 401, 'not signed in: /login')
    const tokens = await client.refreshTokenGrant(config, s.tokens.refresh_token)
    if (tokens.id_token && tokens.claims().sub !== s.sub) return send(res, 401, 'the refreshed ID token names another subject')
    s.tokens = tokens
    if (tokens.id_token) s.idToken = tokens.id_token
    send(res, 200, { refreshed: true, expires_in: tokens.expires_in })
  },

  // Forget the local session; Signet ends its own with the ID token as
  // hint and sends the user back to APP_URL/.
  'GET /logout': async (req, res) => {
    const { id, s } = sessionOf(req)
    sessions.delete(id)
    const clear = { 'Set-Cookie': 'session=; Path=/; Max-Age=0' }
    if (!s?.idToken) return redirect(res, '/', clear)
    redirect(res, client.buildEndSessionUrl(config, {
      id_token_hint: s.idToken, post_logout_redirect_uri: new URL('/', appURL).href
    }), clear)
  }
}

createServer(async (req, res) => {
  const route = routes[`${req.method} ${new URL(req.url, appURL).pathname}`]
  if (!route) return send(res, 404, 'not found')
  try {
    await route(req, res)
  } catch (err) {
    console.error(err)
    send(res, 502, `${err.name}: ${err.message}`)
  }
}).listen(Number(appURL.port), appURL.hostname, () => console.log(`listening on ${appURL.href}`))
