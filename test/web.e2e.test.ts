/**
 * The web app end to end: real Chromium, real server, two people chatting.
 * Also saves the README's screenshots (docs/screenshots/).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { messageWith, openApp, screenshot, send, signIn, type ChatPage } from './helpers/web.js';

const TIMEOUT = { timeout: 90_000 };

describe('web app', () => {
  let t: TestServer;
  let browser: Browser;
  let alice: ChatPage;
  let bob: ChatPage;

  before(async () => {
    t = await startTestServer();
    browser = await launchBrowser();
    alice = await openApp(browser, t.server.url.replace('0.0.0.0', '127.0.0.1'));
    bob = await openApp(browser, t.server.url.replace('0.0.0.0', '127.0.0.1'));
  });

  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  test('the join screen validates input, then two people sign in, chat in general and see each other online', TIMEOUT, async () => {
    await alice.page.getByTestId('join-email').fill('not-an-email');
    await alice.page.getByTestId('join-submit').click();
    await alice.page.getByTestId('join-error').waitFor();
    await alice.page.getByTestId('join-email').fill('');

    await signIn(alice, 'Alice', 'alice@example.com');
    await signIn(bob, 'Bob');
    await alice.page.locator('[data-testid="member-item"][data-online="true"]', { hasText: 'Bob' }).waitFor();
    await bob.page.locator('[data-testid="member-item"][data-online="true"]', { hasText: 'Alice' }).waitFor();

    await send(alice, 'Hello Bob :wave:');
    await messageWith(bob, 'Hello Bob 👋').waitFor();
    await send(bob, 'Hi Alice! See https://example.com/docs');
    await messageWith(alice, 'Hi Alice!').waitFor();
    const link = messageWith(alice, 'Hi Alice!').locator('a[href="https://example.com/docs"]');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
    // The email never reaches the other side; only the avatar hash may.
    assert.ok(!(await bob.page.content()).includes('alice@example.com'));
  });

  test('typing shows on the other side; edit, react and delete reach it', TIMEOUT, async () => {
    await alice.page.getByTestId('composer-input').pressSequentially('typing something', { delay: 20 });
    await bob.page.getByTestId('typing-indicator').filter({ hasText: 'Alice' }).waitFor();
    await alice.page.getByTestId('composer-input').fill('');

    await send(alice, 'first draft');
    const own = messageWith(alice, 'first draft');
    await own.hover();
    await own.getByTestId('action-edit').click();
    const editor = alice.page.getByTestId('edit-input');
    await editor.fill('final text');
    await editor.press('Enter');
    const edited = messageWith(bob, 'final text');
    await edited.getByTestId('message-edited').waitFor();

    const target = messageWith(alice, 'final text');
    await target.hover();
    await target.getByTestId('action-react').click();
    await alice.page.getByTestId('emoji-picker').waitFor();
    await alice.page.getByTestId('emoji-option').first().click();
    await edited.getByTestId('reaction').first().waitFor();
    const emoji = await edited.getByTestId('reaction').first().getAttribute('data-emoji');
    assert.ok(emoji && emoji.length > 0);

    await target.hover();
    await target.getByTestId('action-delete').click();
    const confirm = alice.page.getByTestId('confirm-delete');
    if (await confirm.isVisible().catch(() => false)) await confirm.click();
    await bob.page.getByTestId('message-deleted').first().waitFor();
    assert.equal(await messageWith(bob, 'final text').count(), 0);
  });

  test('clicking a member opens a DM; the other side gets an unread badge', TIMEOUT, async () => {
    await alice.page.locator('[data-testid="member-item"]', { hasText: 'Bob' }).click();
    await alice.page.getByTestId('conversation-title').filter({ hasText: 'Bob' }).waitFor();
    await send(alice, 'a private word');
    const dm = bob.page.locator('[data-testid="dm-item"]', { hasText: 'Alice' });
    await dm.getByTestId('unread-badge').filter({ hasText: '1' }).waitFor();
    assert.match(await bob.page.title(), /\(\d+\)/, 'unread count in the tab title');
    await dm.click();
    await messageWith(bob, 'a private word').waitFor();
    await dm.getByTestId('unread-badge').waitFor({ state: 'detached' });
  });

  test('a reload keeps history and unread state', TIMEOUT, async () => {
    // Bob is in the DM; Alice writes in general, so Bob has an unread message there.
    await alice.page.locator('[data-testid="room-item"][data-channel="room:general"]').click();
    await send(alice, 'unread after reload');
    const general = bob.page.locator('[data-testid="room-item"][data-channel="room:general"]');
    await general.getByTestId('unread-badge').waitFor();
    await bob.page.reload();
    await bob.page.getByTestId('composer-input').waitFor();
    await general.getByTestId('unread-badge').waitFor();
    await general.click();
    await messageWith(bob, 'unread after reload').waitFor();
    await messageWith(bob, 'Hello Bob 👋').waitFor();
  });

  test('offline and back: missed messages appear once, in order', TIMEOUT, async () => {
    await bob.context.setOffline(true);
    await bob.page.getByTestId('connection-banner').waitFor();
    for (const text of ['missed one', 'missed two', 'missed three']) await send(alice, text);
    await messageWith(alice, 'missed three').waitFor();
    await bob.context.setOffline(false);
    await messageWith(bob, 'missed three').waitFor({ timeout: 30_000 });
    await bob.page.getByTestId('connection-banner').waitFor({ state: 'detached' });
    const texts = await bob.page.getByTestId('message-text').allTextContents();
    const missed = texts.filter((text) => text.startsWith('missed'));
    assert.deepEqual(missed, ['missed one', 'missed two', 'missed three']);
  });

  test('markup typed as a message renders as text and runs nothing', TIMEOUT, async () => {
    const attacks = ['<img src=x onerror=alert(1)>', '<script>alert(2)</script>', '<a href="javascript:alert(3)">x</a>'];
    for (const text of attacks) await send(alice, text);
    for (const text of attacks) {
      const item = messageWith(bob, text);
      await item.waitFor();
      assert.equal(await item.getByTestId('message-text').innerText(), text);
    }
    assert.equal(await bob.page.locator('[data-testid="message-text"] img, [data-testid="message-text"] script').count(), 0);
    assert.equal(await bob.page.locator('a[href^="javascript:"]').count(), 0);
    assert.deepEqual(alice.dialogs, []);
    assert.deepEqual(bob.dialogs, []);
  });

  test('creating a room from the sidebar and searching', TIMEOUT, async () => {
    await alice.page.getByTestId('create-room').click();
    await alice.page.getByTestId('create-room-name').fill('design');
    await alice.page.getByTestId('create-room-topic').fill('Pixels and such');
    await alice.page.getByTestId('create-room-submit').click();
    await alice.page.getByTestId('conversation-title').filter({ hasText: 'design' }).waitFor();
    await send(alice, 'searchable kumquat');
    await alice.page.getByTestId('search-input').fill('kumqu');
    await alice.page.getByTestId('search-input').press('Enter');
    await alice.page.getByTestId('search-result').filter({ hasText: 'searchable kumquat' }).waitFor();
  });

  test('no errors in the console', () => {
    assert.deepEqual(alice.errors, []);
    assert.deepEqual(bob.errors, []);
  });

  test('screenshots: desktop and phone, light and dark', TIMEOUT, async () => {
    const url = t.server.url.replace('0.0.0.0', '127.0.0.1');
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const [label, viewport] of [
        ['desktop', { width: 1280, height: 800 }],
        ['phone', { width: 390, height: 844 }],
      ] as const) {
        const shot = await openApp(browser, url, { viewport, colorScheme });
        await screenshot(shot.page, `join-${label}-${colorScheme}`);
        await signIn(shot, `Carol ${label} ${colorScheme}`.slice(0, 30));
        await shot.page.locator('[data-testid="room-item"][data-channel="room:general"]').click();
        await messageWith(shot, 'unread after reload').waitFor();
        await screenshot(shot.page, `chat-${label}-${colorScheme}`);
        await shot.context.close();
      }
    }
  });
});
