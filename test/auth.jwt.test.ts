import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { SignJWT, UnsecuredJWT, jwtVerify } from 'jose';
import { MAX_TOKEN_LENGTH, TokenError, signToken, verifyToken, type TokenErrorKind } from '../src/auth/jwt.js';

const SECRET = 'parley-test-secret-0123456789abcdef';
const KEY = new TextEncoder().encode(SECRET);
const NOW = 1_700_000_000;

function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** A token with an arbitrary header, HMAC-SHA256-signed with `secret` whatever the header says. */
function forge(header: unknown, payload: unknown, secret = SECRET): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function joseToken(claims: Record<string, unknown>, alg = 'HS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(KEY);
}

/** TokenError messages become close reasons: short, and never JSON (clients read JSON reasons as reconnect advice). */
function assertUsableAsCloseReason(message: string): void {
  assert.ok(Buffer.byteLength(message) < 123, `message too long for a close reason: ${message}`);
  assert.throws(() => JSON.parse(message));
}

function expectKind(token: string, kind: TokenErrorKind, now = NOW, secret = SECRET): TokenError {
  let caught: unknown;
  try {
    verifyToken(token, secret, now);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof TokenError, `expected a TokenError of kind ${kind}`);
  assert.equal(caught.kind, kind, caught.message);
  if (token.length > 0) assert.ok(!caught.message.includes(token), 'message contains the token');
  for (const part of token.split('.')) {
    if (part.length >= 8) assert.ok(!caught.message.includes(part), 'message contains part of the token');
  }
  assert.ok(!caught.message.includes(secret), 'message contains the secret');
  assertUsableAsCloseReason(caught.message);
  return caught;
}

test('a token signed by jose verifies', async () => {
  const token = await new SignJWT({ sub: 'alice', info: { name: 'Alice' } })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(NOW + 60)
    .setNotBefore(NOW - 1)
    .sign(KEY);
  assert.deepEqual(verifyToken(token, SECRET, NOW), {
    sub: 'alice',
    info: { name: 'Alice' },
    exp: NOW + 60,
    nbf: NOW - 1,
  });
});

test('a token we sign verifies with jose and with us', async () => {
  const claims = { sub: 'bob', channels: ['news'], exp: Math.floor(Date.now() / 1000) + 60, info: { ü: '✓' } };
  const token = signToken(claims, SECRET);
  const { payload, protectedHeader } = await jwtVerify(token, KEY, { algorithms: ['HS256'] });
  assert.deepEqual(payload, claims);
  assert.deepEqual(protectedHeader, { alg: 'HS256', typ: 'JWT' });
  assert.deepEqual(verifyToken(token, SECRET), claims);
});

test('alg none is refused, with or without the trailing dot', () => {
  const unsigned = new UnsecuredJWT({ sub: 'mallory' }).encode();
  assert.ok(unsigned.endsWith('.'));
  expectKind(unsigned, 'algorithm');
  expectKind(`${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'mallory' })}.`, 'algorithm');
  // Without the dot it is not a compact JWS at all.
  expectKind(unsigned.slice(0, -1), 'malformed');
  // `none` with a signature attached, and other spellings, fare no better.
  expectKind(forge({ alg: 'none' }, { sub: 'mallory' }), 'algorithm');
  expectKind(forge({ alg: 'None' }, { sub: 'mallory' }), 'algorithm');
  expectKind(forge({ alg: 'hs256' }, { sub: 'mallory' }), 'algorithm');
  expectKind(forge({ typ: 'JWT' }, { sub: 'mallory' }), 'algorithm');
});

test('HS384 and HS512 verify with the secret too; public-key algorithms never do', async () => {
  assert.equal(verifyToken(await joseToken({ sub: 'alice' }, 'HS512'), SECRET, NOW).sub, 'alice');
  assert.equal(verifyToken(await joseToken({ sub: 'alice' }, 'HS384'), SECRET, NOW).sub, 'alice');
  // Key confusion: labelled RS256 but HMAC-signed with the shared secret.
  expectKind(forge({ alg: 'RS256', typ: 'JWT' }, { sub: 'mallory' }), 'algorithm');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rs256 = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
  expectKind(rs256, 'algorithm');
});

test('typ must name a JWT when present; crit and keys carried in the header are refused', () => {
  expectKind(forge({ alg: 'HS256', typ: 'JOSE' }, { sub: 'a' }), 'header');
  expectKind(forge({ alg: 'HS256', typ: 42 }, { sub: 'a' }), 'header');
  expectKind(forge({ alg: 'HS256', crit: ['b64'], b64: false }, { sub: 'a' }), 'header');
  for (const name of ['jwk', 'jku', 'x5u', 'x5c']) expectKind(forge({ alg: 'HS256', [name]: 'x' }, { sub: 'a' }), 'header');
  for (const typ of ['JWT', 'jwt', 'at+jwt', 'application/at+jwt']) {
    assert.deepEqual(verifyToken(forge({ alg: 'HS256', typ }, { sub: 'a' }), SECRET, NOW), { sub: 'a' });
  }
  assert.deepEqual(verifyToken(forge({ alg: 'HS256' }, { sub: 'a' }), SECRET, NOW), { sub: 'a' });
});

