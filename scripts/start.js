#!/usr/bin/env node
// `npm start`: builds the native socket writer, the server and the web app
// when their build is missing or older than their sources, then runs the CLI.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules') continue;
    newest = Math.max(newest, newestMtime(join(path, entry)));
  }
  return newest;
}

function isStale(output, sources) {
  return !existsSync(output) || Math.max(...sources.map((p) => newestMtime(join(root, p)))) > statSync(output).mtimeMs;
}

function run(script, { required = true } = {}) {
  console.error(`parley: npm run ${script}…`);
  const result = spawnSync('npm', ['run', '--silent', script], { cwd: root, stdio: 'inherit' });
  if (result.status === 0) return;
  if (required) process.exit(result.status ?? 1);
  console.error(`parley: npm run ${script} failed; continuing without it`);
}

const common = ['package.json', 'package-lock.json'];
// The native socket writer makes fan-out cheaper; without a C compiler the server writes through Node's streams.
if (process.platform !== 'win32' && isStale(join(root, 'native', 'build', 'Release', 'socket_write.node'), ['native/socket_write.c', 'native/binding.gyp'])) {
  run('build:native', { required: false });
}
if (isStale(join(root, 'dist', 'cli.js'), ['src', 'tsconfig.json', 'tsconfig.build.json', ...common])) run('build:server');
if (isStale(join(root, 'dist', 'web', 'index.html'), ['web', 'src/chat/protocol.ts', ...common])) run('build:web');

const { main } = await import(join(root, 'dist', 'cli.js'));
process.exitCode = await main(process.argv.slice(2));
