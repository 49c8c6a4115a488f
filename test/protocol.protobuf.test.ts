/**
 * The Protobuf encoding spoken by hand over a raw WebSocket (commands
 * encoded with the checked-in schema): batching both ways, pings and pongs,
 * malformed, oversized and non-JSON input, unknown methods, and a JSON and a
 * Protobuf client of one channel seeing the same publications.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { apiResult } from './helpers/api.js';
import { connectRaw } from './helpers/raw-client.js';
import {
  connectRawProtobuf,
  fromJsonBytes,
  isPing,
  jsonBytes,
  openRawProtobuf,
  PROTOBUF_SUBPROTOCOL,
  type RawProtobufClient,
} from './helpers/raw-protobuf-client.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

/** A length-delimited Command with an id and a request in field 20, which the schema does not know: an unknown method. */
function unknownMethod(id: number): Buffer {
  const body = Buffer.from([0x08, id, 0xa2, 0x01, 0x00]);
  return Buffer.concat([Buffer.from([body.length]), body]);
}

async function stillServes(t: TestServer): Promise<void> {
  const client = await connectRawProtobuf(t.wsUrl, await mintToken({ sub: 'healthy' }));
  client.send({ id: 2, subscribe: { channel: 'room:health' } });
  assert.ok((await client.reply(2)).subscribe, 'a fresh client can still subscribe');
  client.close();
}

