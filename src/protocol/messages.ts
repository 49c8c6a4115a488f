/**
 * What the server says to a client, as values rather than bytes: the result
 * of each command and each kind of push. A {@link Codec} turns them into its
 * encoding (JSON text or Protobuf), so the session and the fan-out never
 * depend on one. Payloads (`Publication.data`, `SubscribePush.data`) stay the
 * JSON text they were stored as; other JSON values (`conn_info`, rpc `data`)
 * are plain values.
 */
import type { ClientInfo, Publication } from './types.js';

/**
 * How a publication travels in a subscription that negotiated fossil delta
 * compression: `full`, its payload whole, which becomes the client's base
 * (in JSON, as a JSON string holding the payload's JSON text); `patch`, the
 * fossil delta from the payload of the publication sent before it in the
 * subscription (with `delta: true`).
 */
export type DeltaForm = { readonly kind: 'full' } | { readonly kind: 'patch'; readonly patch: Buffer };

/** A publication as sent to a client: as stored, or in a delta subscription's form. */
export interface SentPublication extends Publication {
  readonly deltaForm?: DeltaForm;
}

/** Token expiry, in the results of connect, subscribe, refresh and sub_refresh. */
export interface ExpiryResult {
  expires?: boolean;
  /** Seconds until the token expires. */
  ttl?: number;
}

/** The answer to a subscribe, and each entry of a connect result's `subs`. */
export interface SubscribeResult extends ExpiryResult {
  recoverable?: boolean;
  epoch?: string;
  offset?: number;
  was_recovering?: boolean;
  recovered?: boolean;
  /** Recovered publications, oldest first. */
  publications?: readonly SentPublication[];
  /** JSON text for the client (the SDK's `subscribed` context `data`): from a token's `subs` or a proxy. */
  data?: string;
  /** Whether the subscription's publications are delta-compressed (it asked for a delta type the namespace allows). */
  delta?: boolean;
}

export interface ConnectResult extends ExpiryResult {
  client: string;
  version: string;
  /** Seconds between the server's pings. */
  ping: number;
  /** Whether the client must answer pings. */
  pong: boolean;
  /** Server-side subscriptions by channel. */
  subs?: Record<string, SubscribeResult>;
  /** JSON text for the client (the SDK's `connected` context `data`): from the connect proxy. */
  data?: string;
  /** Over emulated transports: the key the client's later commands name the session by. */
  session?: string;
  /** Over emulated transports: the node holding the session, which the later commands are relayed to. */
  node?: string;
}

export interface HistoryResult {
  publications: readonly Publication[];
  epoch: string;
  offset: number;
}

/** Every method's result. */
export interface Results {
  connect: ConnectResult;
  subscribe: SubscribeResult;
  unsubscribe: Record<string, never>;
  publish: Record<string, never>;
  presence: { presence: Record<string, ClientInfo> };
  presence_stats: { num_clients: number; num_users: number };
  history: HistoryResult;
  /** `data`: the rpc handler's answer, a JSON value. */
  rpc: { data?: unknown };
  refresh: ExpiryResult;
  sub_refresh: ExpiryResult;
  /** Never answered (fire-and-forget); present so every method has an entry. */
  send: Record<string, never>;
}

/** The successful answer to one command. */
export type Reply = { [M in keyof Results]: { id: number; method: M; result: Results[M] } }[keyof Results];

/** What the `subscribe` push tells of a subscription the server made. */
export interface SubscribePush {
  recoverable?: boolean;
  epoch?: string;
  offset?: number;
  /** JSON text handed to the client (the SDK's `subscribed` context `data`). */
  data?: string;
}

/** A message the server sends without being asked. */
export type Push =
  | { type: 'pub'; channel: string; pub: SentPublication }
  | { type: 'join'; channel: string; info: ClientInfo }
  | { type: 'leave'; channel: string; info: ClientInfo }
  | { type: 'unsubscribe'; channel: string; code: number; reason: string }
  | { type: 'subscribe'; channel: string; subscribe: SubscribePush }
  | { type: 'message'; data: unknown };
