import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AccountStore, NewAccount } from '../../src/accounts/account-store.js';

/** What a contract run needs from an implementation. */
export interface AccountStoreFixture {
  /** A store on fresh, empty storage, not opened yet. */
  store: AccountStore;
  /** Another not yet opened store on the same storage, usable at the same time as `store` (a second node). */
  another: () => Promise<AccountStore>;
  /** Removes the storage; called after every store of the fixture is closed. */
  cleanup: () => Promise<void>;
}

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
/** Stores keep hashes opaque: any string stands for one here. */
const HASH = 'scrypt$16384$8$1$c2FsdA$aGFzaA';

const digest = (): string => createHash('sha256').update(randomBytes(32)).digest('hex');
const person = (id: string, username: string, now = T0): NewAccount => ({ id, username, passwordHash: `${HASH}-${id}`, displayName: username, now });

/**
 * Registers a `describe` block checking every guarantee documented on
 * {@link AccountStore}. Each test gets its own fixture from `makeStore`.
 */
export function runAccountStoreContract(name: string, makeStore: () => Promise<AccountStoreFixture>): void {
  /** Runs `fn` with the fixture's store and `nodes - 1` more on the same storage, all open; closes them and cleans up. */
  const run =
    (fn: (...stores: AccountStore[]) => Promise<void>, nodes = 1) =>
    async (): Promise<void> => {
      const fixture = await makeStore();
      const stores = [fixture.store];
      try {
        for (let i = 1; i < nodes; i++) stores.push(await fixture.another());
        for (const store of stores) await store.open();
        await fn(...stores);
      } finally {
        for (const store of stores) await store.close();
        await fixture.cleanup();
      }
    };

  describe(`AccountStore contract: ${name}`, () => {
    it('makes the first account admin and later ones members, and finds them by id and by any spelling of the username', run(async (store) => {
      const ann = await store.createAccount(person('u-ann', 'Ann'));
      assert.ok(ann.ok);
      assert.deepEqual(ann.account, {
        id: 'u-ann', username: 'Ann', usernameKey: 'ann', displayName: 'Ann', passwordHash: `${HASH}-u-ann`,
        role: 'admin', deactivatedAt: undefined, createdAt: T0, passwordChangedAt: T0,
      });
      const bob = await store.createAccount(person('u-bob', 'bob'));
      assert.ok(bob.ok);
      assert.equal(bob.account.role, 'member');
      assert.deepEqual(await store.getAccount('u-ann'), ann.account);
      assert.deepEqual(await store.findByUsername('ANN'), ann.account);
      assert.deepEqual(await store.findByUsername('Аnn'), ann.account, 'Cyrillic А finds the Latin name');
      assert.equal(await store.getAccount('u-nobody'), undefined);
      assert.equal(await store.findByUsername('nobody'), undefined);
      assert.equal(await store.countAdmins(), 1);
    }));

    it('makes an account that may not be admin (a claimed guest) a member, and the next one made while there is no admin the admin', run(async (store) => {
      const claimed = await store.createAccount({ ...person('g_guest', 'guest'), firstMayBeAdmin: false });
      assert.equal(claimed.ok && claimed.account.role, 'member');
      assert.equal(await store.countAdmins(), 0);
      const next = await store.createAccount(person('u-next', 'next'));
      assert.equal(next.ok && next.account.role, 'admin');
      const later = await store.createAccount(person('u-later', 'later'));
      assert.equal(later.ok && later.account.role, 'member');
    }));

    it('refuses a username that differs only by case or look-alikes, and an id that already has an account', run(async (store) => {
      assert.ok((await store.createAccount(person('u-1', 'alice'))).ok);
      for (const [i, twin] of ['Alice', 'ALICE', 'аlice', 'al1ce', 'aIice', 'álice'].entries()) {
        assert.deepEqual(await store.createAccount(person(`u-twin-${i}`, twin)), { ok: false, reason: 'username-taken' }, twin);
      }
      assert.deepEqual(await store.createAccount(person('u-1', 'someone')), { ok: false, reason: 'id-taken' }, 'a guest id is claimed once');
      assert.equal(await store.getAccount('u-twin-0'), undefined, 'a refusal stores nothing');
      assert.equal(await store.findByUsername('someone'), undefined);
      assert.ok((await store.createAccount(person('u-2', 'alice.b'))).ok, 'a different name is free');
    }));

    it('gives exactly one of many accounts created at once on two nodes the admin role', run(async (a, b) => {
      const results = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).createAccount(person(`u-${i}`, `member${i}`))));
      assert.ok(results.every((r) => r.ok), 'every account created');
      const roles = results.map((r) => (r.ok ? r.account.role : undefined));
      assert.equal(roles.filter((r) => r === 'admin').length, 1);
      assert.equal(await a.countAdmins(), 1);
      assert.equal(await b.countAdmins(), 1);
    }, 2));

    it('lets one of two nodes registering look-alike usernames at once have the name', run(async (a, b) => {
      for (let round = 0; round < 5; round++) {
        const results = await Promise.all([a.createAccount(person(`a-${round}`, `name${round}`)), b.createAccount(person(`b-${round}`, `NАME${round}`))]);
        assert.deepEqual(results.map((r) => r.ok).sort(), [false, true], `round ${round}`);
      }
    }, 2));

    it('replaces a password hash', run(async (store) => {
      await store.createAccount(person('u-1', 'ann'));
      assert.equal(await store.setPassword('u-1', 'new-hash', T0 + 5), true);
      const account = await store.getAccount('u-1');
      assert.equal(account?.passwordHash, 'new-hash');
      assert.equal(account?.passwordChangedAt, T0 + 5);
      assert.equal(await store.setPassword('u-none', 'x', T0), false);
    }));

    it('changes roles and activation but never leaves no active admin', run(async (store) => {
      await store.createAccount(person('u-admin', 'ann'));
      await store.createAccount(person('u-bob', 'bob'));
      assert.equal(await store.setRole('u-admin', 'member'), 'last-admin');
      assert.equal(await store.setDeactivated('u-admin', true, T0), 'last-admin');
      assert.equal(await store.setRole('u-none', 'admin'), 'unknown-account');
      assert.equal(await store.setDeactivated('u-none', true, T0), 'unknown-account');
      assert.equal(await store.setRole('u-bob', 'admin'), 'changed');
      assert.equal(await store.countAdmins(), 2);
      assert.equal(await store.setDeactivated('u-admin', true, T0 + 1), 'changed');
      assert.equal(await store.setDeactivated('u-admin', true, T0 + 2), 'changed');
      assert.equal((await store.getAccount('u-admin'))?.deactivatedAt, T0 + 1, 'the first deactivation time is kept');
      assert.equal(await store.countAdmins(), 1, 'a deactivated admin does not count');
      assert.equal(await store.setRole('u-bob', 'member'), 'last-admin');
      assert.equal(await store.setDeactivated('u-admin', false, T0 + 3), 'changed');
      assert.equal((await store.getAccount('u-admin'))?.deactivatedAt, undefined);
      assert.equal(await store.setRole('u-bob', 'member'), 'changed');
      assert.deepEqual([(await store.getAccount('u-bob'))?.role, await store.countAdmins()], ['member', 1]);
    }));

    it('never lets two nodes demote the last two admins at once', run(async (a, b) => {
      await a.createAccount(person('u-1', 'ann'));
      await a.createAccount(person('u-2', 'bob'));
      await a.setRole('u-2', 'admin');
      const results = await Promise.all([a.setRole('u-1', 'member'), b.setDeactivated('u-2', true, T0)]);
      assert.deepEqual([...results].sort(), ['changed', 'last-admin']);
      assert.equal(await a.countAdmins(), 1);
    }, 2));

    it('uses a live session, refuses an expired or revoked one, and lists the live ones', run(async (store) => {
      await store.createAccount(person('u-1', 'ann'));
      const [phone, laptop, old] = [digest(), digest(), digest()];
      const created = await store.createSession({ tokenHash: phone, accountId: 'u-1', device: 'phone', now: T0, expiresAt: T0 + HOUR });
      assert.match(created.id, /^[A-Za-z0-9_-]{16}$/);
      assert.deepEqual(created, { id: created.id, tokenHash: phone, accountId: 'u-1', device: 'phone', createdAt: T0, lastUsedAt: T0, expiresAt: T0 + HOUR });
      await store.createSession({ tokenHash: laptop, accountId: 'u-1', device: 'laptop', now: T0 + 1, expiresAt: T0 + 2 * HOUR });
      await store.createSession({ tokenHash: old, accountId: 'u-1', device: 'old', now: T0, expiresAt: T0 + 10 });

      const used = await store.useSession(phone, T0 + 100);
      assert.equal(used?.account.id, 'u-1');
      assert.deepEqual(used?.session, { ...created, lastUsedAt: T0 + 100 });
      assert.deepEqual((await store.listSessions('u-1', T0 + 200)).map((s) => s.device), ['phone', 'laptop'], 'most recently used first, expired left out');

      assert.equal(await store.useSession(old, T0 + 10), undefined, 'expired at expiresAt');
      const slid = await store.useSession(laptop, T0 + 300, T0 + 3 * HOUR);
      assert.equal(slid?.session.expiresAt, T0 + 3 * HOUR, 'a use slides the expiry forward');
      assert.equal((await store.useSession(laptop, T0 + 301, T0 + HOUR))?.session.expiresAt, T0 + 3 * HOUR, 'never back');
      assert.equal(await store.revokeSession(old), false, 'an expired session is deleted when tried');
      assert.equal(await store.useSession(phone, T0 + HOUR), undefined);
      assert.ok(await store.useSession(laptop, T0 + 2 * HOUR), 'other sessions are unaffected, and the slid one outlives its first expiry');
      assert.equal(await store.revokeSession(laptop), true);
      assert.equal(await store.useSession(laptop, T0 + HOUR), undefined, 'revoked');
      assert.equal(await store.useSession(digest(), T0), undefined, 'unknown');
    }));

    it('tells whether a user may connect: no account, deactivated, session ended or active, by session id', run(async (store) => {
      await store.createAccount(person('u-admin', 'ann'));
      await store.createAccount(person('u-1', 'bob'));
      const phone = await store.createSession({ tokenHash: digest(), accountId: 'u-1', device: 'phone', now: T0, expiresAt: T0 + HOUR });
      const laptop = await store.createSession({ tokenHash: digest(), accountId: 'u-1', device: 'laptop', now: T0, expiresAt: T0 + HOUR });
      const anns = await store.createSession({ tokenHash: digest(), accountId: 'u-admin', device: 'd', now: T0, expiresAt: T0 + HOUR });
      assert.notEqual(phone.id, laptop.id);
      assert.equal(await store.standing('g_guest', undefined, T0), 'not-an-account');
      assert.equal(await store.standing('g_guest', phone.id, T0), 'not-an-account');
      assert.equal(await store.standing('u-1', undefined, T0), 'active', 'a token minted elsewhere names no session');
      assert.equal(await store.standing('u-1', phone.id, T0 + 1), 'active');
      assert.equal(await store.standing('u-1', phone.id, T0 + HOUR), 'session-ended', 'expired');
      assert.equal(await store.standing('u-1', anns.id, T0), 'session-ended', "another account's session");
      assert.equal(await store.standing('u-1', 'no-such-session', T0), 'session-ended');
      assert.equal(await store.revokeSessionById('u-admin', phone.id), false, 'only the owner revokes by id');
      assert.equal(await store.revokeSessionById('u-1', phone.id), true);
      assert.equal(await store.revokeSessionById('u-1', phone.id), false);
      assert.equal(await store.standing('u-1', phone.id, T0), 'session-ended', 'revoked');
      assert.equal(await store.standing('u-1', laptop.id, T0), 'active', 'the other device is untouched');
      assert.deepEqual((await store.listSessions('u-1', T0)).map((s) => s.id), [laptop.id]);
      await store.setDeactivated('u-1', true, T0);
      assert.equal(await store.standing('u-1', undefined, T0), 'deactivated');
      assert.equal(await store.standing('u-1', laptop.id, T0), 'deactivated');
    }));

    it('lists accounts a page at a time in username order, searching usernames by key and display names by lower case', run(async (store) => {
      for (const [i, name] of ['dora', 'Carl', 'alice', 'bob', 'eve'].entries()) await store.createAccount(person(`u-${i}`, name));
      assert.equal(await store.setDisplayName('u-4', 'Évelyne Martin'), true);
      assert.equal(await store.setDisplayName('u-none', 'x'), false);
      const names = (page: { accounts: { username: string }[] }) => page.accounts.map((a) => a.username);
      const first = await store.listAccounts({ limit: 2 });
      assert.deepEqual(names(first), ['alice', 'bob']);
      const second = await store.listAccounts({ limit: 2, after: first.next! });
      assert.deepEqual(names(second), ['Carl', 'dora']);
      await store.createAccount(person('u-5', 'aaron'));
      const third = await store.listAccounts({ limit: 2, after: second.next! });
      assert.deepEqual(names(third), ['eve']);
      assert.equal(third.next, undefined);
      assert.deepEqual(names(await store.listAccounts({ limit: 10, search: 'CARL' })), ['Carl']);
      assert.deepEqual(names(await store.listAccounts({ limit: 10, search: 'аlic' })), ['alice'], 'a look-alike search finds the name');
      assert.deepEqual(names(await store.listAccounts({ limit: 10, search: 'évelyne' })), ['eve'], 'display names too');
      assert.deepEqual(names(await store.listAccounts({ limit: 10, search: 'nobody' })), []);
      await store.setDeactivated('u-1', true, T0);
      assert.equal((await store.listAccounts({ limit: 10, search: 'carl' })).accounts[0]?.deactivatedAt, T0, 'deactivated accounts are listed');
    }));

    it('refuses a session for an unknown account, with a stored token hash, and a token or code that is not a digest', run(async (store) => {
      await store.createAccount(person('u-1', 'ann'));
      const hash = digest();
      await assert.rejects(store.createSession({ tokenHash: hash, accountId: 'u-none', device: 'x', now: T0, expiresAt: T0 + HOUR }));
      await store.createSession({ tokenHash: hash, accountId: 'u-1', device: 'x', now: T0, expiresAt: T0 + HOUR });
      await assert.rejects(store.createSession({ tokenHash: hash, accountId: 'u-1', device: 'y', now: T0, expiresAt: T0 + HOUR }));
      await assert.rejects(store.createSession({ tokenHash: 'the-raw-refresh-token', accountId: 'u-1', device: 'x', now: T0, expiresAt: T0 + HOUR }), RangeError);
      await assert.rejects(store.createInvite({ codeHash: 'the-raw-invite-code', createdBy: 'u-1', expiresAt: T0 + HOUR, maxUses: 1, now: T0 }), RangeError);
      assert.deepEqual(await store.listInvites(), []);
    }));

    it('deletes expired sessions in one sweep', run(async (store) => {
      await store.createAccount(person('u-1', 'ann'));
      const [short, long] = [digest(), digest()];
      await store.createSession({ tokenHash: short, accountId: 'u-1', device: 'd', now: T0, expiresAt: T0 + 10 });
      await store.createSession({ tokenHash: long, accountId: 'u-1', device: 'd', now: T0, expiresAt: T0 + HOUR });
      assert.equal(await store.deleteExpiredSessions(T0 + 9), 0);
      assert.equal(await store.deleteExpiredSessions(T0 + 10), 1);
      assert.equal(await store.revokeSession(short), false, 'gone');
      assert.ok(await store.useSession(long, T0 + 11));
    }));

    it('revokes all sessions of an account, or all but this device, and says how many', run(async (store) => {
      await store.createAccount(person('u-1', 'ann'));
      await store.createAccount(person('u-2', 'bob'));
      const mine = Array.from({ length: 4 }, digest);
      const bobs = digest();
      for (const tokenHash of mine) await store.createSession({ tokenHash, accountId: 'u-1', device: 'd', now: T0, expiresAt: T0 + HOUR });
      await store.createSession({ tokenHash: bobs, accountId: 'u-2', device: 'd', now: T0, expiresAt: T0 + HOUR });
      assert.equal(await store.revokeAllSessions('u-1', mine[0]), 3);
      assert.ok(await store.useSession(mine[0]!, T0 + 1), 'this device stays signed in');
      assert.equal(await store.useSession(mine[1]!, T0 + 1), undefined);
      assert.equal(await store.revokeAllSessions('u-1'), 1);
      assert.equal(await store.useSession(mine[0]!, T0 + 1), undefined);
      assert.equal(await store.revokeAllSessions('u-1'), 0);
      assert.ok(await store.useSession(bobs, T0 + 1), "another account's session is untouched");
    }));

    it('ends every session of a deactivated account for good', run(async (store) => {
      await store.createAccount(person('u-admin', 'ann'));
      await store.createAccount(person('u-1', 'bob'));
      const hash = digest();
      await store.createSession({ tokenHash: hash, accountId: 'u-1', device: 'd', now: T0, expiresAt: T0 + HOUR });
      assert.equal(await store.setDeactivated('u-1', true, T0 + 1), 'changed');
      assert.equal(await store.useSession(hash, T0 + 2), undefined);
      assert.equal(await store.setDeactivated('u-1', false, T0 + 3), 'changed');
      assert.equal(await store.useSession(hash, T0 + 4), undefined, 'reactivation brings no session back');
      assert.deepEqual(await store.listSessions('u-1', T0 + 4), []);
    }));

    it('redeems an invite up to its use count and before its expiry, and lists and revokes invites', run(async (store) => {
      const [twice, expiring, revoked] = [digest(), digest(), digest()];
      const invite = await store.createInvite({ codeHash: twice, createdBy: 'u-admin', expiresAt: T0 + HOUR, maxUses: 2, now: T0 });
      assert.deepEqual(invite, { codeHash: twice, createdBy: 'u-admin', createdAt: T0, expiresAt: T0 + HOUR, maxUses: 2, uses: 0 });
      await store.createInvite({ codeHash: expiring, createdBy: 'u-admin', expiresAt: T0 + 10, maxUses: 5, now: T0 + 1 });
      await store.createInvite({ codeHash: revoked, createdBy: 'u-admin', expiresAt: T0 + HOUR, maxUses: 5, now: T0 + 2 });
      await assert.rejects(store.createInvite({ codeHash: digest(), createdBy: 'u-admin', expiresAt: T0 + HOUR, maxUses: 0, now: T0 }));
      await assert.rejects(store.createInvite({ codeHash: twice, createdBy: 'u-admin', expiresAt: T0 + HOUR, maxUses: 1, now: T0 }));

      assert.deepEqual(await store.redeemInvite(twice, T0 + 5), { ok: true, invite: { ...invite, uses: 1 } });
      assert.deepEqual(await store.redeemInvite(twice, T0 + 6), { ok: true, invite: { ...invite, uses: 2 } });
      assert.deepEqual(await store.redeemInvite(twice, T0 + 7), { ok: false, reason: 'used-up' });
      assert.ok((await store.redeemInvite(expiring, T0 + 9)).ok);
      assert.deepEqual(await store.redeemInvite(expiring, T0 + 10), { ok: false, reason: 'expired' });
      assert.deepEqual(await store.redeemInvite(digest(), T0), { ok: false, reason: 'unknown' });

      assert.deepEqual((await store.listInvites()).map((i) => [i.codeHash, i.uses]), [[revoked, 0], [expiring, 1], [twice, 2]], 'newest first, used ones too');
      assert.equal(await store.revokeInvite(revoked), true);
      assert.equal(await store.revokeInvite(revoked), false);
      assert.deepEqual(await store.redeemInvite(revoked, T0 + 5), { ok: false, reason: 'unknown' });
      assert.equal((await store.listInvites()).length, 2);
    }));

    it('never lets concurrent redemptions on two nodes exceed the use count', run(async (a, b) => {
      const code = digest();
      await a.createInvite({ codeHash: code, createdBy: 'u-admin', expiresAt: T0 + HOUR, maxUses: 5, now: T0 });
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 ? a : b).redeemInvite(code, T0 + 1)));
      const granted = results.filter((r) => r.ok);
      assert.equal(granted.length, 5);
      assert.deepEqual(granted.map((r) => (r.ok ? r.invite.uses : 0)).sort(), [1, 2, 3, 4, 5], 'each use counted once');
      assert.ok(results.every((r) => r.ok || r.reason === 'used-up'));
      assert.equal((await b.listInvites())[0]?.uses, 5);
    }, 2));

    it('creates an account with an invite only when both the account and the invite can be had', run(async (store) => {
      const code = digest();
      await store.createAccount(person('u-admin', 'ann'));
      await store.createInvite({ codeHash: code, createdBy: 'u-admin', expiresAt: T0 + HOUR, maxUses: 1, now: T0 });
      const usesOf = async () => (await store.listInvites())[0]?.uses;
      assert.deepEqual(await store.createAccount({ ...person('u-1', 'ANN'), inviteCodeHash: code }), { ok: false, reason: 'username-taken' });
      assert.equal(await usesOf(), 0, 'a refused creation uses no invite');
      assert.deepEqual(await store.createAccount({ ...person('u-1', 'bob', T0 + HOUR), inviteCodeHash: code }), { ok: false, reason: 'invite', invite: 'expired' });
      assert.deepEqual(await store.createAccount({ ...person('u-1', 'bob'), inviteCodeHash: digest() }), { ok: false, reason: 'invite', invite: 'unknown' });
      const bob = await store.createAccount({ ...person('u-1', 'bob'), inviteCodeHash: code });
      assert.equal(bob.ok && bob.account.role, 'member');
      assert.equal(await usesOf(), 1);
      assert.deepEqual(await store.createAccount({ ...person('u-2', 'cid'), inviteCodeHash: code }), { ok: false, reason: 'invite', invite: 'used-up' });
      assert.equal(await store.getAccount('u-2'), undefined, 'a refused invite creates no account');
    }));

    it('creates no more accounts with one invite on two nodes at once than it allows', run(async (a, b) => {
      const code = digest();
      await a.createAccount(person('u-admin', 'ann'));
      await a.createInvite({ codeHash: code, createdBy: 'u-admin', expiresAt: T0 + HOUR, maxUses: 3, now: T0 });
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).createAccount({ ...person(`u-${i}`, `member${i}`), inviteCodeHash: code })));
      assert.equal(results.filter((r) => r.ok).length, 3);
      assert.ok(results.every((r) => r.ok || (r.reason === 'invite' && r.invite === 'used-up')));
      assert.equal((await b.listInvites())[0]?.uses, 3);
    }, 2));

    it('keeps accounts, sessions and invites for a store opened later on the same storage', async () => {
      const fixture = await makeStore();
      const later = await fixture.another();
      try {
        const { store } = fixture;
        await store.open();
        await store.createAccount(person('u-1', 'ann'));
        await store.createAccount(person('u-2', 'bob'));
        await store.setDeactivated('u-2', true, T0 + 1);
        const session = digest();
        const code = digest();
        await store.createSession({ tokenHash: session, accountId: 'u-1', device: 'phone', now: T0, expiresAt: T0 + HOUR });
        await store.createInvite({ codeHash: code, createdBy: 'u-1', expiresAt: T0 + HOUR, maxUses: 2, now: T0 });
        await store.redeemInvite(code, T0 + 1);
        const before = [await store.getAccount('u-1'), await store.getAccount('u-2')];
        await store.close();

        await later.open();
        assert.deepEqual([await later.getAccount('u-1'), await later.getAccount('u-2')], before);
        assert.equal((await later.useSession(session, T0 + 2))?.account.id, 'u-1');
        assert.deepEqual((await later.listInvites()).map((i) => i.uses), [1]);
        assert.deepEqual(await later.createAccount(person('u-3', 'ANN')), { ok: false, reason: 'username-taken' });
        const third = await later.createAccount(person('u-3', 'cid'));
        assert.equal(third.ok && third.account.role, 'member', 'the first account stays the only one made admin');
      } finally {
        await fixture.store.close();
        await later.close();
        await fixture.cleanup();
      }
    });

    it('keeps an audit log: entries as appended, newest first, paged without gaps or repeats, also from another node', run(async (a, b) => {
      const first = await a.appendAudit({ at: T0, actor: 'u-admin', action: 'account.deactivate', target: 'u-bob' });
      assert.deepEqual(first, { id: first.id, at: T0, actor: 'u-admin', action: 'account.deactivate', target: 'u-bob' }, 'absent fields stay absent');
      const second = await b.appendAudit({ at: T0 + 1, actor: 'u-mod', action: 'member.ban', target: 'u-eve', channel: 'room:general', detail: 'spam' });
      assert.ok(second.id > first.id, 'ids increase across nodes');
      assert.deepEqual((await a.listAudit({ limit: 10 })).entries, [second, first]);
      const appended = [first, second];
      for (let i = 0; i < 23; i++) appended.push(await (i % 2 ? a : b).appendAudit({ at: T0 + 2 + i, actor: '', action: 'member.remove', target: `u-${i}` }));
      const seen: number[] = [];
      let before: number | undefined;
      for (;;) {
        const page = await b.listAudit({ limit: 10, ...(before === undefined ? {} : { before }) });
        seen.push(...page.entries.map((e) => e.id));
        if (!page.hasMore) break;
        before = page.entries.at(-1)!.id;
      }
      assert.deepEqual(seen, appended.map((e) => e.id).reverse(), 'every entry once, newest first');
      assert.equal((await a.listAudit({ limit: 0 })).entries.length, 1, 'a page holds at least one entry');
    }, 2));

    it('refuses an audit action that is not <subject>.<verb> and an overlong detail, storing nothing', run(async (store) => {
      await assert.rejects(store.appendAudit({ at: T0, actor: 'u-1', action: 'Deactivate' }), RangeError);
      await assert.rejects(store.appendAudit({ at: T0, actor: 'u-1', action: 'member.ban; DROP' }), RangeError);
      await assert.rejects(store.appendAudit({ at: T0, actor: 'u-1', action: 'member.ban', detail: 'x'.repeat(501) }), RangeError);
      assert.deepEqual(await store.listAudit({ limit: 10 }), { entries: [], hasMore: false });
    }));

    it('refuses calls before open and after close', async () => {
      const fixture = await makeStore();
      try {
        await assert.rejects(async () => fixture.store.getAccount('x'), /not open/);
        await fixture.store.open();
        await fixture.store.close();
        await assert.rejects(async () => fixture.store.countAdmins(), /closed/);
      } finally {
        await fixture.cleanup();
      }
    });
  });
}
