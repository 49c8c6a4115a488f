/**
 * Server API building blocks on their own: glob patterns of `channels`
 * (gobwas/glob syntax, linear-time matching) and the idempotency window of
 * `publish`.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Glob, GlobSyntaxError } from '../src/api/glob.js';
import { IDEMPOTENCY_WINDOW_MS, IdempotencyCache } from '../src/api/idempotency.js';

describe('server api: glob patterns', () => {
  const cases: [string, string[], string[]][] = [
    ['room:*', ['room:', 'room:a', 'room:a:b'], ['rooms', 'xroom:a']],
    ['*', ['', 'anything at all'], []],
    ['chat?', ['chat1', 'chatx'], ['chat', 'chat12']],
    ['[ab]c', ['ac', 'bc'], ['cc', 'abc']],
    ['[!ab]c', ['cc', 'zc'], ['ac', 'bc']],
    ['[a-c]*', ['a', 'bz', 'c9'], ['d', '']],
    ['{room,dm}:*', ['room:x', 'dm:a,b'], ['user:1']],
    ['{a{1,2},b}x', ['a1x', 'a2x', 'bx'], ['a3x', 'ax']],
    ['\\*lit\\?', ['*lit?'], ['xlit?', '*lity']],
    ['ü*', ['über'], ['uber']],
    ['[α-ω]', ['λ'], ['a']],
  ];
  for (const [pattern, yes, no] of cases) {
    test(`"${pattern}"`, () => {
      const glob = Glob.compile(pattern);
      for (const name of yes) assert.equal(glob.matches(name), true, `${pattern} should match ${name}`);
      for (const name of no) assert.equal(glob.matches(name), false, `${pattern} should not match ${name}`);
    });
  }

  test('malformed patterns are refused', () => {
    for (const pattern of ['[abc', '{a,b', 'trailing\\', '[]', '[z-a]']) {
      assert.throws(() => Glob.compile(pattern), GlobSyntaxError, pattern);
    }
  });

  test('matching takes linear time, even for patterns that make backtracking explode', () => {
    const glob = Glob.compile(`${'*a'.repeat(30)}*b`);
    const name = 'a'.repeat(255);
    const started = performance.now();
    for (let i = 0; i < 20; i++) assert.equal(glob.matches(name), false);
    assert.ok(performance.now() - started < 2000, 'matched quickly');
  });
});

describe('server api: idempotency window', () => {
  test('a key runs once per channel within the window, again after it, and again after a failure', async () => {
    let now = 1_000;
    const cache = new IdempotencyCache<number>(() => now);
    let runs = 0;
    const run = async () => ++runs;
    assert.equal(await cache.once('room:a', 'k', run), 1);
    assert.equal(await cache.once('room:a', 'k', run), 1, 'remembered');
    assert.equal(await cache.once('room:b', 'k', run), 2, 'keys act per channel');
    now += IDEMPOTENCY_WINDOW_MS + 1;
    assert.equal(await cache.once('room:a', 'k', run), 3, 'forgotten after the window');

    await assert.rejects(cache.once('room:a', 'fails', async () => Promise.reject(new Error('store down'))));
    assert.equal(await cache.once('room:a', 'fails', run), 4, 'a failed publish can be retried');
  });

  test('concurrent calls with one key share the first run', async () => {
    const cache = new IdempotencyCache<number>();
    let runs = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow = async () => {
      runs++;
      await gate;
      return runs;
    };
    const first = cache.once('room:a', 'k', slow);
    const second = cache.once('room:a', 'k', slow);
    release();
    assert.deepEqual(await Promise.all([first, second]), [1, 1]);
    assert.equal(runs, 1);
  });
});
