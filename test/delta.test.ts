/**
 * Fossil delta compression on the wire, with raw WebSocket clients: the
 * exact JSON shapes (whole payloads as JSON strings, patches with
 * `delta: true`), when a publication goes whole, recovery and history, bad
 * requests and configuration, and that fan-out computes one patch per
 * publication however many subscribers receive it.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { applyDelta, createDelta } from 'fossil-delta';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { commandAsker, connectRaw, type RawClient } from './helpers/raw-client.js';
import { SlowRecoveryStore } from './helpers/slow-store.js';
import { waitFor } from './helpers/wait.js';
import { ChannelListeners, type ChannelListener } from '../src/node/channel-listeners.js';
import type { Codec } from '../src/protocol/codec.js';
import { fossilPatch } from '../src/protocol/delta-push.js';
import { jsonCodec } from '../src/protocol/json-codec.js';
import { protobufCodec } from '../src/protocol/protobuf-codec.js';

/** A large document of which each version changes a little. */
function docText(version: number): string {
  const rows = Array.from({ length: 40 }, (_, i) => ({ id: i, value: i === version % 40 ? version : i, note: `row ${i}, ünchanged` }));
  return JSON.stringify({ version, rows });
}

/** The text a patch (a `data` string of the wire) makes of a base text. */
function patched(base: string, patch: string): string {
  return Buffer.from(applyDelta(Buffer.from(base), Buffer.from(patch))).toString('utf8');
}

