/**
 * Entry point of {@link startChildServer}: starts a test server with the
 * options in PARLEY_CHILD_OPTIONS, prints `READY <port>`, stops on SIGTERM.
 */
import { startTestServer } from './server.js';

const options = JSON.parse(process.env.PARLEY_CHILD_OPTIONS ?? '{}') as {
  flags?: string[];
  file?: Record<string, unknown>;
  dataDir?: string;
};

const server = await startTestServer({
  ...(options.flags ? { flags: options.flags } : {}),
  ...(options.file ? { file: options.file } : {}),
  ...(options.dataDir ? { dataDir: options.dataDir } : {}),
});
process.stdout.write(`READY ${server.server.port}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
