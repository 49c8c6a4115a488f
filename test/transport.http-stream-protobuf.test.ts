/**
 * HTTP-streaming in the Protobuf encoding on the wire, with raw `fetch`
 * requests and the server's own Protobuf schema: the connect command as a
 * varint length-delimited `Command` in the body, varint length-delimited
 * `Reply` messages in the response (the connect reply naming the session
 * and node), Protobuf `EmulationRequest`s to `/emulation`, the disconnect
 * push that ends the stream in Protobuf, and clear errors for bad input.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import protobuf from 'protobufjs/minimal.js';
import { pb, type centrifugal } from '../src/protocol/protobuf-schema.js';
import { apiResult } from './helpers/api.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { httpUrl } from './helpers/sdk-flavour.js';
import { waitFor } from './helpers/wait.js';

type IReply = centrifugal.centrifuge.protocol.IReply;
type ICommand = centrifugal.centrifuge.protocol.ICommand;

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** Commands as the SDK's Protobuf build sends them: each varint length-delimited, concatenated. */
function commands(...list: ICommand[]): Buffer {
  const writer = protobuf.Writer.create();
  for (const command of list) pb.Command.encode(command, writer.fork()).ldelim();
  return Buffer.from(writer.finish());
}

function emulationBody(request: { session?: string; node?: string; data?: Uint8Array }): Buffer {
  return Buffer.from(pb.EmulationRequest.encode(request).finish());
}

/** An open Protobuf stream whose body is decoded into replies as it arrives. */
interface ProtobufStream {
  response: Response;
  replies: IReply[];
  ended: Promise<void>;
  abort(): void;
}

async function openProtobufStream(url: string, body: Buffer): Promise<ProtobufStream> {
  const controller = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', accept: 'application/octet-stream' },
    body,
    signal: controller.signal,
  });
  const replies: IReply[] = [];
  const ended = (async () => {
    if (!response.body) return;
    let rest = Buffer.alloc(0);
    try {
      for await (const chunk of response.body) {
        rest = Buffer.concat([rest, chunk as Uint8Array]);
        // Whole messages only: a length prefix and that many bytes.
        for (;;) {
          const reader = protobuf.Reader.create(rest);
          let length: number;
          try {
            length = reader.uint32();
          } catch {
            break;
          }
          const end = reader.pos + length;
          if (end > reader.len) break;
          replies.push(pb.Reply.decode(reader, length));
          rest = rest.subarray(end);
        }
      }
    } catch {
      // Aborted by the test.
    }
  })();
  return { response, replies, ended, abort: () => controller.abort() };
}

