/**
 * The Scaledrone chat tutorial's flow on the real `centrifuge` SDK, with
 * tokens from `POST /auth`: an observable public room with a live member
 * list, and a private room per user for direct messages.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import {
  connectClient,
  disconnectAll,
  disconnectClient,
  eventsOf,
  makeClient,
  makeSubscription,
  rejection,
  subscribe,
  subscribeExisting,
  type TestClient,
} from './helpers/sdk.js';
import { authToken } from './helpers/seed.js';
import { mintToken, startTestServer, type TestServer } from './helpers/server.js';
import { nextEvent, waitFor } from './helpers/wait.js';

const PUBLIC_ROOM = 'observable-room';
const privateRoom = (clientId: string) => `private-room-${clientId}`;

/** A user of the tutorial: a client id of their own, a token from /auth, the SDK connection. */
interface Member {
  id: string;
  data: { name: string; color: string };
  conn: TestClient & { clientId: string };
  tokenRequests: number;
}

async function expectRefused(client: Member['conn']['client'], channel: string): Promise<number> {
  const made = makeSubscription(client, channel);
  const error = (await rejection(subscribeExisting(made))) as { code: number };
  assert.equal(made.sub.state, 'unsubscribed');
  assert.equal(made.of('subscribed').length, 0);
  client.removeSubscription(made.sub);
  return error.code;
}

