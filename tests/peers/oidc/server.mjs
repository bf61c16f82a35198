// A certified OpenID provider (oidc-provider) for the broker's integration tests.
// Listens on 127.0.0.1 only, on a port the kernel picks, and prints one JSON line
// {"issuer": ..., "admin": ...} to stdout once ready. Test-only: devInteractions accept any
// login, keys are generated at start and never written to disk.
//
// Clients (all public, PKCE, loopback redirect http://127.0.0.1:{any port}/callback):
//   broker-rs256  ID tokens signed RS256
//   broker-es256  ID tokens signed ES256
//   broker-ps256  ID tokens signed PS256
// POST {admin}/rotate puts fresh RSA and EC signing keys first (old ones stay published).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';

const GROUPS = {
  alice: ['platform-admins', 'engineering'],
  bob: ['engineering', 'payments-developers'],
};

function newKeys() {
  const kid = () => randomBytes(8).toString('hex');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [{ ...rsa, kid: kid(), use: 'sig' }, { ...ec, kid: kid(), use: 'sig' }];
}

function client(id, alg) {
  return {
    client_id: id,
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    redirect_uris: ['http://127.0.0.1/callback'],
    grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
    response_types: ['code'],
    id_token_signed_response_alg: alg,
  };
}

let keys = newKeys();
let provider;
const cookieKeys = [randomBytes(32).toString('hex')];

function build(issuer) {
  const built = new Provider(issuer, {
    clients: [client('broker-rs256', 'RS256'), client('broker-es256', 'ES256'), client('broker-ps256', 'PS256')],
    jwks: { keys },
    cookies: { keys: cookieKeys },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      revocation: { enabled: true },
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256'],
    },
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: `${id}@example.com`, email_verified: true, name: id, groups: GROUPS[id] ?? [] };
        },
      };
    },
  });
  return built;
}

const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/__test/rotate') {
    keys = [...newKeys(), ...keys];
    provider = build(provider.issuer);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kids: keys.map((k) => k.kid) }));
    return;
  }
  provider.callback()(req, res);
});

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  provider = build(issuer);
  process.stdout.write(`${JSON.stringify({ issuer, admin: `${issuer}/__test` })}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
