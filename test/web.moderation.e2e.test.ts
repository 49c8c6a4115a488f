/**
 * Moderation in the web app, in a room of 40+ members: the owner deletes a
 * troll's message and bans them; the troll's page says so and drops the
 * room, and after a reload the room is gone and cannot be opened by its
 * address. A private room stays invisible to an outsider; a muted member
 * gets a read-only composer; an admin reads the audit log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { seedAccounts } from './helpers/accounts.js';
import { launchBrowser } from './helpers/browser.js';
import { connectChat } from './helpers/chat.js';
import { disconnectAll, disconnectClient } from './helpers/sdk.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { messageWith, openApp, screenshot, send, signIn, type ChatPage } from './helpers/web.js';

const TIMEOUT = { timeout: 240_000 };
/** Members of the room besides the three people at browsers. */
const CROWD = 42;

/** The signed-in user's id, as the app keeps it. */
async function userIdOf(page: Page): Promise<string> {
  type WithStorage = { localStorage: { getItem(key: string): string | null } };
  const stored = await page.evaluate(() => (globalThis as unknown as WithStorage).localStorage.getItem('parley.session'));
  return (JSON.parse(stored ?? '{}') as { user: { id: string } }).user.id;
}

async function openRoom(page: Page, name: string): Promise<void> {
  await page.getByTestId('room-item').filter({ hasText: name }).click();
  await page.getByTestId('conversation-title').filter({ hasText: name }).waitFor();
}

async function joinByBrowsing(page: Page, name: string): Promise<void> {
  await page.getByTestId('browse-rooms').click();
  await page.locator(`[data-testid="browse-room"][data-channel="room:${name}"] button`).click();
  await page.getByTestId('conversation-title').filter({ hasText: name }).waitFor();
}

async function confirmWith(page: Page, testid: string): Promise<void> {
  await page.getByTestId(testid).click();
}

