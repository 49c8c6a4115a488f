/**
 * The web app with a long history: older pages load as you scroll up, new
 * messages do not yank you down while you read (a pill offers to), and
 * desktop notifications come while the tab is hidden.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './helpers/browser.js';
import { guestClient } from './helpers/chat.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';
import { messageWith, openApp, signIn, type ChatPage } from './helpers/web.js';

const TIMEOUT = { timeout: 90_000 };
const SEEDED = 130;

describe('web app: long history', () => {
  let t: TestServer;
  let browser: Browser;
  let reader: ChatPage;
  let writer: Awaited<ReturnType<typeof guestClient>>;

  before(async () => {
    t = await startTestServer();
    writer = await guestClient(t, { name: 'Writer' });
    await writer.rpc('chat.bootstrap', {});
    for (let i = 1; i <= SEEDED; i++) await writer.rpc('chat.send', { channel: 'room:general', text: `seeded ${i}` });
    browser = await launchBrowser();
    reader = await openApp(browser, `http://127.0.0.1:${t.server.port}`);
  });

  after(async () => {
    writer?.client.disconnect();
    await browser?.close();
    await t?.stop();
  });

  const list = () => reader.page.getByTestId('message-list');
  const atBottom = () =>
    list().evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 4);

  test('opens on the latest page and loads older pages when scrolled to the top', TIMEOUT, async () => {
    await signIn(reader, 'Reader');
    await messageWith(reader, `seeded ${SEEDED}`).waitFor();
    assert.equal(await messageWith(reader, /^seeded 1$/).count(), 0, 'only the latest page at first');
    assert.ok(await atBottom(), 'starts at the bottom');
    // Keep scrolling to the top until the very first message has been loaded.
    for (let i = 0; i < 10 && (await messageWith(reader, /^seeded 1$/).count()) === 0; i++) {
      await list().evaluate((el) => el.scrollTo({ top: 0 }));
      await reader.page.waitForTimeout(300);
    }
    await messageWith(reader, /^seeded 1$/).waitFor();
    const texts = (await reader.page.getByTestId('message-text').allTextContents()).filter((text) => text.startsWith('seeded '));
    assert.deepEqual(texts, Array.from({ length: SEEDED }, (_, i) => `seeded ${i + 1}`), 'every message once, in order');
  });

  test('a new message does not scroll a reader who scrolled up; the pill brings them down', TIMEOUT, async () => {
    await list().evaluate((el) => el.scrollTo({ top: el.scrollHeight / 3 }));
    await writer.rpc('chat.send', { channel: 'room:general', text: 'while you were reading' });
    const pill = reader.page.getByTestId('new-messages-pill');
    await pill.waitFor();
    assert.equal(await atBottom(), false, 'still where the reader was');
    await pill.click();
    await waitFor(atBottom, { message: 'the list scrolled to the bottom' });
    assert.ok(await messageWith(reader, 'while you were reading').isVisible());
    await pill.waitFor({ state: 'detached' });
  });

  test('at the bottom, a new message scrolls into view by itself', TIMEOUT, async () => {
    await writer.rpc('chat.send', { channel: 'room:general', text: 'arrives at the bottom' });
    await messageWith(reader, 'arrives at the bottom').waitFor();
    await waitFor(atBottom, { message: 'the list scrolled to the bottom' });
    assert.equal(await reader.page.getByTestId('new-messages-pill').count(), 0);
  });

  test('desktop notifications, once enabled, come for others’ messages while the tab is hidden', TIMEOUT, async () => {
    const context = reader.context;
    await context.grantPermissions(['notifications']);
    // Record what the app shows, still creating real notifications.
    // A string, not a function: the test's TypeScript transform would add helpers the page does not have.
    await reader.page.evaluate(`(() => {
      const Real = window.Notification;
      const shown = [];
      window.shown = shown;
      const Recording = function (title, options) {
        shown.push({ title, body: options && options.body });
        return new Real(title, options);
      };
      Object.defineProperty(Recording, 'permission', { get: () => Real.permission });
      Recording.requestPermission = Real.requestPermission.bind(Real);
      window.Notification = Recording;
    })()`);
    await reader.page.getByTestId('notifications-toggle').click();

    await writer.rpc('chat.send', { channel: 'room:general', text: 'seen, no notification' });
    await messageWith(reader, 'seen, no notification').waitFor();
    // The tab goes to the background, as far as the page can tell.
    await reader.page.evaluate(`(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    })()`);
    await writer.rpc('chat.send', { channel: 'room:general', text: 'ping while away' });
    const shown = await waitFor(async () => {
      const recorded = await reader.page.evaluate(() => (globalThis as unknown as { shown: unknown[] }).shown);
      return recorded.length > 0 && recorded;
    }, { message: 'a notification' });
    assert.deepEqual(shown, [{ title: 'Writer in #general', body: 'ping while away' }]);
    assert.match(await reader.page.title(), /^\(1\) /, 'the unread count is in the title while away');
  });
});
