import type { Codec } from '../protocol/codec.js';
import type { Decoded } from '../protocol/commands.js';
import type { Transport } from '../transport/transport.js';
import { CommandsInFlight } from './commands-in-flight.js';

/** Frames that may wait unprocessed before reading from the socket pauses. */
export const MAX_PENDING_FRAMES = 32;
/** Stands for "run the queued server tasks before the next command" where a wait is expected. */
const SERVER_TASKS_FIRST: Promise<void> = Promise.resolve();

/** What the intake needs from its session. */
export interface IntakeOwner {
  readonly transport: Transport & { pause?(): void; resume?(): void };
  /** Decodes the received frames. */
  readonly codec: Codec;
  readonly isClosed: boolean;
  /** Handles one decoded command line; resolves when the next may be handled (see {@link CommandIntake.track}). */
  dispatch(decoded: Decoded): Promise<void>;
  /** The loop failed unexpectedly: the session must close. */
  failed(error: unknown): void;
}

/**
 * A change the server makes to the session (server API). It runs between
 * the client's commands, never in the middle of a subscribe or unsubscribe,
 * but does not wait for the client to read its replies: what it sends is a
 * push, bounded by the slow-reader rule, and a client that does not read
 * must not hold up the server API (nor the revoking of its access).
 */
interface ServerTask {
  run(): Promise<void>;
  /** Settles the task's caller when the session closes before it ran. */
  cancel(): void;
}

/**
 * The order and pace in which one session handles what reaches it: the
 * client's frames, one command line at a time in arrival order, and the
 * server's changes between them.
 *
 * Guarantees:
 * - Command lines are dispatched in order; the next starts only once the
 *   previous one's `dispatch` resolved, fewer than `MAX_COMMANDS_IN_FLIGHT`
 *   {@link track}ed commands run, and the replies waiting to be written are
 *   within the connection's queue bound (`Transport.replyRoom`). A client
 *   that stops reading therefore makes the server hold a bounded amount.
 * - At most `MAX_PENDING_FRAMES` frames wait; past that, reading from the
 *   socket pauses (TCP back-pressure reaches the client) until half have
 *   been handled.
 * - Server tasks run between command lines, at once, even while the loop
 *   waits for room; after {@link close} none runs and their callers settle.
 */
export class CommandIntake {
  private pending: Buffer[] = [];
  private readonly serverTasks: ServerTask[] = [];
  private readonly inFlight = new CommandsInFlight();
  private wakeForTask: (() => void) | undefined;
  private processing = false;
  private stopped = false;

  constructor(private readonly owner: IntakeOwner) {}

  /** Queues one received frame (one or more commands). */
  receive(frame: Buffer): void {
    this.pending.push(frame);
    if (this.pending.length >= MAX_PENDING_FRAMES) this.owner.transport.pause?.();
    this.kick();
  }

  /** Counts a command started without being awaited, so that the in-flight bound holds. */
  track(command: Promise<void>): void {
    this.inFlight.track(command);
  }

  /** Runs `work` between the client's commands, without waiting for reply room; resolves with `ifClosed` when the session closes first. */
  serverTask<T>(work: () => Promise<T>, ifClosed: T): Promise<T> {
    if (this.owner.isClosed) return Promise.resolve(ifClosed);
    return new Promise<T>((resolve, reject) => {
      this.serverTasks.push({ run: () => work().then(resolve, reject), cancel: () => resolve(ifClosed) });
      this.wake();
      this.kick();
    });
  }

  /** Handles no more frames (shutdown): what waits stays unhandled, reading pauses. */
  stop(): void {
    this.stopped = true;
    this.owner.transport.pause?.();
  }

  /** The session closed: pending frames are dropped, server tasks settle, a waiting loop ends. */
  close(): void {
    for (const task of this.serverTasks) task.cancel();
    this.serverTasks.length = 0;
    this.pending.length = 0;
    // A command loop waiting for a slot or for room stops now, whatever the commands in flight do.
    this.wake();
  }

  private kick(): void {
    if (!this.processing) void this.process();
  }

  private wake(): void {
    const wake = this.wakeForTask;
    this.wakeForTask = undefined;
    wake?.();
  }

  private async process(): Promise<void> {
    this.processing = true;
    try {
      while (!this.owner.isClosed && !this.stopped) {
        if (this.serverTasks.length > 0) {
          await this.runServerTasks();
          continue;
        }
        const frame = this.pending.shift();
        if (frame === undefined) break;
        if (this.pending.length < MAX_PENDING_FRAMES / 2) this.owner.transport.resume?.();
        for (const decoded of this.owner.codec.decode(frame)) {
          const wait = this.readyForCommand();
          if (wait) await wait;
          if (this.owner.isClosed || this.stopped) break;
          await this.owner.dispatch(decoded);
        }
      }
    } catch (error) {
      this.owner.failed(error);
    } finally {
      this.processing = false;
      // shift() leaves the array's capacity behind; an idle session keeps none.
      if (this.pending.length === 0) this.pending = [];
    }
  }

  private async runServerTasks(): Promise<void> {
    while (this.serverTasks.length > 0 && !this.owner.isClosed) await (this.serverTasks.shift() as ServerTask).run();
  }

  /**
   * Undefined when the next command may start now: fewer than
   * `MAX_COMMANDS_IN_FLIGHT` commands are running, and the replies already
   * sent are within the connection's queue bound. Otherwise a promise that
   * resolves once it may; server tasks that arrive meanwhile run at once.
   * Most commands find room at once, and this runs per command: no promise then.
   */
  private readyForCommand(): Promise<void> | undefined {
    const blocker = this.serverTasks.length > 0 ? SERVER_TASKS_FIRST : (this.inFlight.slot() ?? this.owner.transport.replyRoom());
    return blocker && this.waitForCommandRoom(blocker);
  }

  private async waitForCommandRoom(first: Promise<void>): Promise<void> {
    let blocker: Promise<void> | undefined = first;
    while (blocker) {
      await Promise.race([blocker, new Promise<void>((resolve) => (this.wakeForTask = resolve))]);
      this.wakeForTask = undefined;
      await this.runServerTasks();
      if (this.owner.isClosed) return;
      blocker = this.inFlight.slot() ?? this.owner.transport.replyRoom();
    }
  }
}
