/** The README documents every configuration key, environment variable and namespace option. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ENV_VARS } from '../src/config/env.js';
import { Metrics } from '../src/ops/metrics.js';
import { NAMESPACE_KEYS, SCALAR_KEYS } from '../src/config/fields.js';
import { Disconnects } from '../src/protocol/errors.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test('every config key, env variable, namespace option and close code is in the README', () => {
  for (const key of [...SCALAR_KEYS, 'namespaces', 'defaultNamespace']) assert.ok(readme.includes(`| \`${key}\``), `config key ${key}`);
  for (const { name } of ENV_VARS) assert.ok(readme.includes(`\`${name}\``), `env ${name}`);
  for (const key of NAMESPACE_KEYS) assert.ok(readme.includes(`| \`${key}\``), `namespace option ${key}`);
  for (const { code } of Object.values(Disconnects)) assert.ok(readme.includes(`| ${code} |`), `close code ${code}`);
});

test('every metric is in the README', () => {
  const metrics = new Metrics();
  metrics.monitorEventLoop();
  metrics.close();
  const names = metrics.registry.getMetricsAsArray().map((metric) => metric.name);
  assert.ok(names.length > 10, 'the registry lists the metrics');
  const section = readme.slice(readme.indexOf('## Metrics and health'));
  for (const name of names) {
    // The event-loop family is listed as one row: parley_event_loop_lag_mean_seconds, `_p99_seconds`, `_max_seconds`.
    const shortName = name.replace(/^parley_event_loop_lag_(p99|max)_seconds$/, '_$1_seconds');
    assert.ok(section.includes(`\`${name}`) || section.includes(`\`${shortName}\``), `metric ${name}`);
  }
});
