/**
 * The web app in rooms of real sizes: 60 members fit the desktop layout (the
 * page never grows, the composer and the latest message stay in view, the
 * members panel scrolls inside its own column), the panel finds members by
 * search and counts who is online, 300 people leaving at once leave the page
 * working with the right counts, and a room of more than 1,000 members is
 * read page by page with a bounded number of rows in the DOM. In a room past
 * the server's join/leave limit, where no such events come, the panel still
 * follows arrivals and departures.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from './helpers/browser.js';
import { joinUsers, type ChatClient, type JoinedUsers } from './helpers/chat.js';
import { disconnectAll, disconnectClient } from './helpers/sdk.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';
import { messageWith, openApp, screenshot, send, signIn, type ChatPage } from './helpers/web.js';

const TIMEOUT = { timeout: 180_000 };
/** Room members besides the person at the browser; the first ONLINE of them are connected. */
const MEMBERS = 60;
const ONLINE = 20;
const CROWD = 300;
const BIG = 1000;
/** Member rows that fit the tallest panel here, plus the rows rendered beyond each edge: a generous bound. */
const MAX_MEMBER_ROWS = 40;
/** Longest wait for the panel to follow presence: a room without join/leave events re-reads every 20 s. */
const PRESENCE_WAIT_MS = 60_000;

/** Waits until the members panel says `online` are online and `all` are members. */
async function waitForCounts(page: Page, online: number, all: number, timeoutMs = PRESENCE_WAIT_MS): Promise<void> {
  await waitFor(
    async () => {
      // The online group is always the first row while the list is scrolled to the top.
      const shown = await page
        .locator('[data-testid="members-group"][data-group="online"]')
        .getAttribute('data-count', { timeout: 1000 })
        .catch(() => null);
      const members = await page.getByTestId('members-total').textContent();
      return Number(shown) === online && members?.replace(/\D/g, '') === String(all);
    },
    { timeoutMs, intervalMs: 200, message: `${online} online of ${all} members` },
  );
}

