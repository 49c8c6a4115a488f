/**
 * Decoding of client commands. A JSON frame holds one or more commands
 * separated by newlines; every command, whatever its encoding, is validated
 * here into a typed {@link Command} so that handlers never see unchecked
 * input (the Protobuf codec hands its commands over as the same values).
 */
import type { ProtocolError } from './errors.js';

export interface StreamPositionInput {
  offset: number;
  epoch: string;
}

export interface ConnectRequest {
  token?: string;
  data?: unknown;
  name?: string;
  version?: string;
  /** Server-side subscriptions to recover, as the client last saw them. */
  subs?: Record<string, { recover?: boolean; offset?: number; epoch?: string }>;
  /**
   * Headers emulation: headers the client could not set on its transport
   * (a browser's WebSocket or EventSource), for the backend proxy. Bounded
   * by {@link MAX_EMULATED_HEADERS} and {@link MAX_EMULATED_HEADER_BYTES};
   * names are HTTP tokens and values hold no control characters.
   */
  headers?: Record<string, string>;
}

/** Most emulated headers one connect may carry. */
export const MAX_EMULATED_HEADERS = 32;
/** Most bytes of emulated header names and values one connect may carry. */
export const MAX_EMULATED_HEADER_BYTES = 8192;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// A value is sent on as a real HTTP header: printable ASCII and tab only (no CR, LF or other
// control character, and nothing `fetch` cannot send as a header byte string).
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/** What is wrong with a connect's `headers`, or undefined when they are fine. */
function emulatedHeadersProblem(headers: unknown): string | undefined {
  if (!isObject(headers)) return 'headers must be an object of strings';
  const entries = Object.entries(headers);
  if (entries.length > MAX_EMULATED_HEADERS) return `headers: at most ${MAX_EMULATED_HEADERS}`;
  let bytes = 0;
  for (const [name, value] of entries) {
    if (!HEADER_NAME.test(name)) return 'headers: a name must be an HTTP header name';
    if (typeof value !== 'string' || !HEADER_VALUE.test(value)) return `headers: ${name} must be a string of printable ASCII characters`;
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  if (bytes > MAX_EMULATED_HEADER_BYTES) return `headers: at most ${MAX_EMULATED_HEADER_BYTES} bytes of names and values`;
  return undefined;
}

/** Delta compressions of publications the protocol defines (a subscribe's `delta`). */
export const DELTA_TYPES = ['fossil'] as const;
export type DeltaType = (typeof DELTA_TYPES)[number];

export interface SubscribeRequest {
  channel: string;
  token?: string;
  data?: unknown;
  recover?: boolean;
  offset?: number;
  epoch?: string;
  positioned?: boolean;
  recoverable?: boolean;
  join_leave?: boolean;
  /** The delta compression asked for, granted where the namespace allows it. */
  delta?: DeltaType;
  flag?: number;
}

export interface ChannelRequest {
  channel: string;
}

export interface PublishCommandRequest {
  channel: string;
  data: unknown;
}

export interface HistoryRequest {
  channel: string;
  limit?: number;
  since?: { offset?: number; epoch?: string };
  reverse?: boolean;
}

export interface RpcRequest {
  method?: string;
  data?: unknown;
}

export interface SendRequest {
  data?: unknown;
}

export interface RefreshRequest {
  token: string;
}

export interface SubRefreshRequest {
  channel: string;
  token: string;
}

/** Every method a command can carry, with its request shape. */
export interface CommandRequests {
  connect: ConnectRequest;
  subscribe: SubscribeRequest;
  unsubscribe: ChannelRequest;
  publish: PublishCommandRequest;
  presence: ChannelRequest;
  presence_stats: ChannelRequest;
  history: HistoryRequest;
  rpc: RpcRequest;
  send: SendRequest;
  refresh: RefreshRequest;
  sub_refresh: SubRefreshRequest;
}

export type Method = keyof CommandRequests;

export type Command = {
  [M in Method]: { kind: 'command'; id: number; method: M; request: CommandRequests[M] };
}[Method];

/** What one line of a frame decoded to. */
export type Decoded =
  | Command
  | { kind: 'pong' }
  /** A well-formed command whose method this server does not know: answer error 104. */
  | { kind: 'unknown-method'; id: number }
  /**
   * A `subscribe`, `publish` or `sub_refresh` for a subscription type other
   * than a stream (`type` ≠ 0: map subscriptions, shared poll), which this
   * server does not serve: answer error 108 and keep the connection.
   */
  | { kind: 'unsupported-type'; id: number; method: Method; type: number }
  /** A well-formed command whose payload the codec cannot accept (Protobuf data that is not JSON): answer the error, keep the connection. */
  | { kind: 'refused'; id: number; method: Method; error: ProtocolError }
  /** Not a valid command: the connection must be closed with "bad request". */
  | { kind: 'invalid'; reason: string };

/** Bits of the subscribe command's `flag`. */
export const SubscribeFlags = {
  /** The client sends channel ids instead of names when the server offers them; this server never does. */
  channelCompaction: 1,
  /** Answer error 112 instead of `recovered: false` when recovery is impossible (the SDK then reloads state). */
  rejectUnrecovered: 2,
} as const;

/** Methods whose request may name a subscription type (`type`; 0 or absent: a stream). */
const TYPED_METHODS: ReadonlySet<string> = new Set<Method>(['subscribe', 'publish', 'sub_refresh']);

const METHODS: ReadonlySet<string> = new Set<Method>([
  'connect', 'subscribe', 'unsubscribe', 'publish', 'presence', 'presence_stats',
  'history', 'rpc', 'send', 'refresh', 'sub_refresh',
]);

/** Splits a frame into lines and decodes each, in order. Blank lines are skipped. */
export function decodeFrame(text: string): Decoded[] {
  const out: Decoded[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const line = text.slice(start, end).trim();
    if (line.length > 0) out.push(decodeLine(line));
    start = end + 1;
  }
  return out;
}

function decodeLine(line: string): Decoded {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { kind: 'invalid', reason: 'malformed JSON' };
  }
  return decodeCommandValue(value);
}

