/**
 * The web app through network outages, made by dropping its TCP connections
 * at a proxy between the page and the server (the page is loaded through
 * the proxy too):
 * - 60 s offline while the user keeps writing: every message shows as
 *   pending, none is lost, each is posted once and in order when the
 *   connection is back; one the server refuses shows "Not sent" with Retry
 *   and stays across a reload;
 * - drafts survive a reload;
 * - a long absence during which the room's history was lost (its epoch
 *   changed): the server cannot recover, the app loads the latest page,
 *   marks the gap, and what was loaded before stays reachable above it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { apiResult, postChatMessages } from './helpers/api.js';
import { launchBrowser } from './helpers/browser.js';
import { guestClient, type ChatClient } from './helpers/chat.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { TcpProxy } from './helpers/tcp-proxy.js';
import { waitFor } from './helpers/wait.js';
import { isShownInList, messageWith, openApp, screenshot, scrollListToTop, send, signIn, type ChatPage } from './helpers/web.js';

const TIMEOUT = { timeout: 240_000 };
/** How long the first outage lasts: past the 40 s after which sends used to be dropped. */
const OUTAGE_MS = 60_000;
/** The SDK retries with a backoff of up to 20 s: what coming back may take after an outage. */
const BACK_MS = 45_000;
/** Over the server's 4,000 characters: refused for good (107), whenever it is sent. */
const TOO_LONG = `${'This is far too long. '.repeat(182)}The end.`;

