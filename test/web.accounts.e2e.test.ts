/**
 * Accounts in the web app, end to end in real Chromium against a real
 * server: sign-up (the first account is the admin), a second device,
 * signing out everywhere, profiles, invitations, deactivation, and a guest
 * keeping their identity. Saves the README's account screenshots.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import {
  chooseFromAccountMenu,
  messageWith,
  openApp,
  openProfile,
  screenshot,
  send,
  signIn,
  signInWithPassword,
  signUp,
  storedSession,
  storeSession,
  type ChatPage,
} from './helpers/web.js';

const TIMEOUT = { timeout: 120_000 };
const ADMIN = { username: 'ada', password: 'correct horse battery', displayName: 'Ada Lovelace' };
// Bob picks the admin's display name on purpose: only the username tells them apart.
const BOB = { username: 'bob', password: 'staple tulip quartz', displayName: 'Ada Lovelace' };

function appUrl(t: TestServer): string {
  return t.server.url.replace('0.0.0.0', '127.0.0.1');
}

/** Console errors other than the browser's own line for each refused request (a wrong password is a 401 by design). */
function unexpectedErrors(chat: ChatPage): string[] {
  return chat.errors.filter((line) => !/Failed to load resource: the server responded with a status of (401|403|409)/.test(line));
}

