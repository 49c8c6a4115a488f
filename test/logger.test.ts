import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger, flushLogger, resolveLogFormat } from '../src/log/logger.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-logger-'));
  dirs.push(dir);
  return dir;
}

/** A stream that keeps every line written to it, parsed. */
function capture() {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return {
    stream,
    text: () => chunks.join(''),
    lines: () => parseLines(chunks.join('')),
  };
}

function parseLines(text: string): Record<string, unknown>[] {
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
}

const TOKEN = 'abc.def.ghi';
const AUTHORIZATION = 'apikey xyz';

/** Logs the secret-carrying objects the redaction must catch. */
function logSecrets(logger: ReturnType<typeof createLogger>): void {
  logger.info({ token: TOKEN }, 'top-level token');
  logger.info({ authorization: AUTHORIZATION }, 'top-level authorization');
  logger.info({ cmd: { token: TOKEN }, headers: { authorization: AUTHORIZATION } }, 'nested');
  logger.info({ req: { headers: { authorization: AUTHORIZATION, 'x-api-key': 'key-123', host: 'h' } } }, 'request');
  logger.info({ tokenSecret: 'ts-1', apiKey: 'ak-1', config: { tokenSecret: 'ts-2', apiKey: 'ak-2' } }, 'config');
}

function assertRedacted(text: string, lines: Record<string, unknown>[]): void {
  for (const secret of [TOKEN, AUTHORIZATION, 'xyz', 'key-123', 'ts-1', 'ak-1', 'ts-2', 'ak-2']) {
    assert.ok(!text.includes(secret), `${secret} appears in the output`);
  }
  const byMsg = new Map(lines.map((line) => [line['msg'], line]));
  assert.equal(byMsg.get('top-level token')?.['token'], '[redacted]');
  assert.equal(byMsg.get('top-level authorization')?.['authorization'], '[redacted]');
  assert.deepEqual(byMsg.get('nested')?.['cmd'], { token: '[redacted]' });
  assert.deepEqual(byMsg.get('nested')?.['headers'], { authorization: '[redacted]' });
  assert.deepEqual(byMsg.get('request')?.['req'], {
    headers: { authorization: '[redacted]', 'x-api-key': '[redacted]', host: 'h' },
  });
  assert.equal(byMsg.get('config')?.['tokenSecret'], '[redacted]');
  assert.deepEqual(byMsg.get('config')?.['config'], { tokenSecret: '[redacted]', apiKey: '[redacted]' });
}

test('logs JSON lines with base fields to the given stream, redacting secrets', async () => {
  const out = capture();
  const logger = createLogger({ logLevel: 'info', logFile: '' }, { destination: out.stream });
  logSecrets(logger);
  logger.debug('below the level');
  await flushLogger(logger);

  const lines = out.lines();
  assert.equal(lines.length, 5);
  for (const line of lines) {
    assert.equal(line['service'], 'parley');
    assert.equal(line['level'], 30);
    assert.equal(typeof line['time'], 'string');
  }
  assertRedacted(out.text(), lines);
});

test('also writes to the log file, creating its directory, with the same redaction', async () => {
  const logFile = join(tempDir(), 'logs', 'nested', 'parley.log');
  const out = capture();
  const logger = createLogger({ logLevel: 'debug', logFile }, { destination: out.stream });
  logSecrets(logger);
  logger.debug({ conn: 'c1' }, 'debug line');
  logger.child({ conn: 'c2', user: 'alice' }).info({ token: TOKEN }, 'from a child');
  await flushLogger(logger);

  const fileText = readFileSync(logFile, 'utf8');
  const fileLines = parseLines(fileText);
  assert.equal(fileLines.length, 7);
  assert.deepEqual(fileLines.map((line) => line['msg']), out.lines().map((line) => line['msg']), 'same lines in both');
  assertRedacted(fileText, fileLines);
  assertRedacted(out.text(), out.lines());
  const child = fileLines.find((line) => line['msg'] === 'from a child');
  assert.equal(child?.['user'], 'alice');
  assert.equal(child?.['token'], '[redacted]');
  assert.ok(fileLines.some((line) => line['msg'] === 'debug line' && line['level'] === 20));

  // After the flush at shutdown, lines still reach the main output.
  logger.info('after shutdown');
  assert.ok(out.text().includes('after shutdown'));
  assert.ok(!readFileSync(logFile, 'utf8').includes('after shutdown'));
});