test('a wrong secret or a tampered token fails the signature check', async () => {
  const token = await joseToken({ sub: 'alice', exp: NOW + 60 });
  expectKind(token, 'signature', NOW, 'another-secret');
  const [header, , signature] = token.split('.');
  expectKind(`${header}.${b64({ sub: 'admin', exp: NOW + 60 })}.${signature}`, 'signature');
  const flipped = signature!.startsWith('A') ? `B${signature!.slice(1)}` : `A${signature!.slice(1)}`;
  expectKind(`${header}.${token.split('.')[1]}.${flipped}`, 'signature');
  expectKind(`${header}.${token.split('.')[1]}.${signature!.slice(0, -4)}`, 'signature');
  expectKind(`${header}.${token.split('.')[1]}.`, 'signature');
});

test('only the canonical encoding of the signature is accepted', () => {
  const token = signToken({ sub: 'alice' }, SECRET);
  const [h, p, s] = token.split('.') as [string, string, string];
  // 32 bytes leave 2 unused bits in the last of 43 characters; changing them decodes to the same bytes.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(s.at(-1)!);
  const twin = `${s.slice(0, -1)}${alphabet[last ^ 1]}`;
  assert.deepEqual(Buffer.from(twin, 'base64url'), Buffer.from(s, 'base64url'));
  expectKind(`${h}.${p}.${twin}`, 'signature');
});

test('expiry and not-before are enforced only on correctly signed tokens', async () => {
  const expired = await joseToken({ sub: 'alice', exp: NOW - 1 });
  expectKind(expired, 'expired');
  expectKind(expired, 'signature', NOW, 'another-secret');
  // exp is the first instant at which the token is no longer valid.
  const edge = signToken({ exp: NOW }, SECRET);
  expectKind(edge, 'expired', NOW);
  assert.deepEqual(verifyToken(edge, SECRET, NOW - 0.001), { exp: NOW });

  const early = await joseToken({ sub: 'alice', nbf: NOW + 30, exp: NOW + 60 });
  expectKind(early, 'not-yet-valid');
  expectKind(early, 'signature', NOW, 'another-secret');
  assert.equal(verifyToken(early, SECRET, NOW + 30).sub, 'alice');
});

test('non-numeric exp or nbf is malformed', () => {
  expectKind(signToken({ exp: String(NOW + 60) }, SECRET), 'malformed');
  expectKind(signToken({ exp: null }, SECRET), 'malformed');
  expectKind(signToken({ nbf: 'yesterday' }, SECRET), 'malformed');
});

test('garbage is malformed', () => {
  for (const garbage of ['', 'garbage', 'a.b', 'a.b.c.d', '...', '..', 'ey.ey.ey', '!!!.@@@.###', 'abc.def.ghi', 'a b.c d.e f']) {
    expectKind(garbage, 'malformed');
  }
  assert.throws(() => verifyToken(42 as unknown as string, SECRET), (e: unknown) => e instanceof TokenError && e.kind === 'malformed');
  // Padding, the wrong alphabet, non-objects and invalid UTF-8.
  const sig = 'x'.repeat(43);
  expectKind(`${b64({ alg: 'HS256' })}=.${b64({})}.${sig}`, 'malformed');
  expectKind(`${Buffer.from(JSON.stringify({ alg: 'HS256' })).toString('base64')}+/.${b64({})}.${sig}`, 'malformed');
  expectKind(`${b64([])}.${b64({})}.${sig}`, 'malformed');
  expectKind(`${b64('null')}.${b64({})}.${sig}`, 'malformed');
  expectKind(`${b64('"HS256"')}.${b64({})}.${sig}`, 'malformed');
  expectKind(`${Buffer.from([0xff, 0xfe, 0x7b, 0x7d]).toString('base64url')}.${b64({})}.${sig}`, 'malformed');
});

test('a correctly signed payload that is not a JSON object is malformed', () => {
  expectKind(forge({ alg: 'HS256', typ: 'JWT' }, ['sub', 'alice']), 'malformed');
  expectKind(forge({ alg: 'HS256', typ: 'JWT' }, 'not json'), 'malformed');
  expectKind(forge({ alg: 'HS256', typ: 'JWT' }, 'null'), 'malformed');
});

test('a huge token is refused before any work', async () => {
  expectKind('a'.repeat(MAX_TOKEN_LENGTH + 1), 'malformed');
  expectKind(`${'a'.repeat(10_000)}.${'b'.repeat(10_000)}.c`, 'malformed');
  const big = await joseToken({ sub: 'alice', info: 'x'.repeat(MAX_TOKEN_LENGTH) });
  const error = expectKind(big, 'malformed');
  assert.match(error.message, /longer than/);
  assert.throws(() => signToken({ info: 'x'.repeat(MAX_TOKEN_LENGTH) }, SECRET), RangeError);
  // Just under the cap still verifies.
  const fits = signToken({ info: 'x'.repeat(MAX_TOKEN_LENGTH / 2) }, SECRET);
  assert.equal(typeof verifyToken(fits, SECRET).info, 'string');
});

test('an empty secret is a configuration error, not a token error', () => {
  assert.throws(() => signToken({ sub: 'a' }, ''), TypeError);
  assert.throws(() => verifyToken(signToken({ sub: 'a' }, SECRET), ''), TypeError);
});
