/** The web app's MD5 (for the Gravatar preview) agrees with Node's on ASCII, Unicode and every padding boundary. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { md5Hex } from '../web/src/lib/md5.js';

test('md5Hex matches node:crypto', () => {
  const samples = ['', 'a', 'abc', 'alice@example.com', 'Ünïcödé 😀 адрес@пример.рф'];
  // Lengths around the 55/56/64-byte padding boundaries and past one block.
  for (let length = 50; length <= 130; length++) samples.push('x'.repeat(length));
  for (const text of samples) assert.equal(md5Hex(text), createHash('md5').update(text).digest('hex'), JSON.stringify(text.slice(0, 20)));
});