/**
 * Validates one command given as a value shaped like the JSON protocol's
 * (`{"id": 1, "subscribe": {...}}`; `{}` is a pong).
 */
export function decodeCommandValue(value: unknown): Decoded {
  if (!isObject(value)) return { kind: 'invalid', reason: 'command is not a JSON object' };
  const keys = Object.keys(value);
  if (keys.length === 0) return { kind: 'pong' };

  const methodKeys = keys.filter((key) => key !== 'id');
  if (methodKeys.length !== 1) return { kind: 'invalid', reason: 'command must carry exactly one method' };
  const method = methodKeys[0] as string;
  const id = value.id;

  if (method === 'send') {
    // `send` is fire-and-forget and carries no id.
    const request = value.send;
    if (request !== undefined && !isObject(request)) return { kind: 'invalid', reason: 'send must be an object' };
    return { kind: 'command', id: 0, method: 'send', request: (request ?? {}) as SendRequest };
  }
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) {
    return { kind: 'invalid', reason: 'command id must be a positive integer' };
  }
  if (!METHODS.has(method)) return { kind: 'unknown-method', id };
  const request = value[method] ?? {};
  if (!isObject(request)) return { kind: 'invalid', reason: `${method} must be an object` };
  if (TYPED_METHODS.has(method) && request.type !== undefined) {
    const type = request.type;
    if (typeof type !== 'number' || !Number.isSafeInteger(type) || type < 0) return { kind: 'invalid', reason: `${method}: type must be a non-negative integer` };
    // Checked before the request's shape: a map publish carries no `data`, a poll track no `token`.
    if (type !== 0) return { kind: 'unsupported-type', id, method: method as Method, type };
  }
  const problem = VALIDATORS[method as Method](request);
  if (problem) return { kind: 'invalid', reason: `${method}: ${problem}` };
  return { kind: 'command', id, method, request } as Command;
}

type Validator = (request: Record<string, unknown>) => string | undefined;

const optionalString = (v: unknown) => v === undefined || typeof v === 'string';
const optionalBoolean = (v: unknown) => v === undefined || typeof v === 'boolean';
const optionalOffset = (v: unknown) => v === undefined || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
const hasChannel: Validator = (r) => (typeof r.channel === 'string' ? undefined : 'channel must be a string');

function validatePosition(r: Record<string, unknown>): string | undefined {
  if (!optionalOffset(r.offset)) return 'offset must be a non-negative integer';
  if (!optionalString(r.epoch)) return 'epoch must be a string';
  return undefined;
}

const VALIDATORS: Record<Method, Validator> = {
  connect(r) {
    if (!optionalString(r.token)) return 'token must be a string';
    if (!optionalString(r.name) || !optionalString(r.version)) return 'name and version must be strings';
    if (r.headers !== undefined) {
      const problem = emulatedHeadersProblem(r.headers);
      if (problem) return problem;
    }
    if (r.subs !== undefined) {
      if (!isObject(r.subs)) return 'subs must be an object';
      for (const sub of Object.values(r.subs)) {
        if (!isObject(sub) || !optionalBoolean(sub.recover)) return 'subs entries must be objects';
        const problem = validatePosition(sub);
        if (problem) return problem;
      }
    }
    return undefined;
  },
  subscribe(r) {
    if (typeof r.channel !== 'string') return 'channel must be a string';
    if (!optionalString(r.token)) return 'token must be a string';
    if (!optionalBoolean(r.recover) || !optionalBoolean(r.positioned) || !optionalBoolean(r.recoverable)) {
      return 'recover, positioned and recoverable must be booleans';
    }
    if (!optionalBoolean(r.join_leave)) return 'join_leave must be a boolean';
    if (r.delta !== undefined && !DELTA_TYPES.includes(r.delta as DeltaType)) return `unknown delta type ${JSON.stringify(r.delta)}`;
    if (r.flag !== undefined && (typeof r.flag !== 'number' || !Number.isSafeInteger(r.flag))) return 'flag must be an integer';
    return validatePosition(r);
  },
  unsubscribe: hasChannel,
  publish(r) {
    if (typeof r.channel !== 'string') return 'channel must be a string';
    if (r.data === undefined) return 'data is required';
    return undefined;
  },
  presence: hasChannel,
  presence_stats: hasChannel,
  history(r) {
    if (typeof r.channel !== 'string') return 'channel must be a string';
    if (r.limit !== undefined && (typeof r.limit !== 'number' || !Number.isSafeInteger(r.limit) || r.limit < -1)) {
      return 'limit must be an integer >= -1';
    }
    if (!optionalBoolean(r.reverse)) return 'reverse must be a boolean';
    if (r.since !== undefined) {
      if (!isObject(r.since)) return 'since must be an object';
      return validatePosition(r.since);
    }
    return undefined;
  },
  rpc(r) {
    return optionalString(r.method) ? undefined : 'method must be a string';
  },
  send: () => undefined,
  refresh(r) {
    return typeof r.token === 'string' ? undefined : 'token must be a string';
  },
  sub_refresh(r) {
    if (typeof r.channel !== 'string') return 'channel must be a string';
    return typeof r.token === 'string' ? undefined : 'token must be a string';
  },
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
