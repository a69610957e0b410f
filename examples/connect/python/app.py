"""A Python web app that signs its users in with Signet through authlib.

The authorization code flow with PKCE (authlib's requests OAuth2Session),
the ID token verified with authlib.jose (signature against Signet's JWKS,
iss, aud, exp, nonce, at_hash), userinfo, refresh and RP-initiated logout.
Only the standard library's HTTP server besides authlib and requests
(Debian: apt-get install python3-authlib python3-requests).
docs/connect/python.md explains it.

Configuration, from the environment:
  SIGNET_ISSUER  the issuer, e.g. https://login.example.com
  CLIENT_ID      the client's clientId in Signet's configuration
  CLIENT_SECRET  its secret
  APP_URL        where this app is reached, e.g. http://127.0.0.1:3000; it
                 listens on that host:port, receives codes at
                 APP_URL/callback, users come back to APP_URL/ after logout

Routes: /login, /callback, /me (the user from userinfo, as JSON),
POST /refresh, /logout.
"""

import json
import os
import secrets
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ISSUER = os.environ.get("SIGNET_ISSUER", "")
CLIENT_ID = os.environ.get("CLIENT_ID", "")
CLIENT_SECRET = os.environ.get("CLIENT_SECRET", "")
APP_URL = os.environ.get("APP_URL", "")
if not (ISSUER and CLIENT_ID and CLIENT_SECRET and APP_URL):
    sys.exit("set SIGNET_ISSUER, CLIENT_ID, CLIENT_SECRET and APP_URL (e.g. http://127.0.0.1:3000)")

# authlib refuses plain http; allow it only for a Signet on this machine.
if urllib.parse.urlsplit(ISSUER).hostname in ("127.0.0.1", "localhost", "::1") and ISSUER.startswith("http:"):
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")

import requests  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from authlib.jose import JsonWebKey, JsonWebToken  # noqa: E402
from authlib.oidc.core import CodeIDToken  # noqa: E402

SCOPE = "openid profile email offline_access"

# Discovery: the endpoints, the JWKS URL and the algorithms Signet signs with.
META = requests.get(ISSUER + "/.well-known/openid-configuration", timeout=10).json()
if META["issuer"] != ISSUER:
    sys.exit(f"discovery names issuer {META['issuer']!r}, not {ISSUER!r}")
# An explicit allowlist: never "none".
JWT = JsonWebToken([a for a in META["id_token_signing_alg_values_supported"] if a != "none"])


class KeySet:
    """Signet's JWKS, fetched again when a token names an unknown kid (a new
    key after a rotation), at most once every 10 seconds."""

    def __init__(self, url):
        self.url, self.keys, self.fetched, self.lock = url, None, 0.0, threading.Lock()

    def _fetch(self):
        import time
        self.keys = JsonWebKey.import_key_set(requests.get(self.url, timeout=10).json())
        self.fetched = time.monotonic()

    def key(self, header, payload):
        import time
        kid = header.get("kid")
        with self.lock:
            if self.keys is None:
                self._fetch()
            try:
                return self.keys.find_by_kid(kid)
            except ValueError:
                if time.monotonic() - self.fetched < 10:
                    raise
                self._fetch()
                return self.keys.find_by_kid(kid)


KEYS = KeySet(META["jwks_uri"])


def verify_id_token(id_token, nonce=None, access_token=None):
    """Checks the signature, iss, aud, exp and iat, the nonce when given and
    at_hash against the access token when both are present."""
    params = {"client_id": CLIENT_ID}
    if nonce:
        params["nonce"] = nonce
    if access_token:
        params["access_token"] = access_token
    claims = JWT.decode(id_token, KEYS.key, claims_cls=CodeIDToken,
                        claims_options={"iss": {"essential": True, "value": ISSUER}}, claims_params=params)
    claims.validate(leeway=60)
    return claims


def oauth(token=None):
    return OAuth2Session(CLIENT_ID, CLIENT_SECRET, scope=SCOPE, redirect_uri=APP_URL + "/callback",
                         code_challenge_method="S256", token=token)


