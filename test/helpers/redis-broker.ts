/**
 * RedisBrokers for tests, each with its own command and subscriber clients
 * (as a node of a deployment has), which reconnect quickly on their own.
 */
import { createClient } from 'redis';
import { RedisBroker, type BrokerSubscriberClient, type RedisBrokerOptions } from '../../src/broker/redis-broker.js';
import type { Logger } from '../../src/log/logger.js';
import { REDIS_URL } from './redis-service.js';

export interface TestRedisBroker {
  broker: RedisBroker;
  /** Closes the broker and quits both clients. */
  close(): Promise<void>;
}

export interface TestRedisBrokerOptions extends Pick<RedisBrokerOptions, 'probeIntervalMs' | 'probeTimeoutMs'> {
  /** The Redis to use. @default the shared service */
  url?: string;
  /** Puts something between the broker and its subscriber client (fault injection). */
  wrapSubscriber?: (subscriber: BrokerSubscriberClient) => BrokerSubscriberClient;
}

/** Connects a broker under `prefix`. */
export async function connectRedisBroker(prefix: string, logger: Logger, options: TestRedisBrokerOptions = {}): Promise<TestRedisBroker> {
  const { url = REDIS_URL, wrapSubscriber = (subscriber) => subscriber, ...brokerOptions } = options;
  const publisher = createClient({
    url,
    socket: { connectTimeout: 5_000, reconnectStrategy: (retries: number) => Math.min(50 * (retries + 1), 300) },
  });
  const subscriber = publisher.duplicate();
  for (const client of [publisher, subscriber]) client.on('error', () => {}); // reconnects are part of these tests
  await Promise.all([publisher.connect(), subscriber.connect()]);
  const broker = new RedisBroker(publisher, wrapSubscriber(subscriber), { prefix, logger, ...brokerOptions });
  return {
    broker,
    async close() {
      await broker.close();
      await Promise.allSettled([publisher.close(), subscriber.close()]);
    },
  };
}