describe('the Scaledrone tutorial flow over the centrifuge SDK', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  afterEach(() => disconnectAll());
  after(async () => {
    disconnectAll();
    await ts?.stop();
  });

  /** Connects as the tutorial's page does: a client id, a token for it from /auth, and /auth again when it expires. */
  async function join(label: string): Promise<Member> {
    const id = `${label}${randomUUID().slice(0, 8)}`;
    const token = await authToken(ts, id);
    const member: Member = { id, data: decodeJwt(token).data as Member['data'], conn: undefined as never, tokenRequests: 0 };
    member.conn = await connectClient(ts.wsUrl, {
      token,
      getToken: async () => {
        member.tokenRequests++;
        return authToken(ts, id);
      },
    });
    return member;
  }

  test('members, join and leave with name and color; public and private messages go where the permissions say', async () => {
    const alice = await join('alice');
    const bob = await join('bob');
    assert.notDeepEqual(alice.data, bob.data);

    const alicePublic = await subscribe(alice.conn.client, PUBLIC_ROOM);
    const alicePrivate = await subscribe(alice.conn.client, privateRoom(alice.id));
    const bobPublic = await subscribe(bob.conn.client, PUBLIC_ROOM);
    const bobPrivate = await subscribe(bob.conn.client, privateRoom(bob.id));

    // The member list ("members" in Scaledrone): everyone in the observable room with their name and color.
    const { clients } = await bobPublic.sub.presence();
    const members = Object.values(clients).map((info) => ({ user: info.user, client: info.client, connInfo: info.connInfo }));
    assert.deepEqual(
      members.sort((a, b) => a.user.localeCompare(b.user)),
      [
        { user: alice.id, client: alice.conn.clientId, connInfo: alice.data },
        { user: bob.id, client: bob.conn.clientId, connInfo: bob.data },
      ].sort((a, b) => a.user.localeCompare(b.user)),
    );
    const stats = await alicePublic.sub.presenceStats();
    assert.deepEqual(stats, { numClients: 2, numUsers: 2 });

    // member_join and member_leave.
    const carol = await join('carol');
    const carolPublic = await subscribe(carol.conn.client, PUBLIC_ROOM);
    const [joined] = await waitFor(() => {
      const found = alicePublic.of('join').filter((ctx) => ctx.info.user === carol.id);
      return found.length > 0 ? found : undefined;
    }, { message: "carol's join at alice" });
    assert.equal(joined.info.client, carol.conn.clientId);
    assert.deepEqual(joined.info.connInfo, carol.data);
    await eventsOf(bobPublic, 'join', 1);
    assert.ok(bobPublic.of('join').some((ctx) => ctx.info.user === carol.id && ctx.info.connInfo.name === carol.data.name));

    // Publishing in the public room reaches everyone (the publisher included).
    await bob.conn.client.publish(PUBLIC_ROOM, 'hello everyone');
    for (const sub of [alicePublic, bobPublic, carolPublic]) {
      const [publication] = await eventsOf(sub, 'publication', 1);
      assert.equal(publication.data, 'hello everyone');
      assert.equal(publication.info.user, bob.id);
      assert.deepEqual(publication.info.connInfo, bob.data);
    }

    // A private message to bob reaches bob only.
    await alice.conn.client.publish(privateRoom(bob.id), { text: 'psst bob' });
    const [secret] = await eventsOf(bobPrivate, 'publication', 1);
    assert.deepEqual(secret.data, { text: 'psst bob' });
    assert.equal(secret.info.user, alice.id, 'the sender is known by client id, as in the tutorial');
    // Nobody else may listen in on bob's room, nor write into their own.
    assert.equal(await expectRefused(carol.conn.client, privateRoom(bob.id)), 103);
    assert.equal(await expectRefused(alice.conn.client, privateRoom(bob.id)), 103);
    assert.equal((await rejection(alice.conn.client.publish(privateRoom(alice.id), 'note to self'))).code, 103);
    // Nor anywhere the permissions do not name.
    assert.equal((await rejection(alice.conn.client.publish('room:general', { text: 'x' }))).code, 103);
    assert.equal(await expectRefused(alice.conn.client, 'room:general'), 103);

    // Carol leaves: the others see member_leave.
    disconnectClient(carol.conn.client);
    const [left] = await waitFor(() => {
      const found = alicePublic.of('leave').filter((ctx) => ctx.info.user === carol.id);
      return found.length > 0 ? found : undefined;
    }, { message: "carol's leave at alice" });
    assert.deepEqual(left.info.connInfo, carol.data);
    const after = await alicePublic.sub.presence();
    assert.deepEqual(Object.values(after.clients).map((info) => info.user).sort(), [alice.id, bob.id].sort());

    // The private message went to bob's room only.
    assert.equal(alicePrivate.publications.length, 0);
    assert.equal(bobPrivate.publications.length, 1);
    assert.equal(alicePublic.publications.length, 1);
  });

  test('a client id with regex characters gets exactly its own private room', async () => {
    const id = `a.b${randomUUID().slice(0, 4)}`;
    const conn = await connectClient(ts.wsUrl, { token: await authToken(ts, id) });
    const mine = await subscribe(conn.client, privateRoom(id));
    assert.equal(mine.sub.state, 'subscribed');
    // Unescaped, "." would let this client read "axb…"'s private room.
    const lookalike = privateRoom(id.replace('.', 'x'));
    assert.equal(await expectRefused(conn.client, lookalike), 103);
    await conn.client.publish(lookalike, 'hi');
  });

  test('the SDK gets a new token from /auth when the one it has expired', async () => {
    const id = `expired${randomUUID().slice(0, 6)}`;
    const fresh = await authToken(ts, id);
    const claims = decodeJwt(fresh);
    const expired = await mintToken({ ...claims, exp: Math.floor(Date.now() / 1000) - 10 });
    let requests = 0;
    const made = makeClient(ts.wsUrl, {
      token: expired,
      getToken: async () => {
        requests++;
        return authToken(ts, id);
      },
    });
    const connected = nextEvent(made.client, 'connected');
    made.client.connect();
    await connected;
    assert.equal(requests, 1, 'one /auth request for the expired token');
    const room = await subscribe(made.client, PUBLIC_ROOM);
    const { clients } = await room.sub.presence();
    const me = Object.values(clients).find((info) => info.user === id);
    assert.deepEqual(me?.connInfo, claims.data);
  });

  test('a client with only getToken asks /auth before connecting', async () => {
    const id = `lazy${randomUUID().slice(0, 6)}`;
    let requests = 0;
    const conn = await connectClient(ts.wsUrl, {
      getToken: async () => {
        requests++;
        return authToken(ts, id);
      },
    });
    assert.equal(requests, 1);
    const room = await subscribe(conn.client, PUBLIC_ROOM);
    assert.equal(room.sub.state, 'subscribed');
  });
});
