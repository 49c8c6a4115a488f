/**
 * Group DMs and member lists in the web app, in real Chromium: one person
 * starts a group of three from "New message" with the keyboard, the other
 * two see it appear in their sidebars and everyone chats; the member list of
 * a room of 45 shows who is online apart from who is a member, with
 * usernames, guest badges and a deactivated account last.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ACCOUNTS_DB_FILE, SqliteAccountStore } from '../src/accounts/sqlite-account-store.js';
import { launchBrowser } from './helpers/browser.js';
import { connectChat, joinUsers, type ChatClient } from './helpers/chat.js';
import { disconnectAll, subscribe } from './helpers/sdk.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';
import { messageWith, openApp, screenshot, send, signIn, type ChatPage } from './helpers/web.js';

const TIMEOUT = { timeout: 180_000 };
/** Room members who are not at a browser; the first ONLINE of them stay connected. */
const MEMBERS = 40;
const ONLINE = 5;

/** The count a members-panel group heading shows, or null while it is not there. */
async function groupCount(page: Page, group: string): Promise<number | null> {
  const count = await page
    .locator(`[data-testid="members-group"][data-group="${group}"]`)
    .getAttribute('data-count', { timeout: 1000 })
    .catch(() => null);
  return count === null ? null : Number(count);
}

/** The people the "New message" picker offers now, as their labels read. */
async function options(page: Page): Promise<string[]> {
  // Name, username and badge are separate elements, spaced by CSS: read them one by one.
  return page
    .locator('[data-testid="person-option"] [data-testid="person-label"]')
    .evaluateAll((labels) => labels.map((label) => Array.from(label.children, (part: { textContent: string | null }) => part.textContent?.trim()).join(' ')));
}

