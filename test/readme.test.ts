/** The README documents every configuration key, environment variable and namespace option. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ENV_VARS } from '../src/config/env.js';
import { NAMESPACE_KEYS, SCALAR_KEYS } from '../src/config/fields.js';
import { Disconnects } from '../src/protocol/errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test('every config key, env variable, namespace option and close code is in the README', () => {
  for (const key of [...SCALAR_KEYS, 'namespaces', 'defaultNamespace']) assert.ok(readme.includes(`| \`${key}\``), `config key ${key}`);
  for (const { name } of ENV_VARS) assert.ok(readme.includes(`\`${name}\``), `env ${name}`);
  for (const key of NAMESPACE_KEYS) assert.ok(readme.includes(`| \`${key}\``), `namespace option ${key}`);
  for (const { code } of Object.values(Disconnects)) assert.ok(readme.includes(`| ${code} |`), `close code ${code}`);
});
