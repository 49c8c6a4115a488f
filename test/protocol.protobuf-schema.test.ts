/** The checked-in Protobuf code is what the checked-in schema generates: no one edited one without the other. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

test('src/protocol/generated matches src/protocol/client.proto', { timeout: 60_000 }, () => {
  const script = fileURLToPath(new URL('../scripts/generate-protobuf.js', import.meta.url));
  const result = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
});