describe('delta compression on the wire', () => {
  let ts: TestServer;
  let token: string;
  const clients: RawClient[] = [];

  before(async () => {
    ts = await startTestServer({
      file: {
        namespaces: {
          deltas: { historySize: 100, recover: true, allowedDeltaTypes: ['fossil'] },
          plain: { historySize: 100, recover: true },
        },
      },
    });
    token = await mintToken({ sub: 'alice' });
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });
  after(async () => {
    await ts?.stop();
  });

  async function rawClient(): Promise<{ client: RawClient; ask: ReturnType<typeof commandAsker> }> {
    const client = await connectRaw(ts.wsUrl, token);
    clients.push(client);
    return { client, ask: commandAsker(client) };
  }

  async function publishTexts(name: string, texts: readonly string[], options: { history?: boolean } = {}): Promise<void> {
    const channel = ts.server.node.channels.resolve(name);
    for (const data of texts) await ts.server.node.publish(channel, { data }, options);
  }

  /** The `pub` objects of the pushes a client received for a channel, once there are `count`. */
  function pubs(client: RawClient, channel: string, count: number): Promise<Record<string, any>[]> {
    return waitFor(
      () => {
        const found = client.received.filter((line) => line.push?.channel === channel && line.push.pub).map((line) => line.push.pub);
        return found.length >= count ? found : undefined;
      },
      { message: `${count} publications of ${channel}` },
    );
  }

  async function patchesMade(): Promise<number> {
    const metric = await ts.server.metrics.registry.getSingleMetric('parley_delta_patches_total')?.get();
    return metric?.values[0]?.value ?? 0;
  }

  test('JSON: the reply says delta; the first publication is its JSON text in a string, the next ones patches of it', async () => {
    const { client, ask } = await rawClient();
    const reply = await ask('subscribe', { channel: 'deltas:wire', delta: 'fossil' });
    assert.equal(reply.subscribe.delta, true);
    await publishTexts('deltas:wire', [docText(1), docText(2), docText(3)]);
    const [first, second, third] = await pubs(client, 'deltas:wire', 3);
    assert.deepEqual(Object.keys(first!).sort(), ['data', 'offset']);
    assert.equal(first!.data, docText(1), 'a string holding the JSON text');
    assert.equal(second!.delta, true);
    assert.equal(typeof second!.data, 'string');
    assert.ok(second!.data.length < docText(2).length / 4, 'a patch is much smaller than the payload');
    assert.equal(patched(docText(1), second!.data), docText(2));
    assert.equal(third!.delta, true);
    assert.equal(patched(docText(2), third!.data), docText(3));
  });

  test('a payload whose patch would not be smaller goes whole, and an ephemeral one too, which breaks the chain', async () => {
    const { client, ask } = await rawClient();
    await ask('subscribe', { channel: 'deltas:whole', delta: 'fossil' });
    await publishTexts('deltas:whole', ['{"a":1}', '{"b":2}', docText(1)]);
    await publishTexts('deltas:whole', ['{"typing":true}'], { history: false });
    await publishTexts('deltas:whole', [docText(2), docText(3)]);
    const received = await pubs(client, 'deltas:whole', 6);
    assert.deepEqual(
      received.map((pub) => [pub.data, pub.delta ?? false]),
      [['{"a":1}', false], ['{"b":2}', false], [docText(1), false], ['{"typing":true}', false], [docText(2), false], [received[5]!.data, true]],
    );
    assert.equal(patched(docText(2), received[5]!.data), docText(3));
  });

  test('JSON: a patch that cuts a character in two (not UTF-8, so no JSON string) goes whole', async () => {
    const base = JSON.stringify({ text: '€'.repeat(200) });
    const target = JSON.stringify({ text: `${'€'.repeat(100)}₭${'€'.repeat(99)}` });
    assert.equal(isUtf8(createDelta(Buffer.from(base), Buffer.from(target))), false, 'the patch splits "₭" from the "€" bytes it shares');
    const { client, ask } = await rawClient();
    await ask('subscribe', { channel: 'deltas:utf8', delta: 'fossil' });
    const before = await patchesMade();
    await publishTexts('deltas:utf8', [base, target]);
    const received = await pubs(client, 'deltas:utf8', 2);
    assert.deepEqual(received.map((pub) => [pub.data, pub.delta ?? false]), [[base, false], [target, false]]);
    assert.equal(await patchesMade(), before + 1, 'the patch was made, and not sent');
  });

  test('a namespace that allows no delta: no delta in the reply, payloads as JSON values', async () => {
    const { client, ask } = await rawClient();
    const reply = await ask('subscribe', { channel: 'plain:wire', delta: 'fossil' });
    assert.equal('delta' in reply.subscribe, false);
    await publishTexts('plain:wire', [docText(1), docText(2)]);
    const received = await pubs(client, 'plain:wire', 2);
    assert.deepEqual(received.map((pub) => pub.data), [JSON.parse(docText(1)), JSON.parse(docText(2))]);
    assert.ok(received.every((pub) => !('delta' in pub)));
  });

  test('an unknown delta type is a bad request', async () => {
    const { client } = await rawClient();
    client.command(10, 'subscribe', { channel: 'deltas:bad', delta: 'xdelta' });
    assert.equal((await client.waitClose()).code, 3501);
  });

  test('recovery: the first recovered publication whole, the next ones patches; history is never compressed', async () => {
    await publishTexts('deltas:recover', [docText(1), docText(2), docText(3), docText(4)]);
    const { client, ask } = await rawClient();
    const epoch = (await ask('history', { channel: 'deltas:recover', limit: 0 })).history.epoch as string;
    const reply = await ask('subscribe', { channel: 'deltas:recover', delta: 'fossil', recover: true, offset: 1, epoch });
    assert.equal(reply.subscribe.recovered, true);
    assert.equal(reply.subscribe.delta, true);
    const [p2, p3, p4] = reply.subscribe.publications as Record<string, any>[];
    assert.deepEqual([p2!.offset, p2!.data, p2!.delta], [2, docText(2), undefined]);
    assert.deepEqual([p3!.offset, p3!.delta, p4!.offset, p4!.delta], [3, true, 4, true]);
    assert.equal(patched(docText(2), p3!.data), docText(3));
    assert.equal(patched(docText(3), p4!.data), docText(4));

    // The last recovered one is the base of the next live one (the node kept none before: it goes whole, then patches).
    await publishTexts('deltas:recover', [docText(5), docText(6)]);
    const [p5, p6] = await pubs(client, 'deltas:recover', 2);
    assert.equal(p5!.data, docText(5));
    assert.equal(patched(docText(5), p6!.data), docText(6));

    const history = await ask('history', { channel: 'deltas:recover', limit: 10 });
    assert.deepEqual(history.history.publications.map((pub: Record<string, any>) => pub.data), [1, 2, 3, 4, 5, 6].map((v) => JSON.parse(docText(v))));
  });

  test('fan-out computes one patch per publication however many subscribers, and none without delta subscribers', async () => {
    const subscribers = await Promise.all(Array.from({ length: 20 }, () => rawClient()));
    const plain = await rawClient();
    await plain.ask('subscribe', { channel: 'deltas:many' });
    await publishTexts('deltas:many', [docText(0)]);
    const before = await patchesMade();
    await publishTexts('deltas:many', [docText(1), docText(2)]);
    await pubs(plain.client, 'deltas:many', 3);
    assert.equal(await patchesMade(), before, 'a channel without delta subscribers makes no patches');

    for (const { ask } of subscribers) await ask('subscribe', { channel: 'deltas:many', delta: 'fossil' });
    await publishTexts('deltas:many', [3, 4, 5, 6].map(docText));
    for (const { client } of subscribers) {
      const received = await pubs(client, 'deltas:many', 4);
      assert.deepEqual(received.map((pub) => pub.delta ?? false), [false, true, true, true]);
      assert.equal(patched(docText(5), received[3]!.data), docText(6));
    }
    assert.equal(await patchesMade(), before + 3, 'publications 4, 5 and 6 each patched once for all 20 subscribers');
  });

  test('a namespace that keeps no history cannot allow delta; unknown delta types are refused', async () => {
    await assert.rejects(
      startTestServer({ file: { namespaces: { live: { allowedDeltaTypes: ['fossil'] } } } }),
      /namespaces\.live\.allowedDeltaTypes needs history/,
    );
    await assert.rejects(
      startTestServer({ file: { namespaces: { live: { historySize: 10, allowedDeltaTypes: ['xdelta'] } } } }),
      /namespaces\.live\.allowedDeltaTypes\[0\] must be one of fossil/,
    );
  });
});

