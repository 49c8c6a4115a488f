/** Running the `parley` command from source in a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

const ENTRY = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));
/** Absolute, so the child can load TypeScript whatever its working directory. */
const TSX = import.meta.resolve('tsx');

export interface CliRun {
  code: number | null;
  /** The signal that ended the process, when one did (a crash shows here). */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<CliRun>;
}

export interface CliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Run on a pseudo-terminal (util-linux `script`), as when a person starts
   * it in a terminal: the child's stdout is a TTY, and its output (stdout and
   * stderr together) arrives in `stdout()`.
   */
  terminal?: boolean;
  /** Written to the child's standard input, which is then closed (otherwise it has none). */
  input?: string;
}

export function startCli(args: string[], options: CliOptions = {}): CliProcess {
  const command = [process.execPath, '--import', TSX, ENTRY, ...args];
  const [file, argv] = options.terminal
    ? ['script', ['--quiet', '--flush', '--return', '--command', command.map(shellQuote).join(' '), '/dev/null']]
    : [command[0]!, command.slice(1)];
  const child = spawn(file, argv, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, ...options.env },
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.input !== undefined) child.stdin!.end(options.input);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<CliRun>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Quotes one word for `sh -c`. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  return startCli(args, options).exited;
}

/** Starts `parley serve` on a free port and resolves with its port once it listens. */
export async function startServeCli(args: string[], options: CliOptions = {}): Promise<CliProcess & { port: number }> {
  const cli = startCli(['serve', '--host', '127.0.0.1', '--port', '0', ...args], options);
  const port = await waitFor(
    () => {
      const match = /"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(cli.stdout());
      return match ? Number(match[1]) : undefined;
    },
    { timeoutMs: 20_000, message: 'server listening' },
  );
  return { ...cli, port };
}
