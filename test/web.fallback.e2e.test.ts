/**
 * The web app behind a proxy that does not carry WebSockets (it drops the
 * `Upgrade` header): the WebSocket handshake fails, the app falls back to
 * HTTP-streaming with its commands posted to /emulation, and its user
 * chats with someone connected over WebSocket directly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './helpers/browser.js';
import { UpgradeStrippingProxy } from './helpers/http-proxy.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { messageWith, openApp, screenshot, send, signIn, type ChatPage } from './helpers/web.js';

const TIMEOUT = { timeout: 90_000 };

describe('web app without WebSockets', () => {
  let t: TestServer;
  let proxy: UpgradeStrippingProxy;
  let browser: Browser;
  let behindProxy: ChatPage;
  let direct: ChatPage;

  before(async () => {
    t = await startTestServer();
    proxy = await UpgradeStrippingProxy.start(t.server.port);
    browser = await launchBrowser();
    behindProxy = await openApp(browser, proxy.url);
    direct = await openApp(browser, t.server.url.replace('0.0.0.0', '127.0.0.1'));
  });

  after(async () => {
    await browser?.close();
    await proxy?.close();
    await t?.stop();
  });

  test('falls back to HTTP-streaming and chats with a WebSocket user both ways', TIMEOUT, async () => {
    await signIn(behindProxy, 'Fallback Fay');
    await signIn(direct, 'Direct Dan');
    assert.ok(proxy.strippedUpgrades > 0, 'the app tried WebSocket first');
    assert.ok(proxy.paths.includes('/connection/http_stream'), 'then opened an HTTP stream');

    await behindProxy.page.locator('[data-testid="member-item"][data-online="true"]', { hasText: 'Direct Dan' }).waitFor();
    await direct.page.locator('[data-testid="member-item"][data-online="true"]', { hasText: 'Fallback Fay' }).waitFor();
    await send(behindProxy, 'Hello from behind the proxy');
    await messageWith(direct, 'Hello from behind the proxy').waitFor();
    await send(direct, 'Heard you, Fay');
    await messageWith(behindProxy, 'Heard you, Fay').waitFor();
    assert.ok(proxy.paths.includes('/emulation'), 'commands went to the emulation endpoint');
    assert.equal(proxy.paths.filter((path) => path === '/connection/sse').length, 0, 'HTTP-streaming worked: no need for SSE');
    assert.deepEqual(behindProxy.dialogs, []);
    assert.deepEqual(behindProxy.errors.filter((error) => !/WebSocket/.test(error)), []);
    await screenshot(behindProxy.page, 'fallback-http-stream');
  });

  test('where HTTP-streaming cannot get through either, falls back to SSE', TIMEOUT, async () => {
    const sseOnly = await UpgradeStrippingProxy.start(t.server.port, ['/connection/http_stream']);
    try {
      const viaSse = await openApp(browser, sseOnly.url);
      await signIn(viaSse, 'Evented Eve');
      assert.ok(sseOnly.paths.includes('/connection/http_stream'), 'HTTP-streaming was tried');
      assert.ok(sseOnly.paths.some((path) => path.startsWith('/connection/sse?cf_connect=')), 'then SSE');
      await send(viaSse, 'Hello over server-sent events');
      await messageWith(direct, 'Hello over server-sent events').waitFor();
      await send(direct, 'Welcome, Eve');
      await messageWith(viaSse, 'Welcome, Eve').waitFor();
      assert.deepEqual(viaSse.dialogs, []);
      await viaSse.context.close();
    } finally {
      await sseOnly.close();
    }
  });
});
