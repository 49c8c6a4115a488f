/**
 * A latency histogram with fixed buckets, so memory stays bounded whatever
 * the number of samples: 10 µs wide up to 10 ms, 100 µs up to 100 ms, 1 ms
 * up to 10 s, then one overflow bucket (the exact maximum is kept apart).
 * A percentile is reported as the upper edge of its bucket (never
 * optimistic by more than the bucket width, about 1%).
 */
import type { LatencySummary } from '../lib/types.js';

const FINE = 1000; // 0–10 ms by 10 µs
const MEDIUM = 900; // 10–100 ms by 100 µs
const COARSE = 9900; // 100 ms–10 s by 1 ms
const SIZE = FINE + MEDIUM + COARSE + 1;

export class Histogram {
  private readonly counts = new Uint32Array(SIZE);
  count = 0;
  private maxMicros = 0;

  /** Records one latency, in microseconds. */
  record(micros: number): void {
    if (micros < 0) micros = 0;
    let index: number;
    if (micros < 10_000) index = (micros / 10) | 0;
    else if (micros < 100_000) index = FINE + (((micros - 10_000) / 100) | 0);
    else if (micros < 10_000_000) index = FINE + MEDIUM + (((micros - 100_000) / 1000) | 0);
    else index = SIZE - 1;
    this.counts[index]!++;
    this.count++;
    if (micros > this.maxMicros) this.maxMicros = micros;
  }

  /** The latency under which `fraction` of the samples fall, in microseconds. */
  percentile(fraction: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(fraction * this.count));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(upperEdge(i), this.maxMicros);
    }
    return this.maxMicros;
  }

  summary(): LatencySummary {
    const ms = (micros: number) => Math.round(micros) / 1000;
    return {
      count: this.count,
      p50: ms(this.percentile(0.5)),
      p90: ms(this.percentile(0.9)),
      p99: ms(this.percentile(0.99)),
      max: ms(this.maxMicros),
    };
  }
}

function upperEdge(index: number): number {
  if (index < FINE) return (index + 1) * 10;
  if (index < FINE + MEDIUM) return 10_000 + (index - FINE + 1) * 100;
  if (index < SIZE - 1) return 100_000 + (index - FINE - MEDIUM + 1) * 1000;
  return Number.POSITIVE_INFINITY;
}
