/**
 * The node on its own: fan-out encodes a publication once for all local
 * listeners, and recovery is all-or-nothing.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { MemoryBroker } from '../src/broker/memory-broker.js';
import { ChannelResolver } from '../src/channel/channel.js';
import { loadConfig } from '../src/config/schema.js';
import { createLogger } from '../src/log/logger.js';
import { Node, type ChannelListener } from '../src/node/node.js';
import { MemoryPresence } from '../src/presence/memory-presence.js';
import { jsonCodec } from '../src/protocol/json-codec.js';
import { protobufCodec } from '../src/protocol/protobuf-codec.js';
import { pb } from '../src/protocol/protobuf-schema.js';
import type { Codec } from '../src/protocol/codec.js';
import { SharedPush } from '../src/protocol/shared-push.js';
import type { Publication } from '../src/protocol/types.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { SlowRecoveryStore } from './helpers/slow-store.js';

async function makeNode(file?: Record<string, unknown>, store: MemoryStore = new MemoryStore()) {
  const config = await loadConfig({ argv: [], env: {}, cwd: '/tmp' });
  const merged = file ? { ...config, ...file } : config;
  await store.open();
  const logger = createLogger(config, { destination: new Writable({ write: (_c, _e, done) => done() }) });
  const node = new Node({
    config: merged as typeof config,
    store,
    broker: new MemoryBroker(),
    presence: new MemoryPresence(),
    channels: new ChannelResolver(merged as typeof config),
    logger,
  });
  return { node, store };
}

/** A listener taking each event's bytes in `codec`'s encoding, as a session's subscription does. */
function listener(codec = jsonCodec) {
  const frames: Buffer[] = [];
  const publications: Publication[] = [];
  const pushes: SharedPush[] = [];
  const l: ChannelListener & { frames: Buffer[]; publications: Publication[]; pushes: SharedPush[] } = {
    frames,
    publications,
    pushes,
    onPublication: (_channel, publication, push) => {
      publications.push(publication);
      pushes.push(push);
      frames.push(push.bytes(codec));
    },
    onJoinLeave: (_channel, push) => frames.push(push.bytes(codec)),
  };
  return l;
}

