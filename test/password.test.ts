import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  hashPassword,
  needsRehash,
  passwordProblem,
  verifyAgainstNothing,
  verifyPassword,
} from '../src/accounts/password.js';

describe('password hashing', () => {
  it('verifies the password it hashed and nothing else', async () => {
    const stored = await hashPassword('correct horse battery');
    assert.match(stored, /^scrypt\$16384\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    assert.equal(await verifyPassword('correct horse battery', stored), true);
    assert.equal(await verifyPassword('correct horse batterY', stored), false);
    assert.equal(await verifyPassword('correct horse battery ', stored), false);
    assert.equal(needsRehash(stored), false);
  });

  it('salts every hash afresh', async () => {
    const [a, b] = await Promise.all([hashPassword('same password'), hashPassword('same password')]);
    assert.notEqual(a, b);
    assert.equal(await verifyPassword('same password', b), true);
  });

  it('hashes equivalent Unicode spellings alike', async () => {
    const stored = await hashPassword('caf\u00e9-password');
    assert.equal(await verifyPassword('cafe\u0301-password', stored), true);
  });

  it('bounds the length before hashing, in characters', async () => {
    assert.match(passwordProblem('a'.repeat(PASSWORD_MIN_LENGTH - 1))!, /at least 8/);
    assert.equal(passwordProblem('😀'.repeat(PASSWORD_MIN_LENGTH)), undefined, 'characters, not UTF-16 units');
    assert.equal(passwordProblem('😀'.repeat(PASSWORD_MAX_LENGTH)), undefined);
    assert.match(passwordProblem('a'.repeat(PASSWORD_MAX_LENGTH + 1))!, /at most 256/);
    assert.match(passwordProblem('a'.repeat(10_000_000))!, /at most 256/);
    assert.match(passwordProblem(12345678 as unknown as string)!, /must be text/, 'JSON from a client may hold anything');
    await assert.rejects(hashPassword('short'), RangeError);
    await assert.rejects(hashPassword('a'.repeat(PASSWORD_MAX_LENGTH + 1)), RangeError);
    const stored = await hashPassword('a'.repeat(PASSWORD_MAX_LENGTH));
    assert.equal(await verifyPassword('a'.repeat(PASSWORD_MAX_LENGTH + 1), stored), false);
  });

  it('never matches a stored value that is not a well-formed hash, and asks for such a value to be replaced', async () => {
    const stored = await hashPassword('a fine password');
    const [, n, r, p, salt, hash] = stored.split('$');
    const broken = [
      '',
      'plain text',
      `bcrypt$${n}$${r}$${p}$${salt}$${hash}`,
      `scrypt$1000$${r}$${p}$${salt}$${hash}`, // N not a power of two
      `scrypt$${2 ** 24}$${r}$${p}$${salt}$${hash}`, // N past the bound
      `scrypt$${n}$${r}$${p}$$${hash}`,
      `scrypt$${n}$${r}$${p}$${salt}`,
    ];
    for (const value of broken) {
      assert.equal(await verifyPassword('a fine password', value), false, value);
      assert.equal(needsRehash(value), true, value);
    }
  });

  it('asks for a rehash of a hash made with other parameters, and still verifies it', async () => {
    const { scryptSync } = await import('node:crypto');
    const salt = Buffer.alloc(16, 7);
    const older = ['scrypt', 1024, 8, 1, salt.toString('base64url'), scryptSync('old password', salt, 32, { N: 1024, r: 8, p: 1 }).toString('base64url')].join('$');
    assert.equal(await verifyPassword('old password', older), true);
    assert.equal(needsRehash(older), true);
  });

  it('has a path for unknown users that hashes like a real check and never matches', async () => {
    assert.equal(await verifyAgainstNothing('any password at all'), false);
    assert.equal(await verifyAgainstNothing('x'), false);
  });
});
