/**
 * Rules every {@link Store} implementation applies the same way: how epochs
 * are made, what retention and page requests are valid, when a `since`
 * position can be served, and how a request becomes a stored publication.
 */
import { randomBytes } from 'node:crypto';
import type { ClientInfo, Publication, PublishRequest, StreamPosition } from '../protocol/types.js';
import { UnrecoverablePositionError, type Retention } from './store.js';

const EPOCH_SPACE = 36 ** 8;

/** A random 8-character base-36 epoch. */
export function newEpoch(): string {
  return (randomBytes(6).readUIntBE(0, 6) % EPOCH_SPACE).toString(36).padStart(8, '0');
}

/** A stored publication made from a request, at its offset. */
export function toPublication(m: PublishRequest, offset: number, epoch: string, time: number): Publication {
  const pub: Publication = { data: m.data, offset, epoch, time };
  if (m.info !== undefined) pub.info = m.info;
  if (m.tags !== undefined) pub.tags = m.tags;
  return pub;
}

/** @throws RangeError for a size that is not a positive integer or a negative or non-finite TTL. */
export function validateRetention(retention: Retention): void {
  if (!Number.isInteger(retention.size) || retention.size <= 0) {
    throw new RangeError(`retention.size must be a positive integer, got ${retention.size}`);
  }
  if (!Number.isFinite(retention.ttlMs) || retention.ttlMs < 0) {
    throw new RangeError(`retention.ttlMs must be a non-negative number, got ${retention.ttlMs}`);
  }
}

/** @throws RangeError for a page limit that is not an integer. */
export function validateLimit(limit: number): void {
  if (!Number.isInteger(limit)) throw new RangeError(`limit must be an integer, got ${limit}`);
}

/**
 * Throws {@link UnrecoverablePositionError} when `since` cannot be served:
 * another epoch, an offset above the top, or (reading forward) a gap between
 * `since.offset` and the first retained offset, which `first` returns (only
 * called when needed, as it may cost a query).
 */
export function checkSince(since: StreamPosition, position: StreamPosition, reverse: boolean, first: () => number): void {
  if (since.epoch && since.epoch !== position.epoch) {
    throw new UnrecoverablePositionError(`epoch ${since.epoch} is not the stream's epoch ${position.epoch}`);
  }
  if (since.offset > position.offset) {
    throw new UnrecoverablePositionError(`offset ${since.offset} is above the top ${position.offset}`);
  }
  if (!reverse && since.offset < position.offset && since.offset + 1 < first()) {
    throw new UnrecoverablePositionError(`publications after offset ${since.offset} are no longer retained`);
  }
}

/**
 * The bytes a publication weighs in a page or a recovery: its data, publisher
 * info and tags as JSON text (what its line on the wire mostly consists of).
 * Takes the stored JSON text of info and tags when the caller has it.
 */
export function publicationBytes(data: string, info: string | null | undefined, tags: string | null | undefined): number {
  return Buffer.byteLength(data) + (info ? Buffer.byteLength(info) : 0) + (tags ? Buffer.byteLength(tags) : 0);
}

/**
 * The first items of `items` (in order) whose total weight stays within
 * `maxBytes`, and never fewer than one when there is any: the page rule of
 * `HistoryQuery.maxBytes`. Without a bound, all of them.
 */
export function takeWithinBytes<T>(items: Iterable<T>, maxBytes: number | undefined, weigh: (item: T) => number): T[] {
  const taken: T[] = [];
  let total = 0;
  for (const item of items) {
    if (maxBytes !== undefined) {
      total += weigh(item);
      if (total > maxBytes && taken.length > 0) break;
    }
    taken.push(item);
  }
  return taken;
}

/** A publication as a row of a database: its data verbatim, info and tags as JSON text or NULL. */
export interface StoredRow {
  offset: number;
  data: string;
  info: string | null;
  tags: string | null;
  /** ms since the Unix epoch. */
  time: number;
}

/** The stored columns of a request. @throws TypeError when `data` is not a string. */
export function encodeRow(m: PublishRequest): Pick<StoredRow, 'data' | 'info' | 'tags'> {
  if (typeof m.data !== 'string') throw new TypeError('publication data must be JSON text (a string)');
  return {
    data: m.data,
    info: m.info === undefined ? null : JSON.stringify(m.info),
    tags: m.tags === undefined ? null : JSON.stringify(m.tags),
  };
}

/** The publication a stored row holds, in the stream's epoch. */
export function decodeRow(row: StoredRow, epoch: string): Publication {
  const pub: Publication = { data: row.data, offset: row.offset, epoch, time: row.time };
  if (row.info !== null) pub.info = JSON.parse(row.info) as ClientInfo;
  if (row.tags !== null) pub.tags = JSON.parse(row.tags) as Record<string, string>;
  return pub;
}
