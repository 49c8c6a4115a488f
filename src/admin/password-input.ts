/**
 * Reading a new password for a CLI command: typed twice without echo at a
 * terminal, or one line from standard input (a pipe, a script, or
 * `--password-stdin`). The password never appears on screen or in output.
 */
import { UsageError } from './command-flags.js';

/** Reads the password: prompting twice on a terminal unless `fromStdin`. @throws UsageError when nothing usable was given. */
export async function readNewPassword(options: { fromStdin: boolean; username: string }): Promise<string> {
  const stdin = process.stdin;
  if (!options.fromStdin && stdin.isTTY) {
    const first = await promptHidden(`New password for ${options.username}: `);
    const second = await promptHidden('Type it again: ');
    if (first !== second) throw new UsageError('the two passwords differ; nothing was changed');
    return first;
  }
  const line = await readLine();
  if (line === undefined) throw new UsageError('no password on standard input');
  return line;
}

/** The first line of standard input (without its line ending), or undefined when it is empty. */
async function readLine(): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    length += chunk.length;
    if (chunk.includes(0x0a) || length > 64 * 1024) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  return line === '' ? undefined : line;
}

/** Asks on the terminal with echo off; Ctrl-C aborts. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (data: string) => {
      for (const ch of data) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else if (ch >= ' ') typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}
