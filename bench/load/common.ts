/** Helpers shared by the load generator's scenarios. */
import type { LoadHealth, LoadMessage, ProcessUsage, Target } from '../lib/types.js';
import { BenchClient, connectMany, sourceAddress, type ConnectManyResult } from './clients.js';
import { Recorder } from './recorder.js';

/** Load generator CPU utilization from which its measurements are flagged as possibly load-bound. */
export const SATURATED_UTILIZATION = 0.9;
/** Handshakes in flight while connecting subscribers. */
export const CONNECT_CONCURRENCY = 100;

export function send(message: LoadMessage): void {
  process.send?.(message);
}

export function progress(text: string): void {
  send({ type: 'progress', text });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `done` every 10 ms until it holds or `timeoutMs` passes; resolves with whether it held. */
export async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() >= deadline) return false;
    await sleep(10);
  }
  return true;
}

/** Waits until no delivery has arrived for `quietMs` (at most `timeoutMs`): a server catching up is left alone first. */
export async function waitQuiet(recorder: Recorder, quietMs: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = recorder.delivered + recorder.stray + recorder.duplicates;
  let quietSince = performance.now();
  while (performance.now() < deadline) {
    await sleep(50);
    const now = recorder.delivered + recorder.stray + recorder.duplicates;
    if (now !== last) {
      last = now;
      quietSince = performance.now();
    } else if (performance.now() - quietSince >= quietMs) {
      return;
    }
  }
}

export function loadHealth(usage: ProcessUsage, maxSendLagMs: number): LoadHealth {
  return {
    utilization: usage.utilization,
    maxSendLagMs: Math.round(maxSendLagMs * 10) / 10,
    saturated: usage.utilization >= SATURATED_UTILIZATION,
  };
}

/** Connects `count` subscribers to the target's fan-out channel, each feeding `recorder`. */
export async function connectSubscribers(
  target: Target,
  recorder: Recorder,
  count: number,
  label: string,
  options: { onClose?: () => void; spreadOver?: number } = {},
): Promise<ConnectManyResult> {
  const result = await connectMany(
    count,
    CONNECT_CONCURRENCY,
    (index) => {
      const sink = recorder.add();
      return new BenchClient({
        target,
        user: `u${index}`,
        ...(target.channel ? { channel: target.channel } : {}),
        sink,
        ...(options.onClose ? { onClose: options.onClose } : {}),
        ...(options.spreadOver ? { localAddress: sourceAddress(index, options.spreadOver) } : {}),
      });
    },
    (done, failures) => progress(`${label}: ${done}/${count} subscribers connected${failures ? `, ${failures} failed` : ''}`),
  );
  // Subscribers that failed to connect were added to the recorder too; only connected ones count.
  const connected = new Set(result.clients.map((client) => client.sink));
  recorder.retain((subscriber) => connected.has(subscriber));
  progress(
    `${label}: ${result.clients.length}/${count} subscribers connected in ${result.seconds.toFixed(1)} s` +
      (result.failures ? ` (${result.failures} failed: ${result.firstError})` : ''),
  );
  return result;
}

/** Publisher connections: one, or as many as a per-connection rate limit requires. */
export class PublisherPool {
  readonly clients: BenchClient[] = [];
  publishErrors = 0;

  constructor(private readonly target: Target) {}

  /** Makes sure there are enough publishers for `rate` messages per second. */
  async ensure(rate: number): Promise<void> {
    const perConnection = this.target.maxPublishRatePerConnection;
    const needed = perConnection === null ? 1 : Math.max(1, Math.ceil(rate / perConnection));
    while (this.clients.length < needed) {
      const client = new BenchClient({
        target: this.target,
        user: `publisher${this.clients.length}`,
        onReply: (_id, ok) => {
          if (!ok) this.publishErrors++;
        },
      });
      await client.ready;
      this.clients.push(client);
    }
  }

  /** Publishes `total` messages evenly at `rate` per second, round-robin over the pool; `make(seq)` gives each marker. */
  async publishAtRate(rate: number, total: number, make: (seq: number) => string): Promise<{ sent: number; seconds: number; maxLagMs: number }> {
    const interval = 1000 / rate;
    const start = performance.now();
    const clients = this.clients.filter((client) => !client.closed);
    if (clients.length === 0) throw new Error('every publisher connection has closed');
    let sent = 0;
    let maxLagMs = 0;
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = performance.now();
        const due = Math.min(total, Math.floor((now - start) / interval) + 1);
        while (sent < due) {
          const lag = now - (start + sent * interval);
          if (lag > maxLagMs) maxLagMs = lag;
          const seq = ++sent;
          const client = clients[seq % clients.length]!;
          if (!client.closed) client.publish(make(seq));
        }
        if (sent >= total) {
          resolve();
          return;
        }
        setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
      };
      tick();
    });
    // Time from the first send to one interval after the last: `sent / seconds` is the rate achieved.
    return { sent, seconds: (performance.now() - start + interval) / 1000, maxLagMs };
  }

  close(): void {
    for (const client of this.clients) client.close();
  }
}
