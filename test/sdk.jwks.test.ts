/**
 * Tokens from an identity provider with the real `centrifuge` SDK: a local
 * JWKS server (node:http on port 0) publishes RS256 and ES256 keys; keys
 * rotate without a restart; a flood of unknown `kid`s makes a bounded number
 * of fetches; an endpoint that is down gives a temporary error the SDK
 * retries through; subscription tokens go the same way.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { providerKey, signWith, startJwksServer, type JwksServer, type ProviderKey } from './helpers/jwks-server.js';
import { guestClient } from './helpers/chat.js';
import { openRaw } from './helpers/raw-client.js';
import { connectClient, disconnectAll, eventsOf, makeClient, makeSubscription, subscribe, subscribeExisting } from './helpers/sdk.js';
import { nextEvent, waitFor } from './helpers/wait.js';

const ISSUER = 'https://idp.example.com/realms/acme';
const AUDIENCE = 'parley';
const inAMinute = () => Math.floor(Date.now() / 1000) + 60;
const claims = (sub: string, extra: Record<string, unknown> = {}) => ({ sub, iss: ISSUER, aud: ['account', AUDIENCE], exp: inAMinute(), ...extra });

describe('sdk: tokens verified with a JWKS', () => {
  let jwks: JwksServer;
  let ts: TestServer;
  let rsa: ProviderKey;
  let ec: ProviderKey;

  before(async () => {
    rsa = await providerKey('RS256', 'rsa-1');
    ec = await providerKey('ES256', 'ec-1');
    jwks = await startJwksServer([rsa, ec]);
    ts = await startTestServer({
      flags: ['--token-jwks-url', jwks.url, '--token-jwks-cooldown', '1ms', '--token-jwks-timeout', '1s', '--token-issuer', ISSUER, '--token-audience', AUDIENCE],
    });
  });
  after(async () => {
    disconnectAll();
    await ts?.stop();
    await jwks?.close();
  });

  test('RS256 and ES256 tokens connect; the user is their sub and info reaches others', async () => {
    const alice = await connectClient(ts.wsUrl, { token: await signWith(rsa, claims('alice', { info: { name: 'Alice' } })) });
    const bob = await connectClient(ts.wsUrl, { token: await signWith(ec, claims('bob')) });
    const room = await subscribe(bob.client, 'room:idp');
    await subscribe(alice.client, 'room:idp');
    const join = await waitFor(() => room.of('join').find((ctx) => ctx.info.user === 'alice'), { message: 'alice joins' });
    assert.deepEqual(join.info.connInfo, { name: 'Alice' });
  });

  test('the server\'s own HS256 tokens keep working next to the JWKS, carrying the issuer and audience', async () => {
    const guest = await guestClient(ts, { name: 'Guest Gail' });
    assert.equal(guest.client.state, 'connected');
    // A token minted with the secret but without the issuer is refused like any other.
    const stray = makeClient(ts.wsUrl, { token: await mintToken({ sub: 'stray' }) });
    stray.client.connect();
    const [disconnected] = await eventsOf(stray, 'disconnected');
    assert.equal(disconnected.code, 3500);
  });

  test('a token for another audience or issuer is refused for good', async () => {
    for (const wrong of [{ aud: 'other-app' }, { iss: 'https://evil.example.com' }]) {
      const client = makeClient(ts.wsUrl, { token: await signWith(rsa, claims('mallory', wrong)) });
      client.client.connect();
      const [disconnected] = await eventsOf(client, 'disconnected');
      assert.equal(disconnected.code, 3500);
      assert.equal(client.of('connected').length, 0);
    }
  });

  test('keys rotate without a restart: a new kid is fetched, a removed key stops working', async () => {
    const rsa2 = await providerKey('RS256', 'rsa-2');
    jwks.publish([rsa2, ec]);
    const fresh = await connectClient(ts.wsUrl, { token: await signWith(rsa2, claims('carol')) });
    assert.equal(fresh.client.state, 'connected');
    const stale = makeClient(ts.wsUrl, { token: await signWith(rsa, claims('dave')) });
    stale.client.connect();
    const [disconnected] = await eventsOf(stale, 'disconnected');
    assert.equal(disconnected.code, 3500, 'the old key is gone from the set');
    jwks.publish([rsa, ec]);
  });

  test('subscription tokens signed by the provider', async () => {
    const erin = await connectClient(ts.wsUrl, { token: await signWith(ec, claims('erin')) });
    const channel = 'room:idp-sub';
    const sub = await subscribe(erin.client, channel, { token: await signWith(rsa, claims('erin', { channel, info: { seat: 7 } })) });
    assert.equal(sub.sub.state, 'subscribed');
    const forged = await providerKey('RS256', 'rsa-1');
    const refused = makeSubscription(erin.client, 'room:idp-forged', { token: await signWith(forged, claims('erin', { channel: 'room:idp-forged' })) });
    refused.sub.subscribe();
    const [disconnected] = await eventsOf(erin, 'disconnected');
    assert.equal(disconnected.code, 3500, 'a forged subscription token closes the connection');
  });

  test('Centrifugo claims: subs subscribes with chan_info and data, expire_at sets the connection ttl', async () => {
    const watcher = await connectClient(ts.wsUrl, { token: await signWith(ec, claims('watcher')) });
    const room = await subscribe(watcher.client, 'room:subs');
    const token = await signWith(rsa, claims('hana', {
      expire_at: Math.floor(Date.now() / 1000) + 3600,
      subs: { 'room:subs': { info: { seat: 12 }, data: { welcome: 'to room:subs' } }, 'room:subs-b64': { b64data: Buffer.from('{"n":1}').toString('base64') } },
    }));
    const hana = makeClient(ts.wsUrl, { token });
    const connected = nextEvent<[{ client: string }]>(hana.client, 'connected');
    hana.client.connect();
    await connected;
    const subscribed = await eventsOf(hana, 'subscribed', 2);
    assert.deepEqual(subscribed.find((ctx) => ctx.channel === 'room:subs').data, { welcome: 'to room:subs' });
    assert.deepEqual(subscribed.find((ctx) => ctx.channel === 'room:subs-b64').data, { n: 1 });
    const join = await waitFor(() => room.of('join').find((ctx) => ctx.info.user === 'hana'), { message: 'hana joins' });
    assert.deepEqual(join.info.chanInfo, { seat: 12 });
    // The token's exp is a minute away; expire_at an hour: the session follows expire_at.
    const session = [...ts.server.node.allSessions()].find((candidate) => (candidate as { user?: string }).user === 'hana') as { principal: { expiresAt?: number } } | undefined;
    assert.ok(session && session.principal.expiresAt! - Date.now() / 1000 > 3000, 'expiry from expire_at');
  });

  test('the JWKS endpoint down: a temporary error and a warning, then the client connects once it is back', async () => {
    const rsa3 = await providerKey('RS256', 'rsa-3');
    await jwks.down();
    try {
      const token = await signWith(rsa3, claims('frank'));
      const client = makeClient(ts.wsUrl, { token });
      const errorSeen = nextEvent<[{ type: string; error: { code: number } }]>(client.client, 'error', 5000);
      client.client.connect();
      const [error] = await errorSeen;
      assert.equal(error.type, 'connect');
      assert.equal(error.error.code, 100);
      assert.notEqual(client.client.state, 'disconnected', 'the SDK keeps trying');
      await waitFor(() => ts.logs.some((line) => line.includes('cannot fetch token keys')), { message: 'a warning in the log' });
      jwks.publish([rsa, ec, rsa3]);
      await jwks.up();
      await eventsOf(client, 'connected', 1, 10_000);
      assert.equal(client.of('disconnected').length, 0, 'never given up');
      assert.ok(!ts.logs.some((line) => line.includes(token.split('.')[2]!)), 'no token in the log');
    } finally {
      await jwks.up();
    }
  });

  test('the JWKS endpoint down during a subscribe: the subscription is retried until it is back', async () => {
    const gina = await connectClient(ts.wsUrl, { token: await signWith(rsa, claims('gina')) });
    const ec2 = await providerKey('ES256', 'ec-2');
    const channel = 'room:idp-down';
    await jwks.down();
    try {
      const made = makeSubscription(gina.client, channel, { token: await signWith(ec2, claims('gina', { channel })) });
      const errorSeen = nextEvent<[{ type: string; error: { code: number } }]>(made.sub, 'error', 5000);
      const subscribed = subscribeExisting(made, 15_000);
      const [error] = await errorSeen;
      assert.equal(error.error.code, 100);
      jwks.publish([rsa, ec, ec2]);
      await jwks.up();
      await subscribed;
      assert.equal(gina.client.state, 'connected');
    } finally {
      await jwks.up();
    }
  });
});

describe('sdk: a flood of unknown kids', () => {
  let jwks: JwksServer;
  let ts: TestServer;
  let rsa: ProviderKey;

  before(async () => {
    rsa = await providerKey('RS256', 'rsa-1');
    jwks = await startJwksServer([rsa]);
    ts = await startTestServer({ flags: ['--token-jwks-url', jwks.url, '--token-jwks-cooldown', '1h'] });
  });
  after(async () => {
    disconnectAll();
    await ts?.stop();
    await jwks?.close();
  });

  test('makes at most one fetch per cooldown, and every forged connection is refused with a temporary error', async () => {
    const legit = await connectClient(ts.wsUrl, { token: await signWith(rsa, { sub: 'legit' }) });
    assert.equal(legit.client.state, 'connected');
    const before = jwks.requests;
    assert.ok(before >= 1 && before <= 2, `start-up fetch, then none for a known kid (got ${before})`);
    const clients = await Promise.all(Array.from({ length: 40 }, () => openRaw(ts.wsUrl)));
    await Promise.all(clients.map(async (client, i) => {
      client.command(1, 'connect', { token: await signWith(rsa, { sub: `flood-${i}` }, { kid: `made-up-${i}` }) });
    }));
    // Unknown kids within the cooldown were not looked for: the connect is answered with a
    // temporary error (the SDK would retry), not a final close that a rotation could cause.
    const replies = await Promise.all(clients.map((client) => client.reply(1, 10_000)));
    assert.deepEqual(new Set(replies.map((reply) => `${reply.error?.code}:${reply.error?.temporary}`)), new Set(['100:true']));
    for (const client of clients) client.close();
    assert.ok(jwks.requests - before <= 1, `at most one fetch for the whole flood (got ${jwks.requests - before})`);
  });
});

describe('sdk: a short HMAC secret and a PEM key file', () => {
  const SHORT_SECRET = 'centrifugo-k3y';
  let ts: TestServer;
  let ed: ProviderKey;
  let pemDir: string;

  before(async () => {
    ed = await providerKey('EdDSA', 'ed-1');
    pemDir = mkdtempSync(join(tmpdir(), 'parley-pem-'));
    const pem = createPublicKey({ key: ed.jwk as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(join(pemDir, 'idp.pub.pem'), pem);
    ts = await startTestServer({ flags: ['--token-secret', SHORT_SECRET, '--token-public-key', join(pemDir, 'idp.pub.pem')] });
  });
  after(async () => {
    disconnectAll();
    await ts?.stop();
    rmSync(pemDir, { recursive: true, force: true });
  });

  test('a secret under 32 bytes is accepted with a start-up warning naming the key, never the value', async () => {
    const warning = ts.logs.find((line) => line.includes('tokenSecret is shorter than 32 bytes'));
    assert.ok(warning, 'a start-up warning');
    assert.equal(JSON.parse(warning).key, 'tokenSecret');
    assert.ok(!ts.logs.some((line) => line.includes(SHORT_SECRET)), 'the secret is never logged');
    const client = await connectClient(ts.wsUrl, { token: await mintToken({ sub: 'migrated' }, { secret: SHORT_SECRET }) });
    assert.equal(client.client.state, 'connected');
  });

  test('an EdDSA token verifies with the PEM key file', async () => {
    const client = await connectClient(ts.wsUrl, { token: await signWith(ed, { sub: 'pem-user', exp: inAMinute() }) });
    assert.equal(client.client.state, 'connected');
  });
});
