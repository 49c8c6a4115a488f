/**
 * The server's structured logger: to stdout as readable lines for a person at
 * a terminal or as JSON lines for machines, and, when configured, to a log
 * file as well (always JSON lines). Secrets that could ride along in logged
 * objects are redacted before a line is written anywhere.
 */
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { Config, LogFormat } from '../config/types.js';

/** The logger every part of the server takes; create children per connection. */
export type Logger = PinoLogger;

/** Options for {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Where lines go instead of stdout (tests pass a stream to read them back). @default process stdout */
  destination?: NodeJS.WritableStream;
  /** Whether the destination is a terminal, for `logFormat: "auto"`. @default the destination's (or stdout's) `isTTY` */
  isTerminal?: boolean;
}

/**
 * What `logFormat` means for one output: `auto` is `pretty` on a terminal
 * and `json` anywhere else (a pipe, a file, a log collector), as pino's
 * tools expect.
 */
export function resolveLogFormat(format: LogFormat, isTerminal: boolean): 'pretty' | 'json' {
  if (format === 'auto') return isTerminal ? 'pretty' : 'json';
  return format;
}

/**
 * A sink that writes each JSON line as one readable line: local time, level,
 * message, then the other fields (without `service`, the same on every line).
 * Colored only on a terminal. Formatting is synchronous, so no line is lost
 * when the process exits.
 */
function prettySink(out: DestinationStream, colorize: boolean): DestinationStream {
  const format = prettyFactory({ colorize, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'service' });
  return { write: (line: string) => out.write(format(line)) };
}

/**
 * Paths redacted from every logged object. Tokens and keys reach log calls
 * through request headers, connect commands and error contexts; listing the
 * field names here keeps them out even when a caller logs a whole object.
 */
export const REDACT_PATHS: readonly string[] = Object.freeze([
  'token',
  '*.token',
  'tokenSecret',
  '*.tokenSecret',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers["x-api-key"]',
]);

/** What redacted values are replaced with. */
export const REDACTED = '[redacted]';

interface LogFile {
  readonly stream: ReturnType<typeof pino.destination>;
  /** Set once the file is closed or failed, so later lines skip it rather than throw. */
  closed: boolean;
}

/** The log file behind each logger made here, for {@link flushLogger}. */
const logFiles = new WeakMap<Logger, LogFile>();

/**
 * Creates the root logger.
 *
 * Lines go to stdout (or `options.destination`) in the `config.logFormat`
 * (see {@link resolveLogFormat}) and, when `config.logFile` is set, also to
 * that file as JSON lines (created with its directory if missing, written
 * asynchronously). A log file that cannot be opened or written does not stop
 * the server: the failure is logged to the other output and file logging
 * stops.
 *
 * Every line carries `service: "parley"`, an ISO time, and has the
 * {@link REDACT_PATHS} replaced with `[redacted]`.
 */
export function createLogger(
  config: Pick<Config, 'logLevel' | 'logFile'> & Partial<Pick<Config, 'logFormat'>>,
  options: CreateLoggerOptions = {},
): Logger {
  const out: DestinationStream = options.destination ?? pino.destination({ dest: 1, sync: true });
  const target = (options.destination ?? process.stdout) as { isTTY?: boolean };
  const isTerminal = options.isTerminal ?? target.isTTY === true;
  const main = resolveLogFormat(config.logFormat ?? 'auto', isTerminal) === 'pretty' ? prettySink(out, isTerminal) : out;
  const loggerOptions = {
    level: config.logLevel,
    base: { service: 'parley' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
  };
  if (config.logFile === '') return pino(loggerOptions, main);

  const file: LogFile = {
    stream: pino.destination({ dest: config.logFile, mkdir: true, sync: false }),
    closed: false,
  };
  // A guard in front of the file, since writing to a closed or failed file stream throws.
  const fileSink: DestinationStream = {
    write: (line: string) => {
      if (!file.closed) file.stream.write(line);
    },
  };
  // Streams filter by their own level too; 'trace' lets the logger's level alone decide.
  const logger = pino(
    loggerOptions,
    pino.multistream([
      { stream: main, level: 'trace' },
      { stream: fileSink, level: 'trace' },
    ]),
  );
  file.stream.on('error', (error: NodeJS.ErrnoException) => {
    if (file.closed) return;
    file.closed = true;
    disarm(file.stream);
    logger.error({ path: config.logFile, code: error.code }, 'cannot write log file; logging to stdout only');
  });
  logFiles.set(logger, file);
  return logger;
}

/**
 * Makes a failed file stream inert. pino flushes the stream synchronously at
 * process exit, which throws on a stream that never opened or cannot write
 * and would turn a clean exit into a crash; pino disarms its own streams the
 * same way on EPIPE.
 */
function disarm(stream: LogFile['stream']): void {
  const nothing = (): void => undefined;
  Object.assign(stream, {
    write: () => true,
    flush: (callback?: (error?: Error) => unknown) => callback?.(),
    flushSync: nothing,
    end: nothing,
    destroy: nothing,
  });
}

/**
 * Writes out everything buffered for the log file and closes it; call once at
 * shutdown with the logger {@link createLogger} returned. Lines logged later
 * still reach stdout (or the destination) but not the file. Resolves at once
 * when there is no log file. Never rejects: shutdown should not fail over logs.
 */
export async function flushLogger(logger: Logger): Promise<void> {
  const file = logFiles.get(logger);
  if (!file || file.closed) return;
  file.closed = true;
  await new Promise<void>((done) => {
    file.stream.once('close', () => done());
    file.stream.once('error', () => done());
    file.stream.end();
  });
}