test('a log file that cannot be opened is reported on the main output, and logging goes on', async () => {
  const dir = tempDir();
  const out = capture();
  // A path below a regular file cannot be created.
  const blocker = join(dir, 'file');
  writeFileSync(blocker, '');
  const logger = createLogger({ logLevel: 'info', logFile: join(blocker, 'parley.log') }, { destination: out.stream });
  logger.info('first');
  await waitFor(() => out.text().includes('cannot write log file'), 2000);
  logger.info('second');
  assert.ok(out.text().includes('second'));
  await flushLogger(logger);
});

test('silent logs nothing', async () => {
  const out = capture();
  const logger = createLogger({ logLevel: 'silent', logFile: '' }, { destination: out.stream });
  logger.fatal('nothing');
  await flushLogger(logger);
  assert.equal(out.text(), '');
});

/** Polls `condition` until it holds, failing after `timeoutMs`. */
async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail('timed out waiting for condition');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test('logFormat: auto is pretty on a terminal and JSON lines anywhere else; pretty and json are what they say', () => {
  assert.equal(resolveLogFormat('auto', true), 'pretty');
  assert.equal(resolveLogFormat('auto', false), 'json');
  assert.equal(resolveLogFormat('pretty', false), 'pretty');
  assert.equal(resolveLogFormat('pretty', true), 'pretty');
  assert.equal(resolveLogFormat('json', true), 'json');
  assert.equal(resolveLogFormat('json', false), 'json');
});

const ANSI = /\x1b\[\d+m/g;
const PRETTY_LINE = /^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN): .+$/;

test('on a terminal: one readable colored line per event, secrets redacted; the log file still gets JSON lines', async () => {
  const out = capture();
  const logFile = join(tempDir(), 'parley.log');
  const logger = createLogger({ logLevel: 'info', logFile, logFormat: 'auto' }, { destination: out.stream, isTerminal: true });
  logger.info({ url: 'http://localhost:8080', token: TOKEN }, 'parley listening on http://localhost:8080');
  logger.child({ conn: 'c1', user: 'alice' }).warn({ headers: { authorization: AUTHORIZATION } }, 'slow client');
  await flushLogger(logger);

  assert.match(out.text(), ANSI, 'colored');
  const lines = out.text().replace(ANSI, '').split('\n').filter(Boolean);
  assert.equal(lines.length, 2);
  for (const line of lines) assert.match(line, PRETTY_LINE);
  assert.match(lines[0]!, /INFO: parley listening on http:\/\/localhost:8080 \{"url":"http:\/\/localhost:8080","token":"\[redacted\]"\}$/);
  assert.match(lines[1]!, /WARN: slow client \{"conn":"c1","user":"alice","headers":\{"authorization":"\[redacted\]"\}\}$/);
  assert.ok(!out.text().includes(TOKEN) && !out.text().includes(AUTHORIZATION));

  const file = parseLines(readFileSync(logFile, 'utf8'));
  assert.deepEqual(file.map((line) => line.msg), ['parley listening on http://localhost:8080', 'slow client']);
  assert.equal(file[0]!.token, '[redacted]');
});

test('off a terminal: JSON lines by default, readable lines without color codes with logFormat pretty', async () => {
  const json = capture();
  const auto = createLogger({ logLevel: 'info', logFile: '', logFormat: 'auto' }, { destination: json.stream, isTerminal: false });
  auto.info({ n: 1 }, 'event');
  await flushLogger(auto);
  assert.deepEqual(json.lines().map((line) => [line.msg, line.n, line.service]), [['event', 1, 'parley']]);

  const pretty = capture();
  const forced = createLogger({ logLevel: 'info', logFile: '', logFormat: 'pretty' }, { destination: pretty.stream, isTerminal: false });
  forced.info({ n: 1 }, 'event');
  await flushLogger(forced);
  assert.doesNotMatch(pretty.text(), ANSI);
  assert.match(pretty.text(), /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: event \{"n":1\}\n$/);

  const onTerminal = capture();
  const jsonOnTerminal = createLogger({ logLevel: 'info', logFile: '', logFormat: 'json' }, { destination: onTerminal.stream, isTerminal: true });
  jsonOnTerminal.info('event');
  await flushLogger(jsonOnTerminal);
  assert.equal(onTerminal.lines()[0]!.msg, 'event', 'json is JSON even on a terminal');
});