describe('web app: moderation', () => {
  let t: TestServer;
  let browser: Browser;
  let mona: ChatPage;
  let troll: ChatPage;
  let olga: ChatPage;
  let monaId: string;

  before(async () => {
    t = await startTestServer();
    browser = await launchBrowser();
    const base = `http://127.0.0.1:${t.server.port}`;
    mona = await openApp(browser, base);
    await signIn(mona, 'Mona Moderator');
    troll = await openApp(browser, base);
    await signIn(troll, 'Troll');
    olga = await openApp(browser, base);
    await signIn(olga, 'Olga Outsider');
    monaId = await userIdOf(mona.page);
  });

  after(async () => {
    disconnectAll();
    await browser?.close();
    await t?.stop();
  });

  test('a private room is created with the switch and stays invisible to an outsider', TIMEOUT, async () => {
    const page = mona.page;
    await page.getByTestId('create-room').click();
    await page.getByTestId('create-room-name').fill('leadership-private');
    await page.getByTestId('create-room-topic').fill('Plans not for everyone');
    await page.getByTestId('create-room-private').click();
    await screenshot(page, 'moderation-create-private');
    await page.getByTestId('create-room-submit').click();
    await page.getByTestId('conversation-title').filter({ hasText: 'leadership-private' }).waitFor();
    assert.equal(await page.getByTestId('conversation-glyph').getAttribute('data-private'), 'true');
    await send(mona, 'Quarterly plan draft');
    await messageWith(mona, 'Quarterly plan draft').waitFor();

    // The outsider: not in the room browser, not in search, not openable by address.
    await olga.page.getByTestId('browse-rooms').click();
    await olga.page.getByTestId('browse-room').first().waitFor();
    assert.equal(await olga.page.locator('[data-testid="browse-room"][data-channel="room:leadership-private"]').count(), 0);
    await screenshot(olga.page, 'moderation-outsider-browse');
    await olga.page.keyboard.press('Escape');
    await olga.page.goto(`http://127.0.0.1:${t.server.port}/#room:leadership-private`);
    await olga.page.getByTestId('notice-text').filter({ hasText: 'You are not a member of #leadership-private' }).waitFor();
    assert.notEqual(await olga.page.getByTestId('conversation-title').textContent(), 'leadership-private');
    await olga.page.getByTestId('notice-dismiss').click();

    // A member adds her: the room appears in her sidebar, with its lock.
    await page.getByTestId('add-people').click();
    await page.getByTestId('add-people-search').fill('Olga');
    await page.locator('[data-testid="add-people-result"]', { hasText: 'Troll' }).waitFor({ state: 'detached' });
    await page.locator('[data-testid="add-people-result"]', { hasText: 'Olga Outsider' }).click();
    await screenshot(page, 'moderation-add-people');
    await page.getByTestId('add-people-submit').click();
    await page.getByTestId('add-people-done').filter({ hasText: 'Added 1 person' }).waitFor();
    await page.keyboard.press('Escape');
    await olga.page.getByTestId('room-item').filter({ hasText: 'leadership-private' }).waitFor();
    await openRoom(olga.page, 'leadership-private');
    await messageWith(olga, 'Quarterly plan draft').waitFor();
    await olga.page.getByRole('button', { name: 'Leave #leadership-private' }).click();
    await olga.page.getByTestId('confirm-leave').click();
    await olga.page.getByTestId('room-item').filter({ hasText: 'leadership-private' }).waitFor({ state: 'detached' });
  });

  test('a moderator deletes a troll\'s message and bans them in a room of 40+; the ban survives a reload', TIMEOUT, async () => {
    const page = mona.page;
    await page.getByTestId('create-room').click();
    await page.getByTestId('create-room-name').fill('town-hall');
    await page.getByTestId('create-room-submit').click();
    await page.getByTestId('conversation-title').filter({ hasText: 'town-hall' }).waitFor();
    for (let i = 1; i <= CROWD; i++) {
      const id = `crowd-${String(i).padStart(2, '0')}`;
      const client = await connectChat(t.wsUrl, await mintToken({ sub: id, info: { name: `Crowd ${String(i).padStart(2, '0')}` } }));
      await client.rpc('chat.bootstrap', {});
      await client.rpc('chat.joinRoom', { name: 'town-hall' });
      if (i % 7 === 0) await client.rpc('chat.send', { channel: 'room:town-hall', text: `Hello from crowd ${i}` });
      disconnectClient(client.client);
    }
    await joinByBrowsing(troll.page, 'town-hall');
    await joinByBrowsing(olga.page, 'town-hall');
    await send(troll, 'BUY CHEAP PILLS at spam.example');
    await messageWith(mona, 'BUY CHEAP PILLS').waitFor();

    // Delete someone else's message, as the room's owner.
    const spam = messageWith(mona, 'BUY CHEAP PILLS');
    await spam.hover();
    await spam.getByTestId('action-delete').click();
    await confirmWith(page, 'confirm-delete');
    await page.getByTestId('message-deleted').filter({ hasText: 'Message removed by a moderator' }).waitFor();
    await troll.page.getByTestId('message-deleted').filter({ hasText: 'Message removed by a moderator' }).waitFor();

    // Ban from the member list (45 members: the panel searches).
    await page.getByTestId('members-total').filter({ hasText: String(CROWD + 3) }).waitFor();
    await page.getByTestId('member-search').fill('Troll');
    const row = page.locator('.member-row').filter({ has: page.locator('[data-testid="member-item"]', { hasText: 'Troll' }) });
    await row.getByTestId('member-moderate').click();
    await page.getByTestId('member-actions-dialog').waitFor();
    await screenshot(page, 'moderation-member-actions');
    await page.getByTestId('member-action-ban').click();
    await confirmWith(page, 'confirm-ban');
    await page.getByTestId('member-actions-dialog').waitFor({ state: 'detached' });

    // The troll's page: a notice, and the room is gone.
    await troll.page.getByTestId('notice-text').filter({ hasText: 'You were banned from #town-hall' }).waitFor();
    await troll.page.getByTestId('room-item').filter({ hasText: 'town-hall' }).waitFor({ state: 'detached' });
    await screenshot(troll.page, 'moderation-banned-notice');

    // After a reload, and by its address: still gone.
    // A fresh load of the room's address (the app starts again, signed in from storage).
    await troll.page.goto('about:blank');
    await troll.page.goto(`http://127.0.0.1:${t.server.port}/#room:town-hall`);
    await troll.page.getByTestId('notice-text').filter({ hasText: 'You are not a member of #town-hall' }).waitFor();
    assert.equal(await troll.page.getByTestId('room-item').filter({ hasText: 'town-hall' }).count(), 0);
    assert.notEqual((await troll.page.getByTestId('conversation-title').textContent())?.trim(), 'town-hall');
    await troll.page.getByTestId('browse-rooms').click();
    await troll.page.locator('[data-testid="browse-room"][data-channel="room:town-hall"] button').click();
    await troll.page.getByRole('alert').filter({ hasText: 'You are banned from this room' }).waitFor();
    await troll.page.keyboard.press('Escape');

    await page.getByTestId('member-search').fill('');
    await page.getByTestId('members-total').filter({ hasText: String(CROWD + 2) }).waitFor();
    assert.equal(await page.locator('[data-testid="member-item"]', { hasText: 'Troll' }).count(), 0, 'gone from the member list');
    await page.mouse.move(640, 100);
    await screenshot(page, 'moderation-moderator-view');
    await page.getByTestId('show-bans').click();
    await page.getByTestId('ban-item').filter({ hasText: 'Troll' }).filter({ hasText: 'by Mona Moderator' }).waitFor();
    await screenshot(page, 'moderation-bans');
    await page.keyboard.press('Escape');
    await page.getByTestId('bans-dialog').waitFor({ state: 'detached' });
  });

  test('a muted member sees a read-only composer that says why', TIMEOUT, async () => {
    const page = mona.page;
    await page.getByTestId('member-search').fill('Olga');
    const row = page.locator('.member-row').filter({ has: page.locator('[data-testid="member-item"]', { hasText: 'Olga' }) });
    await row.getByTestId('member-moderate').click();
    await page.getByTestId('member-action-mute').click();
    await confirmWith(page, 'confirm-mute');
    await row.getByTestId('member-muted').waitFor();
    await openRoom(olga.page, 'town-hall');
    await olga.page.getByTestId('composer-muted').waitFor();
    assert.equal(await olga.page.getByTestId('composer-input').count(), 0);
    await screenshot(olga.page, 'moderation-muted');
    await page.getByTestId('member-search').fill('');
  });

  test('an admin reads the audit log', TIMEOUT, async () => {
    // Mona's guest identity becomes an admin account (the first account is the admin).
    await seedAccounts(t.dataDir, [{ id: monaId, username: 'mona', displayName: 'Mona Moderator' }]);
    await mona.page.reload();
    await mona.page.getByTestId('audit-log').click();
    const entries = mona.page.getByTestId('audit-entry');
    await entries.first().waitFor();
    const actions = await entries.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-action')));
    assert.deepEqual(actions, ['member.mute', 'member.ban', 'message.delete']);
    const first = await entries.first().textContent();
    assert.match(first ?? '', /Mona Moderator.*muted.*Olga Outsider.*#town-hall/s);
    await screenshot(mona.page, 'moderation-audit-log');
    assert.deepEqual([...mona.errors, ...troll.errors.filter((e) => !/banned|103/i.test(e)), ...olga.errors], []);
  });
});
