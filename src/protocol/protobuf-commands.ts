/**
 * Reading of the Protobuf encoding: varint length-delimited `Command`
 * messages, each turned into the same value a JSON command is and validated
 * by the same rules (`decodeCommandValue`), so both encodings accept and
 * refuse exactly the same commands.
 *
 * Payloads (`data` fields) are bytes in Protobuf but JSON values for the
 * server (rpc methods, stored publications): bytes that are not UTF-8 JSON
 * make the command `refused` with a bad-request error.
 */
import { decodeCommandValue, type Decoded, type Method } from './commands.js';
import { Errors } from './errors.js';
import { pb, Reader, type centrifugal } from './protobuf-schema.js';

type ICommand = centrifugal.centrifuge.protocol.ICommand;

/** A uint64/int64 as protobufjs reads it: a number, or a Long where long.js is installed. */
type Int64 = number | { toNumber(): number } | null | undefined;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Where a command's payload problem is noted while it is converted. */
interface Conversion {
  problem?: string;
}

/** The integer, or undefined when absent; one beyond 2^53 stays unsafe, and validation refuses it. */
function integer(value: Int64): number | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'number' ? value : value.toNumber();
}

/**
 * A `data` field's JSON value (undefined when empty). Bytes that are not
 * UTF-8 JSON note a problem and stand as `null`, so that the command is
 * still checked as one carrying data and refused for its data alone.
 */
function jsonData(bytes: Uint8Array | null | undefined, conversion: Conversion): unknown {
  if (!bytes || bytes.length === 0) return undefined;
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    conversion.problem = 'data must be UTF-8 encoded JSON';
    return null;
  }
}

type Converters = { [M in Method]: (request: NonNullable<ICommand[M]>, conversion: Conversion) => Record<string, unknown> };

const CONVERTERS: Converters = {
  connect(r, conversion) {
    let subs: Record<string, unknown> | undefined;
    if (r.subs) {
      subs = {};
      for (const [channel, sub] of Object.entries(r.subs)) {
        subs[channel] = { recover: sub.recover ?? false, offset: integer(sub.offset as Int64), epoch: sub.epoch ?? '' };
      }
    }
    // An empty map is no headers, as an absent JSON field.
    const headers = r.headers && Object.keys(r.headers).length > 0 ? r.headers : undefined;
    return { token: r.token, data: jsonData(r.data, conversion), name: r.name, version: r.version, subs, headers };
  },
  subscribe: (r, conversion) => ({
    channel: r.channel,
    token: r.token,
    recover: r.recover,
    epoch: r.epoch,
    offset: integer(r.offset as Int64),
    data: jsonData(r.data, conversion),
    positioned: r.positioned,
    recoverable: r.recoverable,
    join_leave: r.join_leave,
    // proto3 has no absent string: "" is no delta asked for.
    delta: r.delta || undefined,
    flag: integer(r.flag as Int64),
    type: r.type,
  }),
  unsubscribe: (r) => ({ channel: r.channel }),
  publish: (r, conversion) => ({ channel: r.channel, data: jsonData(r.data, conversion), type: r.type }),
  presence: (r) => ({ channel: r.channel }),
  presence_stats: (r) => ({ channel: r.channel }),
  history: (r) => ({
    channel: r.channel,
    limit: r.limit,
    reverse: r.reverse,
    since: r.since ? { offset: integer(r.since.offset as Int64), epoch: r.since.epoch } : undefined,
  }),
  rpc: (r, conversion) => ({ method: r.method, data: jsonData(r.data, conversion) }),
  send: (r, conversion) => ({ data: jsonData(r.data, conversion) }),
  refresh: (r) => ({ token: r.token }),
  sub_refresh: (r) => ({ channel: r.channel, token: r.token, type: r.type }),
};

const METHODS = Object.keys(CONVERTERS) as Method[];

/** Drops absent fields, as a JSON command would not have them. */
function present(request: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(request)) if (request[key] === undefined) delete request[key];
  return request;
}

function fromCommand(command: ICommand): Decoded {
  const value: Record<string, unknown> = {};
  if (command.id) value.id = command.id;
  const conversion: Conversion = {};
  let methods = 0;
  for (const method of METHODS) {
    const request = command[method];
    if (request === null || request === undefined) continue;
    methods++;
    value[method] = present((CONVERTERS[method] as (r: unknown, c: Conversion) => Record<string, unknown>)(request, conversion));
  }
  // No request at all: a pong (nothing else either), or a method this schema does not know (its field was skipped).
  if (methods === 0) return command.id ? { kind: 'unknown-method', id: command.id } : { kind: 'pong' };
  const decoded = decodeCommandValue(value);
  if (decoded.kind === 'command' && conversion.problem !== undefined) {
    return { kind: 'refused', id: decoded.id, method: decoded.method, error: Errors.badRequest(conversion.problem) };
  }
  return decoded;
}

/** The commands of one chunk of varint length-delimited `Command` messages, in order; unreadable input ends it as `invalid`. */
export function decodeCommands(chunk: Uint8Array): Decoded[] {
  const out: Decoded[] = [];
  const reader = Reader.create(strictBytes(chunk));
  while (reader.pos < reader.len) {
    let command: ICommand;
    try {
      const length = reader.uint32();
      if (length > reader.len - reader.pos) {
        out.push({ kind: 'invalid', reason: 'a Protobuf message is longer than what was received' });
        break;
      }
      const end = reader.pos + length;
      command = pb.Command.decode(reader, length);
      // A field that ran past its message (into the next one) leaves the reader elsewhere.
      if (reader.pos !== end) throw new RangeError('a field runs past its message');
    } catch {
      out.push({ kind: 'invalid', reason: 'malformed Protobuf' });
      break;
    }
    out.push(fromCommand(command));
  }
  return out;
}

/**
 * The same bytes as a plain Uint8Array: protobufjs reads a Node Buffer with
 * a reader that cuts a string running past the end short without a word,
 * where the plain reader refuses it, so malformed input stays malformed.
 */
export function strictBytes(bytes: Uint8Array): Uint8Array {
  return Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
}
