/**
 * Tokens with a `permissions` claim reach the chat only if the claim grants
 * the user's own channel: a token minted for observable/private rooms (as
 * `POST /auth` does) cannot act on a chat identity with the same user id.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertRpcError, connectChat } from './helpers/chat.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';

describe('chat: tokens with permission claims', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(() => ts.stop());

  test('a claim without user:<id> is refused every chat method; one with it may chat in the rooms it grants', async () => {
    const narrow = await connectChat(
      ts.wsUrl,
      await mintToken({ client: 'alice', data: { name: 'Alice' }, permissions: { '^observable-room$': { publish: true, subscribe: true } } }),
    );
    const broad = await connectChat(
      ts.wsUrl,
      await mintToken({ sub: 'bob', info: { name: 'Bob' }, permissions: { '^user:bob$': { subscribe: true }, '^room:general$': { publish: true, subscribe: true } } }),
    );
    try {
      await assertRpcError(narrow.rpc('chat.bootstrap', {}), 103, /does not grant access to the chat/);
      await assertRpcError(narrow.rpc('chat.send', { channel: 'room:general', text: 'hi' }), 103);
      const { conversations } = await broad.rpc('chat.bootstrap', {});
      assert.deepEqual(conversations.map((c) => c.channel), ['room:general']);
      const { message } = await broad.rpc('chat.send', { channel: 'room:general', text: 'allowed' });
      assert.equal(message.author.name, 'Bob');
      await assertRpcError(broad.rpc('chat.createRoom', { name: 'elsewhere' }), 103);
    } finally {
      narrow.client.disconnect();
      broad.client.disconnect();
    }
  });
});
