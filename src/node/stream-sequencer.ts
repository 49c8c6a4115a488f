import type { Logger } from '../log/logger.js';
import type { Publication, StreamPosition } from '../protocol/types.js';
import { UnrecoverablePositionError, type Store } from '../store/store.js';

/** Options of {@link StreamSequencer}. */
export interface StreamSequencerOptions {
  /** Where missing publications are read from. */
  store: Pick<Store, 'read'>;
  /** The channel's current top in the store (callers may coalesce these reads). */
  position(channel: string): Promise<StreamPosition>;
  /** Hands one publication to the channel's local listeners; called in offset order, each offset once. */
  deliver(channel: string, publication: Publication): void;
  /**
   * The stream goes on from a point the listeners cannot reach in order (a
   * new epoch, or publications that can no longer be read): what they hold
   * is void and they must start over from the store.
   */
  reset(channel: string, reason: string): void;
  logger: Logger;
  /** How long a gap may wait for the missing publications to arrive before they are read from the store. @default 50 */
  gapWaitMs?: number;
  /** How long a gap may stay open (the store failing) before the channel is reset past it. @default 5000 */
  maxGapMs?: number;
  /** How often idle channels are checked against the store's top. @default 5000 */
  sweepIntervalMs?: number;
  /** A channel with no delivery for this long is checked by the next sweep. @default 5000 */
  idleMs?: number;
  /** Publications held per channel while a gap is open; past it they are read from the store instead. @default 1000 */
  maxBuffered?: number;
  /** Publications per store read while repairing. @default 500 */
  readBatch?: number;
  /** Channels checked at once by a sweep. @default 8 */
  sweepConcurrency?: number;
}

/** What the node knows of one channel's stream. */
interface Stream {
  /** False until the starting position was read; publications are then held in `early`. */
  ready: boolean;
  synced: Promise<void>;
  early: Publication[];
  epoch: string;
  /** The offset to deliver next. */
  next: number;
  /** Publications after a gap, by offset (all above `next`, of `epoch`). */
  buffer: Map<number, Publication>;
  gapTimer: NodeJS.Timeout | undefined;
  /** When the open gap was first seen. */
  gapSince: number | undefined;
  lastDeliveredAt: number;
  repairing: Promise<void> | undefined;
  repairAgain: boolean;
}

/**
 * Puts each channel's publications back in offset order on this node and
 * fills gaps from the store, for channels with local listeners. The store
 * assigns offsets under a lock and acknowledges after commit, so once
 * offset N is seen every offset below it is readable: a gap always means a
 * lost or late broker message, never a missing row.
 *
 * - **Start.** {@link track} reads the store's top (call it after the broker
 *   subscription is acknowledged); publications arriving meanwhile are held.
 *   Delivery starts right after that top.
 * - **Order.** For each publication N: N == next is delivered, then the held
 *   run that follows it; N < next is a duplicate and dropped; N > next is
 *   held, and after `gapWaitMs` the missing range is read from the store and
 *   everything is delivered in order.
 * - **Epoch.** A publication of another epoch makes the node check the store;
 *   when the store's epoch changed, the listeners are {@link StreamSequencerOptions.reset reset}
 *   and delivery continues from the store's new top.
 * - **Sweep.** Every `sweepIntervalMs`, channels idle for `idleMs` read the
 *   store from their next offset and deliver what they missed (a publication
 *   committed but never carried by the broker). {@link resync} sweeps every
 *   channel at once.
 * - **Bounds.** At most `maxBuffered` publications are held per channel (more
 *   are read from the store later); a gap the store cannot fill within
 *   `maxGapMs` resets the listeners and delivery skips to what is held.
 */