describe('delta compression of events held during a subscribe', () => {
  const store = new SlowRecoveryStore();
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ parts: { store }, file: { namespaces: { deltas: { historySize: 100, recover: true, allowedDeltaTypes: ['fossil'] } } } });
  });
  after(() => ts?.stop());

  test('publications that arrive while the reply is prepared go whole after it; live ones then patch from the last', async () => {
    const channel = ts.server.node.channels.resolve('deltas:held');
    const publish = (version: number) => ts.server.node.publish(channel, { data: docText(version) });
    const { epoch } = await publish(1);
    await publish(2);
    const client = await connectRaw(ts.wsUrl, await mintToken({ sub: 'alice' }));
    try {
      const held = store.holdNextRecovery();
      client.command(10, 'subscribe', { channel: 'deltas:held', delta: 'fossil', recover: true, offset: 1, epoch });
      const release = await held;
      await publish(3);
      await publish(4);
      release();
      const reply = await client.reply(10);
      assert.deepEqual(reply.subscribe.publications.map((pub: Record<string, any>) => [pub.offset, pub.data]), [[2, docText(2)]]);
      await publish(5);
      const pushed = await waitFor(() => {
        const found = client.received.filter((line) => line.push?.pub).map((line) => line.push.pub);
        return found.length >= 3 ? found : undefined;
      });
      assert.deepEqual(pushed.slice(0, 2).map((pub) => [pub.offset, pub.data, pub.delta ?? false]), [[3, docText(3), false], [4, docText(4), false]]);
      assert.equal(pushed[2]!.delta, true);
      assert.equal(patched(docText(4), pushed[2]!.data), docText(5));
    } finally {
      client.close();
    }
  });
});

describe('delta fan-out', () => {
  /** A delta listener that, like a live subscription, asks for a patch from the last publication it got. */
  function deltaListener(codec: Codec, base = 0): ChannelListener & { frames: Buffer[] } {
    const frames: Buffer[] = [];
    return {
      delta: true,
      frames,
      onPublication(_channel, publication, _push, delta) {
        frames.push(delta!.after(base, codec));
        base = publication.offset ?? 0;
      },
      onJoinLeave: () => undefined,
    };
  }

  test('each form is encoded once per encoding and shared; Protobuf whole publications share the plain encoding', () => {
    let patches = 0;
    const listeners = new ChannelListeners((base, target) => {
      patches++;
      return fossilPatch(base, target);
    });
    const json = [deltaListener(jsonCodec), deltaListener(jsonCodec)];
    const protobuf = [deltaListener(protobufCodec), deltaListener(protobufCodec)];
    const plainFrames: Buffer[] = [];
    const plain: ChannelListener = { onPublication: (_c, _p, push) => plainFrames.push(push.bytes(protobufCodec)), onJoinLeave: () => undefined };
    for (const listener of [...json, ...protobuf, plain]) listeners.add('deltas:x', listener);
    for (const offset of [1, 2, 3]) listeners.publication('deltas:x', { data: docText(offset), offset, epoch: 'e' });

    assert.equal(patches, 2, 'one patch for publication 2, one for 3');
    for (const pair of [json, protobuf]) {
      for (let i = 0; i < 3; i++) assert.equal(pair[0]!.frames[i], pair[1]!.frames[i], 'the same bytes for both listeners');
    }
    assert.equal(protobuf[0]!.frames[0], plainFrames[0], 'whole in Protobuf: the plain encoding');
    assert.notEqual(json[0]!.frames[0]!.toString(), json[0]!.frames[1]!.toString());

    // Without delta listeners the channel keeps no publication: one coming back after 3 has nothing to patch from.
    for (const listener of [...json, ...protobuf]) listeners.remove('deltas:x', listener);
    const returning = deltaListener(jsonCodec, 3);
    listeners.add('deltas:x', returning);
    listeners.publication('deltas:x', { data: docText(4), offset: 4, epoch: 'e' });
    assert.equal(patches, 2);
    assert.equal(JSON.parse(returning.frames[0]!.toString()).push.pub.data, docText(4), 'whole');
  });
});
