/**
 * WebSocket framing done once per message instead of once per recipient.
 * A server's data frame is a small header (FIN + text or binary opcode, then
 * the payload length) followed by the unmasked payload (RFC 6455 §5.2), so
 * the complete frame for a publication can be built once and the same bytes
 * written to every subscriber's socket.
 */

/** First header byte: FIN and the opcode (0x1 text, 0x2 binary). */
const TEXT = 0x81;
const BINARY = 0x82;

/** Header length for a payload of `length` bytes. */
function headerLength(length: number): number {
  return length < 126 ? 2 : length < 65_536 ? 4 : 10;
}

function writeHeader(target: Buffer, length: number, binary: boolean): void {
  target[0] = binary ? BINARY : TEXT;
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

/** A complete frame holding `payload` (bytes, or a string to encode as UTF-8): a text frame, or a binary one when `binary`. */
export function dataFrame(payload: Buffer | string, binary = false): Buffer {
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const offset = headerLength(length);
  const frame = Buffer.allocUnsafe(offset + length);
  writeHeader(frame, length, binary);
  if (typeof payload === 'string') frame.write(payload, offset, 'utf8');
  else payload.copy(frame, offset);
  return frame;
}

// Keyed by the payload Buffer the node shares between all subscribers of a
// channel; entries go away with the payload.
const framed = new WeakMap<Buffer, Buffer>();
// A fan-out asks for the same payload once per subscriber, one after another
// (alternating between a channel's JSON and Protobuf payloads when its
// subscribers use both): the last one framed of each kind is answered
// without a lookup.
const last = { text: { payload: undefined as Buffer | undefined, frame: undefined as Buffer | undefined }, binary: { payload: undefined as Buffer | undefined, frame: undefined as Buffer | undefined } };

/**
 * Like {@link dataFrame}, but built once per payload Buffer and then reused.
 * A payload comes from one encoding, so it is always framed the same way.
 */
export function sharedDataFrame(payload: Buffer, binary = false): Buffer {
  const recent = binary ? last.binary : last.text;
  if (payload === recent.payload) return recent.frame as Buffer;
  let frame = framed.get(payload);
  if (!frame || frame[0] !== (binary ? BINARY : TEXT)) {
    frame = dataFrame(payload, binary);
    framed.set(payload, frame);
  }
  recent.payload = payload;
  recent.frame = frame;
  return frame;
}