describe('accounts in the web app (open sign-up)', () => {
  let t: TestServer;
  let browser: Browser;
  let admin: ChatPage;
  let bob: ChatPage;
  let bobElsewhere: ChatPage;

  before(async () => {
    t = await startTestServer({ flags: ['--auth-mode', 'open'] });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  test('the first account sees the admin notice, signs up and is the admin', TIMEOUT, async () => {
    admin = await openApp(browser, appUrl(t));
    const { page } = admin;
    await page.getByTestId('first-account-notice').waitFor();
    assert.match(await page.getByTestId('first-account-notice').innerText(), /first here.*admin/i);
    await screenshot(page, 'accounts-first-admin');

    // The rules show before a round trip: a short password and a bad username are named.
    await page.getByTestId('account-username').fill('-ada');
    await page.getByTestId('account-password').fill('short');
    await page.getByTestId('account-submit').click();
    assert.match(await page.getByTestId('account-username-error').innerText(), /start with a letter or digit/);
    assert.match(await page.getByTestId('account-password-error').innerText(), /at least \d+ characters/i);
    // The password shows and hides.
    assert.equal(await page.getByTestId('account-password').getAttribute('type'), 'password');
    await page.getByTestId('account-password-toggle').click();
    assert.equal(await page.getByTestId('account-password').getAttribute('type'), 'text');

    await signUp(admin, ADMIN);
    assert.equal(await page.getByTestId('me-name').innerText(), ADMIN.displayName);
    await chooseFromAccountMenu(admin, 'menu-profile');
    assert.equal(await page.getByTestId('profile-role').innerText(), 'Administrator');
    assert.equal(await page.getByTestId('profile-username').innerText(), '@ada');
    await page.getByTestId('profile-dialog').getByRole('button', { name: 'Close' }).click();
    await page.getByTestId('account-menu-button').click();
    await page.getByTestId('menu-admin').waitFor();
    await page.keyboard.press('Escape');
  });

  test('a later sign-up is a member, and usernames tell two people of one name apart', TIMEOUT, async () => {
    bob = await openApp(browser, appUrl(t));
    await bob.page.getByTestId('tab-signin').waitFor();
    await screenshot(bob.page, 'accounts-sign-in');
    const phone = await openApp(browser, appUrl(t), { viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
    await phone.page.getByTestId('tab-signup').click();
    await screenshot(phone.page, 'accounts-sign-up-phone-dark');
    await phone.context.close();
    await bob.page.getByTestId('tab-signup').click();
    assert.equal(await bob.page.getByTestId('first-account-notice').count(), 0);

    // A taken username is refused with the server's reason.
    await bob.page.getByTestId('account-username').fill('ADA');
    await bob.page.getByTestId('account-password').fill(BOB.password);
    await bob.page.getByTestId('account-submit').click();
    assert.match(await bob.page.getByTestId('account-error').innerText(), /taken/i);

    await signUp(bob, BOB);
    await bob.page.getByTestId('account-menu-button').click();
    assert.equal(await bob.page.getByTestId('menu-admin').count(), 0, 'members have no administration entry');
    await bob.page.keyboard.press('Escape');

    await send(bob, 'hello from the other Ada');
    const seen = messageWith(admin, 'hello from the other Ada');
    await seen.waitFor();
    assert.equal(await seen.getByTestId('message-author').innerText(), 'Ada Lovelace');
    assert.equal(await seen.getByTestId('message-username').innerText(), '@bob');

    // The direct message's header names the other person's username too.
    const bobId = await seen.getAttribute('data-author-id');
    await admin.page.locator(`[data-testid="member-item"][data-user-id="${bobId}"]`).click();
    assert.equal(await admin.page.getByTestId('dm-username').innerText(), '@bob');
    await admin.page.locator('[data-testid="room-item"][data-channel="room:general"]').click();
  });

  test('signing in on a second device; a wrong password is refused without saying which part was wrong', TIMEOUT, async () => {
    bobElsewhere = await openApp(browser, appUrl(t));
    await signInWithPassword(bobElsewhere, 'bob', 'not the password', { waitForChat: false });
    assert.equal(await bobElsewhere.page.getByTestId('account-error').innerText(), 'Wrong username or password');
    await signInWithPassword(bobElsewhere, 'nobody-here', 'not the password', { waitForChat: false });
    await bobElsewhere.page.getByTestId('account-error').filter({ hasText: 'Wrong username or password' }).waitFor();
    await signInWithPassword(bobElsewhere, 'BOB', BOB.password);
    await messageWith(bobElsewhere, 'hello from the other Ada').waitFor();
  });

  test('a profile change is seen by other people', TIMEOUT, async () => {
    await openProfile(bob, 'profile');
    const { page } = bob;
    await page.getByTestId('profile-name').fill('Bob Builder');
    await page.getByTestId('profile-email').fill('bob@example.com');
    // The Gravatar preview follows the typed email (its MD5), before anything is saved.
    await page.locator('[data-testid="profile-preview"][data-avatar="4b9bb80620f03eb3719e0a061c14283d"]').waitFor();
    await page.getByTestId('profile-dialog').locator('label.swatch').nth(9).click();
    await screenshot(page, 'accounts-profile');
    await page.getByTestId('profile-save').click();
    await page.getByTestId('profile-saved').waitFor();
    await page.getByTestId('profile-dialog').getByRole('button', { name: 'Close' }).click();
    await page.getByTestId('me-name').filter({ hasText: 'Bob Builder' }).waitFor();
    await page.getByTestId('composer-input').waitFor();

    await send(bob, 'new name, same me');
    const seen = messageWith(admin, 'new name, same me');
    await seen.waitFor();
    assert.equal(await seen.getByTestId('message-author').innerText(), 'Bob Builder');
    assert.equal(await seen.getByTestId('message-username').innerText(), '@bob');
    await admin.page.locator('[data-testid="member-item"]', { hasText: 'Bob Builder' }).waitFor();
  });

  test('signing out everywhere sends the other device to the sign-in screen; only the password gets it back in', TIMEOUT, async () => {
    await openProfile(bob, 'devices');
    const devices = bob.page.getByTestId('device-item');
    await devices.nth(1).waitFor();
    assert.equal(await devices.count(), 2);
    assert.equal(await bob.page.locator('[data-testid="device-item"][data-current="true"]').count(), 1);
    await bob.page.getByTestId('signout-everywhere').click();
    await bob.page.getByTestId('confirm-signout-everywhere').click();
    await bob.page.getByTestId('signin-form').waitFor();

    await bobElsewhere.page.getByTestId('session-notice').filter({ hasText: 'You were signed out' }).waitFor();
    await bobElsewhere.page.reload();
    await bobElsewhere.page.getByTestId('signin-form').waitFor();
    assert.equal(await bobElsewhere.page.getByTestId('composer-input').count(), 0);
    assert.equal(await storedSession(bobElsewhere), null, 'nothing left that signs in');

    await signInWithPassword(bobElsewhere, 'bob', BOB.password);
    await signInWithPassword(bob, 'bob', BOB.password);
  });

  test('an admin deactivates an account mid-session: that page says so and signing in is refused', TIMEOUT, async () => {
    await chooseFromAccountMenu(admin, 'menu-admin');
    const { page } = admin;
    await page.getByTestId('admin-dialog').waitFor();
    await page.locator('[data-testid="admin-account"][data-username="bob"]').waitFor();
    await screenshot(page, 'accounts-admin');
    await page.getByTestId('admin-search').fill('bob');
    const row = page.locator('[data-testid="admin-account"][data-username="bob"]');
    await page.locator('[data-testid="admin-account"]:not([data-username="bob"])').waitFor({ state: 'detached' });

    // Roles: Bob becomes an admin (his menu gains Administration at his next token) and a member again.
    await Promise.all([page.waitForResponse((response) => response.url().endsWith('/role') && response.ok()), row.getByTestId('admin-role').selectOption('admin')]);
    await Promise.all([page.waitForResponse((response) => response.url().endsWith('/role') && response.ok()), row.getByTestId('admin-role').selectOption('member')]);
    assert.equal(await row.getByTestId('admin-role').inputValue(), 'member');
    await row.getByTestId('admin-deactivate').click();
    await page.getByTestId('confirm-deactivate').click();
    await row.getByTestId('admin-account-deactivated').waitFor();

    for (const device of [bob, bobElsewhere]) {
      await device.page.getByTestId('session-notice').filter({ hasText: 'This account has been deactivated' }).waitFor();
    }
    await signInWithPassword(bob, 'bob', BOB.password, { waitForChat: false });
    await bob.page.getByTestId('account-error').filter({ hasText: /deactivated/i }).waitFor();

    // Reactivated, the account signs in again.
    await row.getByTestId('admin-reactivate').click();
    await row.getByTestId('admin-deactivate').waitFor();
    await signInWithPassword(bob, 'bob', BOB.password);
  });

  test('no unexpected errors and nothing run from user text', () => {
    for (const chat of [admin, bob, bobElsewhere]) {
      assert.deepEqual(unexpectedErrors(chat), []);
      assert.deepEqual(chat.dialogs, []);
    }
  });
});

describe('accounts in the web app (sign-up by invitation)', () => {
  let t: TestServer;
  let browser: Browser;
  let admin: ChatPage;

  before(async () => {
    // The admin signs up while the server is open, then it runs invite-only on the same data.
    const open = await startTestServer({ flags: ['--auth-mode', 'open'] });
    browser = await launchBrowser();
    admin = await openApp(browser, appUrl(open));
    await signUp(admin, ADMIN);
    await admin.context.close();
    await open.server.close();
    t = await startTestServer({ dataDir: open.dataDir, port: open.server.port, flags: ['--auth-mode', 'invite'] });
  });

  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  test('an invite link lets one person sign up; a used-up link says why', TIMEOUT, async () => {
    admin = await openApp(browser, appUrl(t));
    await admin.page.getByTestId('invite-only').waitFor();
    assert.equal(await admin.page.getByTestId('tab-signup').count(), 0, 'no sign-up without an invitation');
    await signInWithPassword(admin, ADMIN.username, ADMIN.password);

    await chooseFromAccountMenu(admin, 'menu-admin');
    await admin.page.getByTestId('tab-invites').click();
    await admin.page.getByTestId('invite-expiry').selectOption('24');
    await admin.page.getByTestId('invite-uses').fill('1');
    await admin.page.getByTestId('invite-create').click();
    const url = await admin.page.getByTestId('invite-link').inputValue();
    assert.match(url, /\/\?invite=[\w-]+$/);
    await admin.page.locator('[data-testid="invite-item"][data-status="active"]').waitFor();
    await screenshot(admin.page, 'accounts-invitations');

    const carol = await openApp(browser, url.replace('0.0.0.0', '127.0.0.1'));
    await carol.page.getByTestId('invite-banner').waitFor();
    await signUp(carol, { username: 'carol', password: 'violet oboe window' });
    assert.ok(!carol.page.url().includes('invite='), 'the code is taken out of the address');

    const dave = await openApp(browser, url.replace('0.0.0.0', '127.0.0.1'));
    await dave.page.getByTestId('invite-banner').waitFor();
    await dave.page.getByTestId('account-username').fill('dave');
    await dave.page.getByTestId('account-password').fill('maple cinder parcel');
    await dave.page.getByTestId('account-submit').click();
    await dave.page.getByTestId('account-error').filter({ hasText: /used/i }).waitFor();

    // The admin's list shows the link as used up once reloaded.
    await admin.page.getByTestId('admin-dialog').getByRole('button', { name: 'Close' }).click();
    await chooseFromAccountMenu(admin, 'menu-admin');
    await admin.page.getByTestId('tab-invites').click();
    await admin.page.locator('[data-testid="invite-item"][data-status="used"]').waitFor();
    for (const chat of [admin, carol, dave]) assert.deepEqual(unexpectedErrors(chat), []);
  });
});

describe('accounts in the web app (guest mode)', () => {
  let t: TestServer;
  let browser: Browser;

  before(async () => {
    t = await startTestServer({ flags: ['--auth-mode', 'guest'] });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  test('a guest keeps their identity with a password, and their old message stays theirs to edit', TIMEOUT, async () => {
    const gus = await openApp(browser, appUrl(t));
    await signIn(gus, 'Gus');
    await send(gus, 'written as a guest');
    await messageWith(gus, 'written as a guest').waitFor();

    await openProfile(gus, 'claim');
    await gus.page.getByTestId('claim-username').fill('gus');
    await gus.page.getByTestId('claim-password').fill('lantern meadow pebble');
    await gus.page.getByTestId('claim-submit').click();
    await gus.page.getByTestId('profile-username').filter({ hasText: '@gus' }).waitFor();
    assert.equal(await gus.page.getByTestId('tab-claim').count(), 0);
    await gus.page.getByTestId('profile-dialog').getByRole('button', { name: 'Close' }).click();

    // Another device signs in with the new username and edits the message written as a guest.
    const other = await openApp(browser, appUrl(t));
    await other.page.getByTestId('use-password').click();
    await signInWithPassword(other, 'gus', 'lantern meadow pebble');
    const own = messageWith(other, 'written as a guest');
    await own.hover();
    await own.getByTestId('action-edit').click();
    await other.page.getByTestId('edit-input').fill('edited after claiming');
    await other.page.getByTestId('edit-input').press('Enter');
    await messageWith(gus, 'edited after claiming').getByTestId('message-edited').waitFor();
    for (const chat of [gus, other]) assert.deepEqual(unexpectedErrors(chat), []);
  });

  test('a guest session the old app kept in localStorage moves into the cookie once', TIMEOUT, async () => {
    // What the old app stored: the user and the refresh token, from a guest sign-in made without the cookie.
    const response = await fetch(`${appUrl(t)}/app/guest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Old Timer' }),
    });
    const result = (await response.json()) as { user: { id: string; name: string; color: string } };
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('parley_session='));
    assert.ok(cookie, 'the guest session comes as a cookie');
    const refreshToken = decodeURIComponent(cookie.split(';')[0]!.slice('parley_session='.length));

    const old = await openApp(browser, appUrl(t));
    await old.page.getByTestId('join-name').waitFor();
    await storeSession(old, { user: result.user, refreshToken });
    await old.page.reload();
    await old.page.getByTestId('composer-input').waitFor();
    assert.equal(await old.page.getByTestId('me-name').innerText(), 'Old Timer');
    await old.page.waitForFunction(`!(localStorage.getItem('parley.session') ?? '').includes('refreshToken')`);
    assert.match((await storedSession(old)) ?? '', /Old Timer/, 'the display hint stays');
    // Signed in by the cookie alone from now on.
    await old.page.reload();
    await old.page.getByTestId('composer-input').waitFor();
    assert.equal(await old.page.getByTestId('me-name').innerText(), 'Old Timer');
  });
});