SESSIONS = {}  # by the "session" cookie
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def session(self):
        cookie = self.headers.get("Cookie", "")
        for part in cookie.split(";"):
            name, _, value = part.strip().partition("=")
            if name == "session":
                with LOCK:
                    return value, SESSIONS.get(value)
        return None, None

    def send(self, status, body, headers=()):
        data = (json.dumps(body) if not isinstance(body, str) else body + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if not isinstance(body, str) else "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def redirect(self, location, headers=()):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        route = {"/": self.home, "/login": self.login, "/callback": self.callback, "/me": self.me, "/logout": self.logout}.get(path)
        self.run(route)

    def do_POST(self):
        self.run(self.refresh if urllib.parse.urlsplit(self.path).path == "/refresh" else None)

    def run(self, route):
        if route is None:
            return self.send(404, "not found")
        try:
            route()
        except Exception as e:  # the example shows every failure
            self.send(502, f"{type(e).__name__}: {e}")

    def home(self):
        self.send(200, "signed out")

    def login(self):
        # A fresh state, nonce and PKCE verifier, kept in a new session.
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(24)
        url, state = oauth().create_authorization_url(META["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
        sid = secrets.token_urlsafe(24)
        with LOCK:
            SESSIONS[sid] = {"state": state, "nonce": nonce, "verifier": verifier}
        secure = "; Secure" if APP_URL.startswith("https:") else ""
        self.redirect(url, [("Set-Cookie", f"session={sid}; Path=/; HttpOnly; SameSite=Lax{secure}")])

    def callback(self):
        # fetch_token checks the state and sends the PKCE verifier; the ID
        # token is then verified.
        _, s = self.session()
        if not s or "state" not in s:
            return self.send(400, "unknown or replayed sign-in (state)")
        token = oauth().fetch_token(META["token_endpoint"], authorization_response=APP_URL + self.path,
                                    state=s["state"], code_verifier=s["verifier"])
        claims = verify_id_token(token["id_token"], nonce=s["nonce"], access_token=token["access_token"])
        with LOCK:
            s.clear()
            s.update(token=token, sub=claims["sub"], id_token=token["id_token"])
        self.redirect("/me")

    def me(self):
        # The user as userinfo returns it for the current access token.
        _, s = self.session()
        if not s or "token" not in s:
            return self.send(401, "not signed in: /login")
        resp = oauth(s["token"]).get(META["userinfo_endpoint"], timeout=10)
        resp.raise_for_status()
        ui = resp.json()
        if ui["sub"] != s["sub"]:
            return self.send(502, "userinfo names another subject")
        self.send(200, {"sub": ui["sub"], "name": ui.get("name"), "email": ui.get("email")})

    def refresh(self):
        # Signet rotates refresh tokens: keep the new one.
        _, s = self.session()
        if not s or "token" not in s:
            return self.send(401, "not signed in: /login")
        token = oauth(s["token"]).refresh_token(META["token_endpoint"], refresh_token=s["token"]["refresh_token"])
        if "id_token" in token:
            if verify_id_token(token["id_token"])["sub"] != s["sub"]:
                return self.send(401, "the refreshed ID token names another subject")
        with LOCK:
            s["token"] = token
            s["id_token"] = token.get("id_token", s["id_token"])
        self.send(200, {"refreshed": True, "expires_in": token.get("expires_in")})

    def logout(self):
        # Forget the local session; Signet ends its own with the ID token as
        # hint and sends the user back to APP_URL/.
        sid, s = self.session()
        with LOCK:
            SESSIONS.pop(sid, None)
        clear = [("Set-Cookie", "session=; Path=/; Max-Age=0")]
        if not s or "id_token" not in s:
            return self.redirect("/", clear)
        q = urllib.parse.urlencode({"id_token_hint": s["id_token"], "post_logout_redirect_uri": APP_URL + "/"})
        self.redirect(META["end_session_endpoint"] + "?" + q, clear)


if __name__ == "__main__":
    u = urllib.parse.urlsplit(APP_URL)
    server = ThreadingHTTPServer((u.hostname, u.port), Handler)
    print(f"listening on {APP_URL}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
