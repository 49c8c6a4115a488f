/**
 * The events a subscription holds while its subscribe reply is prepared:
 * delivered exactly once after the reply, and bounded (in count and bytes)
 * without closing the connection: past the bound, `goLive` reports the
 * overflow so the client can subscribe again and recover from history.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChannelResolver } from '../src/channel/channel.js';
import { DEFAULT_CONFIG } from '../src/config/defaults.js';
import type { Disconnect } from '../src/protocol/errors.js';
import { jsonCodec } from '../src/protocol/json-codec.js';
import { SharedPush } from '../src/protocol/shared-push.js';
import { HoldBudget, Subscription } from '../src/session/subscription.js';
import type { Transport } from '../src/transport/transport.js';

/** A transport that records what it was given. */
class RecordingTransport implements Transport {
  readonly pushes: Buffer[] = [];
  closedWith: Disconnect | undefined;
  send(message: string | Buffer): void {
    this.pushes.push(Buffer.from(message));
  }
  reply(message: string | Buffer): void {
    this.pushes.push(Buffer.from(message));
  }
  replyRoom(): undefined {
    return undefined;
  }
  readonly bytesSent = 0;
  afterWritten(callback: () => void): void {
    callback();
  }
  close(disconnect: Disconnect): void {
    this.closedWith = disconnect;
  }
  get closed(): boolean {
    return this.closedWith !== undefined;
  }
}

const channel = new ChannelResolver(DEFAULT_CONFIG).resolve('room:held');
const info = { user: 'u', client: 'c' };

function make(maxHeldBytes: number, budget = new HoldBudget(maxHeldBytes, 10_000)): { subscription: Subscription; transport: RecordingTransport } {
  const transport = new RecordingTransport();
  return { subscription: new Subscription(channel, info, false, false, { transport, codec: jsonCodec }, budget), transport };
}

function publish(subscription: Subscription, offset: number, body = ''): void {
  const publication = { data: JSON.stringify({ offset, body }), offset, epoch: 'e' };
  subscription.onPublication(channel.name, publication, new SharedPush({ type: 'pub', channel: channel.name, pub: publication }));
}

const offsetsSent = (transport: RecordingTransport) => transport.pushes.map((frame) => JSON.parse(frame.toString()).push.pub.offset);

describe('Subscription: events held before the reply', () => {
  test('nothing is sent before goLive; then those above the reply offset, once, in order, and live ones after', () => {
    const { subscription, transport } = make(1 << 20);
    for (let offset = 1; offset <= 6; offset++) publish(subscription, offset);
    publish(subscription, 4); // a duplicate delivery
    assert.equal(transport.pushes.length, 0, 'the client would drop pushes before its reply');
    assert.equal(subscription.goLive(3), 'live');
    assert.deepEqual(offsetsSent(transport), [4, 5, 6]);
    publish(subscription, 6);
    publish(subscription, 7);
    assert.deepEqual(offsetsSent(transport), [4, 5, 6, 7]);
    assert.equal(transport.closed, false);
  });

  test('past the byte bound every held event is dropped, goLive reports the overflow, and the connection is left open', () => {
    const body = 'b'.repeat(10_000);
    const { subscription, transport } = make(50_000);
    for (let offset = 1; offset <= 4; offset++) publish(subscription, offset, body);
    for (let offset = 5; offset <= 8; offset++) publish(subscription, offset, body);
    assert.equal(subscription.goLive(0), 'overflowed');
    assert.equal(subscription.live, false, 'delivery stays stopped until the client subscribes again');
    publish(subscription, 9, body);
    assert.equal(transport.pushes.length, 0, 'nothing held nor later is sent: the resubscribe recovers it all');
    assert.equal(transport.closed, false);
  });

  test('past 10,000 held events (each small) the overflow is reported the same way', () => {
    const { subscription, transport } = make(1 << 30);
    for (let offset = 1; offset <= 10_001; offset++) publish(subscription, offset);
    assert.equal(subscription.goLive(0), 'overflowed');
    assert.equal(transport.pushes.length, 0);

    const within = make(1 << 30);
    for (let offset = 1; offset <= 10_000; offset++) publish(within.subscription, offset);
    assert.equal(within.subscription.goLive(0), 'live');
    assert.equal(within.transport.pushes.length, 10_000);
  });

  test('subscriptions of one session share one hold budget: together they hold no more than one may', () => {
    const body = 'b'.repeat(10_000);
    const budget = new HoldBudget(50_000, 10_000);
    const first = make(0, budget);
    const second = make(0, budget);
    for (let offset = 1; offset <= 3; offset++) publish(first.subscription, offset, body);
    // Three of ~10 KB are held by the first; the second's third does not fit what is left.
    for (let offset = 1; offset <= 3; offset++) publish(second.subscription, offset, body);
    assert.equal(second.subscription.goLive(0), 'overflowed');
    assert.equal(first.subscription.goLive(0), 'live');
    assert.deepEqual(offsetsSent(first.transport), [1, 2, 3]);

    // Delivered events give their room back: a third subscription may hold as much again.
    const third = make(0, budget);
    for (let offset = 1; offset <= 4; offset++) publish(third.subscription, offset, body);
    assert.equal(third.subscription.goLive(0), 'live');
    assert.equal(third.transport.pushes.length, 4);
  });
});