describe('the Protobuf encoding over a raw WebSocket', () => {
  let t: TestServer;
  let token: string;

  before(async () => {
    t = await startTestServer({ flags: ['--max-message-size', '4096'] });
    t.server.node.registerRpc('echo', (_context, data) => ({ echoed: data }));
    token = await mintToken({ sub: 'raw', info: { name: 'Raw' } });
  });
  after(() => t.stop());

  test('the subprotocol is negotiated, and commands batched in one frame are answered in order in binary frames', async () => {
    const client = await openRawProtobuf(t.wsUrl);
    assert.equal(client.ws.protocol, PROTOBUF_SUBPROTOCOL);
    client.send({ id: 1, connect: { token } }, { id: 2, subscribe: { channel: 'room:a' } }, { id: 3, subscribe: { channel: 'room:b' } });
    await client.reply(3);
    assert.deepEqual(client.received.filter((reply) => reply.id).map((reply) => reply.id), [1, 2, 3]);
    const connect = client.received[0]?.connect;
    assert.equal(typeof connect?.client, 'string');
    assert.equal(connect?.ping, 25);
    assert.equal(connect?.pong, true);
    const subscribe = client.received[1]?.subscribe;
    assert.equal(subscribe?.recoverable, true);
    assert.ok(subscribe?.epoch);
    assert.equal(client.sawText, false);
    client.close();
  });

  test('replies to commands of one frame leave as one frame; an unknown method gets 104 and the connection stays', async () => {
    const client = await connectRawProtobuf(t.wsUrl, token);
    const framesBefore = client.repliesPerFrame.length;
    client.sendBytes(Buffer.concat([2, 3, 4, 5].map(unknownMethod)));
    await client.reply(5);
    const errors = client.received.slice(-4);
    assert.deepEqual(errors.map((reply) => reply.id), [2, 3, 4, 5]);
    for (const reply of errors) assert.deepEqual({ code: reply.error?.code, message: reply.error?.message }, { code: 104, message: 'method not found' });
    assert.deepEqual(client.repliesPerFrame.slice(framesBefore), [4]);
    client.send({ id: 6, subscribe: { channel: 'room:after-unknown' } });
    assert.ok((await client.reply(6)).subscribe);
    assert.equal(client.closed, undefined);
    client.close();
  });

  test('malformed Protobuf closes with 3501 bad request, and the server keeps serving', async () => {
    const frames = [
      Buffer.from([0x05, 0x08]), // a message longer than the frame
      Buffer.from([0x02, 0xff, 0xff]), // an invalid wire type
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // a length prefix that is no varint
      // a 4-byte command whose connect field claims 10 bytes: it runs into the next message
      Buffer.from([0x04, 0x08, 0x01, 0x22, 0x0a, 0x03, 0x08, 0x02, 0x22, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]),
      Buffer.from([0x02, 0x08, 0x00]), // a command without id (and no method)...
    ];
    for (const frame of frames.slice(0, 4)) {
      const client = await connectRawProtobuf(t.wsUrl, token);
      client.sendBytes(frame);
      assert.equal((await client.waitClose()).code, 3501, `frame ${frame.toString('hex')}`);
    }
    const noId = await connectRawProtobuf(t.wsUrl, token);
    noId.send({ subscribe: { channel: 'room:no-id' } });
    assert.equal((await noId.waitClose()).code, 3501, 'a command without id');
    const twoMethods = await connectRawProtobuf(t.wsUrl, token);
    twoMethods.send({ id: 2, subscribe: { channel: 'room:x' }, presence: { channel: 'room:x' } });
    assert.equal((await twoMethods.waitClose()).code, 3501, 'a command with two methods');
    await stillServes(t);
  });

  test('an oversized message closes with 1009, a huge length prefix with 3501, and the server keeps serving', async () => {
    const big = await connectRawProtobuf(t.wsUrl, token);
    big.send({ id: 2, publish: { channel: 'room:big', data: jsonBytes({ text: 'x'.repeat(8000) }) } });
    assert.equal((await big.waitClose()).code, 1009);
    const claims = await connectRawProtobuf(t.wsUrl, token);
    claims.sendBytes(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x08, 0x02]));
    assert.equal((await claims.waitClose()).code, 3501);
    await stillServes(t);
  });

  test('data that is not UTF-8 JSON is refused with 107 and the connection stays', async () => {
    const client = await connectRawProtobuf(t.wsUrl, token);
    client.send({ id: 2, publish: { channel: 'room:bytes', data: Buffer.from([0xff, 0xfe, 0x00]) } });
    client.send({ id: 3, rpc: { method: 'echo', data: Buffer.from('not json') } });
    for (const id of [2, 3]) {
      const reply = await client.reply(id);
      assert.equal(reply.error?.code, 107, `command ${id}`);
      assert.match(reply.error?.message ?? '', /UTF-8 encoded JSON/);
    }
    client.send({ id: 4, rpc: { method: 'echo', data: jsonBytes({ q: 'ünï' }) } });
    assert.deepEqual(fromJsonBytes((await client.reply(4)).rpc?.data), { echoed: { q: 'ünï' } });
    client.send({ id: 5, publish: { channel: 'room:bytes', data: jsonBytes('text') } });
    assert.ok((await client.reply(5)).publish);
    assert.equal(client.closed, undefined);
    client.close();
  });

  test('a JSON and a Protobuf client of one channel see the same publications; the Protobuf bytes are the JSON text', async () => {
    const channel = 'room:mixed';
    const json = await connectRaw(t.wsUrl, await mintToken({ sub: 'jason', info: { name: 'Jason' } }));
    const protobuf = await connectRawProtobuf(t.wsUrl, token);
    json.command(2, 'subscribe', { channel });
    protobuf.send({ id: 2, subscribe: { channel } });
    await json.reply(2);
    await protobuf.reply(2);

    json.command(3, 'publish', { channel, data: { text: 'from json ✓', quote: '"' } });
    await json.reply(3);
    protobuf.send({ id: 3, publish: { channel, data: jsonBytes({ text: 'from protobuf' }) } });
    await protobuf.reply(3);

    const jsonPubs = await waitFor(() => {
      const found = json.received.filter((line) => line.push?.pub);
      return found.length >= 2 && found;
    });
    const protobufPubs = await waitFor(() => {
      const found = protobuf.received.filter((reply) => reply.push?.pub);
      return found.length >= 2 && found;
    });
    assert.deepEqual(
      protobufPubs.map((reply) => {
        const pub = reply.push!.pub!;
        return {
          data: fromJsonBytes(pub.data),
          offset: Number(pub.offset),
          user: pub.info?.user,
          conn_info: fromJsonBytes(pub.info?.conn_info),
        };
      }),
      jsonPubs.map((line) => ({ data: line.push.pub.data, offset: line.push.pub.offset, user: line.push.pub.info.user, conn_info: line.push.pub.info.conn_info })),
    );
    assert.equal(Buffer.from(protobufPubs[0]!.push!.pub!.data!).toString(), '{"text":"from json ✓","quote":"\\""}');

    protobuf.send({ id: 4, history: { channel, limit: 10 } });
    const history = (await protobuf.reply(4)).history;
    assert.deepEqual(history?.publications?.map((pub) => fromJsonBytes(pub.data)), [{ text: 'from json ✓', quote: '"' }, { text: 'from protobuf' }]);
    protobuf.send({ id: 5, presence: { channel } });
    const presence = (await protobuf.reply(5)).presence?.presence ?? {};
    assert.deepEqual(Object.values(presence).map((info) => info.user).sort(), ['jason', 'raw']);
    json.close();
    protobuf.close();
  });
});