describe('Node', () => {
  test('a publication is encoded once: every listener gets the same bytes', async () => {
    const { node } = await makeNode();
    const channel = node.channels.resolve('room:fanout');
    const listeners = [listener(), listener(), listener()];
    for (const l of listeners) await node.attach(channel, l);
    await node.publish(channel, { data: '{"text":"hi"}' });
    const [first, ...rest] = listeners.map((l) => l.frames[0]);
    assert.ok(first);
    for (const frame of rest) assert.equal(frame, first, 'same Buffer instance');
    assert.deepEqual(JSON.parse(first.toString()), { push: { channel: 'room:fanout', pub: { data: { text: 'hi' }, offset: 1 } } });
    await node.close();
  });

  test('a publication is encoded once per encoding: listeners of one encoding share the same bytes', async () => {
    const { node } = await makeNode();
    const channel = node.channels.resolve('room:codecs');
    const json = [listener(jsonCodec), listener(jsonCodec)];
    const protobuf = [listener(protobufCodec), listener(protobufCodec)];
    for (const l of [json[0], protobuf[0], json[1], protobuf[1]]) await node.attach(channel, l!);
    await node.publish(channel, { data: '{"text":"hé"}' });
    assert.equal(json[0]!.frames[0], json[1]!.frames[0], 'one JSON Buffer for every JSON listener');
    assert.equal(protobuf[0]!.frames[0], protobuf[1]!.frames[0], 'one Protobuf Buffer for every Protobuf listener');
    const bytes = protobuf[0]!.frames[0]!;
    const reply = pb.Reply.decode(bytes.subarray(1), bytes[0]);
    assert.equal(reply.push?.channel, 'room:codecs');
    assert.equal(Buffer.from(reply.push?.pub?.data ?? []).toString(), '{"text":"hé"}', 'the payload is the JSON text as UTF-8');
    await node.close();
  });

  test('a shared push is encoded lazily, at most once per codec: a JSON-only channel never pays for Protobuf', () => {
    const encoded: string[] = [];
    const counting = (codec: Codec): Codec => ({ ...codec, push: (push) => (encoded.push(codec.name), codec.push(push)) });
    const json = counting(jsonCodec);
    const protobuf = counting(protobufCodec);
    const push = new SharedPush({ type: 'pub', channel: 'room:lazy', pub: { data: '{"n":1}', offset: 1 } });
    assert.deepEqual(encoded, [], 'nothing is encoded before a receiver asks');
    const first = push.bytes(json);
    for (let i = 0; i < 3; i++) assert.equal(push.bytes(json), first);
    assert.deepEqual(encoded, ['json']);
    const bytes = push.bytes(protobuf);
    assert.equal(push.bytes(protobuf), bytes);
    assert.equal(push.bytes(json), first);
    assert.deepEqual(encoded, ['json', 'protobuf']);
  });

  test('publications get consecutive offsets in call order and are delivered in that order', async () => {
    const { node } = await makeNode();
    const channel = node.channels.resolve('room:order');
    const l = listener();
    await node.attach(channel, l);
    await Promise.all(Array.from({ length: 100 }, (_, i) => node.publish(channel, { data: String(i) })));
    assert.deepEqual(l.publications.map((p) => p.offset), Array.from({ length: 100 }, (_, i) => i + 1));
    assert.deepEqual(l.publications.map((p) => p.data), Array.from({ length: 100 }, (_, i) => String(i)));
    await node.close();
  });

  test('recovery returns every missed publication or reports failure, never a part', async () => {
    const { node } = await makeNode();
    const channel = node.channels.resolve('room:recover');
    for (let i = 0; i < 10; i++) await node.publish(channel, { data: String(i) });
    const position = (await node.attach(channel, listener())).position!;
    const ok = await node.attach(channel, listener(), { offset: 4, epoch: position.epoch });
    assert.equal(ok.recovered, true);
    assert.deepEqual(ok.publications!.map((p) => p.offset), [5, 6, 7, 8, 9, 10]);
    const wrongEpoch = await node.attach(channel, listener(), { offset: 4, epoch: 'other' });
    assert.equal(wrongEpoch.recovered, false);
    assert.equal(wrongEpoch.publications, undefined);
    assert.deepEqual(wrongEpoch.position, position);
    await node.close();
  });

  test('recovery fails when the history window no longer holds every missed publication', async () => {
    const { node } = await makeNode();
    const channel = node.channels.resolve('room:window');
    const small = { ...channel, options: { ...channel.options, historySize: 3 } };
    for (let i = 0; i < 10; i++) await node.publish(small, { data: String(i) });
    const result = await node.attach(small, listener(), { offset: 5, epoch: '' });
    assert.equal(result.recovered, false);
    assert.equal(result.position!.offset, 10);
    const close = await node.attach(small, listener(), { offset: 7, epoch: '' });
    assert.equal(close.recovered, true);
    assert.deepEqual(close.publications!.map((p) => p.offset), [8, 9, 10]);
    await node.close();
  });

  test('rpc: registered methods answer, unknown ones are 104', async () => {
    const { node } = await makeNode();
    node.registerRpc('double', (_ctx, data) => (data as number) * 2);
    const context = { user: 'u', client: 'c', info: { user: 'u', client: 'c' } };
    assert.equal(await node.callRpc('double', context, 21), 42);
    await assert.rejects(node.callRpc('triple', context, 1), { code: 104 });
    await node.close();
  });

  test('listeners recovering from one position share a store read only while nothing was delivered since it started', async () => {
    const store = new SlowRecoveryStore();
    const { node } = await makeNode(undefined, store);
    const channel = node.channels.resolve('room:storm');
    await node.publish(channel, { data: '{"n":1}' });
    const { epoch } = await store.position('room:storm');
    // The node already follows the channel (another subscriber), so the next store read is a recovery.
    await node.attach(channel, listener());
    const first = listener();
    const held = store.holdNextRecovery();
    const firstAttach = node.attach(channel, first, { offset: 0, epoch });
    const release = await held;
    // Offset 2 is committed and delivered while the first read (which saw only offset 1) is held up.
    await node.publish(channel, { data: '{"n":2}' });
    assert.deepEqual(first.publications.map((p) => p.offset), [2], 'the first listener holds offset 2 from live delivery');
    const second = listener();
    const secondAttach = node.attach(channel, second, { offset: 0, epoch });
    // Let the second attach reach its store read while the first is still held.
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const [a, b] = await Promise.all([firstAttach, secondAttach]);
    assert.deepEqual([a.position?.offset, a.publications?.map((p) => p.offset)], [1, [1]]);
    // Had the second listener joined the held read, it would answer offset 1 and hold nothing: offset 2 lost.
    assert.equal(b.position?.offset, 2, 'the second listener got a read made after offset 2 was delivered');
    assert.deepEqual(b.publications?.map((p) => p.offset), [1, 2]);
    await node.close();
  });
});
