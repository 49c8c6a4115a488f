/**
 * The outbox's guarantees over real TCP sockets, once with the native
 * writer and once through Node's streams only: bytes arrive complete and in
 * order (also when the kernel takes only part of a write, or Node already
 * queued bytes for the socket), `written` is called once per buffer taken,
 * and a failed socket is reported, not thrown.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { canWriteDirectly, directWriter, socketDescriptor } from '../src/transport/direct-write.js';
import { Outbox, type OutboxEntry } from '../src/transport/outbox.js';
import { waitFor } from './helpers/wait.js';

/** A connected pair: `server` is the side the outbox writes to, `client` reads. */
interface Pair {
  server: Socket;
  client: Socket;
  /** Everything the client has read. */
  received(): Buffer;
}

let listener: Server;
const accepted: Socket[] = [];

before(async () => {
  listener = createServer((socket) => accepted.push(socket));
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
});
after(() => {
  for (const socket of accepted) socket.destroy();
  listener.close();
});

async function pair(): Promise<Pair> {
  const count = accepted.length;
  const client = connect((listener.address() as { port: number }).port, '127.0.0.1');
  const chunks: Buffer[] = [];
  client.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(client, 'connect');
  await waitFor(() => accepted.length > count);
  return { server: accepted[accepted.length - 1] as Socket, client, received: () => Buffer.concat(chunks) };
}

/** An entry that hands out what it was given, and records every `written` call. */
class TestEntry implements OutboxEntry {
  readonly writes: (Error | undefined)[] = [];
  readonly fd: number;
  taken = 0;
  private waiting: Buffer[] = [];
  readonly written = (error?: Error | null): void => {
    this.writes.push(error ?? undefined);
  };

  constructor(readonly socket: Socket) {
    this.fd = socketDescriptor(socket);
  }

  queue(bytes: Buffer): void {
    this.waiting.push(bytes);
  }

  takeBytes(): Buffer | undefined {
    if (this.waiting.length === 0) return undefined;
    this.taken++;
    const bytes = Buffer.concat(this.waiting);
    this.waiting = [];
    return bytes;
  }
}

