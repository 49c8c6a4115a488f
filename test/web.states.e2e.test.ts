/**
 * The web app around the edges: the create-room dialog suggests only names
 * the server accepts, the connection banner pushes the app down instead of
 * covering the conversation title, "typing…" goes away when the connection
 * drops (the network is cut through a TCP proxy), and reloading a
 * conversation on a phone shows the conversation, not the sidebar.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator } from 'playwright-core';
import { ROOM_NAME_PATTERN } from '../src/chat/protocol.js';
import { launchBrowser } from './helpers/browser.js';
import { connectChat, type ChatClient } from './helpers/chat.js';
import { disconnectAll } from './helpers/sdk.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { TcpProxy } from './helpers/tcp-proxy.js';
import { openApp, screenshot, signIn, type ChatPage } from './helpers/web.js';

const TIMEOUT = { timeout: 90_000 };

/** Whether the element is what the user sees at its own centre (nothing covers it). */
function isUncovered(locator: Locator): Promise<boolean> {
  return locator.evaluate((el) => {
    const box = el.getBoundingClientRect();
    const hit = el.ownerDocument.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
    return !!hit && el.contains(hit);
  });
}

describe('web app: names, connection loss and phone reloads', () => {
  let t: TestServer;
  let proxy: TcpProxy;
  let browser: Browser;
  let alice: ChatPage;
  let typist: ChatClient;

  before(async () => {
    t = await startTestServer();
    proxy = await TcpProxy.start(t.server.port);
    typist = await connectChat(t.wsUrl, await mintToken({ sub: 'typist', info: { name: 'Typist' } }));
    await typist.rpc('chat.bootstrap', {});
    browser = await launchBrowser();
    // Everything Alice's browser loads goes through the proxy, so the test can cut her network.
    alice = await openApp(browser, `http://127.0.0.1:${proxy.port}`);
    await signIn(alice, 'Alice');
  });

  after(async () => {
    disconnectAll();
    await browser?.close();
    await proxy?.close();
    await t?.stop();
  });

  test('the create-room dialog suggests only names the server accepts', TIMEOUT, async () => {
    const { page } = alice;
    await page.getByTestId('create-room').click();
    const input = page.getByTestId('create-room-name');
    const hint = page.getByTestId('create-room-name-hint');
    const suggested: string[] = [];
    for (const typed of ['Café Talk!', '-- Launch Plans 2027 --', '#Ops.Team', '___under', `${'long'.repeat(12)} tail`, 'Ünïcødé Ñame']) {
      await input.fill(typed);
      const name = (await hint.locator('strong').textContent())?.replace(/^#/, '') ?? '';
      assert.match(name, ROOM_NAME_PATTERN, `"${typed}" is suggested as "${name}"`);
      suggested.push(name);
    }
    assert.deepEqual(suggested.slice(0, 4), ['cafe-talk', 'launch-plans-2027', 'ops-team', 'under']);

    // Nothing usable: no suggestion, an explanation instead.
    await input.fill('日本語 🎉');
    assert.equal(await hint.count(), 0);
    await page.getByTestId('create-room-submit').click();
    await page.getByTestId('create-room-name-error').waitFor();

    // What the hint suggests is what gets created.
    await input.fill('Café Talk!');
    await page.getByTestId('create-room-submit').click();
    await page.getByTestId('conversation-title').filter({ hasText: /^cafe-talk$/ }).waitFor();
    assert.equal(await page.getByTestId('create-room-error').count(), 0);
    await page.locator('[data-testid="room-item"][data-channel="room:general"]').click();
    await page.getByTestId('conversation-title').filter({ hasText: /^general$/ }).waitFor();
  });

  test('when the network drops, the banner covers nothing and "typing…" goes away', TIMEOUT, async () => {
    const { page } = alice;
    // Typist keeps typing, as someone writing a long message does.
    const typing = setInterval(() => void typist.rpc('chat.typing', { channel: 'room:general' }).catch(() => undefined), 400);
    try {
      await page.getByTestId('typing-indicator').filter({ hasText: 'Typist' }).waitFor();

      proxy.block();
      proxy.cut();
      const banner = page.getByTestId('connection-banner');
      await banner.waitFor();
      // Typing events cannot arrive while offline: the indicator is gone by the time the banner shows.
      assert.equal(await page.getByTestId('typing-indicator').count(), 0, 'no "typing…" while offline');

      const title = page.getByTestId('conversation-title');
      const bannerBox = await banner.boundingBox();
      const titleBox = await title.boundingBox();
      assert.ok(bannerBox && titleBox);
      assert.ok(bannerBox.y + bannerBox.height <= titleBox.y, 'the banner is above the title, not over it');
      assert.ok(await isUncovered(title), 'the title is not covered');
      assert.ok(await isUncovered(page.getByTestId('composer-input')), 'the composer is not covered');
      const height = await page.locator('html').evaluate((html) => html.scrollHeight - html.ownerDocument.defaultView!.innerHeight);
      assert.equal(height, 0, 'the banner does not make the page taller than the viewport');
      await screenshot(page, 'connection-banner-desktop-light');

      proxy.unblock();
      await banner.waitFor({ state: 'detached', timeout: 30_000 });
      await page.getByTestId('typing-indicator').filter({ hasText: 'Typist' }).waitFor();
    } finally {
      clearInterval(typing);
    }
  });

  test('on a phone, the first visit shows the conversation list and a reload shows the conversation', TIMEOUT, async () => {
    const phone = await openApp(browser, `http://127.0.0.1:${t.server.port}`, { viewport: { width: 390, height: 844 } });
    try {
      await signIn(phone, 'Phone');
      const sidebar = phone.page.locator('#sidebar');
      await sidebar.waitFor();
      assert.ok(await isUncovered(phone.page.locator('[data-testid="room-item"][data-channel="room:general"]')), 'the list is on top');

      await phone.page.reload();
      await phone.page.getByTestId('composer-input').waitFor();
      await phone.page.getByTestId('conversation-title').filter({ hasText: /^general$/ }).waitFor();
      assert.equal(await sidebar.isVisible(), false, 'the sidebar stays closed');
      assert.ok(await isUncovered(phone.page.getByTestId('conversation-title')), 'the conversation title is on top');
      assert.ok(await isUncovered(phone.page.getByTestId('composer-input')), 'the composer is on top');
      await screenshot(phone.page, 'phone-reload-light');
      assert.deepEqual(phone.errors, []);
    } finally {
      await phone.context.close();
    }
  });
});