describe('server-side subscriptions of a Protobuf client', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.stop());

  test('the server API subscribes it with a subscribe push (data as JSON bytes, recovered publications after it) and ends it with an unsubscribe push', async () => {
    const channel = 'room:api-protobuf';
    const node = t.server.node;
    for (let n = 1; n <= 3; n++) await node.publish(node.channels.resolve(channel), { data: JSON.stringify({ n }) });
    const client = await connectRawProtobuf(t.wsUrl, await mintToken({ sub: 'served' }));
    const { epoch } = await node.history(node.channels.resolve(channel), { limit: 0 }).then((page) => page.position);
    await apiResult(t, 'subscribe', { user: 'served', channel, data: { welcome: 'aboard' }, recover_since: { offset: 1, epoch } });
    const pushes = await waitFor(() => {
      const found = client.received.filter((reply) => reply.push?.subscribe || reply.push?.pub);
      return found.length >= 3 && found;
    });
    const subscribe = pushes[0]!.push!;
    assert.equal(subscribe.channel, channel);
    assert.deepEqual(fromJsonBytes(subscribe.subscribe?.data), { welcome: 'aboard' });
    assert.equal(subscribe.subscribe?.recoverable, true);
    assert.equal(subscribe.subscribe?.epoch, epoch);
    assert.deepEqual(pushes.slice(1).map((reply) => fromJsonBytes(reply.push?.pub?.data)), [{ n: 2 }, { n: 3 }]);

    await apiResult(t, 'unsubscribe', { user: 'served', channel });
    const ended = await waitFor(() => client.received.find((reply) => reply.push?.unsubscribe)?.push ?? undefined);
    assert.equal(ended.channel, channel);
    assert.deepEqual({ code: ended.unsubscribe?.code, reason: ended.unsubscribe?.reason }, { code: 2000, reason: 'server unsubscribe' });
    client.close();
  });
});

describe('Protobuf pings and pongs', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ flags: ['--ping-interval', '1', '--pong-timeout', '500ms'] });
  });
  after(() => t.stop());

  async function pingsOf(client: RawProtobufClient, count: number): Promise<number> {
    return waitFor(() => {
      const pings = client.received.filter(isPing).length;
      return pings >= count && pings;
    }, { timeoutMs: 10_000, message: `${count} pings` });
  }

  test('the ping is an empty Reply; a client answering with empty Commands stays, one that does not is closed with 3012', async () => {
    const token = await mintToken({ sub: 'pinged' });
    const answering = await connectRawProtobuf(t.wsUrl, token);
    answering.ws.on('message', (data: Buffer) => {
      if (data.equals(Buffer.from([0]))) answering.sendBytes(Buffer.from([0]));
    });
    const silent = await connectRawProtobuf(t.wsUrl, token);
    assert.equal((await silent.waitClose(10_000)).code, 3012);
    await pingsOf(answering, 3);
    assert.equal(answering.closed, undefined, 'pongs keep the connection');
    answering.close();
  });
});
