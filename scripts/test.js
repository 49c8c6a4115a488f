#!/usr/bin/env node
// Runs every test file under test/ (or the files/dirs given) with node:test, TypeScript loaded by tsx.
// Node 20's --test takes no globs, so the file list is built here.
//
// The SDK conformance files run once more for every flavour of the SDK
// besides the default one (JSON over WebSocket): see test/helpers/sdk-flavour.ts.
import { readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

/** The conformance suite: what every flavour of the SDK must pass unchanged. */
const CONFORMANCE_FILES = new Set([
  'sdk.connect.test.ts',
  'sdk.auth.test.ts',
  'sdk.history.test.ts',
  'sdk.presence.test.ts',
  'sdk.recovery.test.ts',
  'sdk.long-absence.test.ts',
  'sdk.delta.test.ts',
]);
/** Flavours run besides `json/websocket`, the default every file runs with. */
const EXTRA_FLAVOURS = ['protobuf/websocket', 'protobuf/http_stream', 'json/http_stream', 'json/sse'];

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) collect(join(path, entry), out);
  } else if (/\.test\.ts$/.test(path)) {
    out.push(path);
  }
  return out;
}

function run(files, env) {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-reporter=spec', ...files],
    { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test', ...env } },
  );
  return result.status ?? 1;
}

const roots = process.argv.slice(2);
const files = (roots.length ? roots : ['test']).flatMap((root) => collect(resolve(root), []));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// A flavour given from outside runs just the conformance files given, in that flavour.
if (process.env.PARLEY_SDK_FLAVOUR) {
  process.exit(run(files, {}));
}
let status = run(files, {});
const conformance = files.filter((file) => CONFORMANCE_FILES.has(basename(file)));
for (const flavour of conformance.length > 0 ? EXTRA_FLAVOURS : []) {
  console.log(`\n# SDK conformance suite, ${flavour}`);
  const flavourStatus = run(conformance, { PARLEY_SDK_FLAVOUR: flavour });
  if (status === 0) status = flavourStatus;
}
process.exit(status);
