// The stateful benchmark's peer: panva's oidc-provider with its default
// in-memory adapter (it keeps nothing on disk), ES256 ID tokens, opaque
// access tokens, refresh-token rotation (its default for public
// clients), the development login form (it checks no password) and
// consent granted by loadExistingGrant (no consent page). Started by
// `go run ./bench stateful --peer DIR` pinned to the server's CPU; it
// prints {"addr": "127.0.0.1:PORT"} on stdout when it listens.
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const secret = process.env.PEER_INTROSPECT_SECRET;
if (!secret) {
  console.error('PEER_INTROSPECT_SECRET is not set');
  process.exit(2);
}
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
key.alg = 'ES256';
key.use = 'sig';
key.kid = 'bench';

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const provider = new Provider(`http://127.0.0.1:${port}`, {
    jwks: { keys: [key] },
    clients: [
      {
        client_id: 'app', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1/cb'],
        grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], id_token_signed_response_alg: 'ES256',
      },
      { client_id: 'api', client_secret: secret, redirect_uris: [], response_types: [], grant_types: [], id_token_signed_response_alg: 'ES256' },
    ],
    features: {
      devInteractions: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async () => true },
    },
    // A refresh token for every code of a client allowed the grant.
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    findAccount: async (ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
    loadExistingGrant: async (ctx) => {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid offline_access');
      await grant.save();
      return grant;
    },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));
  server.on('request', provider.callback());
  process.stdout.write(JSON.stringify({ addr: `127.0.0.1:${port}` }) + '\n');
});
