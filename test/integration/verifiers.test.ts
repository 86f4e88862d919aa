/**
 * Login verifiers chosen by configuration, over real sockets and real HTTP
 * servers, in both modes: JWTs checked against a JWKS served by the test
 * (which rotates its key mid-test), a PEM public key and a shared secret at
 * once; the host's HTTP callback answering, refusing and hanging; and the
 * configurations that must fail the start.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, UnsecuredJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { parseConfig } from '../../engine/config.ts';
import { startNode } from '../../engine/node.ts';
import { ParleyError } from '../../engine/protocol/errors.ts';
import { TEST_SECRET, startEngine, tempDir } from '../helpers/engine.ts';
import type { TestEngine } from '../helpers/engine.ts';
import { describeBothModes } from '../helpers/modes.ts';
import { useConnections } from '../helpers/connections.ts';
import { freshAccount } from '../helpers/accounts.ts';
import { setupOrFail } from '../helpers/setup-or-fail.ts';

/** A local HTTP server answering with `handle`; stopped after the block. */
function useHttpServer(handle: (req: IncomingMessage, body: string, res: ServerResponse) => void): () => string {
  let server: Server | undefined;
  let url = '';
  setupOrFail(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => handle(req, body, res));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  });
  return () => url;
}

interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string, alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

function sign(key: { alg: string; kid?: string; privateKey: CryptoKey | Uint8Array }, sub: string, claims: { iss?: string; aud?: string; exp?: number; nbf?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({}).setProtectedHeader({ alg: key.alg, ...(key.kid === undefined ? {} : { kid: key.kid }) }).setSubject(sub).setIssuedAt(now);
  jwt.setExpirationTime(claims.exp ?? now + 600);
  if (claims.nbf !== undefined) jwt.setNotBefore(claims.nbf);
  if (claims.iss !== undefined) jwt.setIssuer(claims.iss);
  if (claims.aud !== undefined) jwt.setAudience(claims.aud);
  return jwt.sign(key.privateKey);
}

const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'parley';
const secretKey = { alg: 'HS256', privateKey: new TextEncoder().encode(TEST_SECRET) };

describeBothModes('login verifiers: JWKS, PEM key and secret together', (mode) => {
  const jwks: { keys: JWK[] } = { keys: [] };
  let fetches = 0;
  const jwksUrl = useHttpServer((_req, _body, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
  });
  let k1: SigningKey;
  let k2: SigningKey;
  let pem: SigningKey;
  let engine: TestEngine | undefined;
  setupOrFail(async () => {
    [k1, k2, pem] = await Promise.all([signingKey('k1', 'RS256'), signingKey('k2', 'RS256'), signingKey('pem', 'ES256')]);
    jwks.keys = [k1.jwk];
    const { importJWK } = await import('jose');
    const pemText = await exportSPKI((await importJWK(pem.jwk, 'ES256', { extractable: true })) as CryptoKey);
    engine = await startEngine(
      mode.engineOptions({
        env: { PARLEY_JWKS_URL: `${jwksUrl()}/jwks.json`, PARLEY_JWT_PUBLIC_KEY: pemText, PARLEY_JWT_ISSUER: ISSUER, PARLEY_JWT_AUDIENCE: AUDIENCE },
      }),
    );
  });
  afterAll(async () => {
    await engine?.stop();
  });
  const conns = useConnections(() => engine!.url);

  async function login(token: string) {
    const r = await conns.raw();
    return r.request('login', { token, deviceId: 'd1' });
  }
  async function refusal(token: string): Promise<string> {
    const reply = await login(token);
    expect(reply.e?.name, JSON.stringify(reply)).toBe('UNAUTHORIZED');
    return reply.e!.message;
  }
  const good = { iss: ISSUER, aud: AUDIENCE };

  it('fetched the JWKS before serving, and logs in RS256 (JWKS), ES256 (PEM) and HS256 (secret) tokens', async () => {
    expect(fetches).toBe(1);
    const account = freshAccount('jwks');
    for (const key of [k1, pem, { ...secretKey }]) {
      const reply = await login(await sign(key, account, good));
      expect(reply.r?.account, JSON.stringify(reply)).toBe(account);
    }
  });

  it('picks up a rotated key at once, and refetches at most once per 10 s for unknown kids', async () => {
    jwks.keys = [k2.jwk];
    const account = freshAccount('rotated');
    const rotated = await login(await sign(k2, account, good));
    expect(rotated.r?.account, JSON.stringify(rotated)).toBe(account);
    expect(fetches).toBe(2);
    // k1 left the set: refused, and within the refetch interval the server is not asked again.
    const gone = await sign(k1, account, good);
    expect(await refusal(gone)).toMatch(/kid|key/);
    const stranger = await signingKey('k3', 'RS256');
    expect(await refusal(await sign(stranger, account, good))).toMatch(/kid|key/);
    expect(fetches).toBe(2);
  });

  it('refuses unsigned tokens, disallowed algorithms, bad claims and bad subjects, saying which', async () => {
    const account = freshAccount('bad');
    expect(await refusal(new UnsecuredJWT({}).setSubject(account).setIssuer(ISSUER).setAudience(AUDIENCE).encode())).toMatch(/alg: none/);
    const hs512 = { alg: 'HS512', privateKey: new TextEncoder().encode(TEST_SECRET.repeat(2)) };
    // HS512 is allowed with a secret configured; this one is signed with another secret.
    expect(await refusal(await sign(hs512, account, good))).toMatch(/signature/);
    expect(await refusal(await sign(k2, account, { ...good, exp: Math.floor(Date.now() / 1000) - 120 }))).toMatch(/expired/);
    expect(await refusal(await sign(k2, account, { ...good, nbf: Math.floor(Date.now() / 1000) + 3600 }))).toMatch(/`nbf`/);
    expect(await refusal(await sign(k2, account, { aud: AUDIENCE, iss: 'https://evil.test' }))).toMatch(/`iss`/);
    expect(await refusal(await sign(k2, account, { iss: ISSUER, aud: 'other' }))).toMatch(/`aud`/);
    expect(await refusal(await sign(k2, 'a|b', good))).toMatch(/`sub`/);
    // An ES256 token whose kid is unknown and whose signature is not the PEM key's.
    const otherEc = await signingKey('pem2', 'ES256');
    expect(await refusal(await sign({ ...otherEc, kid: undefined } as never, account, good))).toMatch(/signature/);
  });
});

describeBothModes('login verifiers: the host callback', (mode) => {
  const seen: Array<Record<string, unknown>> = [];
  const callbackUrl = useHttpServer((_req, body, res) => {
    const asked = JSON.parse(body) as { token: string };
    seen.push(asked);
    const [verdict, account] = asked.token.split(':');
    if (verdict === 'ok') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ account, expiresAt: Date.now() + 60_000 }));
    else if (verdict === 'expired') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ account, expiresAt: Date.now() - 1 }));
    else if (verdict === 'no') res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'banned' }));
    // 'hang': never answers.
  });
  let live: TestEngine | undefined;
  setupOrFail(async () => {
    live = await startEngine(mode.engineOptions({ noSecret: true, env: { PARLEY_AUTH_CALLBACK_URL: `${callbackUrl()}/auth`, PARLEY_AUTH_CALLBACK_TIMEOUT_MS: '300' } }));
  });
  afterAll(async () => {
    await live?.stop();
  });
  const conns = useConnections(() => live!.url);

  it('logs in whom the host names, telling it the token, device and address', async () => {
    const account = freshAccount('cb');
    const r = await conns.raw();
    const reply = await r.request('login', { token: `ok:${account}`, deviceId: 'tablet', deviceType: 'ios' });
    expect(reply.r?.account).toBe(account);
    expect(seen.at(-1)).toMatchObject({ token: `ok:${account}`, deviceId: 'tablet', deviceType: 'ios' });
    expect(String(seen.at(-1)!.ip)).toMatch(/127\.0\.0\.1/);
  });

  it('refuses what the host refuses or has expired, and answers UNAVAILABLE when the host hangs', async () => {
    const account = freshAccount('cb');
    for (const [token, name, pattern] of [
      [`no:${account}`, 'UNAUTHORIZED', /HTTP 403.*banned/],
      [`expired:${account}`, 'UNAUTHORIZED', /expired/],
      [`ok:a|b`, 'UNAUTHORIZED', /`account`/],
      [`hang:${account}`, 'UNAVAILABLE', /300 ms/],
    ] as const) {
      const r = await conns.raw();
      const reply = await r.request('login', { token }, 5000);
      expect(reply.e?.name, token).toBe(name);
      expect(reply.e?.message, token).toMatch(pattern);
    }
  });
});

