/**
 * The `centrifuge` SDK's browser builds (JSON and Protobuf), in a real
 * Chromium, against the server: a page served from the server's origin
 * connects, subscribes, publishes, and sees another client's publication
 * and presence.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { Centrifuge } from 'centrifuge';
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import { launchBrowser } from './helpers/browser.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { nextEvent } from './helpers/wait.js';

/** One of the SDK's browser bundles (each defines the global `Centrifuge`). */
function sdkBundle(file: 'centrifuge.js' | 'centrifuge.protobuf.js'): string {
  return readFileSync(join(dirname(createRequire(import.meta.url).resolve('centrifuge')), '..', 'dist', file), 'utf8');
}

/** Serves one HTML page (with an SDK bundle inlined) from its own loopback origin. */
async function servePage(bundle = sdkBundle('centrifuge.js')): Promise<{ origin: string; close: () => Promise<void> }> {
  const page = `<!doctype html><meta charset="utf-8"><title>sdk</title><script>${bundle}</script>`;
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The users in the presence of the page's subscription (`globalThis.sub`), sorted. */
function presenceUsers(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const result = await (globalThis as unknown as { sub: any }).sub.presence();
    return Object.values(result.clients).map((info) => (info as { user: string }).user).sort();
  });
}

/** What the page recorded in `globalThis.received`, once it holds `count` entries. */
async function receivedInPage(page: Page, count: number): Promise<unknown[]> {
  await page.waitForFunction((count) => (globalThis as unknown as { received: unknown[] }).received.length === count, count);
  return page.evaluate(() => (globalThis as unknown as { received: unknown[] }).received);
}

let t: TestServer;
let browser: Browser;
let allowedPage: Awaited<ReturnType<typeof servePage>>;
let foreignPage: Awaited<ReturnType<typeof servePage>>;
let protobufPage: Awaited<ReturnType<typeof servePage>>;
before(async () => {
  allowedPage = await servePage();
  foreignPage = await servePage();
  protobufPage = await servePage(sdkBundle('centrifuge.protobuf.js'));
  t = await startTestServer({ flags: ['--allowed-origins', `${allowedPage.origin},${protobufPage.origin}`] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await t?.stop();
  await allowedPage?.close();
  await foreignPage?.close();
  await protobufPage?.close();
});

test('the SDK in a browser connects, subscribes, publishes and receives', { timeout: 30_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(allowedPage.origin);

  const token = await mintToken({ sub: 'browser-user', info: { name: 'Browser' } }, { expiresIn: '1h' });
  const other = new Centrifuge(t.wsUrl, { websocket: WebSocket, token: await mintToken({ sub: 'node-user' }) });
  const otherSub = other.newSubscription('room:browser');
  try {
    await page.evaluate(
      ({ url, token }) =>
        new Promise<void>((resolve, reject) => {
          const w = globalThis as unknown as { Centrifuge: any; received: unknown[]; sub: any };
          const client = new w.Centrifuge(url, { token });
          w.received = [];
          const sub = client.newSubscription('room:browser');
          w.sub = sub;
          sub.on('publication', (ctx: { data: unknown }) => w.received.push(ctx.data));
          sub.on('subscribed', () => resolve());
          sub.on('error', (ctx: unknown) => reject(new Error(JSON.stringify(ctx))));
          sub.subscribe();
          client.connect();
        }),
      { url: t.wsUrl, token },
    );

    otherSub.subscribe();
    other.connect();
    await nextEvent(otherSub, 'subscribed');
    const fromBrowser = nextEvent<[{ data: unknown; info?: { user: string } }]>(otherSub, 'publication');
    await page.evaluate(() => (globalThis as unknown as { sub: any }).sub.publish({ text: 'from the browser' }));
    const [publication] = await fromBrowser;
    assert.deepEqual(publication.data, { text: 'from the browser' });
    assert.equal(publication.info?.user, 'browser-user');

    await otherSub.publish({ text: 'from node' });
    const received = await receivedInPage(page, 2);
    assert.deepEqual(received, [{ text: 'from the browser' }, { text: 'from node' }]);

    const presence = await presenceUsers(page);
    assert.deepEqual(presence, ['browser-user', 'node-user']);
  } finally {
    other.disconnect();
    await page.close();
  }
});

test('a page from an origin that is not allowed cannot open a socket', { timeout: 30_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(foreignPage.origin);
  const outcome = await page.evaluate(
    (url) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url);
        ws.onopen = () => resolve('open');
        ws.onerror = () => resolve('refused');
      }),
    t.wsUrl,
  );
  assert.equal(outcome, 'refused');
  assert.ok(t.logs.some((line) => line.includes('origin not allowed') && line.includes(foreignPage.origin)));
  await page.close();
});

test('the Protobuf SDK in a browser connects, subscribes, publishes, and receives a JSON client\'s publication', { timeout: 30_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(protobufPage.origin);

  const token = await mintToken({ sub: 'protobuf-user', info: { name: 'Protobuf' } }, { expiresIn: '1h' });
  const other = new Centrifuge(t.wsUrl, { websocket: WebSocket, token: await mintToken({ sub: 'json-user' }) });
  const otherSub = other.newSubscription('room:protobuf-browser');
  try {
    const subprotocol = await page.evaluate(
      ({ url, token }) =>
        new Promise<string>((resolve, reject) => {
          const w = globalThis as unknown as { Centrifuge: any; WebSocket: any; received: unknown[]; sub: any; sockets: { protocol: string }[] };
          // Records the sockets the SDK opens, to read the subprotocol the server chose.
          const Native: new (address: string, protocols?: string | string[]) => { protocol: string } = w.WebSocket;
          w.sockets = [];
          w.WebSocket = class extends Native {
            constructor(address: string, protocols?: string | string[]) {
              super(address, protocols);
              w.sockets.push(this);
            }
          };
          const client = new w.Centrifuge(url, { token });
          w.received = [];
          const sub = client.newSubscription('room:protobuf-browser');
          w.sub = sub;
          // Protobuf payloads are bytes: here, the UTF-8 JSON text of every publication.
          sub.on('publication', (ctx: { data: Uint8Array }) => w.received.push(JSON.parse(new TextDecoder().decode(ctx.data))));
          sub.on('subscribed', () => resolve(w.sockets[0]?.protocol ?? 'no socket'));
          sub.on('error', (ctx: unknown) => reject(new Error(JSON.stringify(ctx))));
          sub.subscribe();
          client.connect();
        }),
      { url: t.wsUrl, token },
    );
    assert.equal(subprotocol, 'centrifuge-protobuf');

    otherSub.subscribe();
    other.connect();
    await nextEvent(otherSub, 'subscribed');
    const fromBrowser = nextEvent<[{ data: unknown; info?: { user: string; connInfo?: unknown } }]>(otherSub, 'publication');
    await page.evaluate(() =>
      (globalThis as unknown as { sub: any }).sub.publish(new TextEncoder().encode(JSON.stringify({ text: 'from protobuf ✓' }))),
    );
    const [publication] = await fromBrowser;
    assert.deepEqual(publication.data, { text: 'from protobuf ✓' });
    assert.equal(publication.info?.user, 'protobuf-user');
    assert.deepEqual(publication.info?.connInfo, { name: 'Protobuf' });

    await otherSub.publish({ text: 'from json' });
    const received = await receivedInPage(page, 2);
    assert.deepEqual(received, [{ text: 'from protobuf ✓' }, { text: 'from json' }]);

    const presence = await presenceUsers(page);
    assert.deepEqual(presence, ['json-user', 'protobuf-user']);
  } finally {
    other.disconnect();
    await page.close();
  }
});