describe('web app: members at real sizes', () => {
  let t: TestServer;
  let browser: Browser;
  let viewer: ChatPage;
  let members: JoinedUsers;
  /** Every WebSocket frame the viewer's page sent, oldest first. */
  const sent: string[] = [];
  /** Everyone in general: the members, the crowd and the big room's users once they join, and the viewer. */
  let total = MEMBERS + 1;

  before(async () => {
    // Join and leave events are pushed for up to 1,000 present (the default stops at 100), so
    // the crowd below arrives and leaves as 300 events each: the burst the page must absorb.
    t = await startTestServer({ file: { namespaces: { room: { joinLeaveMaxClients: 1000 } } } });
    members = await joinUsers(t, MEMBERS, { prefix: 'member', name: 'Member', online: ONLINE });
    // Enough history to fill the message pane, so "the latest message is visible" means something.
    for (let i = 1; i <= 40; i++) await members.online[i % ONLINE]!.rpc('chat.send', { channel: 'room:general', text: `backlog ${i}` });
    browser = await launchBrowser();
    viewer = await openApp(browser, `http://127.0.0.1:${t.server.port}`, { viewport: { width: 1280, height: 800 } });
    viewer.page.on('websocket', (socket) => socket.on('framesent', (frame) => sent.push(String(frame.payload))));
    await signIn(viewer, 'Viewer');
  });

  after(async () => {
    disconnectAll();
    await browser?.close();
    await t?.stop();
  });

  const page = () => viewer.page;
  /** Commands of a kind in the frames sent since `from` (a frame may carry several, one per line). */
  const commandsSince = (from: number, pattern: RegExp) =>
    sent
      .slice(from)
      .flatMap((frame) => frame.split('\n'))
      .filter((line) => pattern.test(line)).length;
  const panelScroll = () => page().getByTestId('members-scroll');
  const groupCount = async (group: 'online' | 'offline') =>
    Number(await page().locator(`[data-testid="members-group"][data-group="${group}"]`).getAttribute('data-count'));

  /**
   * Scrolls the members panel down until its last member (the last offline
   * one by name, "Member 60") shows, page after page; calls `check` with the
   * number of member rows in the DOM at every step. Returns the list's
   * scroll height at the end.
   */
  async function scrollMembersToEnd(check: (rows: number) => void = () => undefined): Promise<number> {
    const last = page().locator('[data-testid="member-item"]', { hasText: `Member ${MEMBERS}` });
    for (let step = 0; step < 200 && !(await last.isVisible()); step++) {
      check(await page().getByTestId('member-item').count());
      const height = await panelScroll().evaluate((el) => {
        el.scrollTo({ top: el.scrollHeight });
        return el.scrollHeight;
      });
      // The next page arrives (the list grows) or the end shows.
      await waitFor(async () => (await last.isVisible()) || (await panelScroll().evaluate((el) => el.scrollHeight)) > height, {
        timeoutMs: 10_000,
        message: 'the next page of members',
      });
    }
    await last.waitFor();
    check(await page().getByTestId('member-item').count());
    return panelScroll().evaluate((el) => {
      el.scrollTo({ top: el.scrollHeight });
      return el.scrollHeight;
    });
  }

  async function assertFitsViewport(label: string): Promise<void> {
    const sizes = await page()
      .locator('html')
      .evaluate((html) => ({
        document: html.scrollHeight,
        body: html.ownerDocument.body.scrollHeight,
        viewport: html.ownerDocument.defaultView!.innerHeight,
        scrolled: html.ownerDocument.defaultView!.scrollY,
      }));
    assert.equal(sizes.document, sizes.viewport, `${label}: the page is as tall as the viewport`);
    assert.equal(sizes.body, sizes.viewport, `${label}: the body is as tall as the viewport`);
    assert.equal(sizes.scrolled, 0, `${label}: the page itself never scrolls`);
    const viewportHeight = sizes.viewport;
    for (const testid of ['composer-input', 'members-scroll', 'conversation-title']) {
      const box = await page().getByTestId(testid).boundingBox();
      assert.ok(box, `${label}: ${testid} is rendered`);
      assert.ok(box.y >= 0 && box.y + box.height <= viewportHeight, `${label}: ${testid} is inside the viewport`);
    }
  }

  /** The newest message's box lies inside the message list's box. */
  async function assertLatestVisible(text: string, label: string): Promise<void> {
    await messageWith(viewer, text).waitFor();
    const list = await page().getByTestId('message-list').boundingBox();
    const latest = await messageWith(viewer, text).boundingBox();
    assert.ok(list && latest, `${label}: list and message rendered`);
    assert.ok(latest.y >= list.y - 1 && latest.y + latest.height <= list.y + list.height + 1, `${label}: the latest message is in view`);
  }

  test('60 members at 1280×800 and 1366×768: the page fits the viewport, the composer works, the panel scrolls inside', TIMEOUT, async () => {
    await waitForCounts(page(), ONLINE + 1, total);
    assert.equal(await groupCount('online'), ONLINE + 1);
    for (const [width, height] of [
      [1280, 800],
      [1366, 768],
    ] as const) {
      const label = `${width}×${height}`;
      await page().setViewportSize({ width, height });
      await page().getByTestId('members-panel').waitFor();
      await assertFitsViewport(label);

      const text = `hello at ${label}`;
      await send(viewer, text);
      await assertLatestVisible(text, label);
      await assertFitsViewport(`${label} after sending`);

      // The panel holds more rows than it shows, and scrolls by itself: the page stays put.
      const scroll = await panelScroll().evaluate((el) => ({ height: el.scrollHeight, visible: el.clientHeight }));
      assert.ok(scroll.height > scroll.visible, `${label}: the member list is taller than its column`);
      await scrollMembersToEnd();
      assert.ok((await panelScroll().evaluate((el) => el.scrollTop)) > 0, `${label}: the panel scrolled`);
      await assertFitsViewport(`${label} with the panel scrolled`);
      await assertLatestVisible(text, `${label} with the panel scrolled`);
      await panelScroll().evaluate((el) => el.scrollTo({ top: 0 }));

      for (const colorScheme of ['light', 'dark'] as const) {
        await page().emulateMedia({ colorScheme });
        await screenshot(page(), `members-60-${width}x${height}-${colorScheme}`);
      }
      await page().emulateMedia({ colorScheme: 'light' });
    }

    // On a phone the panel is an overlay of its own height, opened from the header.
    await page().setViewportSize({ width: 390, height: 844 });
    await page().getByTestId('members-button').click();
    await page().getByTestId('members-panel').waitFor();
    await waitForCounts(page(), ONLINE + 1, total);
    assert.ok(await panelScroll().evaluate((el) => el.scrollHeight > el.clientHeight), 'phone: the member list scrolls inside the overlay');
    await assertFitsViewport('phone with the members open');
    await screenshot(page(), 'members-60-phone-light');
    await page().getByRole('button', { name: 'Close members' }).click();
    await page().setViewportSize({ width: 1280, height: 800 });
    await page().getByTestId('members-panel').waitFor();
  });

  test('searching the panel finds a member; clearing it lists everyone again', TIMEOUT, async () => {
    await page().setViewportSize({ width: 1280, height: 800 });
    const search = page().getByTestId('member-search');
    await search.fill('42');
    const found = page().locator('[data-testid="member-item"][data-user-id="member-42"]');
    await found.waitFor();
    await waitFor(async () => (await page().getByTestId('member-item').count()) === 1, { timeoutMs: 5000, message: 'only the match listed' });
    assert.equal(await found.getAttribute('data-online'), 'false', 'member 42 is not connected');
    assert.equal(await groupCount('offline'), 1);

    await search.fill('07');
    await page().locator('[data-testid="member-item"][data-user-id="member-07"]').waitFor();
    assert.equal(await page().locator('[data-testid="member-item"][data-user-id="member-07"]').getAttribute('data-online'), 'true');

    await search.fill('nobody-by-that-name');
    await page().getByTestId('members-empty').waitFor();

    await search.fill('');
    await waitForCounts(page(), ONLINE + 1, total);
  });

  test(`${CROWD} people arriving and then leaving at once: counts follow, and the page keeps working`, TIMEOUT, async () => {
    const crowd = await joinUsers(t, CROWD, { prefix: 'crowd', name: 'Crowd', online: CROWD });
    total += CROWD;
    await waitForCounts(page(), ONLINE + 1 + CROWD, total);

    const before = sent.length;
    for (const client of crowd.online) disconnectClient(client.client);
    await waitForCounts(page(), ONLINE + 1, total);
    // 300 leave events were applied in batches: a handful of queries, not one (or two) per event.
    const presenceQueries = commandsSince(before, /"presence":\{/);
    const memberReads = commandsSince(before, /"method":"chat\.members"/);
    assert.ok(presenceQueries >= 1 && presenceQueries < 50, `presence queries for 300 leaves: ${presenceQueries}`);
    assert.ok(memberReads >= 1 && memberReads < 50, `member page reads for 300 leaves: ${memberReads}`);

    // The page still answers: a message typed now goes out and reaches another member.
    const witness: ChatClient = members.online[0]!;
    let received = false;
    witness.client.getSubscription('room:general')?.on('publication', (ctx) => {
      if ((ctx.data as { message?: { text?: string } }).message?.text === 'still here after the crowd left') received = true;
    });
    await send(viewer, 'still here after the crowd left');
    await assertLatestVisible('still here after the crowd left', 'after the crowd left');
    await waitFor(() => received, { timeoutMs: 10_000, message: 'the message reached another member' });
    await assertFitsViewport('after the crowd left');
  });

  test(`a room of more than ${BIG} members is read page by page, with a bounded number of rows in the DOM`, TIMEOUT, async () => {
    await joinUsers(t, BIG, { prefix: 'big', name: 'Big' });
    total += BIG;
    // Offline members joining are not presence events: reloading reads the list afresh.
    await page().reload();
    await page().getByTestId('composer-input').waitFor();
    await waitForCounts(page(), ONLINE + 1, total);

    const deepest = await scrollMembersToEnd((rows) =>
      assert.ok(rows <= MAX_MEMBER_ROWS, `at most ${MAX_MEMBER_ROWS} member rows in the DOM (found ${rows})`),
    );
    const rows = await page().getByTestId('member-item').count();
    assert.ok(rows <= MAX_MEMBER_ROWS, `at the end, still at most ${MAX_MEMBER_ROWS} member rows (found ${rows})`);
    assert.ok(deepest > total * 30, 'the scrolled list spans every member');
    await assertFitsViewport('after scrolling through every member');
    await screenshot(page(), 'members-1361-scrolled-1280x800-light');

    // A search reaches members no page read so far.
    await panelScroll().evaluate((el) => el.scrollTo({ top: 0 }));
    await page().getByTestId('member-search').fill('0777');
    await page().locator('[data-testid="member-item"][data-user-id="big-0777"]').waitFor();
    assert.deepEqual(viewer.errors, []);
  });
});

describe('web app: members of a room past the join/leave limit', () => {
  let t: TestServer;
  let browser: Browser;
  let viewer: ChatPage;

  before(async () => {
    // The default limit (100 present): above it the server pushes no joins or leaves.
    t = await startTestServer();
    browser = await launchBrowser();
    viewer = await openApp(browser, `http://127.0.0.1:${t.server.port}`);
    await signIn(viewer, 'Viewer');
  });

  after(async () => {
    disconnectAll();
    await browser?.close();
    await t?.stop();
  });

  test('the panel follows 150 arrivals and departures by re-reading what it shows', TIMEOUT, async () => {
    const crowd = await joinUsers(t, 150, { prefix: 'crowd', name: 'Crowd', online: 150 });
    await waitForCounts(viewer.page, 151, 151);
    for (const client of crowd.online) disconnectClient(client.client);
    await waitForCounts(viewer.page, 1, 151);
    assert.deepEqual(viewer.errors, []);
  });
});
