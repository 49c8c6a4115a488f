/**
 * The broadcast chat seed's `/ws`, bridged to `room:general`: raw WebSocket
 * clients speaking `{email, username, message}` as the tutorial's page does,
 * next to chat clients on the real SDK.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import type { ChannelEvent, ChatMessage } from '../src/chat/protocol.js';
import { guestClient, waitForEvent } from './helpers/chat.js';
import { disconnectAll, rejection, subscribe } from './helpers/sdk.js';
import { allMessages, connectSeed, openSeed, type SeedClient } from './helpers/seed.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const unique = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;

/** A chat message event as a chat subscription sees it, built like the server's. */
function chatMessageEvent(seq: number, text: string): string {
  const message: ChatMessage = {
    id: `forged-${seq}`,
    channel: 'room:general',
    seq,
    author: { id: 'server-test', name: 'Server', color: '#1c7ed6' },
    text,
    createdAt: Date.now(),
    reactions: {},
  };
  return JSON.stringify({ type: 'message', message } satisfies ChannelEvent);
}

describe('/ws: the broadcast chat seed', () => {
  let ts: TestServer;
  const sockets: SeedClient[] = [];
  const track = <T extends SeedClient>(client: T): T => {
    sockets.push(client);
    return client;
  };

  before(async () => {
    ts = await startTestServer();
  });
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.terminate();
    disconnectAll();
  });
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  test('two seed clients exchange messages in the seed shape, one JSON object per text frame', async () => {
    const alice = track(await connectSeed(ts));
    const bob = track(await connectSeed(ts));
    const text = unique('hello bob');
    alice.send({ email: 'alice@example.com', username: 'alice', message: text });

    const expected = { email: '', username: 'alice', message: text };
    assert.deepEqual(await bob.waitMessage((m) => m.message === text, { from: bob.backlog }), expected);
    // The seed broadcasts to everyone, the sender included.
    assert.deepEqual(await alice.waitMessage((m) => m.message === text, { from: alice.backlog }), expected);

    const reply = unique('hi alice');
    bob.send({ email: 'bob@example.com', username: 'bob', message: reply });
    assert.deepEqual(await alice.waitMessage((m) => m.message === reply), { email: '', username: 'bob', message: reply });
    await bob.waitMessage((m) => m.message === reply);

    for (const client of [alice, bob]) {
      assert.equal(client.sawBinary, false, 'text frames only');
      assert.deepEqual(client.unparsable, [], 'every frame parses as JSON');
      assert.equal(client.frames.length, client.messages.length);
      for (const message of client.messages) assert.deepEqual(Object.keys(message).sort(), ['email', 'message', 'username']);
    }
  });

  test('a /ws message is a chat message in #general (live, in history and search) and the email goes nowhere', async () => {
    const email = `Seed.Person+${randomUUID().slice(0, 6)}@Example.com`;
    const chat = await guestClient(ts, { name: 'Watcher' });
    await chat.rpc('chat.bootstrap', {});
    const general = await subscribe(chat.client, 'room:general');
    const seed = track(await connectSeed(ts));
    const other = track(await connectSeed(ts));

    const text = unique('from the seed page');
    seed.send({ email: `  ${email} `, username: '  Seed Person ', message: text });

    const event = await waitForEvent(general, (e) => e.type === 'message' && e.message.text === text, 'the /ws message in room:general');
    assert.equal(event.type, 'message');
    const author = event.message.author;
    assert.equal(author.name, 'Seed Person');
    assert.match(author.id, /^ws:[0-9a-f]{16}$/);
    assert.equal(author.avatar, md5(email.toLowerCase()), 'Gravatar hash of the trimmed, lower-cased email');
    assert.match(author.color, /^#[0-9a-f]{6}$/);
    const live = general.publications.find((p) => (p.data as ChannelEvent).type === 'message' && (p.data as { message: ChatMessage }).message.text === text);
    assert.equal(live?.info, undefined, 'a server chat event, without publisher info');

    const history = await chat.rpc('chat.history', { channel: 'room:general', limit: 100 });
    const stored = history.messages.find((m) => m.text === text);
    assert.ok(stored, 'in chat.history');
    assert.deepEqual(stored.author, author);
    const found = await waitFor(async () => {
      const { messages } = await chat.rpc('chat.search', { query: text.split('-').at(-1) ?? text });
      return messages.find((m) => m.text === text);
    }, { message: 'the /ws message in search' });
    assert.equal(found.author.id, author.id);

    // The same username is the same user, whatever email it types; another username is another user.
    const second = unique('second');
    seed.send({ email: 'someone-else@example.com', username: 'Seed Person', message: second });
    const third = unique('third');
    seed.send({ email: email, username: 'Seed Person 2', message: third });
    const secondEvent = await waitForEvent(general, (e) => e.type === 'message' && e.message.text === second, 'second');
    const thirdEvent = await waitForEvent(general, (e) => e.type === 'message' && e.message.text === third, 'third');
    assert.equal(secondEvent.type === 'message' && secondEvent.message.author.id, author.id);
    assert.notEqual(thirdEvent.type === 'message' && thirdEvent.message.author.id, author.id);

    await other.waitMessage((m) => m.message === third);
    const everything = JSON.stringify([
      general.publications,
      history,
      found,
      seed.frames,
      other.frames,
      await allMessages(ts, 1000),
      ts.logs,
    ]).toLowerCase();
    assert.ok(everything.includes(text), 'the search covered the data');
    assert.ok(!everything.includes(email.toLowerCase()), 'the email appears nowhere');
    assert.ok(!everything.includes('someone-else@example.com'), 'no email appears anywhere');
  });

  test('chat.send from a guest in #general reaches /ws clients with an empty email; edits and deletes do not', async () => {
    const guest = await guestClient(ts, { name: 'Guest Writer', email: 'guest.writer@example.com' });
    await guest.rpc('chat.bootstrap', {});
    const seed = track(await connectSeed(ts));
    const text = unique('from the web app');
    const { message } = await guest.rpc('chat.send', { channel: 'room:general', text });
    assert.deepEqual(await seed.waitMessage((m) => m.message === text), { email: '', username: 'Guest Writer', message: text });

    await guest.rpc('chat.edit', { channel: 'room:general', id: message.id, text: `${text} (edited)` });
    await guest.rpc('chat.react', { channel: 'room:general', id: message.id, emoji: '👍' });
    await guest.rpc('chat.delete', { channel: 'room:general', id: message.id });
    // A client cannot publish a chat event into the room: only {text}, which is a chat message by that client.
    const forged = await rejection(guest.client.publish('room:general', { type: 'message', message: { seq: 1e9, author: { name: 'x' } } }));
    assert.equal(forged.code, 107);
    const marker = unique('marker');
    await guest.rpc('chat.send', { channel: 'room:general', text: marker });
    await seed.waitMessage((m) => m.message === marker);
    const after = seed.messages.slice(seed.messages.findIndex((m) => m.message === text) + 1);
    assert.deepEqual(after.map((m) => m.message), [marker], 'only the next message arrived');

    // A deleted message is left out of the backlog of new clients and of /getAllMessages.
    const late = track(await connectSeed(ts));
    assert.ok(!late.messages.some((m) => m.message === text), 'deleted message not in the backlog');
    assert.ok(late.messages.some((m) => m.message === marker));
    assert.ok(!(await allMessages(ts)).some((m) => m.message === text));
  });

  test('markup is escaped for the seed page, which renders messages as HTML', async () => {
    const guest = await guestClient(ts, { name: '<b>Bold</b>' });
    const seed = track(await connectSeed(ts));
    const text = `<img src=x onerror="alert(1)"> & it's ${randomUUID().slice(0, 6)}`;
    await guest.rpc('chat.send', { channel: 'room:general', text });
    const got = await seed.waitMessage((m) => m.message.includes('onerror'));
    assert.equal(got.message, text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;'));
    assert.equal(got.username, '&lt;b&gt;Bold&lt;/b&gt;');
  });

  test('a new client gets the recent history, then live messages: no gap and no duplicate while others are posting', async () => {
    const writers = await Promise.all([1, 2, 3].map((n) => guestClient(ts, { name: `Writer ${n}` })));
    const run = unique('run');
    const perWriter = 15;
    const joining: Promise<SeedClient>[] = [];
    const last = `${run} w0 ${perWriter - 1}`;
    await Promise.all(
      writers.map(async (writer, w) => {
        for (let i = 0; i < perWriter; i++) {
          // The first writer also opens /ws clients while all three keep posting.
          if (w === 0 && i % 3 === 1) joining.push(openSeed(ts).then(track));
          await writer.rpc('chat.send', { channel: 'room:general', text: `${run} w${w} ${i}` });
        }
      }),
    );
    const clients = await Promise.all(joining);
    const { messages } = await writers[0]!.rpc('chat.history', { channel: 'room:general', limit: 100 });
    const expected = messages.map((m) => m.text).filter((text) => text.startsWith(`${run} `));
    assert.equal(expected.length, 3 * perWriter);
    for (const [n, client] of clients.entries()) {
      await waitFor(() => expected.every((text) => client.messages.some((m) => m.message === text)), {
        timeoutMs: 10_000,
        message: `client ${n} has every message`,
      });
      const got = client.messages.map((m) => m.message).filter((text) => text.startsWith(`${run} `));
      // Every client joined with fewer than 50 messages of this run posted, so its backlog reaches back to the first.
      assert.deepEqual(got, expected, `client ${n}: every message exactly once, in the room's order`);
    }
    assert.ok(clients.every((client) => client.messages.some((m) => m.message === last)));

    // The backlog holds the latest 50 messages (deleted ones left out), oldest first.
    const late = track(await connectSeed(ts));
    assert.ok(late.messages.length >= expected.length && late.messages.length <= 50, `backlog of ${late.messages.length}`);
    assert.deepEqual(late.messages, await allMessages(ts, 50));
    assert.deepEqual(late.messages.slice(-expected.length).map((m) => m.message), expected);
  });

  test('malformed, non-object, mistyped and empty messages are ignored; the connection stays open and works', async () => {
    const seed = track(await connectSeed(ts));
    const watcher = track(await connectSeed(ts));
    const bad = unique('bad');
    seed.sendRaw('{not json');
    seed.sendRaw(`"${bad}"`);
    seed.sendRaw('42');
    seed.sendRaw('null');
    seed.sendRaw(JSON.stringify([{ message: bad }]));
    seed.send({ email: 'x@example.com', username: 'x', message: 42 });
    seed.send({ email: 'x@example.com', username: { name: bad }, message: bad });
    seed.send({ email: ['x'], username: 'x', message: bad });
    seed.send({ email: 'x@example.com', username: 'x' });
    seed.send({ email: 'x@example.com', username: 'x', message: '' });
    seed.send({ email: 'x@example.com', username: 'x', message: '   \n\t ' });
    seed.send({ email: 'x@example.com', username: 'x', message: `${bad} ${'y'.repeat(4001)}` });
    seed.ws.send(Buffer.from(JSON.stringify({ username: 'x', message: bad })), { binary: true });

    const good = unique('still works');
    // Missing or null email and username are fine: the author is anonymous.
    seed.send({ email: null, message: good });
    assert.deepEqual(await watcher.waitMessage((m) => m.message === good), { email: '', username: 'anonymous', message: good });
    await seed.waitMessage((m) => m.message === good);
    assert.equal(seed.closed, undefined);
    assert.deepEqual(
      watcher.messages.slice(watcher.backlog).map((m) => m.message),
      [good],
      'nothing invalid was broadcast',
    );
    assert.ok(!(await allMessages(ts, 1000)).some((m) => m.message.includes(bad)), 'nothing invalid was stored');
    assert.ok(ts.logs.some((line) => line.includes('malformed seed message; ignored')), 'logged at debug');
    assert.ok(ts.logs.some((line) => line.includes('binary frame from a seed client; ignored')));
  });

  test('messages over the rate limit are ignored; a flood closes the connection with 1008', async () => {
    const seed = track(await connectSeed(ts));
    const watcher = track(await connectSeed(ts));
    const run = unique('rate');
    for (let i = 0; i < 60; i++) seed.send({ username: 'fast', message: `${run} ${i}` });
    const marker = unique('after the burst');
    // Tokens come back at 20 per second: wait for one, then the client can post again.
    await waitFor(async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      seed.send({ username: 'fast', message: marker });
      return watcher.messages.some((m) => m.message === marker);
    }, { message: 'a message after the burst' });
    const posted = watcher.messages.filter((m) => m.message.startsWith(`${run} `)).map((m) => m.message);
    assert.ok(posted.length >= 40 && posted.length < 50, `${posted.length} of 60 burst messages posted`);
    assert.deepEqual(posted, posted.map((_, i) => `${run} ${i}`), 'the first ones, in order');
    assert.equal(seed.closed, undefined, 'a burst is not a flood');

    for (let i = 0; i < 400; i++) seed.send({ username: 'fast', message: `${run} flood ${i}` });
    const closed = await seed.waitClose();
    assert.equal(closed.code, 1008);
    assert.equal(watcher.closed, undefined);
  });
});

