/**
 * Driving a client that stopped reading into the slow-reader close: stop
 * reading from its socket, then publish until the server logs the drop.
 */
import type { RawClient } from './raw-client.js';
import type { TestServer } from './server.js';
import { waitFor } from './wait.js';

/** Stops reading from a raw client's socket: the kernel buffers fill, then the server's queue for it. */
export function stopReading(client: RawClient): void {
  (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
}

/**
 * Publishes `data` to a channel, one at a time and yielding between
 * publishes (so a client that reads keeps up), until the server logs that
 * it dropped a slow client. Resolves with how many were published.
 */
export async function publishUntilSlowDrop(t: TestServer, channelName: string, data: string, timeoutMs = 20_000): Promise<number> {
  const channel = t.server.node.channels.resolve(channelName);
  let published = 0;
  await waitFor(
    async () => {
      for (let i = 0; i < 10; i++, published++) {
        await t.server.node.publish(channel, { data });
        await new Promise((resolve) => setImmediate(resolve));
      }
      return t.logs.some((line) => line.includes('slow client dropped'));
    },
    { timeoutMs, message: 'slow client dropped' },
  );
  return published;
}

/**
 * Reads from a raw client's socket a little at a time, as over a slow link:
 * every `everyMs`, whatever the socket has buffered (tens of KB) goes to the
 * WebSocket. Resolves nothing; call the returned function to read normally again.
 */
export function readSlowly(client: RawClient, everyMs: number): () => void {
  const socket = (client.ws as unknown as { _socket: { pause(): void; resume(): void; read(): unknown } })._socket;
  socket.pause();
  // In paused mode, read() hands the chunk to the 'data' listener (the WebSocket's) as well.
  const timer = setInterval(() => socket.read(), everyMs);
  return () => {
    clearInterval(timer);
    socket.resume();
  };
}