/** Lets the outbox's flush (scheduled with setImmediate before this) run. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

function pattern(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed) & 0xff;
  return bytes;
}

test('the native writer is built and loaded (npm run build:native)', { skip: process.platform === 'win32' }, () => {
  assert.ok(directWriter, 'native/build/Release/socket_write.node could not be loaded');
  assert.equal(new Outbox().direct, true);
});

test('writeEach rejects malformed arguments and reports failed descriptors without throwing', { skip: !directWriter }, async () => {
  const writer = directWriter!;
  const results = new Int32Array(2);
  const payload = Buffer.from('x');
  assert.throws(() => writer.writeEach(new Int32Array(1), [payload], 2, results), TypeError);
  assert.throws(() => writer.writeEach(new Int32Array(1), ['x' as unknown as Buffer], 1, results), TypeError);
  assert.throws(() => writer.writeEach([1] as unknown as Int32Array, [payload], 1, results), TypeError);
  writer.writeEach(Int32Array.of(-1), [payload], 1, results);
  assert.ok((results[0] as number) < 0, 'a negative descriptor fails with -EBADF');

  const { server, client, received } = await pair();
  const fd = socketDescriptor(server);
  assert.ok(fd >= 0);
  // A bad entry after a good one: nothing at all is written.
  assert.throws(() => writer.writeEach(Int32Array.of(fd, fd), [payload, 'x' as unknown as Buffer], 2, results), TypeError);
  writer.writeEach(Int32Array.of(fd), [Buffer.from('ok')], 1, results);
  await waitFor(() => received().length === 2);
  assert.equal(received().toString(), 'ok');
  client.destroy();
  await waitFor(() => {
    writer.writeEach(Int32Array.of(fd), [payload], 1, results);
    return (results[0] as number) < 0;
  });
  server.destroy();
});

test('a socket with bytes queued in Node, or a closed one, is not written to directly', async () => {
  const { server, client } = await pair();
  assert.ok(socketDescriptor(server) >= 0, 'a plain TCP socket has a descriptor');
  assert.equal(canWriteDirectly(server), true);
  client.pause();
  const big = Buffer.alloc(64 << 20);
  server.write(big);
  // 64 MiB cannot all fit in the kernel's buffers of a paused reader.
  assert.ok(server.writableLength > 0);
  assert.equal(canWriteDirectly(server), false);
  server.destroy();
  assert.equal(canWriteDirectly(server), false);
  client.destroy();
});

for (const mode of ['native writer', 'streams only'] as const) {
  describe(`outbox (${mode})`, { skip: mode === 'native writer' && !directWriter }, () => {
    const make = () => new Outbox(mode === 'native writer' ? directWriter : undefined);

    test('entries of one turn are written in one flush, in order, each `written` once', async () => {
      const outbox = make();
      const pairs = [await pair(), await pair(), await pair()];
      const entries = pairs.map((p) => new TestEntry(p.server));
      const asked: number[] = [];
      entries.forEach((entry, index) => {
        const take = entry.takeBytes.bind(entry);
        entry.takeBytes = () => {
          asked.push(index);
          return take();
        };
      });
      const shared = Buffer.from('shared frame|');
      for (const entry of [entries[2], entries[0], entries[1]] as TestEntry[]) {
        entry.queue(shared);
        entry.queue(Buffer.from('own|'));
        outbox.schedule(entry);
      }
      assert.deepEqual(asked, [], 'nothing is written before the turn ends');
      await turn();
      assert.deepEqual(asked, [2, 0, 1]);
      for (const [index, p] of pairs.entries()) {
        await waitFor(() => p.received().length === 17, { message: `pair ${index} received its bytes` });
        assert.equal(p.received().toString(), 'shared frame|own|');
        await waitFor(() => (entries[index] as TestEntry).writes.length === 1);
        assert.deepEqual((entries[index] as TestEntry).writes, [undefined]);
        p.client.destroy();
      }
    });

    test('an entry with nothing to write (a closing connection) is skipped', async () => {
      const outbox = make();
      const p = await pair();
      const entry = new TestEntry(p.server);
      outbox.schedule(entry);
      await turn();
      assert.equal(entry.taken, 0);
      assert.deepEqual(entry.writes, []);
      p.client.destroy();
    });

    test('what the kernel does not take goes through the stream, in order, behind nothing else', async () => {
      const outbox = make();
      const p = await pair();
      p.client.pause();
      const entry = new TestEntry(p.server);
      // Far more than a socket's kernel buffers hold while nobody reads.
      const first = pattern(24 << 20, 1);
      entry.queue(first);
      outbox.schedule(entry);
      await turn();
      assert.ok(p.server.writableLength > 0, 'part of the buffer waits in the stream');
      // A second buffer while the first still waits: it must queue behind it.
      const second = pattern(1 << 20, 7);
      entry.queue(second);
      outbox.schedule(entry);
      await turn();
      p.client.resume();
      await waitFor(() => p.received().length === first.length + second.length, { message: 'everything arrives', timeoutMs: 20_000 });
      assert.ok(p.received().equals(Buffer.concat([first, second])), 'bytes arrive complete and in order');
      await waitFor(() => entry.writes.length === 2);
      assert.deepEqual(entry.writes, [undefined, undefined]);
      p.client.destroy();
    });

    test('a socket that has failed reports the error through `written` and the socket, and the flush goes on', async () => {
      const outbox = make();
      const broken = await pair();
      const healthy = await pair();
      const errors: Error[] = [];
      broken.server.on('error', (error: Error) => errors.push(error));
      // Not reading, the server side does not notice the reset until it writes.
      broken.server.pause();
      broken.client.resetAndDestroy();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const failing = new TestEntry(broken.server);
      const fine = new TestEntry(healthy.server);
      failing.queue(Buffer.from('lost'));
      fine.queue(Buffer.from('delivered'));
      outbox.schedule(failing);
      outbox.schedule(fine);
      await turn();
      await waitFor(() => failing.writes.length === 1);
      assert.ok(failing.writes[0] instanceof Error, 'the write reports an error');
      await waitFor(() => broken.server.destroyed);
      await waitFor(() => healthy.received().toString() === 'delivered');
      assert.deepEqual(fine.writes, [undefined]);
      healthy.client.destroy();
    });
  });
}
