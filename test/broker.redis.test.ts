/**
 * RedisBroker on the real service: the broker contract, malformed messages
 * dropped without harm, and a Redis restart (on a private server) after
 * which the broker is subscribed again and tells its handler to resync.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BrokerHandler } from '../src/broker/broker.js';
import type { BrokerSubscriberClient, RedisMessageListener } from '../src/broker/redis-broker.js';
import type { Publication } from '../src/protocol/types.js';
import { runBrokerContract } from './contracts/broker-contract.js';
import { capturingLogger } from './helpers/log-capture.js';
import { PrivateRedis } from './helpers/private-redis.js';
import { connectRedisBroker, type TestRedisBroker } from './helpers/redis-broker.js';
import { connectRedis, uniquePrefix, type TestRedisClient } from './helpers/redis-service.js';
import { waitFor } from './helpers/wait.js';

runBrokerContract('redis', async (count) => {
  const prefix = uniquePrefix('broker');
  const nodes = await Promise.all(Array.from({ length: count }, () => connectRedisBroker(prefix, capturingLogger().logger)));
  return {
    brokers: nodes.map((node) => node.broker),
    cleanup: async () => {
      await Promise.all(nodes.map((node) => node.close()));
    },
  };
});

/** A handler that keeps what it was given. */
function recordingHandler() {
  const publications: Publication[] = [];
  let resyncs = 0;
  const handler: BrokerHandler = {
    onPublication: (_channel, publication) => publications.push(publication),
    onJoin: () => undefined,
    onLeave: () => undefined,
    onResync: () => {
      resyncs++;
    },
  };
  return { handler, publications, resyncs: () => resyncs };
}

describe('RedisBroker on the real service', () => {
  let raw: TestRedisClient;
  before(async () => {
    raw = await connectRedis();
  });
  after(async () => {
    await raw.close();
  });

  test('a malformed message is logged and dropped; delivery goes on', async () => {
    const prefix = uniquePrefix('broker-malformed');
    const { logger, lines } = capturingLogger();
    const node = await connectRedisBroker(prefix, logger);
    try {
      const received = recordingHandler();
      node.broker.setHandler(received.handler);
      await node.broker.subscribe('room');
      const malformed = [
        'not json',
        '[1,2]',
        '{"x":{}}',
        '{"p":{"data":"not json text"}}',
        '{"p":{"data":"1","offset":-3,"epoch":"e"}}',
        '{"p":{"data":"1","offset":4}}',
        '{"j":{"user":"u"}}',
        '{"p":{"data":"1","tags":{"a":1}}}',
      ];
      for (const message of malformed) await raw.publish(`${prefix}room`, message);
      await node.broker.publish('room', { data: '{"ok":true}', offset: 1, epoch: 'e' });
      await waitFor(() => received.publications.length > 0);
      assert.deepEqual(received.publications, [{ data: '{"ok":true}', offset: 1, epoch: 'e' }]);
      const dropped = lines.filter((line) => line.includes('dropped a malformed broker message'));
      assert.equal(dropped.length, malformed.length);
    } finally {
      await node.close();
    }
  });

  test('after a Redis restart the broker is subscribed again, asks for a resync, and delivery resumes', async () => {
    const redis = await PrivateRedis.start();
    const prefix = uniquePrefix('broker-restart');
    const { logger } = capturingLogger();
    let receiver: TestRedisBroker | undefined;
    let sender: TestRedisBroker | undefined;
    try {
      receiver = await connectRedisBroker(prefix, logger, { url: redis.url });
      sender = await connectRedisBroker(prefix, logger, { url: redis.url });
      const received = recordingHandler();
      receiver.broker.setHandler(received.handler);
      sender.broker.setHandler(recordingHandler().handler);
      await receiver.broker.subscribe('room');
      await sender.broker.publish('room', { data: '1', offset: 1, epoch: 'e' });
      await waitFor(() => received.publications.length === 1);
      assert.equal(received.resyncs(), 0, 'no resync without a reconnect');

      await redis.kill();
      await redis.resume();
      await waitFor(() => received.resyncs() > 0, { timeoutMs: 10_000, message: 'resync after the reconnect' });
      await sender.broker.publish('room', { data: '2', offset: 2, epoch: 'e' });
      await waitFor(() => received.publications.length === 2, { message: 'delivery after the restart' });
      assert.deepEqual(received.publications.map((p) => p.offset), [1, 2]);
    } finally {
      await receiver?.close();
      await sender?.close();
      await redis.stop();
    }
  });

  test('an idle subscriber that stops receiving is found by the probe, which asks for a resync', async () => {
    const prefix = uniquePrefix('broker-probe');
    const { logger, lines } = capturingLogger();
    let wedged = false;
    let probesPassed = 0;
    // The subscriber connection stays up but, when wedged, nothing it receives reaches the broker.
    const wedgeable = (subscriber: BrokerSubscriberClient): BrokerSubscriberClient => {
      const passed = new Map<RedisMessageListener, RedisMessageListener>();
      const pass = (listener: RedisMessageListener) => {
        let wrapper = passed.get(listener);
        if (!wrapper) {
          wrapper = (message, channel) => {
            if (wedged) return;
            if (channel.includes('#probe:')) probesPassed++;
            listener(message, channel);
          };
          passed.set(listener, wrapper);
        }
        return wrapper;
      };
      return {
        subscribe: (channel, listener) => subscriber.subscribe(channel, pass(listener)),
        unsubscribe: (channel, listener) => subscriber.unsubscribe(channel, pass(listener)),
        on: (event, listener) => subscriber.on(event, listener),
        off: (event, listener) => subscriber.off(event, listener),
      };
    };
    const node = await connectRedisBroker(prefix, logger, { probeIntervalMs: 50, probeTimeoutMs: 1000, wrapSubscriber: wedgeable });
    try {
      const received = recordingHandler();
      node.broker.setHandler(received.handler);
      await node.broker.subscribe('room');
      // Healthy and idle: probes go round and come back, and nobody is asked to resync.
      await waitFor(() => probesPassed >= 3, { message: 'probes come back' });
      await node.broker.publish('room', { data: '1', offset: 1, epoch: 'e' });
      await waitFor(() => received.publications.length === 1);
      assert.equal(received.resyncs(), 0, 'no resync while probes come back');
      wedged = true;
      await waitFor(() => received.resyncs() > 0, { message: 'a failed probe asks for a resync' });
      assert.ok(lines.some((line) => line.includes('a probe did not come back')));
    } finally {
      await node.close();
    }
  });
});