describe('login verifier configuration', () => {
  async function startWith(env: Record<string, string>, nats = false): Promise<unknown> {
    const config = parseConfig({ PARLEY_PORT: '0', PARLEY_HOST: '127.0.0.1', PARLEY_DATA_DIR: tempDir(), PARLEY_LOG_LEVEL: 'error', ...(nats ? { PARLEY_NATS_URL: 'nats://127.0.0.1:1' } : {}), ...env });
    return startNode('start', config).then(
      (node) => node.stop(),
      (err: unknown) => err,
    );
  }

  it('refuses a callback together with JWT keys, naming the variables', async () => {
    const err = (await startWith({ PARLEY_AUTH_CALLBACK_URL: 'http://127.0.0.1:9/auth', PARLEY_JWT_SECRET: 's' })) as Error;
    expect(err.message).toMatch(/PARLEY_AUTH_CALLBACK_URL cannot be combined with PARLEY_JWT_SECRET/);
  });

  it('refuses a public key that is not one, and a JWKS that cannot be fetched', async () => {
    expect(((await startWith({ PARLEY_JWT_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' })) as Error).message).toMatch(/PARLEY_JWT_PUBLIC_KEY/);
    expect(((await startWith({ PARLEY_JWT_PUBLIC_KEY: '/nonexistent/key.pem' })) as Error).message).toMatch(/PARLEY_JWT_PUBLIC_KEY/);
    expect(((await startWith({ PARLEY_JWKS_URL: 'http://127.0.0.1:9/jwks.json' })) as Error).message).toMatch(/PARLEY_JWKS_URL/);
  });

  it('lets an embedding application pass its own verifier', async () => {
    const config = parseConfig({ PARLEY_PORT: '0', PARLEY_HOST: '127.0.0.1', PARLEY_DATA_DIR: tempDir(), PARLEY_LOG_LEVEL: 'error' });
    const node = await startNode('start', config, {
      verifier: { verify: async (token) => (token.startsWith('app:') ? { account: token.slice(4) } : Promise.reject(new ParleyError('UNAUTHORIZED', 'not ours'))) },
    });
    try {
      const { RawClient } = await import('../helpers/raw-client.ts');
      const r = await RawClient.open(`ws://127.0.0.1:${node.port}/v1/ws`);
      expect((await r.request('login', { token: 'app:zoe' })).r?.account).toBe('zoe');
      r.terminate();
      const s = await RawClient.open(`ws://127.0.0.1:${node.port}/v1/ws`);
      expect((await s.request('login', { token: 'other' })).e?.message).toBe('not ours');
      s.terminate();
    } finally {
      await node.stop();
    }
  });
});
