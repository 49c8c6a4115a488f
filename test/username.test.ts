import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkUsername, usernameKey } from '../src/accounts/username.js';

const problem = (name: string): string | undefined => {
  const check = checkUsername(name);
  return check.ok ? undefined : check.problem;
};

describe('username validation', () => {
  it('accepts letters of any script, digits, "_", "." and "-" inside, 2 to 32 characters', () => {
    for (const name of ['al', 'alice', 'Alice_B', 'a.b-c_d', 'zoë', 'Мария', '東京', 'x'.repeat(32), 'r2d2', '9lives']) {
      assert.deepEqual(checkUsername(name), { ok: true, username: name }, name);
    }
  });

  it('stores the NFC form', () => {
    assert.deepEqual(checkUsername('zoe\u0308'), { ok: true, username: 'zo\u00eb' });
  });

  it('refuses bad lengths, punctuation at the ends and other characters', () => {
    assert.match(problem('a')!, /at least 2/);
    assert.match(problem('x'.repeat(33))!, /at most 32/);
    assert.match(problem('x'.repeat(100_000))!, /at most 32/);
    assert.match(problem(null as unknown as string)!, /must be text/);
    for (const name of ['.alice', 'alice.', '-al', 'al_', '_']) assert.match(problem(name) ?? '', /start with a letter or digit|at least/, name);
    for (const name of ['al!ce', 'al@ce', 'al/ce', 'al😀', 'a+b']) assert.match(problem(name)!, /only letters, digits/, name);
  });

  it('refuses control and invisible characters', () => {
    const hidden = ['al ice', 'al\u200bice', 'al\u200dice', 'alice\u202e', 'al\u00adice', 'al\tice', 'al\u0000ice', 'al\u3164ice', 'al\ufe0fice', 'al\u2060ice'];
    for (const name of hidden) assert.match(problem(name)!, /control or invisible/, JSON.stringify(name));
  });
});

describe('username key', () => {
  it('gives case variants and look-alikes one key', () => {
    const alice = usernameKey('alice');
    const twins = ['Alice', 'ALICE', '\u0430lice', 'al1ce', 'aIice', 'AL1CE', 'álice', 'ａｌｉｃｅ', 'alıce', '\u0391LICE', 'al\u0456ce'];
    for (const twin of twins) assert.equal(usernameKey(twin), alice, twin);
  });

  it('maps common Cyrillic and Greek look-alikes of Latin letters', () => {
    const pairs: Array<[string, string]> = [
      ['\u0440\u0430\u0443\u0440\u0430l', 'paypal'], // Cyrillic but for the l
      ['\u0441\u043e\u0445', 'cox'],
      ['\u0455\u0435\u0445', 'sex'],
      ['\u039f\u039c\u0395', 'OME'],
      ['\u0397\u0391\u03a4', 'hat'],
      ['\u03bd\u03b1\u03bd', 'vav'],
      ['b0b', 'bob'],
      ['rnary', 'mary'],
      ['vvill', 'will'],
      ['Straße', 'strasse'],
    ];
    for (const [look, plain] of pairs) assert.equal(usernameKey(look), usernameKey(plain), `${look} ~ ${plain}`);
  });

  it('keeps different names apart', () => {
    const names = ['alice', 'alicia', 'bob', 'a.b', 'a_b', 'a-b', 'Мария', 'maria', '東京', 'bobby'];
    assert.equal(new Set(names.map(usernameKey)).size, names.length);
  });

  it('is stable: the key of a key is itself', () => {
    for (const name of ['Alice', 'аlice', 'Straße', 'ǅemal', 'ＡＢＣ']) {
      const key = usernameKey(name);
      assert.equal(usernameKey(key), key, name);
    }
  });
});
