/**
 * The load generator: a separate process (pinned to its own core by the
 * orchestrator) that receives one scenario to run over IPC, runs it against
 * one server, sends the result back and exits.
 */
import type { LoadMessage, LoadRequest, LoadResult } from '../lib/types.js';
import { runCrowd } from './crowd.js';
import { runDurable } from './durable.js';
import { runFanout, runSteps } from './fanout.js';
import { runIdle } from './idle.js';
import { runStorm } from './storm.js';

async function run(request: LoadRequest): Promise<LoadResult> {
  switch (request.scenario) {
    case 'a':
      return runFanout(request.target, request.config);
    case 'b':
      return runSteps(request.target, request.config);
    case 'c':
      return runIdle(request.target, request.config);
    case 'd':
      return runStorm(request.target, request.config);
    case 'e':
      return runDurable(request.target, request.config);
    case 'f':
      return runCrowd(request.target, request.config);
  }
}

if (!process.send) {
  process.stderr.write('bench/load/main: run by bench/run.ts (it needs an IPC channel)\n');
  process.exit(2);
}

/** Sends the last message, then exits (open client sockets would otherwise keep the process alive). */
function finish(message: LoadMessage, code: number): void {
  process.send?.(message, undefined, {}, () => process.exit(code));
}

process.once('message', (message: LoadRequest) => {
  run(message).then(
    (result) => finish({ type: 'result', result }, 0),
    (error: unknown) => finish({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }, 1),
  );
});
