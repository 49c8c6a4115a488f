/**
 * The dependency tree is honest about Node 20: every installed package
 * accepts the oldest Node the project supports (what `npm ci` checks as
 * EBADENGINE), and the `cookie` pinned under light-my-request (fastify's
 * `inject`) does what light-my-request asks of it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const root = new URL('../', import.meta.url);
const readJson = (path: string): any => JSON.parse(readFileSync(new URL(path, root), 'utf8'));

type Version = [number, number, number];

/** A version or partial version (`20`, `14.17`, `10.x`, `v12.0.0`), missing parts as 0; how many parts were given. */
function parseVersion(text: string): { version: Version; given: number } {
  // npm reads a leading `v` (or `=`) as nothing: `>=v12.0.0` is `>=12.0.0`.
  const parts = text.replace(/^[v=]+/, '').split('.').filter((part) => part !== '' && part !== 'x' && part !== 'X' && part !== '*');
  const numbers = parts.map(Number);
  assert.ok(numbers.every(Number.isInteger), `a version: "${text}"`);
  return { version: [numbers[0] ?? 0, numbers[1] ?? 0, numbers[2] ?? 0], given: numbers.length };
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Whether `version` satisfies one comparator of an npm range (`>=14.17`, `^20.19.0`, `20.x`, `*`). */
function satisfiesComparator(version: Version, comparator: string): boolean {
  const [, operator = '', text = ''] = /^(>=|<=|>|<|\^|~|=)?\s*(.*)$/.exec(comparator)!;
  if (text === '' || text === '*' || text === 'x') return true;
  const { version: bound, given } = parseVersion(text);
  const upper = (index: number): Version => (index === 0 ? [bound[0] + 1, 0, 0] : [bound[0], bound[1] + 1, 0]);
  switch (operator) {
    case '>=':
      return compare(version, bound) >= 0;
    case '>':
      return compare(version, bound) > 0;
    case '<=':
      return compare(version, bound) <= 0;
    case '<':
      return compare(version, bound) < 0;
    case '^':
      return compare(version, bound) >= 0 && compare(version, upper(bound[0] === 0 ? 1 : 0)) < 0;
    case '~':
      return compare(version, bound) >= 0 && compare(version, upper(given === 1 ? 0 : 1)) < 0;
    default:
      return given === 3 ? compare(version, bound) === 0 : compare(version, bound) >= 0 && compare(version, upper(given - 1)) < 0;
  }
}

/** Whether `version` satisfies an npm range such as `18 || 20 || >=22` or `>=16 || 14 >=14.17`. */
function satisfies(version: string, range: string): boolean {
  const target = parseVersion(version).version;
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .replace(/(>=|<=|>|<|\^|~|=)\s+/g, '$1')
      .split(/\s+/)
      .every((comparator) => satisfiesComparator(target, comparator)),
  );
}

test('the range check reads npm ranges as npm does', () => {
  assert.ok(satisfies('20.19.0', '>=18'));
  assert.ok(!satisfies('20.19.0', '>=22'), "cookie@2's range refuses Node 20");
  assert.ok(satisfies('20.19.0', '^20.19.0 || >=22.12.0'));
  assert.ok(!satisfies('20.18.3', '^20.19.0 || >=22.12.0'));
  assert.ok(satisfies('20.19.0', '18 || 20 || >=22'));
  assert.ok(satisfies('20.19.0', '20.x || 22.x'));
  assert.ok(satisfies('20.19.0', '>=16 || 14 >=14.17'));
  assert.ok(satisfies('20.19.0', '>= 10.x'));
  assert.ok(!satisfies('20.19.0', '^10 || ^12 || <20'));
  assert.ok(satisfies('20.19.0', '>=v12.0.0'));
  assert.ok(!satisfies('20.19.0', '>=v22'));
});

test('every package in the lock file accepts the oldest Node the project supports', () => {
  const [, minimum] = /^>=(\d+\.\d+(?:\.\d+)?)$/.exec(readJson('package.json').engines.node) ?? [];
  assert.ok(minimum, 'package.json states its minimum Node as >=X.Y');
  assert.equal(minimum.split('.')[0], '20', 'Node 20 is supported');
  const lock = readJson('package-lock.json');
  const refusing = Object.entries(lock.packages as Record<string, { engines?: { node?: string } | string[]; optional?: boolean; os?: string[] }>)
    .filter(([, entry]) => !Array.isArray(entry.engines) && typeof entry.engines?.node === 'string')
    .filter(([, entry]) => !satisfies(minimum, (entry.engines as { node: string }).node))
    .map(([path, entry]) => `${path.replace(/^.*node_modules\//, '')} requires node ${(entry.engines as { node: string }).node}`);
  assert.deepEqual(refusing, []);
});

test("fastify's inject (light-my-request) sends cookies with the pinned cookie package", async () => {
  const app = Fastify();
  app.get('/echo', async (request) => ({ cookie: request.headers.cookie }));
  try {
    const answer = await app.inject({ method: 'GET', url: '/echo', cookies: { session: 'abc', note: 'a b;c' } });
    assert.equal(answer.statusCode, 200);
    assert.deepEqual(answer.json(), { cookie: 'session=abc; note=a%20b%3Bc' });
  } finally {
    await app.close();
  }
});