export class StreamSequencer {
  private readonly streams = new Map<string, Stream>();
  private readonly gapWaitMs: number;
  private readonly maxGapMs: number;
  private readonly sweepIntervalMs: number;
  private readonly idleMs: number;
  private readonly maxBuffered: number;
  private readonly readBatch: number;
  private readonly sweepConcurrency: number;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: StreamSequencerOptions) {
    this.gapWaitMs = options.gapWaitMs ?? 50;
    this.maxGapMs = options.maxGapMs ?? 5000;
    this.sweepIntervalMs = options.sweepIntervalMs ?? 5000;
    this.idleMs = options.idleMs ?? 5000;
    this.maxBuffered = options.maxBuffered ?? 1000;
    this.readBatch = options.readBatch ?? 500;
    this.sweepConcurrency = options.sweepConcurrency ?? 8;
  }

  /** Starts the periodic sweep. */
  start(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = setInterval(() => void this.sweep(false), this.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  /** Stops the sweep and forgets every channel. */
  stop(): void {
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const channel of [...this.streams.keys()]) this.untrack(channel);
  }

  /** Whether publications of the channel go through this sequencer. */
  tracks(channel: string): boolean {
    return this.streams.has(channel);
  }

  /**
   * Starts ordering a channel (idempotent); resolves once its starting
   * position is known. Rejects, tracking nothing, when the store cannot be read.
   */
  track(channel: string): Promise<void> {
    const existing = this.streams.get(channel);
    if (existing) return existing.synced;
    const stream: Stream = {
      ready: false,
      synced: Promise.resolve(),
      early: [],
      epoch: '',
      next: 1,
      buffer: new Map(),
      gapTimer: undefined,
      gapSince: undefined,
      lastDeliveredAt: Date.now(),
      repairing: undefined,
      repairAgain: false,
    };
    this.streams.set(channel, stream);
    stream.synced = this.sync(channel, stream);
    return stream.synced;
  }

  /** Stops ordering a channel and drops what it held. */
  untrack(channel: string): void {
    const stream = this.streams.get(channel);
    if (!stream) return;
    clearTimeout(stream.gapTimer);
    this.streams.delete(channel);
  }

  /** Takes a publication with an offset from the broker. Untracked channels' publications are delivered as they come. */
  receive(channel: string, publication: Publication): void {
    const stream = this.streams.get(channel);
    if (!stream) {
      this.options.deliver(channel, publication);
      return;
    }
    if (!stream.ready) {
      // Beyond the bound, the first gap or sweep after the start reads them from the store.
      if (stream.early.length < this.maxBuffered) stream.early.push(publication);
      return;
    }
    this.accept(channel, stream, publication);
  }

  /** Checks every channel against the store now (after the broker may have lost events). */
  resync(): Promise<void> {
    return this.sweep(true);
  }

  private async sync(channel: string, stream: Stream): Promise<void> {
    let position: StreamPosition;
    try {
      position = await this.options.position(channel);
    } catch (error) {
      if (this.streams.get(channel) === stream) this.streams.delete(channel);
      throw error;
    }
    if (this.streams.get(channel) !== stream) return;
    stream.epoch = position.epoch;
    stream.next = position.offset + 1;
    stream.ready = true;
    const early = stream.early;
    stream.early = [];
    for (const publication of early) this.accept(channel, stream, publication);
  }

  private accept(channel: string, stream: Stream, publication: Publication): void {
    const offset = publication.offset as number;
    if (publication.epoch !== stream.epoch) {
      // Either a late one of an old epoch (the read finds nothing new) or a new epoch (the read fails and rebases).
      void this.repair(channel, stream);
      return;
    }
    if (offset < stream.next) return;
    if (offset === stream.next) {
      this.emit(channel, stream, publication);
      this.flush(channel, stream);
      return;
    }
    if (stream.buffer.size < this.maxBuffered) stream.buffer.set(offset, publication);
    this.armGapTimer(channel, stream);
  }

  private emit(channel: string, stream: Stream, publication: Publication): void {
    stream.next = (publication.offset as number) + 1;
    stream.lastDeliveredAt = Date.now();
    this.options.deliver(channel, publication);
  }

  /** Delivers the held run that continues from `next`; closes the gap when nothing is left held. */
  private flush(channel: string, stream: Stream): void {
    for (let held = stream.buffer.get(stream.next); held; held = stream.buffer.get(stream.next)) {
      stream.buffer.delete(stream.next);
      this.emit(channel, stream, held);
    }
    for (const offset of stream.buffer.keys()) if (offset < stream.next) stream.buffer.delete(offset);
    if (stream.buffer.size === 0) {
      clearTimeout(stream.gapTimer);
      stream.gapTimer = undefined;
      stream.gapSince = undefined;
    }
  }

  private armGapTimer(channel: string, stream: Stream): void {
    if (stream.gapTimer || this.streams.get(channel) !== stream) return;
    const now = Date.now();
    stream.gapSince ??= now;
    if (now - stream.gapSince >= this.maxGapMs) {
      this.skipGap(channel, stream);
      return;
    }
    stream.gapTimer = setTimeout(() => {
      stream.gapTimer = undefined;
      void this.repair(channel, stream);
    }, this.gapWaitMs);
    stream.gapTimer.unref();
  }

  /** The store could not fill the gap in time: listeners start over, delivery goes on from what is held. */
  private skipGap(channel: string, stream: Stream): void {
    const resumeAt = Math.min(...stream.buffer.keys());
    this.options.logger.warn({ channel, missing: `${stream.next}..${resumeAt - 1}` }, 'publications could not be read in time; subscribers start over');
    this.options.reset(channel, 'missing publications could not be read');
    stream.next = resumeAt;
    stream.gapSince = undefined;
    this.flush(channel, stream);
  }

  /** Reads what the stream misses from the store and delivers it; one run per channel at a time, re-run when asked meanwhile. */
  private repair(channel: string, stream: Stream): Promise<void> {
    if (stream.repairing) {
      stream.repairAgain = true;
      return stream.repairing;
    }
    const run = async () => {
      do {
        stream.repairAgain = false;
        await this.catchUp(channel, stream);
      } while (stream.repairAgain && this.streams.get(channel) === stream);
    };
    stream.repairing = run()
      .catch((error: unknown) => this.options.logger.error({ err: error, channel }, 'reading missed publications failed'))
      .finally(() => {
        stream.repairing = undefined;
        if (stream.buffer.size > 0) this.armGapTimer(channel, stream);
      });
    return stream.repairing;
  }

  private async catchUp(channel: string, stream: Stream): Promise<void> {
    for (;;) {
      if (this.streams.get(channel) !== stream || !stream.ready) return;
      const since = { offset: stream.next - 1, epoch: stream.epoch };
      let page;
      try {
        page = await this.options.store.read(channel, { since, limit: this.readBatch });
      } catch (error) {
        if (!(error instanceof UnrecoverablePositionError)) throw error;
        await this.rebase(channel, stream);
        return;
      }
      if (this.streams.get(channel) !== stream || stream.epoch !== since.epoch) return;
      for (const publication of page.publications) {
        if ((publication.offset as number) >= stream.next) this.emit(channel, stream, publication);
      }
      this.flush(channel, stream);
      if (page.publications.length < this.readBatch || stream.next > page.position.offset) return;
    }
  }

  /** The store cannot serve the stream from where it is (new epoch, or no longer retained): start over at its top. */
  private async rebase(channel: string, stream: Stream): Promise<void> {
    const position = await this.options.position(channel);
    if (this.streams.get(channel) !== stream) return;
    const reason = position.epoch === stream.epoch ? 'missed publications are no longer retained' : 'the stream has a new epoch';
    this.options.logger.info({ channel }, `${reason}; subscribers start over`);
    this.options.reset(channel, reason);
    stream.epoch = position.epoch;
    stream.next = position.offset + 1;
    stream.buffer.clear();
    this.flush(channel, stream);
  }

  private async sweep(all: boolean): Promise<void> {
    const now = Date.now();
    const due: [string, Stream][] = [];
    for (const entry of this.streams) {
      const stream = entry[1];
      if (stream.ready && (all || (!stream.repairing && now - stream.lastDeliveredAt >= this.idleMs))) due.push(entry);
    }
    let index = 0;
    const worker = async () => {
      for (let entry = due[index++]; entry; entry = due[index++]) await this.repair(entry[0], entry[1]);
    };
    await Promise.all(Array.from({ length: Math.min(this.sweepConcurrency, due.length) }, worker));
  }
}
