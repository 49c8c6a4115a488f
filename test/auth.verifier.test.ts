/**
 * The token verifier with every kind of key: HMAC secrets, PEM public keys
 * and a JWKS from a local HTTP server. Keys are generated here, tokens are
 * signed with `jose` (an independent implementation).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, type JsonWebKey } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { RemoteKeySet } from '../src/auth/jwks.js';
import { readPublicKeys } from '../src/auth/public-keys.js';
import { TokenError, type TokenErrorKind } from '../src/auth/token-error.js';
import { TokenVerifier, type TokenVerifierOptions } from '../src/auth/token-verifier.js';
import { waitFor } from './helpers/wait.js';
import { providerKey, signWith, startJwksServer, type JwksServer, type ProviderKey } from './helpers/jwks-server.js';

const SECRET = 'verifier-secret-0123456789abcdef0123';
const NOW = Math.floor(Date.now() / 1000);
const PUBLIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** A token with any header, HMAC-signed with `secret` (any string, e.g. a PEM) whatever the header says. */
function forge(header: Record<string, unknown>, payload: unknown, secret: string, hash = 'sha256'): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac(hash, secret).update(input).digest('base64url')}`;
}

function hmacToken(claims: Record<string, unknown>, alg = 'HS256', secret = SECRET): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

async function refusal(verifier: TokenVerifier, token: string, kind: TokenErrorKind, now = NOW): Promise<TokenError> {
  const error = await verifier.verify(token, now).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof TokenError, `expected a TokenError of kind ${kind}, got ${String(error)}`);
  assert.equal(error.kind, kind, error.message);
  assert.ok(Buffer.byteLength(error.message) < 123, 'usable as a close reason');
  for (const part of token.split('.')) if (part.length >= 8) assert.ok(!error.message.includes(part), 'no part of the token in the message');
  return error;
}

function pemOf(key: ProviderKey): string {
  return createPublicKey({ key: key.jwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
}

const silent = { info: () => undefined, warn: () => undefined };

describe('verifier: algorithms and keys', () => {
  const keys = new Map<string, ProviderKey>();
  let verifier: TokenVerifier;
  let pems: string[];

  before(async () => {
    for (const alg of PUBLIC_ALGORITHMS) keys.set(alg, await providerKey(alg, `kid-${alg}`));
    pems = [...keys.values()].map((key) => pemOf(key));
    verifier = new TokenVerifier({ secret: SECRET, publicKeys: readPublicKeys(pems.join('\n')) });
  });

  test('HS256, HS384 and HS512 verify with the secret', async () => {
    for (const alg of ['HS256', 'HS384', 'HS512']) {
      const claims = await verifier.verify(await hmacToken({ sub: alg, exp: NOW + 60 }, alg), NOW);
      assert.equal(claims.sub, alg);
    }
  });

  test('every public-key algorithm verifies with a PEM key of its type', async () => {
    for (const [alg, key] of keys) {
      const claims = await verifier.verify(await signWith(key, { sub: alg, exp: NOW + 60 }), NOW);
      assert.equal(claims.sub, alg, alg);
      // Without a kid too: PEM keys are chosen by type.
      assert.equal((await verifier.verify(await signWith(key, { sub: alg }, { kid: null }), NOW)).sub, alg);
    }
  });

  test('Ed25519, the fully specified name of EdDSA over Ed25519, verifies with the same key', async () => {
    const ed = keys.get('EdDSA')!;
    const token = await new SignJWT({ sub: 'ed' }).setProtectedHeader({ alg: 'Ed25519' }).sign(ed.privateKey);
    assert.equal((await verifier.verify(token, NOW)).sub, 'ed');
  });

  test('a token signed by another key of the same type fails the signature check', async () => {
    for (const alg of ['RS256', 'PS256', 'ES256', 'ES512', 'EdDSA']) {
      const stranger = await providerKey(alg, `kid-${alg}`);
      await refusal(verifier, await signWith(stranger, { sub: 'mallory' }), 'signature');
    }
    await refusal(verifier, await hmacToken({ sub: 'mallory' }, 'HS256', 'another-secret'), 'signature');
  });

  test('a public-key algorithm without a key of its type is refused before any verification', async () => {
    const onlyEc = new TokenVerifier({ secret: SECRET, publicKeys: readPublicKeys(pems[PUBLIC_ALGORITHMS.indexOf('ES256')]!) });
    await refusal(onlyEc, await signWith(keys.get('RS256')!, { sub: 'a' }), 'algorithm');
    await refusal(onlyEc, await signWith(keys.get('ES384')!, { sub: 'a' }), 'algorithm');
    const secretOnly = new TokenVerifier({ secret: SECRET });
    await refusal(secretOnly, await signWith(keys.get('EdDSA')!, { sub: 'a' }), 'algorithm');
  });

  test('alg none is refused, signed or not', async () => {
    await refusal(verifier, new UnsecuredJWT({ sub: 'mallory' }).encode(), 'algorithm');
    await refusal(verifier, forge({ alg: 'none' }, { sub: 'mallory' }, SECRET), 'algorithm');
    await refusal(verifier, forge({ alg: 'NONE' }, { sub: 'mallory' }, SECRET), 'algorithm');
    await refusal(verifier, forge({ alg: 'HS1' }, { sub: 'mallory' }, SECRET), 'algorithm');
  });

  test('algorithm confusion: an HMAC token keyed with a public key PEM is refused', async () => {
    for (const pem of pems) {
      for (const [alg, hash] of [['HS256', 'sha256'], ['HS384', 'sha384'], ['HS512', 'sha512']] as const) {
        await refusal(verifier, forge({ alg, typ: 'JWT' }, { sub: 'mallory' }, pem, hash), 'signature');
      }
    }
    // Nor is a public-key label on an HMAC signature.
    await refusal(verifier, forge({ alg: 'RS256' }, { sub: 'mallory' }, SECRET), 'signature');
    await refusal(verifier, forge({ alg: 'ES256' }, { sub: 'mallory' }, pems[0]!), 'signature');
  });

  test('keys carried by the token (jwk, jku, x5u, x5c) and crit are refused, never used', async () => {
    const attacker = await providerKey('RS256', 'attacker');
    const sign = (header: Record<string, unknown>) =>
      new SignJWT({ sub: 'mallory' }).setProtectedHeader({ alg: 'RS256', ...header }).sign(attacker.privateKey);
    await refusal(verifier, await sign({ jwk: attacker.jwk }), 'header');
    await refusal(verifier, await sign({ jku: 'https://attacker.example/jwks' }), 'header');
    await refusal(verifier, await sign({ x5u: 'https://attacker.example/cert.pem' }), 'header');
    await refusal(verifier, await sign({ x5c: ['MIIB'] }), 'header');
    await refusal(verifier, forge({ alg: 'HS256', crit: ['exp'], exp: 1 }, { sub: 'a' }, SECRET), 'header');
    // Without them the attacker's key is simply unknown.
    await refusal(verifier, await sign({}), 'signature');
  });

  test('tokens over the size cap are refused before any work', async () => {
    const big = await signWith(keys.get('ES256')!, { sub: 'a', info: 'x'.repeat(17 * 1024) });
    const error = await refusal(verifier, big, 'malformed');
    assert.match(error.message, /longer than/);
  });

  test('expiry and not-before, after the signature', async () => {
    const key = keys.get('ES256')!;
    await refusal(verifier, await signWith(key, { sub: 'a', exp: NOW }), 'expired');
    await refusal(verifier, await signWith(key, { sub: 'a', nbf: NOW + 30 }), 'not-yet-valid');
    assert.equal((await verifier.verify(await signWith(key, { sub: 'a', nbf: NOW + 30 }), NOW + 30)).sub, 'a');
    await refusal(verifier, await signWith(key, { sub: 'a', exp: 'tomorrow' }), 'malformed');
    // A forged expired token is a signature problem, not an expired one.
    await refusal(verifier, await signWith(await providerKey('ES256', 'x'), { sub: 'a', exp: NOW - 10 }), 'signature');
  });
});

describe('verifier: issuer and audience', () => {
  let key: ProviderKey;
  let verifier: TokenVerifier;

  before(async () => {
    key = await providerKey('RS256', 'k1');
    const options: TokenVerifierOptions = {
      secret: SECRET,
      publicKeys: readPublicKeys(pemOf(key)),
      issuer: 'https://idp.example.com/realms/acme',
      audience: 'parley',
    };
    verifier = new TokenVerifier(options);
  });

  test('iss must be the configured issuer', async () => {
    const good = { iss: 'https://idp.example.com/realms/acme', aud: 'parley' };
    assert.equal((await verifier.verify(await signWith(key, { sub: 'a', ...good }), NOW)).sub, 'a');
    await refusal(verifier, await signWith(key, { sub: 'a', aud: 'parley' }), 'issuer');
    await refusal(verifier, await signWith(key, { sub: 'a', aud: 'parley', iss: 'https://idp.example.com/realms/other' }), 'issuer');
    await refusal(verifier, await signWith(key, { sub: 'a', aud: 'parley', iss: ['https://idp.example.com/realms/acme'] }), 'issuer');
  });

  test('aud may be the audience or an array holding it', async () => {
    const iss = 'https://idp.example.com/realms/acme';
    assert.equal((await verifier.verify(await signWith(key, { sub: 'a', iss, aud: ['account', 'parley'] }), NOW)).sub, 'a');
    await refusal(verifier, await signWith(key, { sub: 'a', iss }), 'audience');
    await refusal(verifier, await signWith(key, { sub: 'a', iss, aud: 'account' }), 'audience');
    await refusal(verifier, await signWith(key, { sub: 'a', iss, aud: ['account'] }), 'audience');
    await refusal(verifier, await signWith(key, { sub: 'a', iss, aud: 'parley-staging' }), 'audience');
  });

  test('they apply to HMAC tokens too', async () => {
    await refusal(verifier, await hmacToken({ sub: 'a' }), 'issuer');
    const claims = await verifier.verify(await hmacToken({ sub: 'a', iss: 'https://idp.example.com/realms/acme', aud: 'parley' }), NOW);
    assert.equal(claims.sub, 'a');
  });
});

describe('verifier: JWKS', () => {
  let jwks: JwksServer;
  let first: ProviderKey;
  let ec: ProviderKey;
  const warnings: string[] = [];
  const log = { info: () => undefined, warn: (_obj: object, msg: string) => warnings.push(msg) };
  const keySet = (options: { cooldownMs?: number; cacheTtlMs?: number; timeoutMs?: number } = {}) =>
    new RemoteKeySet({ url: jwks.url, cacheTtlMs: options.cacheTtlMs ?? 600_000, cooldownMs: options.cooldownMs ?? 60_000, timeoutMs: options.timeoutMs ?? 2000, log });

  before(async () => {
    first = await providerKey('RS256', 'first');
    ec = await providerKey('ES256', 'ec');
    jwks = await startJwksServer([first, ec]);
  });
  after(() => jwks.close());

  test('keys are chosen by kid and fetched once', async () => {
    const verifier = new TokenVerifier({ secret: SECRET, jwks: keySet() });
    const before = jwks.requests;
    for (let i = 0; i < 5; i++) {
      assert.equal((await verifier.verify(await signWith(first, { sub: `r${i}` }), NOW)).sub, `r${i}`);
      assert.equal((await verifier.verify(await signWith(ec, { sub: `e${i}` }), NOW)).sub, `e${i}`);
    }
    assert.equal(jwks.requests - before, 1);
  });

  test('without a kid, the keys of the algorithm are tried, up to a few', async () => {
    const verifier = new TokenVerifier({ secret: SECRET, jwks: keySet() });
    assert.equal((await verifier.verify(await signWith(first, { sub: 'no-kid' }, { kid: null }), NOW)).sub, 'no-kid');
    const many = await Promise.all(['m1', 'm2', 'm3', 'm4'].map((kid) => providerKey('RS256', kid)));
    jwks.publish([first, ec, ...many]);
    try {
      const crowded = new TokenVerifier({ secret: SECRET, jwks: keySet() });
      await refusal(crowded, await signWith(first, { sub: 'no-kid' }, { kid: null }), 'key');
      assert.equal((await crowded.verify(await signWith(many[3]!, { sub: 'with-kid' }), NOW)).sub, 'with-kid');
    } finally {
      jwks.publish([first, ec]);
    }
  });

  test('a kid the set does not hold is refused as an unknown key; the wrong key under a known kid fails the signature', async () => {
    const verifier = new TokenVerifier({ secret: SECRET, jwks: keySet() });
    const stranger = await providerKey('RS256', 'stranger');
    await refusal(verifier, await signWith(stranger, { sub: 'a' }), 'key');
    await refusal(verifier, await signWith(stranger, { sub: 'a' }, { kid: 'first' }), 'signature');
    // An HMAC token never looks at the key set.
    await refusal(verifier, forge({ alg: 'HS256', kid: 'first' }, { sub: 'a' }, JSON.stringify(first.jwk)), 'signature');
  });

  test('concurrent tokens with unknown kids make at most one fetch per cooldown', async () => {
    const verifier = new TokenVerifier({ secret: SECRET, jwks: keySet({ cooldownMs: 60_000 }) });
    await verifier.verify(await signWith(first, { sub: 'warm' }), NOW);
    const before = jwks.requests;
    const forged = await Promise.all(Array.from({ length: 50 }, (_, i) => signWith(first, { sub: 'x' }, { kid: `made-up-${i}` })));
    const kinds = await Promise.all(forged.map((token) => verifier.verify(token, NOW).then(() => 'accepted', (error: TokenError) => error.kind)));
    // Within the cooldown nobody looked for these kids: a temporary refusal (the SDK retries), never a final one.
    assert.deepEqual(new Set(kinds), new Set(['unavailable']));
    // The cooldown started with the first fetch: none of these may fetch again.
    assert.equal(jwks.requests - before, 0);
  });

  test('a key published within the cooldown: a temporary refusal first, accepted once the cooldown lets a fetch run', async () => {
    const verifier = new TokenVerifier({ secret: SECRET, jwks: keySet({ cooldownMs: 300 }) });
    await verifier.verify(await signWith(first, { sub: 'warm' }), NOW);
    const rotated = await providerKey('RS256', 'rotated-in-cooldown');
    jwks.publish([first, rotated, ec]);
    try {
      const token = await signWith(rotated, { sub: 'fresh' });
      await refusal(verifier, token, 'unavailable');
      const accepted = await waitFor(() => verifier.verify(token, NOW).then((claims) => claims, () => undefined), { timeoutMs: 5000, message: 'the rotated key accepted after the cooldown' });
      assert.equal(accepted.sub, 'fresh');
      // A kid still unknown after a fetch that ran for it is refused for good.
      const cooled = new TokenVerifier({ secret: SECRET, jwks: keySet({ cooldownMs: 0 }) });
      await refusal(cooled, await signWith(first, { sub: 'x' }, { kid: 'never-published' }), 'key');
    } finally {
      jwks.publish([first, ec]);
    }
  });

  test('a rotated key is found by fetching again; removed keys stop verifying', async () => {
    const verifier = new TokenVerifier({ secret: SECRET, jwks: keySet({ cooldownMs: 0 }) });
    await verifier.verify(await signWith(first, { sub: 'before' }), NOW);
    const second = await providerKey('RS256', 'second');
    jwks.publish([second, ec]);
    assert.equal((await verifier.verify(await signWith(second, { sub: 'after' }), NOW)).sub, 'after');
    await refusal(verifier, await signWith(first, { sub: 'old' }), 'key');
    jwks.publish([first, ec]);
  });

  test('an endpoint that is down gives a temporary error and a warning, then works once back', async () => {
    warnings.length = 0;
    await jwks.down();
    try {
      const verifier = new TokenVerifier({ secret: SECRET, jwks: keySet({ cooldownMs: 0 }) });
      const token = await signWith(first, { sub: 'patient' });
      await refusal(verifier, token, 'unavailable');
      assert.ok(warnings.some((line) => /cannot fetch token keys/.test(line)), warnings.join('; '));
      jwks.answer(503);
      await jwks.up();
      await refusal(verifier, token, 'unavailable');
      jwks.answer(200);
      assert.equal((await verifier.verify(token, NOW)).sub, 'patient');
    } finally {
      jwks.answer(200);
      await jwks.up().catch(() => undefined);
    }
  });

  test('after a failed refresh the keys fetched before stay in use', async () => {
    const verifier = new TokenVerifier({ secret: SECRET, jwks: keySet({ cooldownMs: 0, cacheTtlMs: 0 }) });
    await verifier.verify(await signWith(first, { sub: 'a' }), NOW);
    jwks.answer(500);
    try {
      const before = jwks.requests;
      assert.equal((await verifier.verify(await signWith(first, { sub: 'b' }), NOW)).sub, 'b');
      await waitFor(() => jwks.requests > before, { message: 'the stale set is fetched again' });
    } finally {
      jwks.answer(200);
    }
  });

  test('a slow endpoint times out', async () => {
    const { createServer } = await import('node:http');
    const stalled = createServer(() => undefined);
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(stalled.address() as { port: number }).port}/jwks`;
      warnings.length = 0;
      const verifier = new TokenVerifier({ secret: SECRET, jwks: new RemoteKeySet({ url, cacheTtlMs: 1000, cooldownMs: 1000, timeoutMs: 200, log }) });
      await refusal(verifier, await signWith(first, { sub: 'a' }), 'unavailable');
      assert.ok(warnings.some((line) => /cannot fetch token keys/.test(line)));
    } finally {
      stalled.closeAllConnections();
      await new Promise((resolve) => stalled.close(resolve));
    }
  });

  test('symmetric and private keys in a key set are never used', async () => {
    const { createServer } = await import('node:http');
    const hostile = createServer((_request, response) => {
      response.end(JSON.stringify({ keys: [{ kty: 'oct', kid: 'oct', k: b64(SECRET) }, { ...first.jwk, kid: 'private', d: 'AAAA' }] }));
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hostile.address() as { port: number }).port}/jwks`;
      const verifier = new TokenVerifier({ secret: 'a-different-secret', jwks: new RemoteKeySet({ url, cacheTtlMs: 1000, cooldownMs: 1000, timeoutMs: 1000, log: silent }) });
      await refusal(verifier, forge({ alg: 'HS256', kid: 'oct' }, { sub: 'a' }, SECRET), 'signature');
      await refusal(verifier, await signWith(first, { sub: 'a' }, { kid: 'private' }), 'key');
    } finally {
      hostile.closeAllConnections();
      await new Promise((resolve) => hostile.close(resolve));
    }
  });
});
