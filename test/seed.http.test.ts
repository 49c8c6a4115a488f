import WebSocket from 'ws';
/**
 * The seeds' HTTP endpoints: `GET /getAllMessages` (the chat room seed's
 * history dump) and `POST /auth` (the Scaledrone tutorial's token server).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { NAME_ADJECTIVES, NAME_NOUNS, USER_COLORS } from '../src/chat/names.js';
import { guestClient, type ChatClient } from './helpers/chat.js';
import { disconnectAll } from './helpers/sdk.js';
import { allMessages, postAuth } from './helpers/seed.js';
import { startTestServer, TEST_SECRET, type TestServer } from './helpers/server.js';

const secret = new TextEncoder().encode(TEST_SECRET);

async function verify(token: string) {
  const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'] });
  return payload as Record<string, any>;
}

async function get(ts: TestServer, path: string): Promise<{ status: number; body: any; contentType: string | null }> {
  const response = await fetch(`http://127.0.0.1:${ts.server.port}${path}`);
  return { status: response.status, body: await response.json(), contentType: response.headers.get('content-type') };
}

describe('GET /getAllMessages', () => {
  let ts: TestServer;
  let writer: ChatClient;
  const run = `dump-${randomUUID().slice(0, 6)}`;
  const texts = Array.from({ length: 105 }, (_, i) => `${run} ${i}`);

  before(async () => {
    ts = await startTestServer();
    writer = await guestClient(ts, { name: 'Dumper', email: 'dumper@example.com' });
    for (const text of texts) await writer.rpc('chat.send', { channel: 'room:general', text });
  });
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  test('the newest 100 messages by default, oldest first, in the seed shape', async () => {
    const answer = await get(ts, '/getAllMessages');
    assert.equal(answer.status, 200);
    assert.match(answer.contentType ?? '', /^application\/json/);
    assert.ok(Array.isArray(answer.body));
    assert.deepEqual(
      answer.body,
      texts.slice(5).map((message) => ({ email: '', username: 'Dumper', message })),
    );
  });

  test('limit picks the newest N, oldest first', async () => {
    assert.deepEqual(
      (await allMessages(ts, 3)).map((m) => m.message),
      texts.slice(-3),
    );
    assert.deepEqual((await allMessages(ts, 1)).map((m) => m.message), texts.slice(-1));
    assert.deepEqual((await allMessages(ts, 1000)).map((m) => m.message), texts);
  });

  test('a bad limit is 400 with {error}', async () => {
    for (const limit of ['0', '1001', '-1', '1.5', 'abc', '', '1e3', '99999999999999999999']) {
      const answer = await get(ts, `/getAllMessages?limit=${encodeURIComponent(limit)}`);
      assert.equal(answer.status, 400, `limit=${limit}`);
      assert.equal(typeof answer.body.error, 'string');
    }
    const twice = await get(ts, '/getAllMessages?limit=1&limit=2');
    assert.equal(twice.status, 400);
  });

  test('deleted messages are left out', async () => {
    const text = `${run} to delete`;
    const { message } = await writer.rpc('chat.send', { channel: 'room:general', text });
    assert.ok((await allMessages(ts, 1)).some((m) => m.message === text));
    await writer.rpc('chat.delete', { channel: 'room:general', id: message.id });
    assert.ok(!(await allMessages(ts, 5)).some((m) => m.message === text));
  });
});

describe('POST /auth', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(async () => {
    await ts?.stop();
  });

  const expectedPermissions = (escaped: string) => ({
    '^observable-room$': { publish: true, subscribe: true },
    [`^private-room-${escaped}$`]: { publish: false, subscribe: true },
    [`^private-room-(?!${escaped}$).+$`]: { publish: true, subscribe: false },
  });

  for (const encoding of ['multipart', 'urlencoded'] as const) {
    test(`${encoding} form: the token is the plain-text body, with the tutorial's claims`, async () => {
      const answer = await postAuth(ts, { clientID: 'Xk3dF9aQ' }, encoding);
      assert.equal(answer.status, 200, answer.text);
      assert.match(answer.contentType ?? '', /^text\/plain/);
      assert.match(answer.text, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'just the compact JWT');
      assert.equal(decodeProtectedHeader(answer.text).alg, 'HS256');
      const claims = await verify(answer.text);
      assert.deepEqual(Object.keys(claims).sort(), ['channel', 'client', 'data', 'exp', 'permissions']);
      assert.equal(claims.client, 'Xk3dF9aQ');
      assert.equal(claims.channel, 'parley');
      assert.deepEqual(claims.permissions, expectedPermissions('Xk3dF9aQ'));
      const ttl = claims.exp - Date.now() / 1000;
      assert.ok(ttl > 175 && ttl <= 181, `exp is ${ttl} s away`);
      assert.deepEqual(Object.keys(claims.data).sort(), ['color', 'name']);
      const [adjective, noun] = String(claims.data.name).split('_');
      assert.ok(NAME_ADJECTIVES.includes(adjective!) && NAME_NOUNS.includes(noun!), `random name ${claims.data.name}`);
      assert.ok(USER_COLORS.includes(claims.data.color), `palette color ${claims.data.color}`);
    });
  }

  test('a client id keeps its name and color across tokens; other ids get other ones', async () => {
    const data = async (clientID: string) => (await verify((await postAuth(ts, { clientID })).text)).data;
    const first = await data('steady1');
    assert.deepEqual(await data('steady1'), first);
    const others = await Promise.all(Array.from({ length: 8 }, (_, i) => data(`other${i}`)));
    assert.ok(others.some((other) => other.name !== first.name), 'names differ between client ids');
    assert.ok(new Set(others.map((other) => other.color)).size > 1, 'colors differ between client ids');
  });

  test('the client id is regex-escaped in the permissions', async () => {
    const answer = await postAuth(ts, { clientID: 'a.b*(c)' });
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual((await verify(answer.text)).permissions, expectedPermissions('a\\.b\\*\\(c\\)'));
  });

  test('optional name and color are used when valid, refused (422) when not', async () => {
    const answer = await postAuth(ts, { clientID: 'named1', name: '  Ada  Lovelace ', color: '#A1b2C3' }, 'urlencoded');
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual((await verify(answer.text)).data, { name: 'Ada Lovelace', color: '#a1b2c3' });
    const blank = await postAuth(ts, { clientID: 'named2', name: ' ', color: '' });
    assert.equal(blank.status, 200);
    assert.ok(USER_COLORS.includes((await verify(blank.text)).data.color));
    assert.equal((await postAuth(ts, { clientID: 'named3', color: 'red' })).status, 422);
    assert.equal((await postAuth(ts, { clientID: 'named4', name: 'x'.repeat(41) })).status, 422);
    assert.equal((await postAuth(ts, { clientID: 'named5', name: 'a\u0000b' })).status, 422);
  });

  test('a missing or empty clientID is 422 "No clientID defined"', async () => {
    for (const [fields, encoding] of [
      [{}, 'multipart'],
      [{ clientID: '' }, 'multipart'],
      [{ other: 'x' }, 'urlencoded'],
      [{ clientID: '' }, 'urlencoded'],
    ] as const) {
      const answer = await postAuth(ts, fields, encoding);
      assert.equal(answer.status, 422);
      assert.equal(answer.text, 'No clientID defined');
      assert.match(answer.contentType ?? '', /^text\/plain/);
    }
    const empty = await fetch(`http://127.0.0.1:${ts.server.port}/auth`, { method: 'POST' });
    assert.equal(empty.status, 422);
    assert.equal(await empty.text(), 'No clientID defined');
    const text = await fetch(`http://127.0.0.1:${ts.server.port}/auth`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'clientID=x' });
    assert.equal(text.status, 422, 'a body of another type holds no form');
  });

  test('the query string is read when the body has no clientID, as Go\'s FormValue does', async () => {
    const response = await fetch(`http://127.0.0.1:${ts.server.port}/auth?clientID=fromquery`, { method: 'POST' });
    assert.equal(response.status, 200);
    assert.equal((await verify(await response.text())).client, 'fromquery');
  });

  test('an invalid clientID is 422 with a reason', async () => {
    for (const clientID of ['has space', 'tab\there', 'x'.repeat(65), 'new\nline', 'zero\u200bwidth', 'ns:name', 'g_0123456789abcdef', 'u_0123456789abcdef']) {
      const answer = await postAuth(ts, { clientID });
      assert.equal(answer.status, 422, JSON.stringify(clientID));
      assert.ok(answer.text.length > 0 && answer.text !== 'No clientID defined', answer.text);
    }
    assert.equal((await postAuth(ts, { clientID: 'x'.repeat(64) })).status, 200);
    assert.equal((await postAuth(ts, { clientID: 'ñandú-7' })).status, 200);
  });

  test('a malformed multipart body is 400; a file part is not a field', async () => {
    const bad = await fetch(`http://127.0.0.1:${ts.server.port}/auth`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=XYZ' },
      body: '--XYZ\r\nContent-Disposition: form-data; name="clientID"\r\n\r\nabc',
    });
    assert.equal(bad.status, 400);
    const form = new FormData();
    form.append('clientID', new Blob(['from-a-file']), 'id.txt');
    const file = await fetch(`http://127.0.0.1:${ts.server.port}/auth`, { method: 'POST', body: form });
    assert.equal(file.status, 422);
    assert.equal(await file.text(), 'No clientID defined');
  });

  test('a body over the limit is refused', async () => {
    const answer = await postAuth(ts, { clientID: 'big', padding: 'p'.repeat(20_000) });
    assert.equal(answer.status, 413);
  });
});

describe('POST /auth limits', () => {
  let ts: TestServer | undefined;
  afterEach(async () => {
    await ts?.stop();
    ts = undefined;
  });

  test('requests are limited per address: 200 clients behind one address at once get tokens; past the limit 429 with Retry-After', async () => {
    ts = await startTestServer({ flags: ['--token-request-burst', '260', '--token-requests-per-minute', '1'] });
    const office = await Promise.all(Array.from({ length: 200 }, (_, i) => postAuth(ts!, { clientID: `office-${i}` })));
    assert.deepEqual(office.map((a) => a.status), Array(200).fill(200));
    const statuses: number[] = [];
    for (let i = 0; i < 65; i++) statuses.push((await postAuth(ts, { clientID: `c${i}` })).status);
    assert.deepEqual(statuses.slice(0, 60), Array(60).fill(200));
    assert.deepEqual(statuses.slice(60), Array(5).fill(429));
    const refused = await fetch(`http://127.0.0.1:${ts.server.port}/auth`, { method: 'POST', body: new URLSearchParams({ clientID: 'late' }) });
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'Retry-After in whole seconds');
  });

  test('with guest sign-in off (invite mode), /auth hands out no tokens (403) and /ws and /getAllMessages are not served', async () => {
    const server = await startTestServer({ flags: ['--no-guest-sign-in'] });
    ts = server;
    assert.equal(server.config.authMode, 'invite');
    const answer = await postAuth(ts, { clientID: 'someone' });
    assert.equal(answer.status, 403);
    assert.equal((await fetch(`http://127.0.0.1:${server.server.port}/getAllMessages`)).status, 404);
    const refused = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${server.server.port}/ws`);
      socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      socket.on('open', () => resolve(101));
      socket.on('error', () => undefined);
    });
    assert.notEqual(refused, 101, 'the seed WebSocket is refused');
  });
});
