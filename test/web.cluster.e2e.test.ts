/**
 * The web app on a cluster: two browsers reach two Parley nodes through one
 * TCP load balancer that hands each new connection to the next node (page,
 * sign-in and WebSocket may each land on a different node). They chat; then
 * a node is killed with SIGKILL, and the pages carry on through the other
 * node with nothing lost or doubled.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './helpers/browser.js';
import { TestCluster } from './helpers/cluster.js';
import { PrivateRedis } from './helpers/private-redis.js';
import { waitFor } from './helpers/wait.js';
import { messageWith, openApp, screenshot, send, signIn, type ChatPage } from './helpers/web.js';

const TIMEOUT = { timeout: 180_000 };

describe('web app: on a cluster', () => {
  let redis: PrivateRedis;
  let cluster: TestCluster;
  let browser: Browser;
  let ann: ChatPage;
  let bob: ChatPage;

  before(async () => {
    redis = await PrivateRedis.start();
    cluster = await TestCluster.start({ nodes: 2, redisUrl: redis.url });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await cluster?.close();
    await redis?.stop();
  });

  const texts = (chat: ChatPage) => chat.page.getByTestId('message-text').allTextContents();

  test('two people on two nodes chat, and keep chatting when a node dies', TIMEOUT, async () => {
    ann = await openApp(browser, `http://127.0.0.1:${cluster.balancer.port}`);
    await signIn(ann, 'Ann');
    bob = await openApp(browser, `http://127.0.0.1:${cluster.balancer.port}`);
    await signIn(bob, 'Bob');

    await send(ann, 'Hello from whichever node I am on');
    await messageWith(bob, 'Hello from whichever node I am on').waitFor();
    await send(bob, 'Same chat here');
    await messageWith(ann, 'Same chat here').waitFor();

    // A node dies without a goodbye: whoever was on it reconnects through the balancer to the other one.
    await cluster.nodes[0]!.kill();
    await send(ann, 'Still here after a node died');
    await send(bob, 'Me too');
    for (const chat of [ann, bob]) {
      await messageWith(chat, 'Still here after a node died').waitFor({ timeout: 60_000 });
      await messageWith(chat, 'Me too').waitFor({ timeout: 60_000 });
    }
    await waitFor(async () => (await ann.page.getByTestId('message-pending').count()) === 0, { timeoutMs: 30_000, message: 'nothing pending on Ann\'s side' });
    const expected = ['Hello from whichever node I am on', 'Same chat here', 'Still here after a node died', 'Me too'];
    for (const chat of [ann, bob]) {
      const shown = (await texts(chat)).filter((text) => expected.includes(text));
      assert.deepEqual([...shown].sort(), [...expected].sort(), 'each message once');
    }
    // Which of the last two was stored first depends on who reconnected first; both pages agree on it.
    const order = (await texts(ann)).filter((text) => expected.includes(text));
    assert.deepEqual((await texts(bob)).filter((text) => expected.includes(text)), order, 'one order on both pages');
    // A reload lands on the surviving node and shows the same conversation from PostgreSQL.
    await bob.page.reload();
    await messageWith(bob, 'Me too').waitFor();
    assert.deepEqual((await texts(bob)).filter((text) => expected.includes(text)), order, 'the same order after a reload');
    await screenshot(bob.page, 'cluster-after-node-death');
    assert.deepEqual([...ann.errors, ...bob.errors, ...ann.dialogs, ...bob.dialogs], []);
  });
});
