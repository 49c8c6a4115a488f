/**
 * Every published message carries a marker `@b<phase>_<seq>_<sent µs>` in its
 * text. Subscribers find markers in the raw frame bytes with `indexOf` and
 * read only the three numbers: no frame is decoded as text or parsed as
 * JSON, whatever the protocol, so counting costs the same for every server.
 * A frame may hold several markers (servers that join messages into one
 * frame) or none (pings, replies).
 */

const MARK = Buffer.from('@b');
const ZERO = 48;
const NINE = 57;

/** Microseconds on the load generator's monotonic clock (publishers and subscribers share the process). */
export function nowMicros(): number {
  return Math.round(performance.now() * 1000);
}

export function marker(phase: number, seq: number, sentMicros: number): string {
  return `@b${phase}_${seq}_${sentMicros}`;
}

export interface MarkerSink {
  onMarker(phase: number, seq: number, sentMicros: number, now: number): void;
}

/** Calls `sink.onMarker` for every marker in `frame`; returns how many there were. */
export function scanFrame(frame: Buffer, sink: MarkerSink): number {
  let at = frame.indexOf(MARK);
  if (at === -1) return 0;
  const now = nowMicros();
  let found = 0;
  const end = frame.length;
  while (at !== -1) {
    let p = at + 2;
    let phase = 0;
    let c = frame[p]!;
    while (c >= ZERO && c <= NINE) {
      phase = phase * 10 + c - ZERO;
      c = frame[++p]!;
    }
    let seq = 0;
    c = frame[++p]!;
    while (c >= ZERO && c <= NINE) {
      seq = seq * 10 + c - ZERO;
      c = frame[++p]!;
    }
    let sent = 0;
    c = frame[++p]!;
    while (c >= ZERO && c <= NINE) {
      sent = sent * 10 + c - ZERO;
      c = frame[++p]!;
    }
    sink.onMarker(phase, seq, sent, now);
    found++;
    at = p < end ? frame.indexOf(MARK, p) : -1;
  }
  return found;
}
