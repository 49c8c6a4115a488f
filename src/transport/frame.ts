/**
 * WebSocket framing done once per message instead of once per recipient.
 * A server's text frame is a small header (FIN + text opcode, then the
 * payload length) followed by the unmasked payload (RFC 6455 §5.2), so the
 * complete frame for a publication can be built once and the same bytes
 * written to every subscriber's socket.
 */

/** Header length for a payload of `length` bytes. */
function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

function writeHeader(target: Buffer, length: number): void {
  target[0] = 0x81; // FIN, text
  if (length < 126) {
    target[1] = length;
  } else if (length < 65_536) {
    target[1] = 126;
    target.writeUInt16BE(length, 2);
  } else {
    target[1] = 127;
    target.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    target.writeUInt32BE(length >>> 0, 6);
  }
}

/** A complete text frame holding `payload` (UTF-8 bytes, or a string to encode). */
export function textFrame(payload: Buffer | string): Buffer {
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const offset = headerLength(length);
  const frame = Buffer.allocUnsafe(offset + length);
  writeHeader(frame, length);
  if (typeof payload === 'string') frame.write(payload, offset, 'utf8');
  else payload.copy(frame, offset);
  return frame;
}

/**
 * Frames built once per payload Buffer and then reused. Keyed by the
 * payload Buffer the node shares between all subscribers of a channel;
 * entries go away with the payload.
 */
export class SharedFrames {
  private readonly framed = new WeakMap<Buffer, Buffer>();
  // A fan-out asks for the same payload once per subscriber, one after another:
  // the last one framed is answered without a lookup.
  private lastPayload: Buffer | undefined;
  private lastFrame: Buffer | undefined;

  constructor(private readonly build: (payload: Buffer) => Buffer) {}

  of(payload: Buffer): Buffer {
    if (payload === this.lastPayload) return this.lastFrame as Buffer;
    let frame = this.framed.get(payload);
    if (!frame) {
      frame = this.build(payload);
      this.framed.set(payload, frame);
    }
    this.lastPayload = payload;
    this.lastFrame = frame;
    return frame;
  }
}

const textFrames = new SharedFrames(textFrame);

/** Like {@link textFrame}, but built once per payload Buffer and then reused. */
export function sharedTextFrame(payload: Buffer): Buffer {
  return textFrames.of(payload);
}
