/**
 * The real `centrifuge` SDK in Node for conformance tests: clients over the
 * `ws` WebSocket with short reconnect delays, every event recorded, and one
 * place to disconnect them all so the test process can exit.
 */
import {
  Centrifuge,
  type Options,
  type TransportEndpoint,
  type PublicationContext,
  type Subscription,
  type SubscribedContext,
  type SubscriptionOptions,
} from 'centrifuge';
import WebSocket from 'ws';
import { newCentrifuge, type SdkEncoding } from './sdk-flavour.js';
import { protobufClient } from './sdk-protobuf.js';
import { nextEvent, waitFor } from './wait.js';

/** Reconnect quickly in tests (the SDK defaults are 0.5–20 s). */
export const FAST_RECONNECT = { minReconnectDelay: 50, maxReconnectDelay: 300 } as const;

/** Client events that are recorded for every client made here. */
const CLIENT_EVENTS = [
  'connecting',
  'connected',
  'disconnected',
  'error',
  'subscribing',
  'subscribed',
  'unsubscribed',
  'publication',
  'join',
  'leave',
  'message',
] as const;

/** Subscription events recorded for every subscription made here. */
const SUBSCRIPTION_EVENTS = ['subscribing', 'subscribed', 'unsubscribed', 'publication', 'join', 'leave', 'error'] as const;

export interface RecordedEvent {
  event: string;
  ctx: any;
  at: number;
}

/** A client plus everything it emitted. */
export interface TestClient {
  client: Centrifuge;
  events: RecordedEvent[];
  /** Recorded events of one kind, oldest first. */
  of(event: string): any[];
}

/** A subscription plus everything it emitted; `publications` in delivery order. */
export interface TestSubscription {
  sub: Subscription;
  events: RecordedEvent[];
  publications: PublicationContext[];
  of(event: string): any[];
}

/** Every client made by {@link makeClient}, for {@link disconnectAll}. */
const live = new Set<Centrifuge>();

function recorder(events: RecordedEvent[]) {
  return (event: string) => events.filter((e) => e.event === event).map((e) => e.ctx);
}

/**
 * Makes a client (not yet connected) whose events are recorded, in the
 * process's SDK flavour (see `sdk-flavour.ts`). An `error` listener is always attached.
 */
export function makeClient(wsUrl: string, options: Partial<Options> = {}): TestClient {
  return recorded(newCentrifuge(wsUrl, { websocket: WebSocket, ...FAST_RECONNECT, ...options }));
}

/** Like {@link makeClient}, for a test that chooses the SDK's endpoint (or transports) and encoding itself: JSON unless told, whatever the flavour. */
export function makeClientAt(endpoint: string | TransportEndpoint[], options: Partial<Options> = {}, encoding: SdkEncoding = 'json'): TestClient {
  const all = { websocket: WebSocket, ...FAST_RECONNECT, ...options };
  return recorded(encoding === 'protobuf' ? protobufClient(endpoint, all) : new Centrifuge(endpoint, all));
}

/** Records a new client's events and keeps it for {@link disconnectAll}. */
function recorded(client: Centrifuge): TestClient {
  const events: RecordedEvent[] = [];
  for (const event of CLIENT_EVENTS) {
    client.on(event, (ctx: unknown) => events.push({ event, ctx, at: Date.now() }));
  }
  live.add(client);
  return { client, events, of: recorder(events) };
}

/** Makes a client and waits until it is connected; returns it with the `connected` context. */
export async function connectClient(
  wsUrl: string,
  options: Partial<Options> = {},
  timeoutMs = 5000,
): Promise<TestClient & { clientId: string }> {
  const made = makeClient(wsUrl, options);
  const connected = nextEvent<[{ client: string }]>(made.client, 'connected', timeoutMs);
  made.client.connect();
  const [ctx] = await connected;
  return { ...made, clientId: ctx.client };
}

/** Makes a subscription whose events and publications are recorded. */
export function makeSubscription(client: Centrifuge, channel: string, options: SubscriptionOptions = {}): TestSubscription {
  const sub = client.newSubscription(channel, options);
  const events: RecordedEvent[] = [];
  const publications: PublicationContext[] = [];
  for (const event of SUBSCRIPTION_EVENTS) {
    sub.on(event, (ctx: any) => {
      events.push({ event, ctx, at: Date.now() });
      if (event === 'publication') publications.push(ctx as PublicationContext);
    });
  }
  return { sub, events, publications, of: recorder(events) };
}

/** Subscribes and waits for `subscribed`; rejects when the subscription ends unsubscribed instead. */
export async function subscribe(
  client: Centrifuge,
  channel: string,
  options: SubscriptionOptions = {},
  timeoutMs = 5000,
): Promise<TestSubscription & { subscribed: SubscribedContext }> {
  const made = makeSubscription(client, channel, options);
  const subscribed = await subscribeExisting(made, timeoutMs);
  return { ...made, subscribed };
}

/** Calls `subscribe()` on a made subscription and waits for the outcome. */
export function subscribeExisting(made: TestSubscription, timeoutMs = 5000): Promise<SubscribedContext> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out subscribing to ${made.sub.channel}`));
    }, timeoutMs);
    const onSubscribed = (ctx: SubscribedContext) => {
      cleanup();
      resolve(ctx);
    };
    const onUnsubscribed = (ctx: { code: number; reason: string }) => {
      cleanup();
      reject(Object.assign(new Error(`unsubscribed from ${made.sub.channel}: ${ctx.code} ${ctx.reason}`), { code: ctx.code }));
    };
    const cleanup = () => {
      clearTimeout(timer);
      made.sub.off('subscribed', onSubscribed);
      made.sub.off('unsubscribed', onUnsubscribed);
    };
    made.sub.on('subscribed', onSubscribed);
    made.sub.on('unsubscribed', onUnsubscribed);
    made.sub.subscribe();
  });
}

/** Waits until `count` events of a kind were recorded; returns them. */
export async function eventsOf(target: { of(event: string): any[] }, event: string, count = 1, timeoutMs = 5000): Promise<any[]> {
  return waitFor(
    () => {
      const found = target.of(event);
      return found.length >= count ? found : undefined;
    },
    { timeoutMs, message: `${count} "${event}" event(s)` },
  );
}

/** The error a promise rejected with (asserting that it rejected). */
export async function rejection(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: number; message: string };
  }
  throw new Error('expected the call to reject, but it resolved');
}

/** Disconnects every client made here (idempotent); call in `after`/`finally`. */
export function disconnectAll(): void {
  for (const client of live) {
    try {
      client.disconnect();
    } catch {
      // Already torn down.
    }
    client.removeAllListeners();
    // Keep an error listener: the SDK emits `error` and an EventEmitter without one throws.
    client.on('error', () => undefined);
  }
  live.clear();
}

/** Disconnects one client made here. */
export function disconnectClient(client: Centrifuge): void {
  client.disconnect();
  live.delete(client);
}

/** Publications received after the n-th (1-based) `subscribed` event of a subscription, in order. */
export function publicationsAfterSubscribed(sub: TestSubscription, n: number): any[] {
  let seen = 0;
  const out: any[] = [];
  for (const event of sub.events) {
    if (event.event === 'subscribed') seen++;
    else if (event.event === 'publication' && seen >= n) out.push(event.ctx);
  }
  return out;
}

/** The offsets of publications, in order. */
export function offsetsOf(publications: readonly { offset?: number }[]): number[] {
  return publications.map((p) => p.offset ?? 0);
}

/** [from, from+1, …, to]. */
export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}
