import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PermissionSet, MAX_PERMISSION_PATTERNS, type ChannelOperation } from '../src/auth/permissions.js';
import { RegexGuard, type RegexTimeoutEvent } from '../src/auth/regex-guard.js';
import { TokenError } from '../src/auth/jwt.js';

/** The permission claim the Scaledrone chat tutorial issues to clientID `alice`. */
const ALICE = {
  '^observable-room$': { publish: true, subscribe: true },
  '^private-room-alice$': { publish: false, subscribe: true },
  '^private-room-(?!alice$).+$': { publish: true, subscribe: false },
};

const OPS: ChannelOperation[] = ['publish', 'subscribe', 'history', 'presence'];

function allowed(set: PermissionSet, channel: string): ChannelOperation[] {
  return OPS.filter((op) => set.allows(op, channel));
}

/** TokenError messages become close reasons: short, and never JSON (clients read JSON reasons as reconnect advice). */
function assertUsableAsCloseReason(message: string): void {
  assert.ok(Buffer.byteLength(message) < 123, `message too long for a close reason: ${message}`);
  assert.throws(() => JSON.parse(message));
}

function assertClaimsError(value: unknown, pattern?: string): void {
  assert.throws(
    () => PermissionSet.fromClaim(value),
    (error: unknown) => {
      assert.ok(error instanceof TokenError);
      assert.equal(error.kind, 'claims');
      assert.match(error.message, /permissions/);
      assertUsableAsCloseReason(error.message);
      if (pattern !== undefined) assert.ok(!error.message.includes(pattern), 'message contains the pattern');
      return true;
    },
  );
}

test('the tutorial permission set for alice', () => {
  const set = PermissionSet.fromClaim(ALICE);
  // Observable rooms: members see who is online and read history, because both follow subscribe.
  assert.deepEqual(allowed(set, 'observable-room'), ['publish', 'subscribe', 'history', 'presence']);
  assert.deepEqual(allowed(set, 'private-room-alice'), ['subscribe', 'history', 'presence']);
  assert.deepEqual(allowed(set, 'private-room-bob'), ['publish']);
  assert.deepEqual(allowed(set, 'private-room-alicex'), ['publish']);
  assert.deepEqual(allowed(set, 'observable-room-2'), []);
  assert.deepEqual(allowed(set, 'private-room-'), []);
  assert.deepEqual(allowed(set, 'lobby'), []);
});

test('any matching pattern that grants an operation allows it', () => {
  const set = PermissionSet.fromClaim({
    '^room-': { subscribe: true },
    '^room-1$': { publish: true, subscribe: false },
  });
  assert.deepEqual(allowed(set, 'room-1'), ['publish', 'subscribe', 'history', 'presence']);
  assert.deepEqual(allowed(set, 'room-2'), ['subscribe', 'history', 'presence']);
  // Patterns are not anchored implicitly.
  assert.deepEqual(allowed(PermissionSet.fromClaim({ room: { publish: true } }), 'my-room-2'), ['publish']);
});

test('history and presence follow subscribe unless set', () => {
  const set = PermissionSet.fromClaim({
    '^quiet$': { subscribe: true, presence: false, history: false },
    '^zero$': { subscribe: true, history: 0 },
    '^audit$': { history: true },
    '^who$': { presence: true },
    '^mute$': { publish: true },
  });
  assert.deepEqual(allowed(set, 'quiet'), ['subscribe']);
  assert.deepEqual(allowed(set, 'zero'), ['subscribe', 'presence']);
  assert.deepEqual(allowed(set, 'audit'), ['history']);
  assert.deepEqual(allowed(set, 'who'), ['presence']);
  assert.deepEqual(allowed(set, 'mute'), ['publish']);
});

test('numeric history limits', () => {
  const set = PermissionSet.fromClaim({
    '^news-': { subscribe: true, history: 10 },
    '^news-sport$': { history: 50 },
    '^news-world$': { history: 0 },
    '^open-': { subscribe: true },
    '^open-capped$': { history: 5 },
    '^closed$': { subscribe: true, history: false },
  });
  assert.equal(set.historyLimit('news-local'), 10);
  assert.equal(set.historyLimit('news-sport'), 50);
  // A denying entry does not lower another entry's grant.
  assert.equal(set.historyLimit('news-world'), 10);
  assert.ok(set.allows('history', 'news-world'));
  // An unlimited grant wins over a numeric one.
  assert.equal(set.historyLimit('open-capped'), undefined);
  assert.equal(set.historyLimit('open-anything'), undefined);
  assert.equal(set.historyLimit('closed'), 0);
  assert.equal(set.historyLimit('elsewhere'), 0);
  assert.equal(set.allows('history', 'closed'), false);
});

test('patterns are compiled without flags', () => {
  const set = PermissionSet.fromClaim({ '^Room$': { subscribe: true }, '^a.b$': { publish: true } });
  assert.equal(set.allows('subscribe', 'Room'), true);
  assert.equal(set.allows('subscribe', 'room'), false);
  assert.equal(set.allows('publish', 'a\nb'), false);
});

