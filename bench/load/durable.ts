/**
 * Scenario (e): durable publications. Publishers keep a window of `publish`
 * commands in flight to channels of a namespace with history; a publication
 * counts when its reply arrives (Parley answers only once it is stored).
 * Every room has subscribers; each acknowledged publication must reach all
 * of them, and the rooms' stream offsets, read back through the server API
 * afterwards, must add up to the publications acknowledged.
 */
import { CpuWindow, round } from '../lib/proc.js';
import type { DurableConfig, DurableResult, Target } from '../lib/types.js';
import { BenchClient, connectMany } from './clients.js';
import { CONNECT_CONCURRENCY, loadHealth, progress, sleep, waitUntil } from './common.js';
import { Histogram } from './histogram.js';
import { marker, nowMicros } from './marker.js';
import { newPhaseId, Recorder } from './recorder.js';

interface InFlight {
  room: number;
  seq: number;
  sentMicros: number;
}

export async function runDurable(target: Target, config: DurableConfig): Promise<DurableResult> {
  if (target.protocol !== 'centrifuge' || !target.durableNamespace) {
    throw new Error(`${target.id} has no acknowledged durable publish`);
  }
  const label = `[e] ${target.id}`;
  const rooms = Array.from({ length: config.rooms }, (_, i) => `${target.durableNamespace}:r${i}`);
  const recorder = new Recorder();
  let closed = 0;
  const subscriberCount = config.rooms * config.subscribersPerRoom;
  const subscribed = await connectMany(
    subscriberCount,
    CONNECT_CONCURRENCY,
    (index) => {
      const room = index % config.rooms;
      return new BenchClient({
        target,
        user: `s${index}`,
        channel: rooms[room]!,
        sink: recorder.add(room),
        onClose: () => closed++,
      });
    },
    (done) => progress(`${label}: ${done}/${subscriberCount} subscribers connected`),
  );
  if (subscribed.failures > 0) throw new Error(`${subscribed.failures} subscribers could not connect: ${subscribed.firstError}`);
  progress(`${label}: ${subscriberCount} subscribers in ${config.rooms} rooms; ${config.publishers} publishers × ${config.window} in flight for ${config.duration} s`);

  const phase = newPhaseId();
  recorder.begin(phase, 1024);
  const roomSeq = new Uint32Array(config.rooms);
  const acked = rooms.map(() => new Uint8Array(1024));
  const ack = new Histogram();
  let acknowledged = 0;
  let errors = 0;
  let outstanding = 0;
  let nextRoom = 0;
  let running = true;
  let lastAck = 0;

  const publishers: BenchClient[] = [];
  const inFlight: Map<number, InFlight>[] = [];
  const publishNext = (p: number) => {
    const room = nextRoom;
    nextRoom = (nextRoom + 1) % config.rooms;
    const seq = ++roomSeq[room]!;
    const sentMicros = nowMicros();
    const id = publishers[p]!.publish(marker(phase, seq, sentMicros), rooms[room]);
    inFlight[p]!.set(id, { room, seq, sentMicros });
    outstanding++;
  };
  for (let p = 0; p < config.publishers; p++) {
    inFlight.push(new Map());
    const client = new BenchClient({
      target,
      user: `publisher${p}`,
      batchCommands: true,
      onReply: (id, ok) => {
        const pending = inFlight[p]!.get(id);
        if (!pending) return;
        inFlight[p]!.delete(id);
        outstanding--;
        const now = nowMicros();
        if (ok) {
          acknowledged++;
          lastAck = now;
          ack.record(now - pending.sentMicros);
          markAcked(acked, pending.room, pending.seq);
        } else {
          errors++;
        }
        if (running) publishNext(p);
      },
      onClose: () => closed++,
    });
    await client.ready;
    publishers.push(client);
  }

  const server = new CpuWindow(target.pid);
  const self = new CpuWindow('self');
  const started = nowMicros();
  for (let p = 0; p < config.publishers; p++) for (let w = 0; w < config.window; w++) publishNext(p);
  const reporter = setInterval(() => {
    progress(`${label}: ${acknowledged} acknowledged, ${recorder.delivered} deliveries`);
  }, 2000);
  await sleep(config.duration * 1000);
  running = false;
  clearInterval(reporter);
  await waitUntil(() => outstanding === 0, 30_000);
  const seconds = (lastAck - started) / 1e6;
  const serverUsage = server.stop();
  const selfUsage = self.stop();

  const expectedFor = (room: number) => count(acked[room]!);
  const expected = recorder.subscribers.reduce((sum, subscriber) => sum + expectedFor(subscriber.room), 0);
  await waitUntil(() => recorder.delivered >= expected, config.drain * 1000);
  let lost = 0;
  for (const subscriber of recorder.subscribers) {
    const bits = acked[subscriber.room]!;
    for (let seq = 1; seq <= roomSeq[subscriber.room]!; seq++) {
      if ((bits[seq >> 3]! & (1 << (seq & 7))) !== 0 && !subscriber.has(seq)) lost++;
    }
  }
  const storedOffsets = await readOffsets(target, rooms);
  progress(
    `${label}: ${acknowledged} acknowledged in ${seconds.toFixed(1)} s = ${Math.round(acknowledged / seconds)}/s, ` +
      `ack p99 ${ack.summary().p99} ms, lost ${lost}, stored offsets ${storedOffsets ?? 'unknown'}`,
  );
  for (const client of [...publishers, ...subscribed.clients]) client.close();
  return {
    scenario: 'e',
    rooms: config.rooms,
    subscribersPerRoom: config.subscribersPerRoom,
    publishers: config.publishers,
    window: config.window,
    duration: config.duration,
    acknowledged,
    errors,
    acknowledgedPerSecond: seconds > 0 ? Math.round(acknowledged / seconds) : 0,
    ack: ack.summary(),
    latency: recorder.histogram.summary(),
    delivered: recorder.delivered,
    expected,
    lost,
    duplicates: recorder.duplicates,
    closed,
    storedOffsets,
    server: serverUsage,
    load: loadHealth(selfUsage, 0),
  };
}

function markAcked(acked: Uint8Array[], room: number, seq: number): void {
  let bits = acked[room]!;
  const byte = seq >> 3;
  if (byte >= bits.length) {
    const grown = new Uint8Array(Math.max(byte + 1, bits.length * 2));
    grown.set(bits);
    acked[room] = bits = grown;
  }
  bits[byte] = bits[byte]! | (1 << (seq & 7));
}

function count(bits: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < bits.length; i++) {
    let b = bits[i]!;
    while (b) {
      b &= b - 1;
      n++;
    }
  }
  return n;
}

/** Sum of the rooms' stream offsets (the server API's `history` without a limit answers the position only). */
async function readOffsets(target: Target, rooms: string[]): Promise<number | null> {
  if (!target.apiUrl || !target.apiKey) return null;
  let sum = 0;
  try {
    for (const channel of rooms) {
      const response = await fetch(`${target.apiUrl}/history`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': target.apiKey },
        body: JSON.stringify({ channel }),
      });
      const body = (await response.json()) as { result?: { offset?: number } };
      sum += body.result?.offset ?? 0;
    }
  } catch {
    return null;
  }
  return round(sum, 0);
}
