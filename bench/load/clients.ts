/**
 * Raw `ws` clients for every protocol the benchmark speaks. The handshake of
 * each protocol is done here (parsing JSON is fine there); once a client is
 * ready its frames go to one small handler that scans for markers, answers
 * pings and does nothing else.
 *
 * - `centrifuge` (Parley's native endpoint): `connect` with a JWT and
 *   `subscribe`, sent together in one frame; the server pings with `{}` (possibly inside a newline-joined
 *   frame) and wants `{}` back.
 * - `seed` (Parley's `/ws`, the seed designs in Node and Go): open the socket,
 *   that is all; WebSocket pings are answered by `ws` itself.
 * - `socketio` (Engine.IO v4 / Socket.IO v5 over a WebSocket): the `0{…}` open
 *   packet, `40` → `40{"sid":…}`, pings `2` answered with `3`, events `42[…]`.
 */
import WebSocket from 'ws';
import { connectionToken } from '../lib/jwt.js';
import type { Target } from '../lib/types.js';
import { scanFrame, type MarkerSink } from './marker.js';

const PING = Buffer.from('{}');
const NEWLINE = 10;
const ID_PREFIX = Buffer.from('{"id":');
const ERROR_KEY = Buffer.from('"error"');
const ZERO = 48;
const NINE = 57;
const SOCKETIO_PING = 0x32; // '2'

export interface ClientOptions {
  target: Target;
  /** Centrifuge: the user the token is minted for. */
  user: string;
  /** Centrifuge: channel to subscribe to; none for a publish-only connection. */
  channel?: string;
  /** Centrifuge: a token minted beforehand (connect storms mint them before the clock starts). */
  token?: string;
  /** Where markers go; none to ignore the messages this client receives. */
  sink?: MarkerSink;
  /** Centrifuge publishers: called for each reply with its id and whether it was an error. */
  onReply?: (id: number, ok: boolean) => void;
  /**
   * Centrifuge publishers: commands issued in one turn of the event loop
   * (say, the next publishes for every reply in a frame) leave together as
   * one newline-joined frame, as the protocol allows and SDKs do; otherwise
   * each command is its own frame.
   */
  batchCommands?: boolean;
  onClose?: (client: BenchClient) => void;
  /** Sees every frame received, during the handshake and after (the crowd counts join and leave pushes). */
  onFrame?: (frame: Buffer) => void;
  /** Source address of the TCP connection (spreading clients over 127.0.0.0/8). */
  localAddress?: string;
  timeoutMs?: number;
}

/** The message body every protocol carries: the seed chat's JSON shape, with the marker as the text. */
export function seedMessage(markerText: string): string {
  return `{"email":"","username":"bench","message":"${markerText}"}`;
}

export class BenchClient {
  readonly ws: WebSocket;
  /** Resolves once the client is connected (and authenticated and subscribed, where the protocol has it). */
  readonly ready: Promise<void>;
  /** Where this client's markers go, if anywhere. */
  readonly sink: MarkerSink | undefined;
  closed = false;
  closeCode = 0;
  private isReady = false;
  private nextId = 1;
  private batch: string[] | undefined;