test('an empty claim grants nothing', () => {
  assert.deepEqual(allowed(PermissionSet.fromClaim({}), 'anything'), []);
});

test('invalid claims are rejected', () => {
  for (const value of [null, undefined, [], 'x', true, 3]) assertClaimsError(value);
  for (const entry of [true, null, [], 'subscribe', 1]) assertClaimsError({ '^a$': entry });
  for (const field of ['publish', 'subscribe', 'presence']) {
    assertClaimsError({ '^a$': { [field]: 'yes' } });
    assertClaimsError({ '^a$': { [field]: 1 } });
    assertClaimsError({ '^a$': { [field]: null } });
  }
  for (const history of [-1, 1.5, '5', null, Number.NaN, Infinity]) assertClaimsError({ '^a$': { history } });
  assertClaimsError({ '^a$': { subscribe: true, subcribe: true } });
});

test('invalid or oversized patterns are rejected', () => {
  for (const pattern of ['secret(', 'secret[', '*secret', 'secret{2,1}', 'secret(?<', 'secret\\']) {
    assertClaimsError({ [pattern]: { subscribe: true } }, pattern);
  }
  assertClaimsError({ [`^${'x'.repeat(512)}$`]: { subscribe: true } });
  PermissionSet.fromClaim({ ['x'.repeat(512)]: { subscribe: true } });

  const many: Record<string, { subscribe: boolean }> = {};
  for (let i = 0; i < MAX_PERMISSION_PATTERNS; i++) many[`^room-${i}$`] = { subscribe: true };
  assert.equal(PermissionSet.fromClaim(many).allows('subscribe', 'room-63'), true);
  many['^one-too-many$'] = { subscribe: true };
  assertClaimsError(many);
});

test('hostile patterns deny quickly and the guard keeps working', () => {
  const timeouts: RegexTimeoutEvent[] = [];
  const guard = new RegexGuard({ onTimeout: (event) => timeouts.push(event) });
  const set = PermissionSet.fromClaim(
    {
      '^(a+)+$': { subscribe: true },
      '(a|a)*b': { publish: true },
      '(.*a){20}': { presence: true },
      '^ok-[a-z]+$': { subscribe: true },
    },
    guard,
  );
  const evil = 'a'.repeat(40) + '!';
  assert.equal(set.allows('subscribe', evil), false);
  assert.equal(set.allows('publish', 'a'.repeat(40)), false);
  assert.equal(set.allows('presence', 'a'.repeat(19) + 'b'.repeat(236)), false);
  assert.deepEqual(
    timeouts.map((event) => event.pattern),
    ['^(a+)+$', '(a|a)*b', '(.*a){20}'],
  );
  assert.equal(timeouts[0]!.input, evil);

  // Other checks still work, on this guard and on a fresh one.
  assert.equal(set.allows('subscribe', 'ok-room'), true);
  assert.equal(set.allows('subscribe', 'aaaa'), false, 'a pattern that timed out once matches nothing afterwards');
  assert.equal(set.allows('subscribe', 'nope'), false);
  assert.equal(PermissionSet.fromClaim(ALICE, guard).allows('publish', 'private-room-bob'), true);
  assert.equal(PermissionSet.fromClaim(ALICE).allows('subscribe', 'private-room-alice'), true);
  // A hostile pattern costs one timeout, not one per channel tried against it.
  assert.equal(set.allows('subscribe', 'a'.repeat(41) + '!'), false);
  assert.equal(timeouts.length, 3);
});

test('the guard on its own: caching, limits, and a failing listener', () => {
  const guard = new RegexGuard({
    timeoutMs: 5,
    resultCacheSize: 2,
    onTimeout: () => {
      throw new Error('logger down');
    },
  });
  assert.equal(guard.test('^(a+)+$', 'a'.repeat(40) + '!'), false);
  assert.equal(guard.test('^ro+m$', 'rooom'), true);
  assert.equal(guard.test('^room$', 'room'), true);
  assert.equal(guard.test('^room$', 'rooms'), false);
  assert.equal(guard.test('^ro+m$', 'rooom'), true, 'evicted results are recomputed');
  assert.equal(guard.test('(', 'anything'), false);
  assert.equal(guard.test('', 'x'.repeat(255)), true);
  assert.equal(guard.test('', 'x'.repeat(256)), false);
  assert.equal(guard.test('x'.repeat(513), 'x'.repeat(513)), false);
  // Keys cannot collide across the pattern/input boundary.
  // ('b', 'ab') and ('ba', 'b') concatenate to the same text but differ.
  assert.equal(guard.test('b', 'ab'), true);
  assert.equal(guard.test('ba', 'b'), false);
  assert.throws(() => new RegexGuard({ timeoutMs: 0 }), RangeError);
});
