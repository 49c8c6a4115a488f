/**
 * The web app with a room of 2,000 messages: the page holds a bounded window
 * of them however many are loaded, older pages load as you scroll up,
 * switching away and back shows the latest message, and a search result
 * 1,500 messages back is loaded, scrolled to and highlighted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { postChatMessages } from './helpers/api.js';
import { launchBrowser } from './helpers/browser.js';
import { guestClient } from './helpers/chat.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';
import { isShownInList, messageWith, openApp, renderedMessages, screenshot, scrollListToTop, send, signIn, type ChatPage } from './helpers/web.js';

const TIMEOUT = { timeout: 180_000 };
const TOTAL = 2000;
/** The message the search jumps to: 1,500 messages before the latest. */
const FAR_BACK = 500;
/** Message items the list may put in the page at once (it renders a window of rows; 2,000 would mean it does not). */
const DOM_BOUND = 200;

const textOf = (i: number) => (i === FAR_BACK ? `history ${i} pomegranate` : `history ${i}`);

describe('web app: 2,000 messages', () => {
  let t: TestServer;
  let browser: Browser;
  let reader: ChatPage;

  before(async () => {
    t = await startTestServer();
    // A user creates #general on first bootstrap; the history then comes through the server API.
    const first = await guestClient(t, { name: 'First' });
    await first.rpc('chat.bootstrap', {});
    first.client.disconnect();
    await postChatMessages(t, 'room:general', Array.from({ length: TOTAL }, (_, i) => textOf(i + 1)));
    browser = await launchBrowser();
    reader = await openApp(browser, `http://127.0.0.1:${t.server.port}`);
  });

  after(async () => {
    await browser?.close();
    await t?.stop();
  });

  const list = () => reader.page.getByTestId('message-list');
  const atBottom = () => list().evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 4);
  /** The numbers of the `history N` messages in the page, in page order. */
  const renderedNumbers = async () =>
    (await reader.page.getByTestId('message-text').allTextContents()).map((text) => Number(/^history (\d+)/.exec(text)?.[1])).filter(Number.isFinite);

  test('opens at the latest message with a bounded number of messages in the page', TIMEOUT, async () => {
    await signIn(reader, 'Reader');
    await messageWith(reader, `history ${TOTAL}`).waitFor();
    await waitFor(atBottom, { message: 'the list starts at the bottom' });
    assert.ok(await isShownInList(reader, messageWith(reader, `history ${TOTAL}`)), 'the latest message is on screen');
    const rendered = await renderedMessages(reader);
    assert.ok(rendered > 0 && rendered <= DOM_BOUND, `${rendered} message items in the page`);
  });

  test('scrolling to the top loads older pages; the page keeps a bounded window, in order, none twice', TIMEOUT, async () => {
    const target = TOTAL - 400;
    for (let i = 0; i < 60 && !(await renderedNumbers()).includes(target); i++) {
      const firstBefore = (await renderedNumbers())[0];
      await scrollListToTop(reader);
      await waitFor(async () => (await renderedNumbers())[0] !== firstBefore, { timeoutMs: 10_000, message: 'older messages came into the page' });
      const rendered = await renderedMessages(reader);
      assert.ok(rendered <= DOM_BOUND, `${rendered} message items in the page after scrolling up`);
    }
    const numbers = await renderedNumbers();
    assert.ok(numbers.includes(target), `history ${target} was reached`);
    // What is in the page is one unbroken run of the history, oldest first.
    assert.deepEqual(numbers, Array.from({ length: numbers.length }, (_, i) => numbers[0]! + i));
  });

  test('switching to another room and back shows the latest message', TIMEOUT, async () => {
    await reader.page.getByTestId('create-room').click();
    await reader.page.getByTestId('create-room-name').fill('elsewhere');
    await reader.page.getByTestId('create-room-submit').click();
    await reader.page.getByTestId('conversation-title').filter({ hasText: 'elsewhere' }).waitFor();
    await reader.page.locator('[data-testid="room-item"][data-channel="room:general"]').click();
    await reader.page.getByTestId('conversation-title').filter({ hasText: 'general' }).waitFor();
    const latest = messageWith(reader, `history ${TOTAL}`);
    await latest.waitFor();
    await waitFor(() => isShownInList(reader, latest), { message: 'the latest message is on screen' });
    assert.ok(await atBottom(), 'back at the bottom');
    assert.ok((await renderedMessages(reader)) <= DOM_BOUND);
  });

  test(`a search result ${TOTAL - FAR_BACK} messages back is loaded, scrolled to and highlighted`, TIMEOUT, async () => {
    await reader.page.getByTestId('search-input').fill('pomegranate');
    await reader.page.getByTestId('search-input').press('Enter');
    const result = reader.page.getByTestId('search-result').filter({ hasText: 'pomegranate' });
    await result.click();
    const found = messageWith(reader, 'pomegranate');
    await waitFor(() => isShownInList(reader, found), { timeoutMs: 60_000, message: 'the result is on screen' });
    assert.match((await found.getAttribute('class')) ?? '', /\bflash\b/, 'the result is highlighted');
    await screenshot(reader.page, 'long-history-search-jump');
    const rendered = await renderedMessages(reader);
    assert.ok(rendered <= DOM_BOUND, `${rendered} message items in the page after loading back ${TOTAL - FAR_BACK} messages`);
    const numbers = await renderedNumbers();
    assert.ok(numbers.includes(FAR_BACK - 1) && numbers.includes(FAR_BACK + 1), 'its neighbours are around it');

    // Scrolling down from there brings the later messages in, still a bounded, unbroken run.
    const lastBefore = numbers[numbers.length - 1]!;
    for (let i = 0; i < 4; i++) {
      const last = (await renderedNumbers()).at(-1);
      await list().evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
      await waitFor(async () => (await renderedNumbers()).at(-1) !== last, { timeoutMs: 10_000, message: 'later messages came into the page' });
    }
    const later = await renderedNumbers();
    assert.ok(later.at(-1)! > lastBefore + 100, `scrolled on to history ${later.at(-1)}`);
    assert.deepEqual(later, Array.from({ length: later.length }, (_, i) => later[0]! + i));
    assert.ok(later.length <= DOM_BOUND);

    // Writing from there brings the reader back to the end, where the message goes.
    await send(reader, 'back to the present');
    const mine = messageWith(reader, 'back to the present');
    await mine.waitFor();
    await waitFor(() => isShownInList(reader, mine), { message: 'the new message is on screen' });
    assert.ok(await isShownInList(reader, messageWith(reader, `history ${TOTAL}`)), 'right after the latest history');
  });

  test('no errors in the console', () => {
    assert.deepEqual(reader.errors, []);
  });
});
