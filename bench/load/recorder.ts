/**
 * Counts what subscribers receive during one phase of a run: deliveries,
 * duplicates and end-to-end latency. Each subscriber keeps a bitset of the
 * sequence numbers it got, so a message counts as lost when it is missing at
 * the end, and as duplicated when it arrives twice.
 */
import { Histogram } from './histogram.js';
import type { MarkerSink } from './marker.js';

export class Subscriber implements MarkerSink {
  bits = new Uint8Array(64);
  received = 0;

  constructor(
    readonly index: number,
    private readonly recorder: Recorder,
    /** The room this subscriber is in (durable scenario); 0 otherwise. */
    readonly room = 0,
  ) {}

  onMarker(phase: number, seq: number, sentMicros: number, now: number): void {
    this.recorder.record(this, phase, seq, sentMicros, now);
  }

  has(seq: number): boolean {
    const byte = seq >> 3;
    return byte < this.bits.length && (this.bits[byte]! & (1 << (seq & 7))) !== 0;
  }
}

/** A new phase id base per load generator, so frames from an earlier process can never be mistaken for this one's. */
const PHASE_BASE = (1 + Math.floor(Math.random() * 100_000)) * 100;
let phases = 0;

export function newPhaseId(): number {
  return PHASE_BASE + ++phases;
}

export class Recorder {
  readonly subscribers: Subscriber[] = [];
  phase = -1;
  histogram = new Histogram();
  delivered = 0;
  duplicates = 0;
  /** Markers of another phase (late frames of an earlier step, backlog sent on connect). */
  stray = 0;
  /** When the latest delivery of this phase arrived (µs, load generator clock). */
  lastDeliveryMicros = 0;

  add(room = 0): Subscriber {
    const subscriber = new Subscriber(this.subscribers.length, this, room);
    this.subscribers.push(subscriber);
    return subscriber;
  }

  /** Keeps only the subscribers `keep` accepts (those whose connection succeeded). */
  retain(keep: (subscriber: Subscriber) => boolean): void {
    const kept = this.subscribers.filter(keep);
    this.subscribers.length = 0;
    for (const subscriber of kept) this.subscribers.push(subscriber);
  }

  /** Starts a phase; `capacity` is the expected highest sequence number (bitsets grow past it if needed). */
  begin(phase: number, capacity: number): void {
    this.phase = phase;
    this.histogram = new Histogram();
    this.delivered = 0;
    this.duplicates = 0;
    this.lastDeliveryMicros = 0;
    const bytes = (capacity >> 3) + 1;
    for (const subscriber of this.subscribers) {
      subscriber.bits = new Uint8Array(bytes);
      subscriber.received = 0;
    }
  }

  record(subscriber: Subscriber, phase: number, seq: number, sentMicros: number, now: number): void {
    if (phase !== this.phase) {
      this.stray++;
      return;
    }
    const byte = seq >> 3;
    let bits = subscriber.bits;
    if (byte >= bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, bits.length * 2));
      grown.set(bits);
      subscriber.bits = bits = grown;
    }
    const bit = 1 << (seq & 7);
    if ((bits[byte]! & bit) !== 0) {
      this.duplicates++;
      return;
    }
    bits[byte] = bits[byte]! | bit;
    subscriber.received++;
    this.delivered++;
    this.histogram.record(now - sentMicros);
    this.lastDeliveryMicros = now;
  }

  /** Messages 1..sent that some subscriber does not have. */
  lostOf(sent: number): number {
    let lost = 0;
    for (const subscriber of this.subscribers) {
      if (subscriber.received === sent) continue;
      for (let seq = 1; seq <= sent; seq++) if (!subscriber.has(seq)) lost++;
    }
    return lost;
  }
}
