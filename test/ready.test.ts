/**
 * `/ready` follows the backing services: it fails, naming the service and
 * nothing more, while a private Redis is killed or the connection to
 * PostgreSQL is cut, and recovers by itself when they come back; the probes'
 * round trips and failures reach `/metrics`. The machine's shared Redis and
 * PostgreSQL are never stopped: Redis is a private `redis-server`, and
 * PostgreSQL is cut at a TCP proxy in front of it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import postgres, { type Sql } from 'postgres';
import { createClient } from 'redis';
import { ServiceProbe } from '../src/ops/service-probe.js';
import { Metrics } from '../src/ops/metrics.js';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.js';
import { PrivateRedis } from './helpers/private-redis.js';
import { parseExposition, sampleOf, scrape } from './helpers/prometheus.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { TcpProxy } from './helpers/tcp-proxy.js';
import { waitFor } from './helpers/wait.js';

/** Checks often, so that outages show within a fraction of a second. */
const PROBE_TIMING = { intervalMs: 50, timeoutMs: 1000 };
const OUTAGE_TIMEOUT_MS = 15_000;

async function readiness(ts: TestServer): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const response = await fetch(`${ts.server.url}/ready`);
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown>, text };
}

/** Waits until `/ready` answers `status`; resolves with that answer. */
function readinessBecomes(ts: TestServer, status: number, message: string) {
  return waitFor(
    async () => {
      const answer = await readiness(ts);
      return answer.status === status && answer;
    },
    { timeoutMs: OUTAGE_TIMEOUT_MS, intervalMs: 25, message },
  );
}

describe('readiness follows the backing services', () => {
  let redis: PrivateRedis;
  let redisClient: ReturnType<typeof createClient>;
  let database: TestDatabase;
  let postgresProxy: TcpProxy;
  let sql: Sql;
  let ts: TestServer;

  before(async () => {
    redis = await PrivateRedis.start();
    // No offline queue: a PING while Redis is away fails at once instead of waiting for it to return.
    redisClient = createClient({ url: redis.url, disableOfflineQueue: true, socket: { connectTimeout: 1000, reconnectStrategy: () => 50 } });
    redisClient.on('error', () => undefined); // failures show as failed checks
    await redisClient.connect();

    database = await createTestDatabase();
    const url = new URL(database.url);
    postgresProxy = await TcpProxy.start(Number(url.port || 5432), url.hostname);
    url.hostname = '127.0.0.1';
    url.port = String(postgresProxy.port);
    sql = postgres(url.toString(), { max: 1, connect_timeout: 1, onnotice: () => undefined });

    const probes = [
      new ServiceProbe({ service: 'redis', check: async () => void (await redisClient.ping()), ...PROBE_TIMING }),
      new ServiceProbe({ service: 'postgres', check: async () => void (await sql`SELECT 1`), ...PROBE_TIMING }),
    ];
    ts = await startTestServer({ parts: { probes } });
  });
  after(async () => {
    await ts?.stop();
    redisClient?.destroy();
    await sql?.end({ timeout: 1 });
    await postgresProxy?.close();
    await database?.drop();
    await redis?.kill();
  });

  test('ready while both services answer, with their round trips in the metrics', async () => {
    assert.deepEqual((await readiness(ts)).body, { status: 'ready' });
    const { exposition } = await scrape(ts.server.url);
    for (const service of ['redis', 'postgres']) {
      assert.equal(sampleOf(exposition, 'parley_service_up', { service }), 1, service);
      assert.ok((sampleOf(exposition, 'parley_service_round_trip_seconds_count', { service }) ?? 0) >= 1, `${service} round trips`);
    }
  });

  test('Redis killed: 503 naming redis, never its address; back by itself when Redis restarts', async () => {
    await redis.kill();
    const down = await readinessBecomes(ts, 503, 'not ready without Redis');
    assert.deepEqual(down.body, { status: 'unavailable', failing: ['redis'] });
    assert.ok(!down.text.includes(String(redis.port)) && !down.text.includes('redis://'), 'no address in the answer');
    const { exposition } = await scrape(ts.server.url);
    assert.ok((sampleOf(exposition, 'parley_service_failures_total', { service: 'redis' }) ?? 0) >= 1);
    assert.equal(sampleOf(exposition, 'parley_service_up', { service: 'redis' }), 0);

    await redis.restart();
    assert.deepEqual((await readinessBecomes(ts, 200, 'ready again once Redis is back')).body, { status: 'ready' });
  });

  test('PostgreSQL cut off: 503 naming postgres; back by itself when the connection is restored', async () => {
    postgresProxy.block();
    postgresProxy.cut();
    const down = await readinessBecomes(ts, 503, 'not ready without PostgreSQL');
    assert.deepEqual(down.body, { status: 'unavailable', failing: ['postgres'] });
    assert.ok(!down.text.includes(String(postgresProxy.port)) && !down.text.includes('postgres://'), 'no address in the answer');
    const { exposition } = await scrape(ts.server.url);
    assert.ok((sampleOf(exposition, 'parley_service_failures_total', { service: 'postgres' }) ?? 0) >= 1);

    postgresProxy.unblock();
    assert.deepEqual((await readinessBecomes(ts, 200, 'ready again once PostgreSQL is reachable')).body, { status: 'ready' });
  });
});

describe('service probe', () => {
  test('a check that does not answer in time fails the probe; the next answer heals it', async () => {
    const metrics = new Metrics();
    let answer: 'hang' | 'ok' = 'hang';
    const probe = new ServiceProbe({
      service: 'slowpoke',
      check: () => (answer === 'ok' ? Promise.resolve() : new Promise<void>(() => undefined)),
      intervalMs: 10,
      timeoutMs: 50,
    });
    await probe.start(metrics);
    try {
      assert.equal(probe.healthy, false, 'the first check timed out');
      answer = 'ok';
      await waitFor(() => probe.healthy, { message: 'healthy after a check answers' });
      answer = 'hang';
      await waitFor(() => !probe.healthy, { message: 'unhealthy after a check times out' });
    } finally {
      await probe.stop();
    }
    const failures = sampleOf(parseExposition(await metrics.exposition()), 'parley_service_failures_total', { service: 'slowpoke' });
    assert.ok((failures ?? 0) >= 2, `both hangs counted as failures: ${failures}`);
  });

  test('a check that throws instead of rejecting fails the probe', async () => {
    const probe = new ServiceProbe({
      service: 'thrower',
      check: () => {
        throw new Error('no client');
      },
    });
    await probe.start(new Metrics());
    await probe.stop();
    assert.equal(probe.healthy, false);
  });
});
