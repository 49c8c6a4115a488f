/**
 * The `/ws` bridge on its own, with the timing under the test's control: the
 * backlog read is held open while live messages arrive, which a real server
 * rarely lets happen.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import type { WebSocket } from 'ws';
import type { ChatModule } from '../src/chat/chat-module.js';
import type { ChatMessage } from '../src/chat/protocol.js';
import { SeedBroadcast } from '../src/compat/seed-broadcast.js';
import { createLogger } from '../src/log/logger.js';
import { loadConfig } from '../src/config/schema.js';
import { ChannelResolver } from '../src/channel/channel.js';
import type { ChannelListener, Node } from '../src/node/node.js';
import { SharedPush } from '../src/protocol/shared-push.js';
import type { Publication } from '../src/protocol/types.js';
import { Writable } from 'node:stream';

const config = await loadConfig({ argv: [], env: {}, cwd: '/tmp' });
const logger = createLogger({ ...config, logLevel: 'silent' }, { destination: new Writable({ write: (_c, _e, done) => done() }) });

/** A `ws` socket stand-in that records what is sent on it. */
class FakeSocket extends EventEmitter {
  frames: Buffer[] = [];
  closed: { code: number; reason: string } | undefined;
  bufferedAmount = 0;
  send(frame: Buffer, options: { binary: boolean }): void {
    assert.equal(options.binary, false, 'text frames');
    this.frames.push(frame);
  }
  close(code: number, reason: string): void {
    this.closed ??= { code, reason };
    setImmediate(() => this.emit('close', code, Buffer.from(reason)));
  }
  terminate(): void {
    this.close(1006, '');
  }
  get texts(): string[] {
    return this.frames.map((frame) => (JSON.parse(frame.toString()) as { message: string }).message);
  }
}

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

function message(seq: number, extra: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id: `m${seq}`,
    channel: 'room:general',
    seq,
    author: { id: 'u1', name: 'Ann', color: '#1c7ed6' },
    text: `text ${seq}`,
    createdAt: 0,
    reactions: {},
    ...extra,
  };
}

const publication = (event: unknown, info?: Publication['info']): Publication =>
  info ? { data: JSON.stringify(event), info } : { data: JSON.stringify(event) };
const messagePublication = (seq: number) => publication({ type: 'message', message: message(seq) });

/** A bridge over a fake node and chat: backlog reads wait until the test answers them. */
function setup() {
  const channels = new ChannelResolver(config);
  let listener: ChannelListener | undefined;
  const node = {
    channels,
    attach: async (_spec: unknown, l: ChannelListener) => {
      listener = l;
      return {};
    },
    detach: async () => {
      listener = undefined;
    },
  } as unknown as Node;
  const reads: { limit: number; answer: ReturnType<typeof deferred<ChatMessage[]>> }[] = [];
  const chat = {
    latest: (_channel: string, limit: number) => {
      const answer = deferred<ChatMessage[]>();
      reads.push({ limit, answer });
      return answer.promise;
    },
    post: async () => {
      throw new Error('not used');
    },
    close: async () => undefined,
  } as unknown as ChatModule;
  const bridge = new SeedBroadcast({ node, chat, logger, channel: 'room:general', maxQueuedBytes: 1 << 20, pingInterval: 25, pongTimeout: 10 });
  const publish = (p: Publication) => listener?.onPublication('room:general', p, new SharedPush({ type: 'pub', channel: 'room:general', pub: p }));
  return { bridge, reads, publish, attached: () => listener !== undefined };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('SeedBroadcast', () => {
  test('live messages that arrive while the backlog is read follow it, each once, in order', async () => {
    const { bridge, reads, publish } = setup();
    await bridge.start();
    const socket = new FakeSocket();
    bridge.accept(socket as unknown as WebSocket);
    assert.equal(reads.length, 1);
    assert.equal(reads[0]!.limit, 50);

    // 10 and 11 were stored before the read; 10 was published before it too, 11 only after.
    publish(messagePublication(10));
    publish(messagePublication(11));
    publish(messagePublication(12));
    assert.equal(socket.frames.length, 0, 'nothing is sent before the backlog');
    reads[0]!.answer.resolve([message(8), message(9, { deleted: true, text: '' }), message(10), message(11)]);
    await settle();
    assert.deepEqual(socket.texts, ['text 8', 'text 10', 'text 11', 'text 12']);

    // A publication of a message the backlog already held (stored before the read, published after going live).
    publish(messagePublication(12));
    publish(messagePublication(13));
    assert.deepEqual(socket.texts, ['text 8', 'text 10', 'text 11', 'text 12', 'text 13']);
  });

  test('one encoding per message, the same bytes to every client; other events and client publications are skipped', async () => {
    const { bridge, reads, publish } = setup();
    await bridge.start();
    const sockets = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    for (const socket of sockets) bridge.accept(socket as unknown as WebSocket);
    for (const read of reads) read.answer.resolve([]);
    await settle();

    publish(publication({ type: 'edit', id: 'm1', text: 'x', editedAt: 1 }));
    publish(publication({ type: 'delete', id: 'm1' }));
    publish(publication({ type: 'reactions', id: 'm1', reactions: {} }));
    publish(publication({ type: 'typing', user: { id: 'u', name: 'n', color: '#000000' } }));
    publish(publication({ type: 'message', message: message(5) }, { user: 'mallory', client: 'c1' }));
    publish({ data: 'not json' });
    publish(messagePublication(6));
    for (const socket of sockets) assert.deepEqual(socket.texts, ['text 6']);
    assert.ok(sockets.every((socket) => socket.frames[0] === sockets[0]!.frames[0]), 'one shared buffer');
    assert.deepEqual(JSON.parse(sockets[0]!.frames[0]!.toString()), { email: '', username: 'Ann', message: 'text 6' });
  });

  test('held messages are bounded: a client whose backlog never comes is dropped as slow', async () => {
    const { bridge, publish } = setup();
    await bridge.start();
    const socket = new FakeSocket();
    bridge.accept(socket as unknown as WebSocket);
    const big = (seq: number) => publication({ type: 'message', message: message(seq, { text: 'z'.repeat(100_000) }) });
    for (let seq = 1; seq <= 20 && !socket.closed; seq++) publish(big(seq));
    assert.equal(socket.closed?.code, 1008);
  });

  test('close detaches and closes clients with 1001; later connections are turned away', async () => {
    const { bridge, reads, attached } = setup();
    await bridge.start();
    assert.equal(attached(), true);
    const socket = new FakeSocket();
    bridge.accept(socket as unknown as WebSocket);
    reads[0]!.answer.resolve([message(1)]);
    await settle();
    assert.equal(bridge.size, 1);
    await bridge.close();
    assert.equal(attached(), false);
    assert.equal(socket.closed?.code, 1001);
    await settle();
    assert.equal(bridge.size, 0);
    const late = new FakeSocket();
    bridge.accept(late as unknown as WebSocket);
    assert.equal(late.closed?.code, 1001);
  });
});
