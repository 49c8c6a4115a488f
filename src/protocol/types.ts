/**
 * Shapes shared by every layer: what a publication, a client's identity and a
 * stream position are. Wire-level command and reply shapes live in
 * `commands.ts`; these are the values that travel between node, broker,
 * presence and store.
 */

/** Identity of one connection as other clients see it (Centrifuge `ClientInfo`). */
export interface ClientInfo {
  /** User id from the token's `sub` (or `client`); "" for anonymous. */
  user: string;
  /** Connection id, unique per connection. */
  client: string;
  /** The connection token's `info` claim, as JSON. */
  conn_info?: unknown;
  /** The subscription token's `info` claim for this channel, as JSON. */
  chan_info?: unknown;
}

/** Where a channel's stream is: the last offset and the epoch that names this copy of the stream. */
export interface StreamPosition {
  offset: number;
  epoch: string;
}

/**
 * A message in a channel. `data` is kept as its JSON text so that it is
 * serialized once when published and copied verbatim into every frame.
 */
export interface Publication {
  /** JSON text of the payload. */
  data: string;
  /** Publisher's identity; absent for publications from the server API. */
  info?: ClientInfo;
  /** Offset in the channel's stream; absent (0) when the channel keeps no history. */
  offset?: number;
  /** Epoch of the stream the offset belongs to. */
  epoch?: string;
  /** String tags attached by the publisher (server API). */
  tags?: Record<string, string>;
  /** Milliseconds since the Unix epoch at which the store accepted it. */
  time?: number;
}

/** A message to publish, before the store has given it a position. */
export interface PublishRequest {
  /** JSON text of the payload. */
  data: string;
  info?: ClientInfo;
  tags?: Record<string, string>;
  /**
   * Chosen by the publisher so that a retry of a publish whose outcome it did
   * not learn is stored once (see `Store.append`). Never delivered to clients.
   */
  idempotencyKey?: string;
}