describe('web app: group DMs and member lists', () => {
  let t: TestServer;
  let browser: Browser;
  let ann: ChatPage;
  let bob: ChatPage;
  let cid: ChatPage;
  let accounts: SqliteAccountStore;
  let eva: ChatClient;

  before(async () => {
    t = await startTestServer();
    await joinUsers(t, MEMBERS, { prefix: 'member', name: 'Member', online: ONLINE });
    // Two people with accounts: Eva online, Dee deactivated by an admin (through the account store, as the admin routes do).
    accounts = new SqliteAccountStore({ path: join(t.dataDir, ACCOUNTS_DB_FILE) });
    await accounts.open();
    for (const [id, username, name] of [['acc-admin', 'admin', 'Admin'], ['acc-eva', 'eva', 'Eva Stone'], ['acc-dee', 'dee', 'Dee Parker']] as const) {
      assert.equal((await accounts.createAccount({ id, username, displayName: name, passwordHash: 'unused', now: Date.now() })).ok, true);
    }
    eva = await connectChat(t.wsUrl, await mintToken({ sub: 'acc-eva', info: { name: 'Eva Stone' } }));
    await eva.rpc('chat.bootstrap', {});
    await subscribe(eva.client, 'room:general');
    const dee = await connectChat(t.wsUrl, await mintToken({ sub: 'acc-dee', info: { name: 'Dee Parker' } }));
    await dee.rpc('chat.bootstrap', {});
    dee.client.disconnect();
    assert.equal(await accounts.setDeactivated('acc-dee', true, Date.now()), 'changed');

    browser = await launchBrowser();
    const url = `http://127.0.0.1:${t.server.port}`;
    const viewport = { width: 1280, height: 800 };
    ann = await openApp(browser, url, { viewport });
    bob = await openApp(browser, url, { viewport });
    cid = await openApp(browser, url, { viewport });
    await signIn(ann, 'Ann Lee');
    await signIn(bob, 'Bob Stone');
    await signIn(cid, 'Cid Moreau');
  });

  after(async () => {
    disconnectAll();
    await browser?.close();
    await accounts?.close();
    await t?.stop();
  });

  test('Ann starts a group with Bob and Cid from "New message"; both see it appear and everyone chats', TIMEOUT, async () => {
    const page = ann.page;
    await page.getByTestId('new-message').click();
    const dialog = page.getByTestId('new-message-dialog');
    await dialog.waitFor();
    const input = page.getByTestId('new-message-input');
    assert.equal(await input.getAttribute('role'), 'combobox');
    await input.pressSequentially('st', { delay: 30 });
    // "st" starts a word of Bob Stone and of Eva Stone: the first is Bob (by name), the second Eva.
    await waitFor(async () => (await options(page)).join('|') === 'Bob Stone guest|Eva Stone @eva', { message: 'the people matching "st"' });
    await input.press('Enter');
    await page.locator('[data-testid="picked-person"]', { hasText: 'Bob Stone' }).waitFor();
    assert.equal(await input.inputValue(), '', 'picking clears the field');
    await input.pressSequentially('mor', { delay: 30 });
    await waitFor(async () => (await options(page)).join('|') === 'Cid Moreau guest', { message: 'the people matching "mor"' });
    await input.press('ArrowDown');
    await input.press('Enter');
    await page.locator('[data-testid="picked-person"]', { hasText: 'Cid Moreau' }).waitFor();
    await input.pressSequentially('dee', { delay: 30 });
    await page.getByTestId('new-message-status').filter({ hasText: 'Nobody matches' }).waitFor(); // Dee Parker is deactivated
    await input.fill('');
    await waitFor(async () => (await options(page)).length > 3, { message: 'everyone listed again' });
    await page.getByTestId('new-message-submit').filter({ hasText: 'Start group (3 people)' }).waitFor();
    await screenshot(page, 'groups-picker');
    await input.press('Enter');
    await dialog.waitFor({ state: 'detached' });

    await page.getByTestId('conversation-title').filter({ hasText: 'Bob Stone, Cid Moreau' }).waitFor();
    const participants = await page.getByTestId('conversation-participants').textContent();
    assert.match(participants ?? '', /You, Bob Stone, Cid Moreau/);

    for (const [who, title] of [[bob, 'Ann Lee, Cid Moreau'], [cid, 'Ann Lee, Bob Stone']] as const) {
      const item = who.page.locator('[data-testid="dm-item"]', { hasText: title });
      await item.waitFor();
      assert.equal(await item.getByTestId('group-avatar').count(), 1, 'a group shows stacked avatars');
      await item.click();
      await who.page.getByTestId('conversation-title').filter({ hasText: title }).waitFor();
    }
    await send(ann, 'Hello you two');
    await send(bob, 'Hi Ann, hi Cid');
    await send(cid, 'Hey both');
    for (const who of [ann, bob, cid]) {
      for (const text of ['Hello you two', 'Hi Ann, hi Cid', 'Hey both']) await messageWith(who, text).waitFor();
    }
    await screenshot(bob.page, 'groups-conversation');
    for (const who of [ann, bob, cid]) assert.deepEqual(who.errors, []);
  });

  test('the member list of a 45-member room shows Online and Offline sections with true counts, usernames, guests and the deactivated account last', TIMEOUT, async () => {
    const page = ann.page;
    await page.locator('[data-testid="room-item"][data-channel="room:general"]').click();
    await page.getByTestId('members-panel').waitFor();
    // 40 members, Eva, Dee and the three people at browsers; online: 5 members, Eva and the three.
    const total = MEMBERS + 5;
    const online = ONLINE + 4;
    await waitFor(
      async () =>
        (await groupCount(page, 'online')) === online &&
        (await groupCount(page, 'offline')) === total - online - 1 &&
        (await page.getByTestId('members-total').textContent())?.replace(/\D/g, '') === String(total),
      { timeoutMs: 30_000, intervalMs: 200, message: `${online} online, ${total - online - 1} offline of ${total}` },
    );
    const onlineRows = page.locator('[data-testid="member-item"][data-online="true"]');
    assert.equal(await onlineRows.count(), online, 'every online row is someone connected');
    const evaRow = page.locator('[data-testid="member-item"][data-user-id="acc-eva"]');
    assert.equal(await evaRow.getByTestId('person-username').textContent(), '@eva');
    assert.equal(await page.locator('[data-testid="member-item"]', { hasText: 'Bob Stone' }).getByTestId('badge-guest').count(), 1);
    await screenshot(page, 'groups-members');

    const scroll = page.getByTestId('members-scroll');
    await scroll.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    const deeRow = page.locator('[data-testid="member-item"][data-user-id="acc-dee"]');
    await deeRow.waitFor();
    assert.equal(await deeRow.getAttribute('data-online'), 'false');
    assert.equal(await deeRow.getByTestId('badge-deactivated').count(), 1);
    assert.equal(await groupCount(page, 'deactivated'), 1);
    await waitFor(async () => {
      const [row, view] = await Promise.all([deeRow.boundingBox(), scroll.boundingBox()]);
      return !!row && !!view && row.y + row.height <= view.y + view.height + 1;
    }, { message: 'the last row scrolled fully into view' });
    const last = page.locator('[data-testid="member-item"]').last();
    assert.equal(await last.getAttribute('data-user-id'), 'acc-dee', 'the deactivated account comes last');
    await screenshot(page, 'groups-members-deactivated');
  });

  test('on a phone in dark mode, the picker fits the screen and a group opens from it', TIMEOUT, async () => {
    const phone = await openApp(browser, `http://127.0.0.1:${t.server.port}`, { viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
    try {
      await signIn(phone, 'Dan Phone');
      const page = phone.page;
      if (!(await page.getByTestId('new-message').isVisible())) await page.getByTestId('menu-button').click();
      await page.getByTestId('new-message').click();
      const input = page.getByTestId('new-message-input');
      // Typed and picked at once: Enter waits for the people matching what was typed, never picks from an older list.
      for (const [query, name] of [['ann', 'Ann Lee'], ['eva', 'Eva Stone']] as const) {
        await input.fill(query);
        await input.press('Enter');
        await page.locator('[data-testid="picked-person"]', { hasText: name }).waitFor();
      }
      assert.equal(await page.getByTestId('picked-person').count(), 2);
      const box = await page.getByTestId('new-message-dialog').boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, 'the dialog fits the width');
      await screenshot(page, 'groups-picker-phone-dark');
      await page.getByTestId('new-message-submit').click();
      await page.getByTestId('conversation-title').filter({ hasText: 'Ann Lee, Eva Stone' }).waitFor();
      await ann.page.locator('[data-testid="dm-item"]', { hasText: 'Dan Phone, Eva Stone' }).waitFor();
      assert.deepEqual(phone.errors, []);
    } finally {
      await phone.context.close();
    }
  });
});
