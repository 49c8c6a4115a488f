/** Loggers whose lines tests can read. */
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log/logger.js';

/** A stream that keeps every JSON log line written to it (and echoes them when PARLEY_TEST_LOGS is set). */
export function logSink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString();
      lines.push(...text.split('\n').filter(Boolean));
      if (process.env.PARLEY_TEST_LOGS) process.stderr.write(text);
      done();
    },
  });
  return { stream, lines };
}

/** A debug-level logger writing to a {@link logSink}. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const { stream, lines } = logSink();
  return { logger: createLogger({ logLevel: 'debug', logFile: '' }, { destination: stream }), lines };
}