describe('/ws: limits and shutdown', () => {
  test('an oversized frame closes with 1009 and the server keeps serving /ws', async () => {
    const ts = await startTestServer({ flags: ['--max-message-size', '4096'] });
    try {
      const big = await openSeed(ts);
      big.send({ email: '', username: 'big', message: 'x'.repeat(5000) });
      assert.equal((await big.waitClose()).code, 1009);
      const next = await connectSeed(ts);
      const text = unique('after the big one');
      next.send({ username: 'small', message: text });
      await next.waitMessage((m) => m.message === text);
      assert.ok(!(await allMessages(ts)).some((m) => m.username === 'big'));
      next.terminate();
    } finally {
      await ts.stop();
    }
  });

  test('a /ws client that stops reading is dropped; the others get every message', async () => {
    const ts = await startTestServer({ flags: ['--max-queued-bytes', '262144', '--max-message-size', '65536'] });
    try {
      const slow = await connectSeed(ts);
      const fast = await connectSeed(ts);
      // Stop reading: the kernel buffers fill, then the server's buffers for this client.
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();

      const node = ts.server.node;
      const channel = node.channels.resolve('room:general');
      const blob = 'y'.repeat(30_000);
      let sent = 0;
      await waitFor(
        async () => {
          // One at a time, yielding between publishes, so a client that reads keeps up.
          for (let i = 0; i < 10; i++, sent++) {
            await node.publish(channel, { data: chatMessageEvent(1_000_000 + sent, `${sent} ${blob}`) });
            await new Promise((resolve) => setImmediate(resolve));
          }
          return ts.logs.some((line) => line.includes('slow seed client dropped'));
        },
        { timeoutMs: 30_000, message: 'slow seed client dropped' },
      );
      assert.ok(sent < 2000, 'dropped well before everything was queued');
      await waitFor(() => fast.messages.length - fast.backlog === sent, {
        timeoutMs: 10_000,
        message: `fast got ${fast.messages.length - fast.backlog} of ${sent}`,
      });
      assert.deepEqual(
        fast.messages.slice(fast.backlog).map((m) => Number(m.message.split(' ', 1)[0])),
        Array.from({ length: sent }, (_, i) => i),
      );
      assert.equal(fast.closed, undefined);

      (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      const closed = await slow.waitClose(10_000);
      assert.ok([1006, 1008].includes(closed.code), `slow client closed with ${closed.code}`);
      fast.terminate();
    } finally {
      await ts.stop();
    }
  });

  test('a client that stops answering WebSocket pings is cut; one that answers stays', async () => {
    const ts = await startTestServer({ flags: ['--ping-interval', '1', '--pong-timeout', '500ms'] });
    try {
      const alive = await connectSeed(ts);
      let pings = 0;
      alive.ws.on('ping', () => pings++);
      const silent = await openSeed(ts, { autoPong: false });
      const closed = await silent.waitClose(5000);
      assert.equal(closed.code, 1006, 'cut without a close handshake');
      await waitFor(() => pings >= 2, { timeoutMs: 5000, message: 'two pings at the live client' });
      assert.equal(alive.closed, undefined);
      const text = unique('still here');
      alive.send({ username: 'alive', message: text });
      await alive.waitMessage((m) => m.message === text);
      alive.terminate();
    } finally {
      await ts.stop();
    }
  });

  test('shutdown closes /ws clients with 1001 (going away)', async () => {
    const ts = await startTestServer();
    const seed = await connectSeed(ts);
    const other = await connectSeed(ts);
    const text = unique('before shutdown');
    seed.send({ username: 'leaving', message: text });
    await other.waitMessage((m) => m.message === text);
    await ts.stop();
    assert.equal((await seed.waitClose()).code, 1001);
    assert.equal((await other.waitClose()).code, 1001);
  });
});