describe('web app: outages', () => {
  let t: TestServer;
  let proxy: TcpProxy;
  let browser: Browser;
  let reader: ChatPage;
  let writer: ChatClient;

  before(async () => {
    t = await startTestServer();
    proxy = await TcpProxy.start(t.server.port);
    writer = await guestClient(t, { name: 'Writer' });
    await writer.rpc('chat.bootstrap', {});
    browser = await launchBrowser();
    reader = await openApp(browser, `http://127.0.0.1:${proxy.port}`);
  });

  after(async () => {
    writer?.client.disconnect();
    await browser?.close();
    await proxy?.close();
    await t?.stop();
  });

  const pending = () => reader.page.getByTestId('message-pending');
  const composer = () => reader.page.getByTestId('composer-input');
  /** Texts of `room:general` as the server stored them, oldest first. */
  const storedTexts = async () => (await writer.rpc('chat.history', { channel: 'room:general', limit: 100 })).messages.map((m) => m.text);
  const shownTexts = () => reader.page.getByTestId('message-text').allTextContents();

  test('60 s offline: what is written meanwhile shows as pending and is sent once each, in order, when back', TIMEOUT, async () => {
    await signIn(reader, 'Reader');
    await send(reader, 'before the outage');
    await messageWith(reader, 'before the outage').waitFor();

    // The connection drops just as a message goes out: whether the server got it or not, it must be posted once.
    await send(reader, 'cut while sending');
    proxy.block();
    proxy.cut();
    const cutAt = Date.now();

    const written = ['queued one', TOO_LONG, 'queued two', 'queued three'];
    for (const text of written) await send(reader, text);
    await composer().fill('a draft, not sent');
    // The message sent just before the cut may have been confirmed already, or be waiting with the others.
    const queued = await waitFor(async () => {
      const texts = await pending().getByTestId('pending-text').allTextContents();
      return texts.slice(-written.length).join('\n') === written.join('\n') && texts;
    }, { message: 'what was written shows as pending' });
    assert.ok(queued.length === written.length || queued[0] === 'cut while sending', `pending: ${queued.join(', ')}`);
    const labels = await pending().getByTestId('pending-label').allTextContents();
    assert.deepEqual(labels, Array(queued.length).fill('Waiting for the connection…'));
    await screenshot(reader.page, 'outage-pending');

    // The outage lasts its full length; the page keeps trying to connect meanwhile.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - cutAt))));
    assert.ok(proxy.refused > 0, 'the page tried to reconnect during the outage');
    assert.equal(await pending().count(), queued.length, 'nothing written was lost during the outage');
    proxy.unblock();

    await messageWith(reader, 'queued three').waitFor({ timeout: BACK_MS });
    const failed = reader.page.locator('[data-testid="message-pending"][data-status="failed"]');
    await failed.waitFor();
    await waitFor(async () => (await pending().count()) === 1, { message: 'only the refused message is left pending' });
    assert.equal(await failed.getByTestId('pending-label').innerText(), 'Not sent');
    assert.equal(await failed.getByTestId('pending-error').innerText(), 'Message is longer than 4000 characters');
    assert.ok(await failed.getByTestId('pending-retry').isVisible(), 'it offers Retry');

    const expected = ['before the outage', 'cut while sending', 'queued one', 'queued two', 'queued three'];
    assert.deepEqual(await storedTexts(), expected, 'the server has each message once, in order');
    assert.deepEqual(await shownTexts(), expected, 'the page shows each once, in order');
    assert.equal(await composer().inputValue(), 'a draft, not sent', 'the draft is untouched');
    await screenshot(reader.page, 'outage-sent-and-not-sent');

    // Retrying sends it again (with its first nonce); the server still refuses it.
    await failed.getByTestId('pending-retry').click();
    await reader.page.locator('[data-testid="message-pending"][data-status="failed"]').waitFor();
    assert.deepEqual(await storedTexts(), expected);
  });

  test('a draft and a message not sent stay across a reload; Edit takes the message back into the composer', TIMEOUT, async () => {
    await reader.page.reload();
    await composer().waitFor();
    await messageWith(reader, 'queued three').waitFor();
    assert.equal(await composer().inputValue(), 'a draft, not sent');
    const failed = reader.page.locator('[data-testid="message-pending"][data-status="failed"]');
    await failed.waitFor();
    assert.equal(await failed.getByTestId('pending-text').textContent(), TOO_LONG);

    await composer().fill('');
    await failed.getByTestId('pending-edit').click();
    assert.equal(await composer().inputValue(), TOO_LONG);
    assert.equal(await pending().count(), 0);
    await composer().fill('fixed and sent');
    await composer().press('Enter');
    await messageWith(reader, 'fixed and sent').waitFor();
    assert.equal(await composer().inputValue(), '');
    await reader.page.reload();
    await messageWith(reader, 'fixed and sent').waitFor();
    assert.equal(await composer().inputValue(), '', 'a sent draft is not brought back');
    assert.equal(await pending().count(), 0);
  });

  test('history lost during a long absence: the latest page loads, the gap is marked, older messages stay reachable', TIMEOUT, async () => {
    await writer.rpc('chat.send', { channel: 'room:general', text: 'last seen before the cut' });
    await messageWith(reader, 'last seen before the cut').waitFor();
    proxy.block();
    proxy.cut();
    const away = Array.from({ length: 120 }, (_, i) => `while away ${i + 1}`);
    await postChatMessages(t, 'room:general', away, 'Announcer');
    // The channel's stream is dropped: it gets a new epoch, and nothing missed can be recovered from it.
    await apiResult(t, 'history_remove', { channel: 'room:general' });
    proxy.unblock();

    await messageWith(reader, 'while away 120').waitFor({ timeout: BACK_MS });
    const gap = reader.page.getByTestId('history-gap');
    await gap.waitFor();
    const shown = await shownTexts();
    const lastSeen = shown.indexOf('last seen before the cut');
    assert.ok(lastSeen >= 0, 'what was loaded before the outage is still there');
    assert.deepEqual(shown.slice(lastSeen + 1), away.slice(-50), 'then the latest page');
    assert.equal(await gap.count(), 1);
    // The marker sits between the two.
    // A string, not a function: the test's TypeScript transform would add helpers the page does not have.
    const order: string[] = await reader.page.evaluate(`[...document.querySelectorAll('[data-testid="history-gap"], [data-testid="message"]')].map((row) =>
      row.matches('[data-testid="history-gap"]') ? 'GAP' : row.querySelector('[data-testid="message-text"]').textContent)`);
    assert.deepEqual(order.slice(order.indexOf('GAP') - 1, order.indexOf('GAP') + 2), ['last seen before the cut', 'GAP', 'while away 71']);

    await gap.scrollIntoViewIfNeeded();
    await screenshot(reader.page, 'recovery-gap');
    // Scrolling up reaches the messages from before the outage.
    for (let i = 0; i < 5 && !(await isShownInList(reader, messageWith(reader, 'before the outage'))); i++) await scrollListToTop(reader);
    await waitFor(() => isShownInList(reader, messageWith(reader, 'before the outage')), { message: 'older messages reachable by scrolling up' });

    // The missing messages load on request, and the gap closes.
    await gap.getByTestId('history-gap-load').click();
    await gap.waitFor({ state: 'detached' });
    const all = await shownTexts();
    const from = all.indexOf('last seen before the cut');
    assert.deepEqual(all.slice(from), ['last seen before the cut', ...away], 'every message once, in order');
    assert.deepEqual(reader.errors, []);
  });
});
