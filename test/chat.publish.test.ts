/**
 * One meaning for a chat message: a client's `publish` of `{text}` into a
 * conversation is `chat.send` by that client (same checks, storage, search,
 * events, `/ws` and `/getAllMessages`), anything else is refused there; and
 * server API messages under different names show as different authors.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { colorForUser } from '../src/chat/names.js';
import type { ChannelEvent, ChatMessage } from '../src/chat/protocol.js';
import { apiResult } from './helpers/api.js';
import { assertRpcError, guestClient, rpcError, waitForEvent } from './helpers/chat.js';
import { disconnectAll, rejection, subscribe, type TestSubscription } from './helpers/sdk.js';
import { allMessages, connectSeed, type SeedClient } from './helpers/seed.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

type MessageEvent = Extract<ChannelEvent, { type: 'message' }>;
type Guest = Awaited<ReturnType<typeof guestClient>>;

const unique = (label: string): string => `${label} ${randomUUID().slice(0, 8)}`;
const messageEvents = (sub: TestSubscription): MessageEvent[] =>
  sub.publications.map((p) => p.data as ChannelEvent).filter((e): e is MessageEvent => e.type === 'message');

let ts: TestServer;
const seeds: SeedClient[] = [];

before(async () => {
  ts = await startTestServer();
});
afterEach(() => {
  disconnectAll();
  for (const seed of seeds.splice(0)) seed.terminate();
});
after(async () => {
  disconnectAll();
  await ts?.stop();
});

describe('chat: a client publish into a conversation is a chat message', () => {
  async function guest(name: string): Promise<Guest> {
    const made = await guestClient(ts, { name });
    await made.rpc('chat.bootstrap', {});
    return made;
  }

  test('{text} into room:general: the chat event for others, /ws, /getAllMessages, chat.history and chat.search; acknowledged once stored', async () => {
    const ann = await guest('Ann');
    const bob = await guest('Bob');
    const room = await subscribe(bob.client, 'room:general');
    const seed = await connectSeed(ts);
    seeds.push(seed);
    const text = unique('published with the SDK');

    await ann.client.publish('room:general', { text });
    // The acknowledgement came after the message was stored: it is already in the history, for anyone.
    const { messages } = await bob.rpc('chat.history', { channel: 'room:general', limit: 100 });
    const stored = messages.find((m) => m.text === text);
    assert.ok(stored, 'in chat.history as soon as the publish is acknowledged');
    assert.deepEqual(stored.author, { id: ann.user.id, name: 'Ann', color: ann.guest.user.color }, 'by the publisher, as chat.send would be');

    const event = await waitForEvent<MessageEvent>(room, (e) => e.type === 'message' && e.message.text === text, 'the chat event at Bob');
    assert.deepEqual(event.message, stored);
    const publication = room.publications.find((p) => p.data === event)!;
    assert.equal(publication.info, undefined, 'a chat event, published by the server');
    assert.ok(!room.publications.some((p) => (p.data as { text?: string }).text === text), 'the raw payload is not delivered');

    assert.deepEqual(await seed.waitMessage((m) => m.message === text), { email: '', username: 'Ann', message: text });
    assert.deepEqual((await allMessages(ts)).at(-1), { email: '', username: 'Ann', message: text });
    const found = await bob.rpc('chat.search', { query: text.split(' ').at(-1)! });
    assert.deepEqual(found.messages.map((m) => m.id), [stored.id]);
  });

  test('{text} into a DM: the chat event for the other member, chat.history and chat.search; others are refused', async () => {
    const ann = await guest('Ann');
    const bob = await guest('Bob');
    const carol = await guest('Carol');
    const { conversation } = await ann.rpc('chat.openDm', { user: bob.user.id });
    const dm = await subscribe(bob.client, conversation.channel);
    const text = unique('a direct message');

    await ann.client.publish(conversation.channel, { text, nonce: 'dm-1' });
    await ann.client.publish(conversation.channel, { text, nonce: 'dm-1' });
    const event = await waitForEvent<MessageEvent>(dm, (e) => e.type === 'message', 'the DM at Bob');
    assert.equal(event.message.text, text);
    assert.equal(event.message.author.id, ann.user.id);
    const { messages } = await bob.rpc('chat.history', { channel: conversation.channel });
    assert.deepEqual(messages, [event.message], 'a repeated nonce posts once, as with chat.send');
    const found = await bob.rpc('chat.search', { query: text.split(' ').at(-1)! });
    assert.deepEqual(found.messages.map((m) => m.id), [event.message.id]);

    const refused = await rejection(carol.client.publish(conversation.channel, { text: 'let me in' }));
    assert.equal(refused.code, 103);
  });

  test('invalid text gets the same 107 error as chat.send, and nothing is posted', async () => {
    const ann = await guest('Ann');
    const room = await subscribe(ann.client, 'room:general');
    for (const text of ['', ' \n\t ', 'x'.repeat(4001), 'bell \u0007']) {
      const viaRpc = await rpcError(ann.rpc('chat.send', { channel: 'room:general', text }));
      const viaPublish = await rejection(ann.client.publish('room:general', { text }));
      assert.equal(viaRpc.code, 107);
      assert.deepEqual({ code: viaPublish.code, message: viaPublish.message }, { code: viaRpc.code, message: viaRpc.message });
    }
    const marker = unique('marker');
    await ann.client.publish('room:general', { text: marker });
    await waitForEvent<MessageEvent>(room, (e) => e.type === 'message' && e.message.text === marker, 'the marker');
    assert.deepEqual(room.publications.map((p) => (p.data as MessageEvent).message?.text), [marker], 'only the valid message was published');
  });

  test('any other payload is refused with 107: no forged message, edit or deletion reaches anyone', async () => {
    const ann = await guest('Ann');
    const bob = await guest('Bob');
    const { message } = await bob.rpc('chat.send', { channel: 'room:general', text: unique("Bob's message") });
    const room = await subscribe(bob.client, 'room:general');
    const seed = await connectSeed(ts);
    seeds.push(seed);
    const forgeries: unknown[] = [
      { type: 'message', message: { ...message, id: 'forged', text: 'forged', seq: message.seq + 1 } },
      { type: 'edit', id: message.id, text: 'edited by someone else', editedAt: Date.now() },
      { type: 'delete', id: message.id },
      { type: 'reactions', id: message.id, reactions: { '💩': [bob.user.id] } },
      { type: 'typing', user: message.author },
      { text: 42 },
      ['text'],
      42,
      null,
    ];
    for (const data of forgeries) {
      const error = await rejection(ann.client.publish('room:general', data)).catch((e: Error) => assert.fail(`${JSON.stringify(data)}: ${e.message}`));
      assert.equal(error.code, 107, JSON.stringify(data));
      assert.match(error.message, /Only chat messages can be published in a conversation: publish \{"text": "\.\.\."\}/);
    }
    const marker = unique('marker');
    await ann.client.publish('room:general', { text: marker });
    await waitForEvent<MessageEvent>(room, (e) => e.type === 'message' && e.message.text === marker, 'the marker');
    assert.equal(room.publications.length, 1, 'nothing but the marker was published');
    await seed.waitMessage((m) => m.message === marker);
    assert.deepEqual(seed.messages.slice(seed.backlog).map((m) => m.message), [marker]);
    const { messages } = await bob.rpc('chat.history', { channel: 'room:general', limit: 100 });
    assert.deepEqual(messages.find((m) => m.id === message.id), message, "Bob's message is untouched");
  });

  test('a room: channel that is no room is a plain channel: publications pass as given, with the publisher', async () => {
    const ann = await guest('Ann');
    const bob = await guest('Bob');
    const plain = await subscribe(bob.client, 'room:not-created');
    await ann.client.publish('room:not-created', { type: 'message', anything: true });
    const [publication] = await waitFor(() => (plain.publications.length > 0 ? plain.publications : undefined), { message: 'the plain publication' });
    assert.deepEqual(publication!.data, { type: 'message', anything: true });
    assert.equal(publication!.info?.user, ann.user.id, 'apps can tell it is no chat event');
    await assertRpcError(bob.rpc('chat.history', { channel: 'room:not-created' }), 102);
  });

  test('200 messages published at once by 5 clients: each stored once, delivered once to every subscriber, in seq order', async () => {
    const writers = await Promise.all(['W1', 'W2', 'W3', 'W4', 'W5'].map((name) => guest(name)));
    const readers = await Promise.all(['R1', 'R2'].map(async (name) => subscribe((await guest(name)).client, 'room:general')));
    const seed = await connectSeed(ts);
    seeds.push(seed);
    const tag = randomUUID().slice(0, 8);
    await Promise.all(
      writers.flatMap((writer, w) => Array.from({ length: 40 }, (_, i) => writer.client.publish('room:general', { text: `burst ${tag} ${w}-${i}` }))),
    );
    const texts = (list: readonly { text: string }[]): string[] => list.map((m) => m.text).filter((text) => text.includes(tag));
    const stored = (await allMessages(ts, 1000)).map((m) => m.message).filter((text) => text.includes(tag));
    assert.equal(stored.length, 200);
    assert.equal(new Set(stored).size, 200, 'each message once');
    const history: ChatMessage[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await writers[0]!.rpc('chat.history', { channel: 'room:general', limit: 100, ...(before === undefined ? {} : { before }) });
      history.unshift(...page.messages);
      if (!page.hasMore || texts(page.messages).length < page.messages.length) break;
      before = page.messages[0]!.seq;
    }
    assert.deepEqual(texts(history), stored, 'chat.history and /getAllMessages agree');
    for (const reader of readers) {
      await waitFor(() => texts(messageEvents(reader).map((e) => e.message)).length === 200, { message: 'every message at a reader' });
      const seqs = messageEvents(reader).map((e) => e.message.seq);
      assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), 'in seq order');
      assert.deepEqual(texts(messageEvents(reader).map((e) => e.message)), stored);
    }
    await waitFor(() => seed.messages.filter((m) => m.message.includes(tag)).length === 200, { message: 'every message on /ws' });
  });
});

describe('server api: every author name is its own author', () => {
  test('"CI", "Deploy bot", "CI", no name: each message shows its own name in the event, chat.history, /getAllMessages and /ws', async () => {
    const reader = await guestClient(ts, { name: 'Reader' });
    await reader.rpc('chat.bootstrap', {});
    const room = await subscribe(reader.client, 'room:general');
    const seed = await connectSeed(ts);
    seeds.push(seed);
    const tag = randomUUID().slice(0, 8);
    const posts = [
      { text: `build passed ${tag}`, username: 'CI' },
      { text: `deployed ${tag}`, username: 'Deploy bot' },
      { text: `build failed ${tag}`, username: 'CI' },
      { text: `maintenance ${tag}` },
    ];
    for (const data of posts) await apiResult(ts, 'publish', { channel: 'room:general', data });
    const names = ['CI', 'Deploy bot', 'CI', 'Server'];

    await waitFor(() => messageEvents(room).length === 4, { message: 'four chat events' });
    const authors = messageEvents(room).map((e) => e.message.author);
    assert.deepEqual(authors.map((a) => a.name), names);
    for (const author of authors) {
      assert.match(author.id, /^api:[0-9a-f]{16}$/);
      assert.equal(author.color, colorForUser(author.id), 'a color of its own, from its id');
    }
    assert.equal(authors[0]!.id, authors[2]!.id, 'the same name is the same author');
    assert.equal(new Set(authors.map((a) => a.id)).size, 3, 'different names are different authors');

    const { messages } = await reader.rpc('chat.history', { channel: 'room:general', limit: 100 });
    assert.deepEqual(messages.filter((m) => m.text.includes(tag)).map((m) => m.author), authors);
    assert.deepEqual(
      (await allMessages(ts)).filter((m) => m.message.includes(tag)).map((m) => m.username),
      names,
    );
    await seed.waitMessage((m) => m.message === `maintenance ${tag}`);
    assert.deepEqual(seed.messages.slice(seed.backlog).map((m) => m.username), names);
  });

  test('an API author with a signed-in user\'s name is not that user', async () => {
    const ann = await guestClient(ts, { name: 'Ann' });
    await ann.rpc('chat.bootstrap', {});
    const room = await subscribe(ann.client, 'room:general');
    await apiResult(ts, 'publish', { channel: 'room:general', data: { text: unique('not really Ann'), username: 'Ann' } });
    const event = await waitForEvent<MessageEvent>(room, (e) => e.type === 'message', 'the message');
    assert.equal(event.message.author.name, 'Ann');
    assert.notEqual(event.message.author.id, ann.user.id);
    await assertRpcError(ann.rpc('chat.edit', { channel: 'room:general', id: event.message.id, text: 'mine?' }), 103);
    await assertRpcError(ann.rpc('chat.delete', { channel: 'room:general', id: event.message.id }), 103);
  });
});