  constructor(private readonly options: ClientOptions) {
    this.sink = options.sink;
    const { target } = options;
    this.ws = new WebSocket(target.url, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      maxPayload: 256 * 1024 * 1024,
      handshakeTimeout: options.timeoutMs ?? 30_000,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    if (options.onFrame) this.ws.on('message', options.onFrame);
    this.ws.on('close', (code: number) => {
      this.closed = true;
      this.closeCode = code;
      options.onClose?.(this);
    });
    this.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        fail(new Error('handshake timed out'));
        this.ws.terminate();
      }, options.timeoutMs ?? 30_000);
      const fail = (error: Error) => {
        clearTimeout(timer);
        if (!this.isReady) reject(error);
      };
      const done = () => {
        clearTimeout(timer);
        this.isReady = true;
        this.ws.removeAllListeners('message');
        if (options.onFrame) this.ws.on('message', options.onFrame);
        this.ws.on('message', this.hotHandler());
        resolve();
      };
      this.ws.on('error', (error: Error) => fail(error));
      this.ws.once('close', (code: number) => fail(new Error(`closed during handshake (${code})`)));
      this.handshake(done, fail);
    });
    // A rejected handshake is reported by whoever awaits `ready`; never as an unhandled rejection.
    this.ready.catch(() => undefined);
  }

  /** Publishes one message carrying `markerText`; returns the request id (centrifuge) or 0. */
  publish(markerText: string, channel?: string): number {
    const { protocol } = this.options.target;
    if (protocol === 'centrifuge') {
      const id = ++this.nextId;
      this.sendCommand(`{"id":${id},"publish":{"channel":"${channel ?? this.options.target.channel}","data":${seedMessage(markerText)}}}`);
      return id;
    }
    if (protocol === 'socketio') {
      this.ws.send(`42["chat message",${seedMessage(markerText)}]`);
      return 0;
    }
    this.ws.send(seedMessage(markerText));
    return 0;
  }

  close(): void {
    if (!this.closed) this.ws.terminate();
  }

  private sendCommand(command: string): void {
    if (!this.options.batchCommands) {
      this.ws.send(command);
      return;
    }
    if (this.batch) {
      this.batch.push(command);
      return;
    }
    this.batch = [command];
    queueMicrotask(() => {
      const batch = this.batch ?? [];
      this.batch = undefined;
      if (!this.closed) this.ws.send(batch.join('\n'));
    });
  }

  private handshake(done: () => void, fail: (error: Error) => void): void {
    const { target, channel } = this.options;
    switch (target.protocol) {
      case 'seed':
        this.ws.once('open', done);
        return;
      case 'socketio':
        this.ws.on('message', (data: Buffer) => {
          const text = data.toString();
          if (text.startsWith('0')) this.ws.send('40');
          else if (text.startsWith('40')) done();
          else if (text.startsWith('44')) fail(new Error(`socket.io refused the connection: ${text.slice(2, 200)}`));
          else if (text === '2') this.ws.send('3');
        });
        return;
      case 'centrifuge': {
        const token = this.options.token ?? connectionToken(this.options.user, target.tokenSecret ?? '');
        // Connect and subscribe in one frame, as the protocol allows: the server runs them in order and answers both in one frame.
        const connect = `{"id":1,"connect":{"token":"${token}","name":"bench"}}`;
        this.ws.once('open', () => this.ws.send(channel === undefined ? connect : `${connect}\n{"id":2,"subscribe":{"channel":"${channel}"}}`));
        this.ws.on('message', (data: Buffer) => {
          for (const line of data.toString().split('\n')) {
            if (line === '{}') {
              this.ws.send('{}');
              continue;
            }
            let reply: { id?: number; error?: { code: number; message: string } };
            try {
              reply = JSON.parse(line) as typeof reply;
            } catch {
              fail(new Error(`unparsable frame during handshake: ${line.slice(0, 200)}`));
              return;
            }
            if (reply.error) {
              fail(new Error(`error ${reply.error.code} (${reply.error.message}) to command ${reply.id}`));
              return;
            }
            if (reply.id === (channel === undefined ? 1 : 2)) done();
          }
        });
        return;
      }
    }
  }

  /** The handler of a ready client: markers, pings and (publishers) replies; nothing is parsed. */
  private hotHandler(): (data: Buffer) => void {
    const { sink, onReply, target } = this.options;
    const ws = this.ws;
    switch (target.protocol) {
      case 'seed':
        return sink ? (data) => void scanFrame(data, sink) : () => undefined;
      case 'socketio':
        return (data) => {
          if (data.length === 1 && data[0] === SOCKETIO_PING) {
            ws.send('3');
            return;
          }
          if (sink) scanFrame(data, sink);
        };
      case 'centrifuge':
        return (data) => {
          if (sink) scanFrame(data, sink);
          if (onReply) readReplies(data, onReply);
          if (data.indexOf(PING) !== -1) answerPings(data, ws);
        };
    }
  }
}

/** Answers every `{}` line of a (possibly newline-joined) frame; `{}` inside a line is not a ping. */
function answerPings(frame: Buffer, ws: WebSocket): void {
  let at = frame.indexOf(PING);
  while (at !== -1) {
    const startsLine = at === 0 || frame[at - 1] === NEWLINE;
    const endsLine = at + 2 === frame.length || frame[at + 2] === NEWLINE;
    if (startsLine && endsLine) ws.send('{}');
    at = frame.indexOf(PING, at + 2);
  }
}

/** Finds every reply line `{"id":N,…}` and whether it carries an error. */
function readReplies(frame: Buffer, onReply: (id: number, ok: boolean) => void): void {
  let at = frame.indexOf(ID_PREFIX);
  while (at !== -1) {
    let p = at + ID_PREFIX.length;
    let id = 0;
    let c = frame[p]!;
    while (c >= ZERO && c <= NINE) {
      id = id * 10 + c - ZERO;
      c = frame[++p]!;
    }
    const lineEnd = frame.indexOf(NEWLINE, p);
    const errorAt = frame.indexOf(ERROR_KEY, p);
    onReply(id, errorAt === -1 || (lineEnd !== -1 && errorAt > lineEnd));
    at = lineEnd === -1 ? -1 : frame.indexOf(ID_PREFIX, lineEnd);
  }
}

/** Spreads connection `index` over source addresses 127.0.0.1, 127.0.0.2, …, `perAddress` connections each. */
export function sourceAddress(index: number, perAddress: number): string {
  const n = Math.floor(index / perAddress) + 1;
  return `127.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

export interface ConnectManyResult {
  clients: BenchClient[];
  failures: number;
  firstError?: string;
  seconds: number;
}

/**
 * Opens `count` clients with at most `concurrency` handshakes in flight.
 * Clients that fail are counted and left out.
 */
export async function connectMany(
  count: number,
  concurrency: number,
  make: (index: number) => BenchClient,
  onProgress?: (done: number, failures: number) => void,
): Promise<ConnectManyResult> {
  const started = performance.now();
  const clients: BenchClient[] = [];
  let failures = 0;
  let firstError: string | undefined;
  let next = 0;
  let lastReport = started;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const client = make(index);
      try {
        await client.ready;
        clients.push(client);
      } catch (error) {
        failures++;
        firstError ??= (error as Error).message;
        client.close();
      }
      const now = performance.now();
      if (onProgress && now - lastReport > 1000) {
        lastReport = now;
        onProgress(clients.length, failures);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return {
    clients,
    failures,
    ...(firstError !== undefined ? { firstError } : {}),
    seconds: (performance.now() - started) / 1000,
  };
}
