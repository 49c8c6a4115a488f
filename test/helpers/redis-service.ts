/**
 * The Redis service the cluster tests run against (127.0.0.1:6379, started
 * by the machine or CI). Tests never flush it: each works under its own key
 * prefix and deletes that prefix's keys when done.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';

export const REDIS_URL = 'redis://127.0.0.1:6379';

function newClient() {
  return createClient({ url: REDIS_URL, socket: { connectTimeout: 5_000, reconnectStrategy: false } });
}

export type TestRedisClient = ReturnType<typeof newClient>;

/** A connected client; fails with a clear message, rather than skipping, when the service is unreachable. */
export async function connectRedis(): Promise<TestRedisClient> {
  const client = newClient();
  client.on('error', () => {}); // a failed connect rejects below; a later error fails the command that meets it
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`Redis at ${REDIS_URL} is unreachable (${(error as Error).message}); these tests need it running`);
  }
  return client;
}

/** A client that reconnects on its own (as a server's clients do), with errors swallowed while Redis is down. */
export async function reconnectingClient(url: string): Promise<TestRedisClient> {
  const client = createClient({ url, socket: { connectTimeout: 2_000, reconnectStrategy: () => 50 } });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** A key prefix no other run uses. */
export function uniquePrefix(name: string): string {
  return `parley-test:${name}:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN, never FLUSH); returns how many there were. */
export async function deleteKeys(client: TestRedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) {
    if (keys.length > 0) deleted += await client.del(keys);
  }
  return deleted;
}