describe('HTTP-streaming in the Protobuf encoding on the wire', () => {
  let ts: TestServer;
  let base: string;
  const streams: ProtobufStream[] = [];

  const emulate = (body: Buffer | string, contentType = 'application/octet-stream') =>
    fetch(`${base}/emulation`, { method: 'POST', headers: { 'content-type': contentType }, body });
  const stream = async (token: string) => {
    const opened = await openProtobufStream(`${base}/connection/http_stream`, commands({ id: 1, connect: { token, name: 'raw-pb' } }));
    streams.push(opened);
    return opened;
  };
  const nth = (opened: ProtobufStream, index: number, what: string) => waitFor(() => opened.replies[index], { message: what });

  before(async () => {
    ts = await startTestServer({ flags: ['--max-message-size', '4096'] });
    base = httpUrl(ts.wsUrl, '/').replace(/\/$/, '');
    ts.server.node.registerRpc('echo', (_context, data) => ({ echoed: data }));
  });
  after(async () => {
    for (const opened of streams) opened.abort();
    await ts?.stop();
  });

  test('connect in the body, varint-delimited replies with the session and node, commands through a Protobuf EmulationRequest, a Protobuf disconnect push at the end', async () => {
    const opened = await stream(await mintToken({ sub: 'pb-alice' }));
    assert.equal(opened.response.status, 200);
    assert.equal(opened.response.headers.get('content-type'), 'application/octet-stream');
    const connected = await nth(opened, 0, 'the connect reply');
    assert.equal(connected.id, 1);
    assert.equal(connected.connect?.node, ts.server.node.id);
    const session = connected.connect?.session ?? '';
    assert.ok(session.length > 0, 'the session key is in the Protobuf connect reply');
    assert.notEqual(session, connected.connect?.client);

    const data = commands({ id: 2, rpc: { method: 'echo', data: json({ n: 1 }) } }, { id: 3, rpc: { method: 'echo', data: json({ n: 2 }) } });
    assert.equal((await emulate(emulationBody({ session, node: ts.server.node.id, data }))).status, 204);
    const first = await nth(opened, 1, 'the first rpc reply');
    const second = await nth(opened, 2, 'the second rpc reply');
    assert.deepEqual(JSON.parse(Buffer.from(first.rpc!.data!).toString()), { echoed: { n: 1 } });
    assert.deepEqual(JSON.parse(Buffer.from(second.rpc!.data!).toString()), { echoed: { n: 2 } });

    // A JSON request naming this Protobuf session is refused, and the session goes on.
    const wrong = await emulate(JSON.stringify({ session, node: ts.server.node.id, data: '{"id":4,"rpc":{"method":"echo"}}' }), 'application/json');
    assert.equal(wrong.status, 400);
    assert.match(((await wrong.json()) as { error: string }).error, /another encoding/);

    await apiResult(ts, 'disconnect', { user: 'pb-alice' });
    await opened.ended;
    const last = opened.replies.at(-1)!;
    assert.equal(last.push?.disconnect?.code, 3503);
    assert.equal(last.push?.disconnect?.reason, 'force disconnect');
    assert.equal(opened.replies.length, 4, 'connect, two rpc replies and the disconnect push: nothing from the refused request');
    assert.equal((await emulate(emulationBody({ session, node: ts.server.node.id, data: commands({}) }))).status, 404, 'the session is gone with its stream');
  });

  test('bad input: a malformed or oversized request gets 400 or 413, a malformed connect ends the stream with a bad request disconnect', async () => {
    const malformed = await emulate(Buffer.from([0x0a, 0xff, 0xff]));
    assert.equal(malformed.status, 400);
    assert.match(((await malformed.json()) as { error: string }).error, /Protobuf EmulationRequest/);
    // A string field whose length runs past the end is malformed, not cut short.
    assert.equal((await emulate(Buffer.from([0x0a, 0x05, 0x61, 0x62, 0x63]))).status, 400, 'a truncated string');
    assert.equal((await emulate(emulationBody({ node: ts.server.node.id, data: commands({}) }))).status, 400, 'no session');
    assert.equal((await emulate(emulationBody({ session: 'no-such-session', node: ts.server.node.id, data: commands({}) }))).status, 404);
    assert.equal((await emulate(emulationBody({ session: 's', node: 'n', data: Buffer.alloc(4097) }))).status, 413, 'commands past the message size');
    assert.equal((await emulate(Buffer.alloc(3 * 4096 + 1))).status, 413, 'a body past the limit');

    const tooLarge = await fetch(`${base}/connection/http_stream`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(4097) });
    assert.equal(tooLarge.status, 413, 'a connect past the message size');
    const empty = await fetch(`${base}/connection/http_stream`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.alloc(0) });
    assert.equal(empty.status, 400, 'no connect command');

    // A length prefix promising more than the body holds.
    const cut = await openProtobufStream(`${base}/connection/http_stream`, Buffer.from([0x7b, 0x7d]));
    streams.push(cut);
    await cut.ended;
    assert.equal(cut.replies.at(-1)?.push?.disconnect?.code, 3501);

    const after = await stream(await mintToken({ sub: 'pb-after' }));
    assert.ok((await nth(after, 0, 'a connect after the bad input')).connect?.session);
    after.abort();
  });
});
