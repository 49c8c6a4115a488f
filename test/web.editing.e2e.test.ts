/**
 * The web app with the keyboard and in right-to-left scripts: after an
 * inline edit is saved or cancelled with the keyboard, typing goes on in the
 * composer; Hebrew and Arabic messages (and drafts) read right to left.
 * Drafts are kept in the browser across reloads, and forgotten on sign-out.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { messageWith, openApp, screenshot, send, signIn, signOutFromMenu, type ChatPage } from './helpers/web.js';

const TIMEOUT = { timeout: 90_000 };

describe('web app: keyboard editing and right-to-left text', () => {
  let t: TestServer;
  let browser: Browser;
  let user: ChatPage;

  before(async () => {
    t = await startTestServer();
    browser = await launchBrowser();
    user = await openApp(browser, `http://127.0.0.1:${t.server.port}`);
  });

  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  const composer = () => user.page.getByTestId('composer-input');
  /** The test id of the focused element. */
  const focused = () => user.page.evaluate('document.activeElement && document.activeElement.getAttribute("data-testid")');

  test('saving or cancelling an edit with the keyboard leaves the focus in the composer', TIMEOUT, async () => {
    await signIn(user, 'Keys');
    await send(user, 'to be edited');
    await messageWith(user, 'to be edited').waitFor();

    await composer().press('ArrowUp');
    const editor = user.page.getByTestId('edit-input');
    await editor.waitFor();
    assert.equal(await focused(), 'edit-input');
    await editor.fill('edited with the keyboard');
    await editor.press('Enter');
    await messageWith(user, 'edited with the keyboard').getByTestId('message-edited').waitFor();
    assert.equal(await focused(), 'composer-input', 'focus is back in the composer after saving');
    await user.page.keyboard.type('typing goes on');
    assert.equal(await composer().inputValue(), 'typing goes on');

    await composer().fill('');
    await composer().press('ArrowUp');
    await editor.waitFor();
    await editor.press('Escape');
    await editor.waitFor({ state: 'detached' });
    assert.equal(await focused(), 'composer-input', 'focus is back in the composer after cancelling');
  });

  test('right-to-left messages and drafts read right to left', TIMEOUT, async () => {
    const hebrew = 'שלום לכולם, מה שלומכם היום?';
    const arabic = 'مرحبا بكم في الغرفة';
    for (const text of [hebrew, arabic, 'left to right, as before']) await send(user, text);
    await messageWith(user, 'left to right, as before').waitFor();
    // Which way each message's text runs, and which edge of its column it sits against.
    const layout = async (text: string) => {
      const item = messageWith(user, text);
      const content = item.locator('.content');
      const [textBox, columnBox] = [await item.getByTestId('message-text').boundingBox(), await content.boundingBox()];
      assert.ok(textBox && columnBox);
      return {
        rtl: await content.evaluate((el) => el.matches(':dir(rtl)')),
        againstRight: Math.abs(textBox.x + textBox.width - (columnBox.x + columnBox.width)) < 2,
        againstLeft: Math.abs(textBox.x - columnBox.x) < 2,
      };
    };
    assert.deepEqual(await layout(hebrew), { rtl: true, againstRight: true, againstLeft: false });
    assert.deepEqual(await layout(arabic), { rtl: true, againstRight: true, againstLeft: false });
    assert.deepEqual(await layout('left to right, as before'), { rtl: false, againstRight: false, againstLeft: true });

    await composer().fill(arabic);
    assert.equal(await composer().evaluate((el) => el.matches(':dir(rtl)')), true, 'the composer follows the text');
    await screenshot(user.page, 'rtl-messages');
    await composer().fill('');
    assert.equal(await composer().evaluate((el) => el.matches(':dir(rtl)')), false);
    assert.deepEqual(user.errors, []);
  });

  test('signing out forgets the drafts kept in this browser', TIMEOUT, async () => {
    const kept = () => user.page.evaluate(`Object.keys(localStorage).filter((key) => key.startsWith('parley.unsent.'))`) as Promise<string[]>;
    await composer().fill('a private draft');
    await user.page.reload();
    await composer().waitFor();
    assert.equal(await composer().inputValue(), 'a private draft', 'kept across a reload');
    assert.equal((await kept()).length, 1);
    await signOutFromMenu(user);
    await user.page.getByTestId('join-name').waitFor();
    assert.deepEqual(await kept(), [], 'nothing left for the next person on this browser');
    await signIn(user, 'Next');
    assert.equal(await composer().inputValue(), '');
  });

  test('what a user whose session ended without signing out left in this browser is dropped at the next sign-in', TIMEOUT, async () => {
    const kept = () => user.page.evaluate(`Object.keys(localStorage).filter((key) => key.startsWith('parley.unsent.')).sort()`) as Promise<string[]>;
    await composer().fill('my own draft');
    await user.page.reload();
    await composer().waitFor();
    const mine = await kept();
    assert.equal(mine.length, 1, 'the signed-in user has their draft kept');
    await user.page.evaluate(`localStorage.setItem('parley.unsent.g_expired', JSON.stringify({ 'room:general': { draft: 'left behind' } }))`);
    assert.equal((await kept()).length, 2);
    await user.page.reload();
    await composer().waitFor();
    assert.deepEqual(await kept(), mine, 'only the signed-in user keeps anything here');
    assert.equal(await composer().inputValue(), 'my own draft');
  });
});
